package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A small {@code memory_limiter} and a stalled upstream: the relay fills its budget, then refuses
 * with retryable answers (HTTP 429 with {@code Retry-After}, gRPC {@code RESOURCE_EXHAUSTED} with
 * {@code RetryInfo}) instead of growing; {@code otlp4j_memory_used_bytes} never passes the limit;
 * once the upstream answers, everything accepted arrives exactly once and new requests are accepted
 * again.
 */
class RelayMemoryLimitTest extends RelayScenarioTest {

  private static final long LIMIT = 1024 * 1024;
  private static final int SPANS = 8;
  private static final int PADDING = 8000;
  private static final int MAX_FILL_REQUESTS = 40;
  private static final int OVERLOAD_REQUESTS_PER_TRANSPORT = 10;

  private MockOtlpServer upstream;

  @ParameterizedTest(name = "ack mode {0}")
  @MethodSource("io.otlp4j.relay.RelayUnderTest#ackModes")
  void overloadIsRefusedRetryablyWithinTheBudgetAndAcceptedDataArrivesOnceTheUpstreamResumes(
      AckMode ackMode) throws Exception {
    upstream = startUpstream();
    hold(upstream);
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        processors:
          memory_limiter: { check_interval: 1s, limit_mib: 1 }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [memory_limiter], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            ackMode,
            dir);
    assertThat(relay.metric("otlp4j_memory_limit_bytes")).isEqualTo(LIMIT);

    // Watch the budget from /metrics every 10 ms for the whole overload (at most 2000 samples).
    AtomicBoolean overloaded = new AtomicBoolean(true);
    AtomicLong maxUsed = new AtomicLong();
    AtomicInteger samples = new AtomicInteger();
    CompletableFuture<Void> watched =
        CompletableFuture.runAsync(
            () ->
                await()
                    .atMost(Duration.ofSeconds(60))
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(10))
                    .until(
                        () -> {
                          maxUsed.accumulateAndGet(
                              (long) relay.metric("otlp4j_memory_used_bytes"), Math::max);
                          return !overloaded.get() || samples.incrementAndGet() >= 2000;
                        }));

    // Fill: one request at a time, each counted by the pipeline (queued or refused) before the
    // next.
    List<CompletableFuture<HttpResponse<byte[]>>> fill = new ArrayList<>();
    List<List<String>> fillNames = new ArrayList<>();
    HttpResponse<byte[]> firstRefusal = null;
    for (int i = 0; i < MAX_FILL_REQUESTS && firstRefusal == null; i++) {
      ExportTraceServiceRequest request = OtlpRequests.spans("mem-" + i, SPANS, PADDING);
      fillNames.add(OtlpRequests.spanNames(request));
      CompletableFuture<HttpResponse<byte[]>> answer =
          relay.postAsync("/v1/traces", request.toByteArray());
      fill.add(answer);
      int counted = i + 1;
      RelayUnderTest.promptly(Duration.ofSeconds(30)).until(() -> requestsCounted() == counted);
      if (refusedRequests() > 0) {
        firstRefusal =
            answer.get(30, TimeUnit.SECONDS); // a refusal is answered at once in every ack mode
      }
    }
    assertThat(firstRefusal)
        .as("the budget filled within %d requests", MAX_FILL_REQUESTS)
        .isNotNull();
    assertThat(firstRefusal.statusCode())
        .as("a memory refusal is 429, at the receiver and in the pipeline")
        .isEqualTo(429);
    assertThat(firstRefusal.headers().firstValue("retry-after")).isPresent();
    int accepted = (int) queuedRequests();
    assertThat(accepted)
        .as("a refusal only once the budget held most of its limit")
        .isGreaterThanOrEqualTo((int) (LIMIT * 0.8 / (SPANS * PADDING)) - 2);

    // Overload: both transports at once. Usage stays above the low water mark while the upstream is
    // stalled, so the budget refuses every one of them at the door.
    List<CompletableFuture<HttpResponse<byte[]>>> httpOverload = new ArrayList<>();
    List<ListenableFuture<ExportTraceServiceResponse>> grpcOverload = new ArrayList<>();
    TraceServiceGrpc.TraceServiceFutureStub stub =
        TraceServiceGrpc.newFutureStub(relay.grpcChannel());
    for (int i = 0; i < OVERLOAD_REQUESTS_PER_TRANSPORT; i++) {
      httpOverload.add(
          relay.postAsync(
              "/v1/traces", OtlpRequests.spans("over-http-" + i, SPANS, PADDING).toByteArray()));
      grpcOverload.add(
          stub.withDeadlineAfter(20, TimeUnit.SECONDS)
              .export(OtlpRequests.spans("over-grpc-" + i, SPANS, PADDING)));
    }
    for (CompletableFuture<HttpResponse<byte[]>> f : httpOverload) {
      HttpResponse<byte[]> r = f.get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(429);
      assertThat(r.headers().firstValue("retry-after"))
          .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
      assertThat(RelayUnderTest.statusBody(r).getCode())
          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED.value());
    }
    for (ListenableFuture<ExportTraceServiceResponse> f : grpcOverload) {
      ExecutionException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
      StatusRuntimeException status = (StatusRuntimeException) e.getCause();
      assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(RelayUnderTest.retryDelay(status)).isPositive();
    }
    assertThat(
            relay.metric(
                "otlp4j_receiver_requests_total", "outcome", "memory_limited", "transport", "grpc"))
        .isEqualTo(OVERLOAD_REQUESTS_PER_TRANSPORT);
    assertThat(upstream.spans()).as("the upstream is stalled").isEmpty();
    overloaded.set(false);
    watched.get(20, TimeUnit.SECONDS);
    assertThat(samples.get()).as("samples of the budget").isPositive();
    assertThat(maxUsed.get())
        .as("most memory used, in %d samples", samples.get())
        .isLessThanOrEqualTo(LIMIT)
        .isPositive();

    // The upstream resumes: everything accepted arrives once; the budget empties; requests are
    // accepted again.
    release(upstream);
    List<String> acceptedNames = new ArrayList<>();
    for (int i = 0; i < fill.size(); i++) {
      if (fill.get(i).get(20, TimeUnit.SECONDS).statusCode() == 200) {
        acceptedNames.addAll(fillNames.get(i));
      }
    }
    assertThat(acceptedNames).hasSize(accepted * SPANS);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                upstream.spans().size() >= acceptedNames.size()
                    && relay.metric("otlp4j_memory_used_bytes") == 0);
    assertThat(upstream.spanNameCounts()).isEqualTo(onceEach(acceptedNames));

    ExportTraceServiceRequest afterHttp = OtlpRequests.spans("after-http", SPANS, PADDING);
    ExportTraceServiceRequest afterGrpc = OtlpRequests.spans("after-grpc", SPANS, PADDING);
    assertThat(relay.post("/v1/traces", afterHttp.toByteArray()).statusCode()).isEqualTo(200);
    assertThat(
            stub.withDeadlineAfter(20, TimeUnit.SECONDS)
                .export(afterGrpc)
                .get()
                .hasPartialSuccess())
        .isFalse();
    acceptedNames.addAll(OtlpRequests.spanNames(afterHttp));
    acceptedNames.addAll(OtlpRequests.spanNames(afterGrpc));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> upstream.spans().size() >= acceptedNames.size());
    assertThat(upstream.spanNameCounts()).isEqualTo(onceEach(acceptedNames));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> relay.metric("otlp4j_memory_used_bytes") == 0);
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
  }

  /** Fill requests the relay has dealt with: queued by the pipeline, or refused for memory. */
  private long requestsCounted() {
    return queuedRequests() + refusedRequests();
  }

  private long queuedRequests() {
    return (long) relay.metric("otlp4j_pipeline_queued_traces_total", "pipeline", "traces") / SPANS;
  }

  private long refusedRequests() {
    return (long) relay.metric("otlp4j_pipeline_refused_traces_total", "pipeline", "traces") / SPANS
        + (long)
            relay.metric(
                "otlp4j_receiver_requests_total", "outcome", "memory_limited", "transport", "http");
  }
}
