package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenTelemetry Java SDK sends spans through a relay with a {@code probabilistic_sampler}: the
 * spans that arrive upstream are exactly those whose trace ids the Collector's {@code hash_seed}
 * algorithm keeps, each with the trace state the Collector writes, and the dropped ones were
 * answered as accepted (nothing refused).
 */
@ExtendWith(NettyLeakCheck.class)
class RelayProbabilisticSamplerTest {
  private static final int SPANS = 200;
  private static final int SEED = 77;

  @TempDir Path dir;

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

  @Test
  void sdkSpansAreSampledAsACollectorWithTheSameSeedSamplesThem() throws Exception {
    upstream = MockOtlpServer.started();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          probabilistic_sampler/quarter:
            sampling_percentage: 25
            hash_seed: 77
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [probabilistic_sampler/quarter], exporters: [otlp/upstream] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.DELIVERED,
            dir);
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(relay.httpUri("otlp", "/v1/traces").toString())
                            .build())
                    .setMaxExportBatchSize(25)
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();
    Tracer tracer = tracerProvider.get("e2e");
    Set<String> expected = new HashSet<>();
    for (int i = 0; i < SPANS; i++) {
      io.opentelemetry.api.trace.Span span = tracer.spanBuilder("op-" + i).startSpan();
      String traceId = span.getSpanContext().getTraceId();
      if (collectorKeeps(HexFormat.of().parseHex(traceId), SEED, 25f)) {
        expected.add(traceId);
      }
      span.end();
    }
    assertThat(tracerProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(expected.size()).isBetween(20, 80);

    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> upstream.spans().size() >= expected.size());
    List<Span> spans = upstream.spans();
    assertThat(spans.stream().map(s -> HexFormat.of().formatHex(s.getTraceId().toByteArray())))
        .containsExactlyInAnyOrderElementsOf(expected);
    // 25 %: 4096 of the 2^14 buckets, so the rejection threshold is 0xc000... ("c")
    assertThat(spans)
        .allSatisfy(s -> assertThat(s.getTraceState()).matches("ot=rv:[0-9a-f]{14};th:c"));
    assertThat(
            relay.metric(
                "otelcol_processor_incoming_items_total",
                "processor",
                "probabilistic_sampler/quarter",
                "otel_signal",
                "traces"))
        .isEqualTo(SPANS);
    assertThat(
            relay.metric(
                "otelcol_processor_outgoing_items_total",
                "processor",
                "probabilistic_sampler/quarter",
                "otel_signal",
                "traces"))
        .isEqualTo(expected.size());
    assertThat(
            relay.metric(
                "otelcol_processor_probabilistic_sampler_count_traces_sampled_total",
                "policy",
                "trace_id_hash",
                "sampled",
                "false"))
        .isEqualTo(SPANS - expected.size());
    assertThat(relay.metric("otlp4j_pipeline_refused_traces_total", "pipeline", "traces")).isZero();
  }

  /**
   * The Collector's legacy decision, written out plainly: FNV-1a 32 over the seed's little-endian
   * bytes and the trace id, the low 14 bits below {@code uint32(percent * 163.84)} (32-bit float).
   */
  private static boolean collectorKeeps(byte[] traceId, int seed, float percent) {
    long h = 2166136261L;
    byte[] seedBytes = {(byte) seed, (byte) (seed >> 8), (byte) (seed >> 16), (byte) (seed >> 24)};
    for (byte[] part : new byte[][] {seedBytes, traceId}) {
      for (byte b : part) {
        h = ((h ^ (b & 0xff)) * 16777619L) & 0xffffffffL;
      }
    }
    return (h & 0x3fff) < (int) (percent * 163.84f);
  }
}
