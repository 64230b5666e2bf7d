package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.Status;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.testing.MockOtlpServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The upstream is down when data arrives and comes back on the same port: with the exporter's
 * default retry policy (the relay's configuration has no {@code retry_on_failure} keys yet) the
 * data arrives exactly once, and {@code otelcol_exporter_sent_*} / {@code send_failed_*} say so;
 * data the upstream refuses permanently is counted as failed and not retried.
 */
class RelayUpstreamOutageTest extends RelayScenarioTest {

  private static final int TRACE_REQUESTS = 5;
  private static final int SPANS = 10;
  private static final int LOG_REQUESTS = 2;
  private static final int RECORDS = 3;

  private MockOtlpServer upstream;

  @ParameterizedTest(name = "ack mode {0}")
  @MethodSource("io.otlp4j.relay.RelayUnderTest#ackModes")
  void dataSentWhileTheUpstreamIsDownArrivesOnceWhenItComesBackOnTheSamePort(AckMode ackMode)
      throws Exception {
    // OtlpExporter.Builder.DEFAULT_RETRY_POLICY: 5 attempts within a minute, long enough for this
    // outage.
    upstream = startUpstream();
    upstream.stop();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [otlp] }
            logs: { receivers: [otlp], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            ackMode,
            dir);

    TraceServiceGrpc.TraceServiceFutureStub stub =
        TraceServiceGrpc.newFutureStub(relay.grpcChannel());
    List<ListenableFuture<ExportTraceServiceResponse>> traceAnswers = new ArrayList<>();
    List<CompletableFuture<HttpResponse<byte[]>>> logAnswers = new ArrayList<>();
    Map<String, Long> expectedSpans = new HashMap<>();
    Map<String, Long> expectedLogs = new HashMap<>();
    for (int i = 0; i < TRACE_REQUESTS; i++) {
      ExportTraceServiceRequest request = OtlpRequests.spans("outage-" + i, SPANS);
      OtlpRequests.spanNames(request).forEach(n -> expectedSpans.put(n, 1L));
      traceAnswers.add(stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(request));
    }
    for (int i = 0; i < LOG_REQUESTS; i++) {
      logAnswers.add(
          relay.postAsync("/v1/logs", OtlpRequests.logs("outage-" + i, RECORDS).toByteArray()));
      for (int r = 0; r < RECORDS; r++) {
        expectedLogs.put("outage-" + i + "-" + r, 1L);
      }
    }

    // The exporter has tried and failed (connection refused); nothing was sent, nothing given up.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric("otlp4j_exporter_request_duration_seconds_count", "exporter", "otlp")
                    >= 2);
    assertThat(relay.metric("otelcol_exporter_sent_spans_total", "exporter", "otlp")).isZero();
    assertThat(relay.metric("otelcol_exporter_send_failed_spans_total", "exporter", "otlp"))
        .isZero();
    assertThat(upstream.requestCount()).isZero();

    upstream.start();
    await()
        .atMost(Duration.ofSeconds(25))
        .until(
            () ->
                upstream.spans().size() >= expectedSpans.size()
                    && upstream.logRecords().size() >= expectedLogs.size());
    for (ListenableFuture<ExportTraceServiceResponse> answer : traceAnswers) {
      assertThat(answer.get(30, TimeUnit.SECONDS).hasPartialSuccess()).isFalse();
    }
    for (CompletableFuture<HttpResponse<byte[]>> answer : logAnswers) {
      assertThat(answer.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    assertThat(upstream.spanNameCounts()).as("every span once").isEqualTo(expectedSpans);
    assertThat(upstream.logBodyCounts()).as("every log record once").isEqualTo(expectedLogs);
    assertThat(relay.metric("otelcol_exporter_sent_spans_total", "exporter", "otlp"))
        .isEqualTo(TRACE_REQUESTS * SPANS);
    assertThat(relay.metric("otelcol_exporter_sent_log_records_total", "exporter", "otlp"))
        .isEqualTo(LOG_REQUESTS * RECORDS);
    assertThat(relay.metric("otelcol_exporter_send_failed_spans_total", "exporter", "otlp"))
        .as("retried until delivered: not a failure")
        .isZero();
    assertThat(relay.metric("otelcol_exporter_send_failed_log_records_total", "exporter", "otlp"))
        .isZero();

    // A permanent refusal is not retried, and counted as failed.
    upstream.failWith(Status.INVALID_ARGUMENT.withDescription("refused by the test"));
    int callsBefore = upstream.requestCount();
    CompletableFuture<HttpResponse<byte[]>> refused =
        relay.postAsync("/v1/traces", OtlpRequests.spans("refused", 3).toByteArray());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric("otelcol_exporter_send_failed_spans_total", "exporter", "otlp") == 3);
    assertThat(upstream.requestCount()).as("one attempt, no retry").isEqualTo(callsBefore + 1);
    if (ackMode == AckMode.RECEIVED) {
      assertThat(refused.get(30, TimeUnit.SECONDS).statusCode())
          .as("acknowledged when queued")
          .isEqualTo(200);
    }
    assertThat(upstream.spans()).hasSize(TRACE_REQUESTS * SPANS);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> relay.metric("otlp4j_memory_used_bytes") == 0);
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
  }
}
