package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One pipeline fanning out to a fast and a stalled upstream: the fast one receives every request
 * promptly while the slow one's queue fills; then requests are refused with a retryable answer and
 * counted, and once the slow upstream answers it gets exactly what was accepted, and every byte of
 * the memory budget comes back.
 */
class RelayFanOutTest extends RelayScenarioTest {

  private static final int QUEUE_SIZE = 3;
  private static final int REQUESTS = 24;
  private static final int SPANS = 4;

  private MockOtlpServer fast;
  private MockOtlpServer slow;

  @ParameterizedTest(name = "ack mode {0}")
  @MethodSource("io.otlp4j.relay.RelayUnderTest#ackModes")
  void slowExporterFillsOnlyItsOwnQueueAndIsRefusedRetryablyWhileTheFastOneKeepsUp(AckMode ackMode)
      throws Exception {
    fast = startUpstream();
    slow = startUpstream();
    hold(slow);
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        exporters:
          otlp/fast:
            endpoint: ${env:FAST}
            tls: { insecure: true }
            timeout: 30s
          otlp/slow:
            endpoint: ${env:SLOW}
            tls: { insecure: true }
            timeout: 30s
            sending_queue: { queue_size: %d }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [otlp/fast, otlp/slow] }
        """
                .formatted(QUEUE_SIZE),
            Map.of("FAST", fast.grpcEndpoint(), "SLOW", slow.grpcEndpoint()),
            ackMode,
            dir);

    // One request at a time, each sent only once the fast upstream has the one before: the fast
    // exporter's queue never holds more than one, so whatever is refused is refused for the slow
    // one.
    List<String> names = new ArrayList<>();
    List<CompletableFuture<HttpResponse<byte[]>>> responses = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      ExportTraceServiceRequest request = OtlpRequests.spans("fan-" + i, SPANS);
      names.addAll(OtlpRequests.spanNames(request));
      responses.add(relay.postAsync("/v1/traces", request.toByteArray()));
      int expected = (i + 1) * SPANS;
      RelayUnderTest.promptly(Duration.ofSeconds(30)).until(() -> fast.spans().size() == expected);
    }
    assertThat(fast.spanNameCounts())
        .as("the fast upstream got every request promptly, once")
        .isEqualTo(onceEach(names));
    assertThat(slow.spans()).as("the slow upstream answered nothing yet").isEmpty();
    assertThat(slow.heldCount()).isPositive();

    // The slow exporter's queue is full: requests are refused with a retryable answer.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                responses.stream()
                    .filter(CompletableFuture::isDone)
                    .anyMatch(r -> r.join().statusCode() == 503));
    assertThat(relay.metric("otelcol_exporter_queue_size", "exporter", "otlp/slow"))
        .isEqualTo(QUEUE_SIZE);
    assertThat(relay.metric("otelcol_exporter_queue_capacity", "exporter", "otlp/slow"))
        .isEqualTo(QUEUE_SIZE);
    assertThat(relay.metric("otelcol_exporter_queue_size", "exporter", "otlp/fast")).isZero();
    HttpResponse<byte[]> refusal =
        responses.stream()
            .filter(CompletableFuture::isDone)
            .map(CompletableFuture::join)
            .filter(r -> r.statusCode() == 503)
            .findFirst()
            .orElseThrow();
    assertThat(refusal.headers().firstValue("retry-after")).isPresent();
    assertThat(RelayUnderTest.statusBody(refusal).getCode())
        .isEqualTo(Status.Code.UNAVAILABLE.value());
    assertThat(RelayUnderTest.statusBody(refusal).getMessage()).contains("queue");
    // The same over gRPC: UNAVAILABLE with RetryInfo.
    ExportTraceServiceRequest overGrpc = OtlpRequests.spans("fan-grpc", SPANS);
    assertThatThrownBy(
            () ->
                TraceServiceGrpc.newBlockingStub(relay.grpcChannel())
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .export(overGrpc))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(RelayUnderTest.retryDelay(e)).isPositive();
            });
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> fast.spans().size() == (REQUESTS + 1) * SPANS);

    release(slow);
    List<String> accepted = new ArrayList<>();
    int refused = 1; // the gRPC request
    for (int i = 0; i < REQUESTS; i++) {
      HttpResponse<byte[]> r = responses.get(i).get(20, TimeUnit.SECONDS);
      assertThat(r.statusCode()).as("request %d", i).isIn(200, 503);
      if (r.statusCode() == 200) {
        assertThat(ExportTraceServiceResponse.parseFrom(r.body()).hasPartialSuccess()).isFalse();
        for (int s = 0; s < SPANS; s++) {
          accepted.add("fan-" + i + "-" + s);
        }
      } else {
        refused++;
      }
    }
    assertThat(accepted)
        .as("the slow exporter took a queue's worth and more")
        .hasSizeGreaterThan(QUEUE_SIZE * SPANS);
    await().atMost(Duration.ofSeconds(30)).until(() -> slow.spans().size() >= accepted.size());
    assertThat(slow.spanNameCounts())
        .as("the slow upstream got exactly what was accepted, once")
        .isEqualTo(onceEach(accepted));

    long refusedSpans = (long) refused * SPANS;
    assertThat(relay.metric("otlp4j_pipeline_refused_traces_total", "pipeline", "traces"))
        .isEqualTo(refusedSpans);
    assertThat(
            relay.metric("otelcol_receiver_refused_spans_total", "transport", "http")
                + relay.metric("otelcol_receiver_refused_spans_total", "transport", "grpc"))
        .isEqualTo(refusedSpans);
    assertThat(relay.metric("otelcol_receiver_accepted_spans_total", "transport", "http"))
        .isEqualTo(accepted.size());
    assertThat(relay.metric("otelcol_exporter_sent_spans_total", "exporter", "otlp/fast"))
        .isEqualTo((REQUESTS + 1) * SPANS);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric("otelcol_exporter_sent_spans_total", "exporter", "otlp/slow")
                    == accepted.size());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric("otlp4j_memory_used_bytes") == 0
                    && relay.metric("otelcol_exporter_queue_size", "exporter", "otlp/slow") == 0);
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
  }
}
