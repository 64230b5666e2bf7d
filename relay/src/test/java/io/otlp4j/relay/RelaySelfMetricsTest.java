package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
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
 * {@code /metrics} after a known workload on all three signals shows the Collector's metric names
 * with exact values: items accepted and refused per receiver and transport, items sent per
 * exporter, and the exporter queue's size while an upstream is stalled.
 */
class RelaySelfMetricsTest extends RelayScenarioTest {

  private MockOtlpServer upstream;

  @ParameterizedTest(name = "ack mode {0}")
  @MethodSource("io.otlp4j.relay.RelayUnderTest#ackModes")
  void collectorMetricNamesCountAKnownWorkloadOnEverySignal(AckMode ackMode) throws Exception {
    upstream = startUpstream();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
          otlp/traces_only:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
          otlp/metrics_only:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
          debug:
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp, otlp/traces_only], exporters: [otlp, debug] }
            metrics: { receivers: [otlp, otlp/metrics_only], exporters: [otlp] }
            logs: { receivers: [otlp], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            ackMode,
            dir);
    int points = OtlpRequests.POINTS_PER_METRICS_REQUEST;

    var channel = relay.grpcChannel();
    var traces = TraceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    var metrics =
        MetricsServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    var logs = LogsServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      traces.export(OtlpRequests.spans("grpc-" + i, 7));
    }
    for (int i = 0; i < 2; i++) {
      assertThat(
              relay
                  .post("/v1/traces", OtlpRequests.spans("http-" + i, 5).toByteArray())
                  .statusCode())
          .isEqualTo(200);
      metrics.export(OtlpRequests.metricPoints("grpc-" + i));
      assertThat(
              relay.post("/v1/logs", OtlpRequests.logs("http-" + i, 3).toByteArray()).statusCode())
          .isEqualTo(200);
    }
    assertThat(
            relay.post("/v1/metrics", OtlpRequests.metricPoints("http").toByteArray()).statusCode())
        .isEqualTo(200);
    logs.export(OtlpRequests.logs("grpc", 4));
    // Refused: signals sent to a receiver that no pipeline of that signal lists.
    assertThat(
            relay
                .post(
                    relay.httpUri("otlp/metrics_only", "/v1/traces"),
                    RelayUnderTest.PROTOBUF,
                    null,
                    OtlpRequests.spans("nowhere", 6).toByteArray())
                .statusCode())
        .isEqualTo(400);
    assertThat(
            relay
                .post(
                    relay.httpUri("otlp/metrics_only", "/v1/logs"),
                    RelayUnderTest.PROTOBUF,
                    null,
                    OtlpRequests.logs("nowhere", 5).toByteArray())
                .statusCode())
        .isEqualTo(400);
    assertThat(
            relay
                .post(
                    relay.httpUri("otlp/traces_only", "/v1/metrics"),
                    RelayUnderTest.PROTOBUF,
                    null,
                    OtlpRequests.metricPoints("nowhere").toByteArray())
                .statusCode())
        .isEqualTo(400);

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                upstream.spans().size() == 31
                    && upstream.pointCount() == 3L * points
                    && upstream.logRecords().size() == 10);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> relay.metric("otelcol_exporter_sent_spans_total", "exporter", "debug") == 31);
    String text = relay.scrape();
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_spans_total",
                "receiver",
                "otlp",
                "transport",
                "grpc"))
        .isEqualTo(21);
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_spans_total",
                "receiver",
                "otlp",
                "transport",
                "http"))
        .isEqualTo(10);
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_metric_points_total",
                "receiver",
                "otlp",
                "transport",
                "grpc"))
        .isEqualTo(2 * points);
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_metric_points_total",
                "receiver",
                "otlp",
                "transport",
                "http"))
        .isEqualTo(points);
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_log_records_total",
                "receiver",
                "otlp",
                "transport",
                "grpc"))
        .isEqualTo(4);
    assertThat(
            sample(
                text,
                "otelcol_receiver_accepted_log_records_total",
                "receiver",
                "otlp",
                "transport",
                "http"))
        .isEqualTo(6);
    assertThat(
            sample(
                text,
                "otelcol_receiver_refused_spans_total",
                "receiver",
                "otlp",
                "transport",
                "http"))
        .isZero();
    assertThat(
            sample(text, "otelcol_receiver_refused_spans_total", "receiver", "otlp/metrics_only"))
        .isEqualTo(6);
    assertThat(
            sample(
                text,
                "otelcol_receiver_refused_log_records_total",
                "receiver",
                "otlp/metrics_only"))
        .isEqualTo(5);
    assertThat(
            sample(
                text,
                "otelcol_receiver_refused_metric_points_total",
                "receiver",
                "otlp/traces_only"))
        .isEqualTo(points);
    assertThat(
            sample(text, "otelcol_receiver_accepted_spans_total", "receiver", "otlp/traces_only"))
        .isZero();
    assertThat(sample(text, "otelcol_exporter_sent_spans_total", "exporter", "otlp")).isEqualTo(31);
    assertThat(sample(text, "otelcol_exporter_sent_spans_total", "exporter", "debug"))
        .isEqualTo(31);
    // The buffers of all this traffic came from Netty's allocator (4.2's default: adaptive), which
    // holds them.
    assertThat(
            sample(
                text, "otlp4j_buffer_pool_used_bytes", "allocator", "adaptive", "memory", "direct"))
        .isPositive();
    assertThat(sample(text, "otelcol_exporter_sent_metric_points_total", "exporter", "otlp"))
        .isEqualTo(3 * points);
    assertThat(sample(text, "otelcol_exporter_sent_log_records_total", "exporter", "otlp"))
        .isEqualTo(10);
    // Every span handed to an exporter is in its batch size histogram (sum: items, count:
    // requests).
    assertThat(
            sample(
                text,
                "otlp4j_exporter_batch_send_size_sum",
                "exporter",
                "otlp",
                "pipeline",
                "traces"))
        .isEqualTo(31);
    assertThat(
            sample(
                text,
                "otlp4j_exporter_batch_send_size_count",
                "exporter",
                "debug",
                "pipeline",
                "traces"))
        .isPositive();
    for (String item : List.of("spans", "metric_points", "log_records")) {
      assertThat(
              sample(text, "otelcol_exporter_send_failed_" + item + "_total", "exporter", "otlp"))
          .isZero();
    }
    for (String signal : List.of("traces", "metrics", "logs")) {
      assertThat(
              sample(text, "otelcol_exporter_queue_size", "exporter", "otlp", "data_type", signal))
          .isZero();
      assertThat(
              sample(
                  text, "otelcol_exporter_queue_capacity", "exporter", "otlp", "data_type", signal))
          .isEqualTo(BatchSettings.DEFAULT_QUEUE_SIZE);
    }

    // With the upstream stalled, requests sent one at a time are either in flight (held upstream,
    // one
    // batch each) or waiting in the exporter's queue, which otelcol_exporter_queue_size counts.
    hold(upstream);
    List<CompletableFuture<HttpResponse<byte[]>>> held = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      held.add(relay.postAsync("/v1/traces", OtlpRequests.spans("held-" + i, 2).toByteArray()));
      int sent = i + 1;
      RelayUnderTest.promptly(Duration.ofSeconds(30))
          .until(
              () ->
                  upstream.heldCount()
                          + relay.metric(
                              "otelcol_exporter_queue_size",
                              "exporter",
                              "otlp",
                              "data_type",
                              "traces")
                      == sent);
    }
    assertThat(
            relay.metric("otelcol_exporter_queue_size", "exporter", "otlp", "data_type", "traces"))
        .as("in flight: %d", upstream.heldCount())
        .isPositive();
    assertThat(
            relay.metric("otelcol_exporter_queue_size", "exporter", "debug", "data_type", "traces"))
        .isZero();
    release(upstream);
    for (CompletableFuture<HttpResponse<byte[]>> f : held) {
      assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> relay.metric("otelcol_exporter_sent_spans_total", "exporter", "otlp") == 31 + 12);
    assertThat(
            relay.metric("otelcol_exporter_queue_size", "exporter", "otlp", "data_type", "traces"))
        .isZero();
    assertThat(
            relay.metric(
                "otelcol_receiver_accepted_spans_total", "receiver", "otlp", "transport", "http"))
        .isEqualTo(10 + 12);
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
  }

  private static double sample(String text, String name, String... labels) {
    return RelayUnderTest.sample(text, name, labels);
  }
}
