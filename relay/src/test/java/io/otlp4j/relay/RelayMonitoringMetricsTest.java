package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.otlp4j.testing.ExternalTool;
import io.otlp4j.testing.MockOtlpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The monitoring metrics after real traffic: the Collector's process, processor, exporter-queue and
 * enqueue-failure metrics and otlp4j's own (ack latency per receiver, transport and ack mode,
 * durable queue bytes, capacity and oldest record age, breaker state, memory budget), read from
 * {@code /metrics} as Prometheus would; and the real {@code promtool check metrics} accepts the
 * whole page.
 */
class RelayMonitoringMetricsTest extends RelayScenarioTest {

  private static final int MAX_SIZE_MIB = 64;

  @Test
  void everySignalThroughADurableQueueShowsTheMonitoringMetricsAndPassesPromtool()
      throws Exception {
    MockOtlpServer upstream = startUpstream();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        processors:
          filter/drop:
            traces: { span: ['IsMatch(name, "drop-.*")'] }
          resource/env:
            attributes: [ { key: deployment.environment, value: test, action: upsert } ]
        extensions:
          file_storage: { directory: queue, max_size_mib: %d }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            sending_queue: { storage: file_storage }
          debug:
        service:
          extensions: [file_storage]
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces:
              receivers: [otlp]
              processors: [filter/drop, resource/env]
              exporters: [otlp, debug]
            metrics: { receivers: [otlp], exporters: [otlp] }
            logs: { receivers: [otlp], exporters: [otlp] }
        """
                .formatted(MAX_SIZE_MIB),
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.DURABLE,
            dir);
    int points = OtlpRequests.POINTS_PER_METRICS_REQUEST;

    // Spans from the real SDK over OTLP/gRPC: 30 kept, 10 dropped by the filter.
    SdkTracerProvider sdk =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpGrpcSpanExporter.builder()
                            .setEndpoint(
                                "http://127.0.0.1:" + relay.relay.grpcAddress("otlp").getPort())
                            .build())
                    .setMaxExportBatchSize(10)
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();
    Tracer tracer = sdk.get("monitoring");
    for (int i = 0; i < 40; i++) {
      tracer.spanBuilder((i % 4 == 3 ? "drop-" : "keep-") + i).startSpan().end();
    }
    assertThat(sdk.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(sdk.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    // Over OTLP/HTTP: exactly 2 requests of each signal.
    for (int i = 0; i < 2; i++) {
      assertThat(
              relay
                  .post("/v1/traces", OtlpRequests.spans("http-" + i, 5).toByteArray())
                  .statusCode())
          .isEqualTo(200);
      assertThat(
              relay
                  .post("/v1/metrics", OtlpRequests.metricPoints("http-" + i).toByteArray())
                  .statusCode())
          .isEqualTo(200);
      assertThat(
              relay.post("/v1/logs", OtlpRequests.logs("http-" + i, 3).toByteArray()).statusCode())
          .isEqualTo(200);
    }
    var channel = relay.grpcChannel();
    MetricsServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .export(OtlpRequests.metricPoints("grpc"));
    LogsServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(20, TimeUnit.SECONDS)
        .export(OtlpRequests.logs("grpc", 4));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                upstream.spans().size() == 40
                    && upstream.pointCount() == 3L * points
                    && upstream.logRecords().size() == 10);

    // The oldest record waits on disk while the upstream holds its answers.
    hold(upstream);
    assertThat(relay.post("/v1/logs", OtlpRequests.logs("held", 2).toByteArray()).statusCode())
        .isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric(
                        "otlp4j_queue_oldest_record_age_seconds",
                        "queue",
                        "logs",
                        "consumer",
                        "otlp")
                    >= 0.05);
    String text = relay.scrape();

    // Processors: the Collector's incoming/outgoing items, labelled processor and otel_signal.
    assertThat(
            sample(
                text,
                "otelcol_processor_incoming_items_total",
                "processor",
                "filter/drop",
                "otel_signal",
                "traces"))
        .isEqualTo(50);
    assertThat(
            sample(
                text,
                "otelcol_processor_outgoing_items_total",
                "processor",
                "filter/drop",
                "otel_signal",
                "traces"))
        .isEqualTo(40);
    assertThat(
            sample(
                text,
                "otelcol_processor_incoming_items_total",
                "processor",
                "resource/env",
                "otel_signal",
                "traces"))
        .isEqualTo(40);
    assertThat(
            sample(
                text,
                "otelcol_processor_outgoing_items_total",
                "processor",
                "resource/env",
                "otel_signal",
                "traces"))
        .isEqualTo(40);
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_spans_total",
                "receiver",
                "otlp",
                "transport",
                "grpc"))
        .isEqualTo(40);
    assertThat(sample(text, "otelcol_exporter_sent_spans_total", "exporter", "otlp")).isEqualTo(40);
    assertThat(sample(text, "otelcol_exporter_sent_spans_total", "exporter", "debug"))
        .isEqualTo(40);
    for (String item : List.of("spans", "metric_points", "log_records")) {
      assertThat(
              sample(
                  text, "otelcol_exporter_enqueue_failed_" + item + "_total", "exporter", "otlp"))
          .isZero();
    }

    // Ack latency: one observation per request, per receiver, transport and ack mode.
    assertThat(
            sample(
                text,
                "otlp4j_receiver_ack_latency_seconds_count",
                "receiver",
                "otlp",
                "transport",
                "http",
                "ack_mode",
                "durable"))
        .isEqualTo(7);
    assertThat(
            sample(
                text,
                "otlp4j_receiver_ack_latency_seconds_count",
                "receiver",
                "otlp",
                "transport",
                "grpc",
                "ack_mode",
                "durable"))
        .isEqualTo(
            sample(
                text,
                "otlp4j_receiver_requests_total",
                "receiver",
                "otlp",
                "transport",
                "grpc",
                "outcome",
                "accepted"))
        .isGreaterThanOrEqualTo(3);
    assertThat(
            sample(
                text,
                "otlp4j_receiver_ack_latency_seconds_sum",
                "receiver",
                "otlp",
                "transport",
                "http",
                "ack_mode",
                "durable"))
        .isPositive();

    // The durable queue: size and capacity in bytes (its sizer), under the Collector's names too.
    long capacity = MAX_SIZE_MIB * 1024L * 1024;
    for (String signal : List.of("traces", "metrics", "logs")) {
      assertThat(
              sample(
                  text, "otelcol_exporter_queue_capacity", "exporter", "otlp", "data_type", signal))
          .isEqualTo(capacity);
      assertThat(sample(text, "otlp4j_queue_capacity_bytes", "queue", signal)).isEqualTo(capacity);
      assertThat(sample(text, "otlp4j_queue_size_bytes", "queue", signal)).isPositive();
    }
    assertThat(sample(text, "otelcol_exporter_queue_size", "exporter", "otlp", "data_type", "logs"))
        .isPositive()
        .isEqualTo(sample(text, "otlp4j_queue_pending_bytes", "queue", "logs", "consumer", "otlp"));
    assertThat(
            sample(text, "otelcol_exporter_queue_size", "exporter", "otlp", "data_type", "traces"))
        .isZero();
    // The debug exporter's queue is in memory: requests.
    assertThat(
            sample(
                text,
                "otelcol_exporter_queue_capacity",
                "exporter",
                "debug",
                "data_type",
                "traces"))
        .isEqualTo(BatchSettings.DEFAULT_QUEUE_SIZE);

    // Breaker, memory budget.
    assertThat(sample(text, "otlp4j_exporter_circuit_state", "exporter", "otlp")).isZero();
    assertThat(sample(text, "otlp4j_memory_limit_bytes")).isEqualTo(512.0 * 1024 * 1024);
    assertThat(sample(text, "otlp4j_memory_used_bytes")).isGreaterThanOrEqualTo(0);

    // The process, under the Collector's names.
    assertThat(sample(text, "otelcol_process_uptime_total")).isPositive();
    assertThat(sample(text, "otelcol_process_uptime_seconds_total")).isPositive();
    assertThat(sample(text, "otelcol_process_cpu_seconds_total")).isPositive();
    assertThat(sample(text, "otelcol_process_memory_rss")).isGreaterThan(1 << 20);
    assertThat(sample(text, "otelcol_process_memory_rss_bytes")).isGreaterThan(1 << 20);
    double heap = sample(text, "otelcol_process_runtime_heap_alloc_bytes");
    assertThat(heap).isPositive();
    assertThat(sample(text, "otelcol_process_runtime_total_sys_memory_bytes")).isGreaterThan(heap);
    assertThat(text).containsPattern("(?m)^otlp4j_jvm_gc_collections_total\\{gc=\"[^\"]+\"} ");
    assertThat(text).containsPattern("(?m)^# TYPE otelcol_process_cpu_seconds_total counter$");
    assertThat(text).containsPattern("(?m)^# TYPE otelcol_process_memory_rss gauge$");

    assertThat(promtoolCheckMetrics(text)).as("promtool check metrics").isEmpty();

    release(upstream);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric(
                        "otlp4j_queue_oldest_record_age_seconds",
                        "queue",
                        "logs",
                        "consumer",
                        "otlp")
                    == 0);
  }

  @Test
  void aFullSendingQueueCountsEnqueueFailedAndTheReceiverRefusal() throws Exception {
    MockOtlpServer upstream = startUpstream();
    hold(upstream);
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
            sending_queue: { num_consumers: 1, queue_size: 2 }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.RECEIVED,
            dir);
    int refusedSpans = 0;
    int refusals = 0;
    for (int i = 0; i < 40 && refusals < 3; i++) {
      int status =
          relay.post("/v1/traces", OtlpRequests.spans("r-" + i, 3).toByteArray()).statusCode();
      if (status != 200) {
        refusals++;
        refusedSpans += 3;
      }
    }
    assertThat(refusals).as("requests refused by a full queue").isEqualTo(3);
    String text = relay.scrape();
    assertThat(sample(text, "otelcol_exporter_enqueue_failed_spans_total", "exporter", "otlp"))
        .isEqualTo(refusedSpans);
    assertThat(
            sample(
                text,
                "otelcol_receiver_refused_spans_total",
                "receiver",
                "otlp",
                "transport",
                "http"))
        .isEqualTo(refusedSpans);
    assertThat(
            sample(text, "otelcol_exporter_queue_size", "exporter", "otlp", "data_type", "traces"))
        .isEqualTo(2);
    assertThat(
            sample(
                text, "otelcol_exporter_queue_capacity", "exporter", "otlp", "data_type", "traces"))
        .isEqualTo(2);
    assertThat(
            sample(
                text,
                "otlp4j_receiver_ack_latency_seconds_count",
                "receiver",
                "otlp",
                "transport",
                "http",
                "ack_mode",
                "received"))
        .isEqualTo(
            sample(
                    text,
                    "otlp4j_receiver_requests_total",
                    "receiver",
                    "otlp",
                    "transport",
                    "http",
                    "outcome",
                    "accepted")
                + refusals);
    release(upstream);
  }

  /**
   * What the real {@code promtool check metrics} says about {@code exposition} (nothing when it has
   * no finding); fails when promtool exits non-zero without a finding.
   */
  static String promtoolCheckMetrics(String exposition) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(ExternalTool.PROMTOOL.require().toString(), "check", "metrics")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = p.getOutputStream()) {
      in.write(exposition.getBytes(StandardCharsets.UTF_8));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream o = p.getInputStream()) {
      o.transferTo(out);
    }
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String findings = out.toString(StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0 && findings.isEmpty()) {
      throw new AssertionError("promtool exited with " + p.exitValue());
    }
    return findings;
  }

  private static double sample(String text, String name, String... labels) {
    return RelayUnderTest.sample(text, name, labels);
  }
}
