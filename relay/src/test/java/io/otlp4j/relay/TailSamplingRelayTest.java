package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The OpenTelemetry Java SDK sends traces through a relay whose pipeline is {@code tail_sampling}
 * then {@code batch}: the client is answered when the spans are held, and what reaches the upstream
 * after {@code decision_wait} is every span of the traces the policies sampled, and nothing else,
 * in the {@code delivered} ack mode and through the durable queue in {@code durable}.
 */
@ExtendWith(NettyLeakCheck.class)
class TailSamplingRelayTest {
  private static final int TRACES = 20;

  @org.junit.jupiter.api.io.TempDir Path dir;

  private MockOtlpServer upstream;
  private RelayUnderTest relay;

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      relay.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = AckMode.class,
      names = {"DELIVERED", "DURABLE"})
  void onlyTheSampledTracesReachTheUpstreamWhole(AckMode ackMode) throws Exception {
    upstream = MockOtlpServer.started();
    boolean durable = ackMode == AckMode.DURABLE;
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          tail_sampling:
            decision_wait: 300ms
            policies:
              - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
          batch:
            timeout: 50ms
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            %s
        %s
        service:
          %s
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [tail_sampling, batch], exporters: [otlp/upstream] }
        """
            .formatted(
                durable ? "sending_queue: { storage: file_storage }" : "",
                durable
                    ? "extensions:\n  file_storage:\n    directory: "
                        + dir.resolve("queue").toString().replace("\\", "/")
                    : "",
                durable ? "extensions: [file_storage]" : "");
    java.nio.file.Files.createDirectories(dir.resolve("queue"));
    relay = RelayUnderTest.start(yaml, Map.of("UPSTREAM", upstream.grpcEndpoint()), ackMode, dir);
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(relay.httpUri("otlp", "/v1/traces").toString())
                            .build())
                    .setMaxExportBatchSize(7) // the spans of a trace in several requests
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();
    Tracer tracer = tracerProvider.get("e2e");
    Set<String> errorTraces = new HashSet<>();
    for (int i = 0; i < TRACES; i++) {
      Span root = tracer.spanBuilder("root-" + i).startSpan();
      try (Scope ignored = root.makeCurrent()) {
        for (int c = 0; c < 2; c++) {
          Span child = tracer.spanBuilder("child-" + i + "-" + c).startSpan();
          if (i % 4 == 0 && c == 1) {
            child.setStatus(StatusCode.ERROR);
            errorTraces.add(root.getSpanContext().getTraceId());
          }
          child.end();
        }
      } finally {
        root.end();
      }
    }
    // Every export answered (in delivered mode too: the spans are held for the decision).
    assertThat(tracerProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(upstream.spans()).hasSize(errorTraces.size() * 3));
    Set<String> got =
        upstream.spans().stream()
            .map(s -> hex(s.getTraceId()))
            .collect(Collectors.toCollection(HashSet::new));
    assertThat(got).isEqualTo(errorTraces);
    assertThat(
            relay.metric(
                "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
                "processor",
                "tail_sampling",
                "sampled",
                "false",
                "decision",
                "not_sampled"))
        .isEqualTo(TRACES - errorTraces.size());
    assertThat(
            relay.metric(
                "otelcol_processor_tail_sampling_count_traces_sampled_total",
                "processor",
                "tail_sampling",
                "policy",
                "errors",
                "sampled",
                "true",
                "decision",
                "sampled"))
        .isEqualTo(errorTraces.size());
    assertThat(
            relay.metric(
                "otelcol_processor_incoming_items_total",
                "processor",
                "tail_sampling",
                "otel_signal",
                "traces"))
        .isEqualTo(TRACES * 3);
    assertThat(
            relay.metric(
                "otelcol_processor_outgoing_items_total",
                "processor",
                "tail_sampling",
                "otel_signal",
                "traces"))
        .isEqualTo(errorTraces.size() * 3);
    assertThat(relay.metric("otlp4j_pipeline_refused_traces_total", "pipeline", "traces"))
        .as("a sampled-out span is dropped, never refused")
        .isZero();
  }

  private static String hex(ByteString id) {
    return HexFormat.of().formatHex(id.toByteArray());
  }
}
