package io.otlp4j.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.RecordedRequest.Outcome;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The fake server against real clients: grpc-java on the official stubs, and the JDK's HttpClient.
 */
class MockOtlpServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private MockOtlpServer server;
  private ManagedChannel channel;

  @AfterEach
  void close() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.close();
    }
  }

  private static ExportTraceServiceRequest spans(String... names) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (String n : names) {
      scope.addSpans(Span.newBuilder().setName(n));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
        .build();
  }

  private static ExportMetricsServiceRequest points(String name, int n) {
    Gauge.Builder gauge = Gauge.newBuilder();
    for (int i = 0; i < n; i++) {
      gauge.addDataPoints(NumberDataPoint.newBuilder().setAsInt(i));
    }
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(
            ResourceMetrics.newBuilder()
                .addScopeMetrics(
                    ScopeMetrics.newBuilder()
                        .addMetrics(Metric.newBuilder().setName(name).setGauge(gauge))))
        .build();
  }

  private static ExportLogsServiceRequest logs(String body) {
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(
            ResourceLogs.newBuilder()
                .addScopeLogs(
                    ScopeLogs.newBuilder()
                        .addLogRecords(
                            LogRecord.newBuilder()
                                .setBody(AnyValue.newBuilder().setStringValue(body)))))
        .build();
  }

  private TraceServiceGrpc.TraceServiceBlockingStub traceStub() {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
    return TraceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  private HttpResponse<byte[]> post(String path, byte[] body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.httpEndpoint() + path))
            .header("Content-Type", "application/x-protobuf")
            .header("x-tenant", "acme")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void everySignalOverBothTransportsIsRecordedDecodedAndCounted() throws Exception {
    server = MockOtlpServer.started();
    traceStub().export(spans("a", "b"));
    LogsServiceGrpc.newBlockingStub(channel).export(logs("hello"));
    assertThat(post("/v1/metrics", points("m", 3).toByteArray()).statusCode()).isEqualTo(200);
    assertThat(post("/v1/traces", spans("c").toByteArray()).statusCode()).isEqualTo(200);

    RecordedRequest first = server.takeRequest(Duration.ofSeconds(5));
    assertThat(first.transport()).isEqualTo(Transport.GRPC);
    assertThat(first.signal()).isEqualTo(Signal.TRACES);
    assertThat(first.traces()).isEqualTo(spans("a", "b"));
    assertThat(first.body()).isEqualTo(spans("a", "b").toByteArray());
    assertThat(first.header("User-Agent")).startsWith("grpc-java");
    assertThat(first.outcome()).isEqualTo(Outcome.ACCEPTED);
    assertThat(server.takeRequest(Duration.ofSeconds(5)).logs()).isEqualTo(logs("hello"));
    RecordedRequest metrics = server.takeRequest(Duration.ofSeconds(5));
    assertThat(metrics.transport()).isEqualTo(Transport.HTTP);
    assertThat(metrics.metrics()).isEqualTo(points("m", 3));
    assertThat(metrics.headers("X-Tenant")).containsExactly("acme");
    assertThat(server.takeRequest(Duration.ofSeconds(5)).signal()).isEqualTo(Signal.TRACES);
    assertThat(server.takeRequest(Duration.ofMillis(50))).isNull();

    assertThat(server.requestCount()).isEqualTo(4);
    assertThat(server.spanCount()).isEqualTo(3);
    assertThat(server.pointCount()).isEqualTo(3);
    assertThat(server.logCount()).isEqualTo(1);
    assertThat(server.spanNameCounts()).isEqualTo(Map.of("a", 1L, "b", 1L, "c", 1L));
    assertThat(server.metricPointCounts()).isEqualTo(Map.of("m", 3L));
    assertThat(server.logBodyCounts()).isEqualTo(Map.of("hello", 1L));
    assertThat(server.remoteAddresses()).hasSize(2);
  }

  @Test
  void answersFollowTheScriptThenTheDefault() throws Exception {
    server = MockOtlpServer.started();
    server.enqueue(
        Answer.partialSuccess(1, "one too old"),
        Answer.grpcStatus(Status.RESOURCE_EXHAUSTED).retryInfo(Duration.ofMillis(1500)),
        Answer.httpStatus(503).header("Retry-After", "7"),
        Answer.grpcStatus(Status.UNAVAILABLE.withDescription("later"))
            .retryInfo(Duration.ofMillis(1500)));
    server.defaultAnswer(Answer.grpcStatus(Status.INVALID_ARGUMENT.withDescription("no")));
    TraceServiceGrpc.TraceServiceBlockingStub stub = traceStub();

    ExportTraceServiceResponse partial = stub.export(spans("a"));
    assertThat(partial.getPartialSuccess().getRejectedSpans()).isEqualTo(1);
    assertThat(partial.getPartialSuccess().getErrorMessage()).isEqualTo("one too old");
    StatusRuntimeException exhausted = catchGrpc(() -> stub.export(spans("b")));
    assertThat(exhausted.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    RetryInfo retry = StatusProto.fromThrowable(exhausted).getDetails(0).unpack(RetryInfo.class);
    assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(1);
    assertThat(retry.getRetryDelay().getNanos()).isEqualTo(500_000_000);
    HttpResponse<byte[]> unavailable = post("/v1/traces", spans("c").toByteArray());
    assertThat(unavailable.statusCode()).isEqualTo(503);
    assertThat(unavailable.headers().firstValue("Retry-After")).hasValue("7");
    HttpResponse<byte[]> later = post("/v1/traces", spans("d").toByteArray());
    assertThat(later.statusCode()).isEqualTo(503);
    assertThat(later.headers().firstValue("Retry-After")).hasValue("2");
    assertThat(com.google.rpc.Status.parseFrom(later.body()).getMessage()).isEqualTo("later");
    assertThat(catchGrpc(() -> stub.export(spans("e"))).getStatus().getDescription())
        .isEqualTo("no");

    assertThat(server.accepted()).hasSize(1);
    assertThat(server.spanNameCounts()).isEqualTo(Map.of("a", 1L));
    assertThat(server.requests())
        .extracting(RecordedRequest::outcome)
        .containsExactly(
            Outcome.ACCEPTED,
            Outcome.REJECTED,
            Outcome.REJECTED,
            Outcome.REJECTED,
            Outcome.REJECTED);
  }

  @Test
  void droppedConnectionsFailTheCallOnBothTransports() throws Exception {
    server = MockOtlpServer.started();
    server.enqueue(Answer.dropConnection(), Answer.dropConnection());
    assertThat(catchGrpc(() -> traceStub().export(spans("a"))).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThatThrownBy(() -> post("/v1/traces", spans("b").toByteArray()))
        .isInstanceOf(IOException.class);
    assertThat(server.requests())
        .extracting(RecordedRequest::outcome)
        .containsExactly(Outcome.DROPPED, Outcome.DROPPED);
    assertThat(server.spanCount()).isZero();
  }

  @Test
  void heldAndDelayedAnswersWaitWithoutBlockingOtherRequests() throws Exception {
    server = MockOtlpServer.started();
    CompletableFuture<Void> gate = new CompletableFuture<>();
    server.enqueue(Answer.ok().heldUntil(gate), Answer.ok().delayed(Duration.ofMillis(100)));
    CompletableFuture<HttpResponse<byte[]>> held =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(server.httpEndpoint() + "/v1/traces"))
                .header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(spans("held").toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(server.takeRequest(Duration.ofSeconds(5)).outcome()).isEqualTo(Outcome.PENDING);
    assertThat(server.heldCount()).isEqualTo(1);
    assertThat(post("/v1/traces", spans("delayed").toByteArray()).statusCode()).isEqualTo(200);
    assertThat(held).isNotDone();
    assertThat(server.spans()).extracting(Span::getName).containsExactly("delayed");

    gate.complete(null);
    assertThat(held.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(server.heldCount()).isZero();
    assertThat(server.spans()).extracting(Span::getName).containsExactly("delayed", "held");
    assertThat(server.maxInFlight()).isEqualTo(2);
  }

  @Test
  void aStoppedServerComesBackOnTheSamePorts() throws Exception {
    server = MockOtlpServer.started();
    int grpcPort = server.grpcPort();
    int httpPort = server.httpPort();
    server.stop();
    assertThatThrownBy(() -> post("/v1/logs", logs("down").toByteArray()))
        .isInstanceOf(IOException.class);
    // Reserved while down: another server cannot be given the ports.
    for (int port : new int[] {grpcPort, httpPort}) {
      assertThatThrownBy(() -> new ServerSocket(port, 1, InetAddress.getLoopbackAddress()).close())
          .isInstanceOf(BindException.class);
    }
    server.start();
    assertThat(server.grpcPort()).isEqualTo(grpcPort);
    assertThat(server.httpPort()).isEqualTo(httpPort);
    assertThat(post("/v1/logs", logs("up").toByteArray()).statusCode()).isEqualTo(200);
    traceStub().export(spans("up"));
    assertThat(server.logBodyCounts()).isEqualTo(Map.of("up", 1L));
    assertThat(server.spanCount()).isEqualTo(1);
  }

  @Test
  void anUndecodableBodyIsRefusedAndRecordedWithTheReason() throws Exception {
    server = MockOtlpServer.started();
    HttpResponse<byte[]> r = post("/v1/traces", new byte[] {(byte) 0xff, 0x01});
    assertThat(r.statusCode()).isEqualTo(400);
    RecordedRequest got = server.takeRequest(Duration.ofSeconds(5));
    assertThat(got.message()).isNull();
    assertThat(got.decodeError()).isNotBlank();
    assertThat(got.outcome()).isEqualTo(Outcome.REJECTED);
  }

  private static StatusRuntimeException catchGrpc(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }
}
