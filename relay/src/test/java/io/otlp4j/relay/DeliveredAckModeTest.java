package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * In the {@code delivered} ack mode a client's answer waits for the upstream and says what the
 * upstream said: accepted, rejected for good (with the reason), or unavailable (retryable, with a
 * retry delay). Real peers on both sides: a grpc-java or JDK HTTP client, a grpc-java upstream on
 * the official stubs.
 */
class DeliveredAckModeTest {
  @TempDir Path dir;

  private MockOtlpServer upstream;
  private Relay relay;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (relay != null) {
      relay.shutdown(Duration.ofSeconds(5));
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  private void startRelay(String upstreamEndpoint) throws Exception {
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 100, timeout: 10ms }
        exporters:
          otlp:
            endpoint: %s
            tls: { insecure: true }
            retry_on_failure:
              initial_interval: 10ms
              max_interval: 20ms
              max_elapsed_time: 300ms
        service:
          ack_mode: delivered
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
        """
            .formatted(upstreamEndpoint);
    relay = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
    assertThat(relay.ackMode()).isEqualTo(AckMode.DELIVERED);
  }

  private static ExportTraceServiceRequest spans(String name) {
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .addScopeSpans(
                    ScopeSpans.newBuilder()
                        .addSpans(
                            Span.newBuilder()
                                .setName(name)
                                .setTraceId(ByteString.copyFrom(new byte[16]))
                                .setSpanId(ByteString.copyFrom(new byte[8])))))
        .build();
  }

  private CompletableFuture<HttpResponse<byte[]>> post(ExportTraceServiceRequest request) {
    return HttpClient.newHttpClient()
        .sendAsync(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + relay.httpAddress("otlp").getPort() + "/v1/traces"))
                .header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
  }

  private void exportOverGrpc(ExportTraceServiceRequest request) {
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", relay.grpcAddress("otlp").getPort())
            .usePlaintext()
            .build();
    TraceServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .export(request);
  }

  @Test
  void answerWaitsUntilTheUpstreamAcceptedTheBatch() throws Exception {
    upstream = MockOtlpServer.started();
    CompletableFuture<Void> release = new CompletableFuture<>();
    upstream.defaultAnswer(Answer.ok().heldUntil(release));
    startRelay(upstream.grpcEndpoint());

    CompletableFuture<HttpResponse<byte[]>> answer = post(spans("held"));
    await().atMost(Duration.ofSeconds(30)).until(() -> upstream.requestCount() == 1);
    // The upstream has the request but has not answered: neither has the relay.
    assertThat(answer).isNotDone();
    release.complete(null);
    assertThat(answer.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(upstream.spans()).extracting(Span::getName).containsExactly("held");
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http"})
  void permanentUpstreamRejectionReachesTheClientWithItsReason(String transport) throws Exception {
    upstream = MockOtlpServer.started();
    upstream.failWith(Status.INVALID_ARGUMENT.withDescription("span 7 has no name"));
    startRelay(upstream.grpcEndpoint());

    if (transport.equals("grpc")) {
      StatusRuntimeException e =
          catchThrowableOfType(
              StatusRuntimeException.class, () -> exportOverGrpc(spans("rejected")));
      assertThat(e).isNotNull();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).contains("span 7 has no name");
    } else {
      HttpResponse<byte[]> response = post(spans("rejected")).get(20, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(com.google.rpc.Status.parseFrom(response.body()).getMessage())
          .contains("span 7 has no name");
    }
    // Rejected for good: sent once, not retried.
    assertThat(upstream.requestCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http"})
  void unavailableUpstreamGivesTheClientARetryableAnswerWithADelay(String transport)
      throws Exception {
    startRelay("http://127.0.0.1:" + MockOtlpServer.freePort());

    if (transport.equals("grpc")) {
      StatusRuntimeException e =
          catchThrowableOfType(StatusRuntimeException.class, () -> exportOverGrpc(spans("unsent")));
      assertThat(e).isNotNull();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(e.getStatus().getDescription()).contains("upstream unavailable");
    } else {
      HttpResponse<byte[]> response = post(spans("unsent")).get(20, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After"))
          .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
    }
  }

  @Test
  void withSeveralPipelinesTheWorstOutcomeIsTheAnswer() throws Exception {
    upstream = MockOtlpServer.started();
    try (MockOtlpServer rejecting = MockOtlpServer.started()) {
      rejecting.failWith(Status.INVALID_ARGUMENT.withDescription("tenant over quota"));
      String yaml =
          """
          receivers:
            otlp:
              protocols:
                http: { endpoint: "127.0.0.1:0" }
          exporters:
            otlp/good: { endpoint: "%s", tls: { insecure: true } }
            otlp/bad: { endpoint: "%s", tls: { insecure: true } }
          service:
            ack_mode: delivered
            telemetry: { metrics: { address: "127.0.0.1:0" } }
            pipelines:
              traces/good: { receivers: [otlp], exporters: [otlp/good] }
              traces/bad: { receivers: [otlp], exporters: [otlp/bad] }
          """
              .formatted(upstream.grpcEndpoint(), rejecting.grpcEndpoint());
      relay = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
      HttpResponse<byte[]> response = post(spans("fanned out")).get(20, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(com.google.rpc.Status.parseFrom(response.body()).getMessage())
          .contains("tenant over quota");
      // The other pipeline delivered it all the same, before the answer.
      assertThat(upstream.spans()).extracting(Span::getName).containsExactly("fanned out");
      relay.shutdown(Duration.ofSeconds(5));
      relay = null;
    }
  }

  @Test
  void upstreamThatComesBackAcceptsWhatTheClientSendsAgain() throws Exception {
    int port = MockOtlpServer.freePort();
    startRelay("http://127.0.0.1:" + port);
    assertThat(post(spans("first try")).get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(503);

    upstream = MockOtlpServer.builder().grpcPort(port).start();
    // The exporter's circuit may still be open for a moment: the client retries, as the answer told
    // it.
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> post(spans("retried")).get(20, TimeUnit.SECONDS).statusCode() == 200);
    assertThat(upstream.spans())
        .extracting(Span::getName)
        .contains("retried")
        .doesNotContain("first try");
  }
}
