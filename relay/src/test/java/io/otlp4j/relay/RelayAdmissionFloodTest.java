package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.relay.config.ReceiverConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The admission goal of issue 12, scaled down 16× to stay cheap (the issue's {@code limit_mib: 256}
 * and {@code max_recv_msg_size_mib: 16} become 16 and 1, the same ratio): in ack mode {@code
 * received}, while the upstream is slow, 64 concurrent maximum-size gRPC requests on one connection
 * and 64 maximum-size HTTP bodies flood the relay. Every flood call is answered well before its
 * deadline, either accepted or refused retryably (with {@code RetryInfo} / {@code Retry-After});
 * the budget is never exceeded; and a well-behaved client sending small requests at the same time,
 * retrying what is refused, loses nothing that was acknowledged once the upstream has caught up.
 */
class RelayAdmissionFloodTest extends RelayScenarioTest {

  private static final int FLOOD = 64;
  private static final long LIMIT = 16L * 1024 * 1024;
  private static final int MAX_MESSAGE = 1024 * 1024;
  private static final Duration FLOOD_DEADLINE = Duration.ofSeconds(60);

  @ParameterizedTest(name = "upstream {0}")
  @ValueSource(strings = {"slow", "down"})
  void aFloodOfMaximumSizeRequestsIsRefusedRetryablyAndAWellBehavedClientLosesNothing(
      String upstreamState) throws Exception {
    MockOtlpServer upstream = startUpstream();
    if (upstreamState.equals("slow")) {
      // A slow upstream during the flood, so that queued data holds memory.
      upstream.defaultAnswer(Answer.ok().delayed(Duration.ofMillis(200)));
    } else {
      // The scenario: the upstream fails during the flood, the exporter's circuit opens,
      // and
      // acknowledged data must still arrive once it is back (a retrying export used to end on an
      // open
      // circuit, and in ack mode received nobody sent that batch again).
      upstream.failWith(Status.UNAVAILABLE);
    }
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 1 }
              http: { endpoint: "127.0.0.1:0", max_request_body_size: 1048576 }
        processors:
          memory_limiter: { check_interval: 1s, limit_mib: 16 }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 5s
            retry_on_failure: { enabled: true, initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 120s }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [memory_limiter], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.RECEIVED,
            dir);
    assertThat(relay.metric("otlp4j_memory_limit_bytes")).isEqualTo(LIMIT);

    AtomicBoolean flooding = new AtomicBoolean(true);
    AtomicLong maxUsed = new AtomicLong();
    CompletableFuture<Void> watched =
        CompletableFuture.runAsync(
            () ->
                await()
                    .atMost(Duration.ofSeconds(60))
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(20))
                    .until(
                        () -> {
                          maxUsed.accumulateAndGet(
                              (long) relay.metric("otlp4j_memory_used_bytes"), Math::max);
                          return !flooding.get();
                        }));

    // The well-behaved client: its own connection, small requests one after another, each retried
    // after
    // the delay the relay asks for until it is acknowledged.
    ManagedChannel goodChannel =
        relay.grpcChannel(NettyChannelBuilder.forAddress(relayGrpcAddress()).usePlaintext());
    List<String> acknowledged = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<Integer> wellBehaved =
        CompletableFuture.supplyAsync(
            () -> {
              int refusals = 0;
              for (int i = 0; i < 30; i++) {
                ExportTraceServiceRequest request = OtlpRequests.spans("good-" + i, 4);
                for (int attempt = 0; ; attempt++) {
                  try {
                    TraceServiceGrpc.newBlockingStub(goodChannel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .export(request);
                    acknowledged.addAll(OtlpRequests.spanNames(request));
                    break;
                  } catch (StatusRuntimeException e) {
                    Status.Code code = e.getStatus().getCode();
                    assertThat(code)
                        .as("the well-behaved client is refused only retryably: %s", e.getStatus())
                        .isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);
                    Duration delay = RelayUnderTest.retryDelay(e);
                    assertThat(delay).as("a refusal says when to retry").isNotNull();
                    assertThat(attempt).as("attempts of request %d", i).isLessThan(100);
                    refusals++;
                    sleep(
                        Math.min(
                            delay.toMillis(),
                            200)); // a client may retry sooner than asked; keeps the test short
                  }
                }
              }
              return refusals;
            });

    // The flood: 64 maximum-size gRPC calls on one connection, 64 maximum-size HTTP bodies.
    ExportTraceServiceRequest big = OtlpRequests.spans("flood", 60, 16_000);
    assertThat(big.getSerializedSize()).isBetween(MAX_MESSAGE - 128 * 1024, MAX_MESSAGE);
    byte[] bigBody = big.toByteArray();
    TraceServiceGrpc.TraceServiceFutureStub stub =
        TraceServiceGrpc.newFutureStub(relay.grpcChannel());
    List<ListenableFuture<ExportTraceServiceResponse>> grpcFlood = new ArrayList<>();
    List<CompletableFuture<HttpResponse<byte[]>>> httpFlood = new ArrayList<>();
    for (int i = 0; i < FLOOD; i++) {
      grpcFlood.add(
          stub.withDeadlineAfter(FLOOD_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).export(big));
      httpFlood.add(relay.postAsync("/v1/traces", bigBody));
    }
    int grpcRefused = 0;
    for (ListenableFuture<ExportTraceServiceResponse> f : grpcFlood) {
      try {
        f.get(FLOOD_DEADLINE.toSeconds() + 5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        StatusRuntimeException s = (StatusRuntimeException) e.getCause();
        assertThat(s.getStatus().getCode())
            .as("a flood call is refused retryably, not timed out: %s", s.getStatus())
            .isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);
        assertThat(RelayUnderTest.retryDelay(s)).as("RetryInfo of %s", s.getStatus()).isNotNull();
        grpcRefused++;
      }
    }
    int httpRefused = 0;
    for (CompletableFuture<HttpResponse<byte[]>> f : httpFlood) {
      HttpResponse<byte[]> r;
      try {
        r = f.get(FLOOD_DEADLINE.toSeconds() + 5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new AssertionError("an HTTP flood request got no answer", e.getCause());
      }
      if (r.statusCode() != 200) {
        assertThat(r.statusCode()).isIn(429, 503);
        assertThat(r.headers().firstValue("retry-after")).isPresent();
        httpRefused++;
      }
    }
    // 128 MiB of flood against a 16 MiB budget: refusals there must be (how many depends on how
    // fast the
    // upstream drains the queue meanwhile)
    assertThat(grpcRefused + httpRefused).as("refused flood calls").isPositive();

    // The flood is answered: the upstream is well again (a full budget of queued data waits for it,
    // so
    // until then the well-behaved client may be refused, retryably).
    upstream.defaultAnswer(Answer.ok());
    // Everything the well-behaved client was told is safe arrives.
    int refusals = wellBehaved.get(60, TimeUnit.SECONDS);
    flooding.set(false);
    watched.get(30, TimeUnit.SECONDS);
    assertThat(maxUsed.get()).as("most memory used").isLessThanOrEqualTo(LIMIT);
    assertThat(acknowledged).hasSize(30 * 4);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> upstream.spanNameCounts().keySet().containsAll(acknowledged));
    System.out.printf(
        "flood: grpc refused %d/%d, http refused %d/%d, well-behaved client refused %d times,"
            + " most memory used %d of %d%n",
        grpcRefused, FLOOD, httpRefused, FLOOD, refusals, maxUsed.get(), LIMIT);
  }

  /**
   * In ack mode {@code received} a queued request stays in the budget after its answer. The
   * pipeline takes the receiver's reservation over rather than reserving the request a second time
   * while the receiver still holds it: counted twice, a request over half the budget was refused
   * (retryably, and so for ever) after the receiver had admitted it whole, and under a flood about
   * every other admitted request was.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"grpc", "http"})
  void aRequestTheReceiverAdmitsIsNotRefusedAtTheHandOffToTheQueue(String protocol)
      throws Exception {
    MockOtlpServer upstream = startUpstream();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 1 }
              http: { endpoint: "127.0.0.1:0", max_request_body_size: 1048576 }
        processors:
          memory_limiter: { check_interval: 1s, limit_mib: 1 }
        exporters:
          otlp: { endpoint: "${env:UPSTREAM}", tls: { insecure: true } }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [memory_limiter], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.RECEIVED,
            dir);
    // 0.7 MiB: over half the 1 MiB budget, under its 90 % high-water mark
    ExportTraceServiceRequest request = OtlpRequests.spans("big-" + protocol, 44, 16_000);
    assertThat(request.getSerializedSize()).isBetween(600_000, 900_000);
    if (protocol.equals("grpc")) {
      TraceServiceGrpc.newBlockingStub(relay.grpcChannel())
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .export(request);
    } else {
      assertThat(relay.post("/v1/traces", request.toByteArray()).statusCode()).isEqualTo(200);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> upstream.spanNameCounts().keySet().containsAll(OtlpRequests.spanNames(request)));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> relay.metric("otlp4j_memory_used_bytes") == 0);
  }

  @Test
  void theServerWideCallBoundIsReadFromTheGrpcProtocolAndAbsentMeansTheReceiversDefault()
      throws Exception {
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0", max_recv_msg_size_mib: 16, max_concurrent_calls: 7 }
        exporters:
          debug: {}
        service:
          pipelines:
            traces: { receivers: [otlp], exporters: [debug] }
        """;
    ReceiverConfig.ServerOptions grpc =
        RelayConfig.parse(yaml, k -> null, dir).receivers().get("otlp").grpcOptions();
    assertThat(grpc.maxConcurrentCalls()).isEqualTo(7);
    assertThat(grpc.maxRequestBytes()).isEqualTo(16 * 1024 * 1024);
    ReceiverConfig.ServerOptions defaults =
        RelayConfig.parse(yaml.replace(", max_concurrent_calls: 7", ""), k -> null, dir)
            .receivers()
            .get("otlp")
            .grpcOptions();
    assertThat(defaults.maxConcurrentCalls()).as("0: the receiver's default").isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                RelayConfig.parse(
                    yaml.replace("max_concurrent_calls: 7", "max_concurrent_calls: 0"),
                    k -> null,
                    dir))
        .hasMessageContaining("max_concurrent_calls");
  }

  private java.net.InetSocketAddress relayGrpcAddress() {
    return relay.relay.grpcAddress("otlp");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
