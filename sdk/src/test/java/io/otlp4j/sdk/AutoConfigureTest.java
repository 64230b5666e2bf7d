package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.testing.Transport;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code otel.traces.exporter=otlp4j} (and metrics, logs) through the SDK's real autoconfigure,
 * which finds otlp4j's providers in META-INF/services, as an application or a Java agent extension
 * does.
 */
@ExtendWith(NettyLeakCheck.class)
class AutoConfigureTest {

  /** The SDK's own BatchSpanProcessor in a toString (not otlp4j's, whose name ends the same). */
  private static final String SDK_PROCESSOR = "(?<!Otlp4j)BatchSpanProcessor\\{";

  private static MockOtlpServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MockOtlpServer.started();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  private static OpenTelemetrySdk autoconfigure(Map<String, String> properties) {
    Map<String, String> all =
        new HashMap<>(
            Map.of(
                "otel.service.name", "autoconfigured", "otel.metric.export.interval", "3600000"));
    all.putAll(properties);
    return AutoConfiguredOpenTelemetrySdk.builder()
        .addPropertiesSupplier(() -> all)
        .disableShutdownHook()
        .build()
        .getOpenTelemetrySdk();
  }

  @Test
  void otlp4jSelectedForAllSignalsExportsToTheServerThroughTheOtlp4jBatchProcessors() {
    server.clear();
    OpenTelemetrySdk sdk =
        autoconfigure(
            Map.of(
                "otel.traces.exporter",
                "otlp4j",
                "otel.metrics.exporter",
                "otlp4j",
                "otel.logs.exporter",
                "otlp4j",
                "otel.exporter.otlp4j.protocol",
                "grpc",
                "otel.exporter.otlp4j.endpoint",
                server.grpcEndpoint(),
                "otel.exporter.otlp4j.max.in.flight",
                "3",
                "otel.bsp.schedule.delay",
                "10"));
    try {
      assertThat(sdk.getSdkTracerProvider().toString())
          .contains("Otlp4jBatchSpanProcessor")
          .contains("Otlp4jSpanExporter")
          .doesNotContainPattern(SDK_PROCESSOR);
      assertThat(sdk.getSdkLoggerProvider().toString()).contains("Otlp4jBatchLogRecordProcessor");

      Span span = sdk.getTracer("app").spanBuilder("handled").startSpan();
      span.end();
      // otel.bsp.schedule.delay=10 ms sends it without a flush (the SDK default would wait 5 s).
      await().atMost(Duration.ofSeconds(30)).until(() -> server.spanCount() == 1);
      sdk.getLogsBridge().get("app").logRecordBuilder().setBody("hello").emit();
      sdk.getMeter("app").counterBuilder("hits").build().add(3, Attributes.empty());
      assertThat(sdk.getSdkMeterProvider().forceFlush().join(10, TimeUnit.SECONDS).isSuccess())
          .isTrue();
    } finally {
      assertThat(sdk.shutdown().join(20, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                server.spanCount() == 1
                    && !server.logsRequests().isEmpty()
                    && !server.metricsRequests().isEmpty());
    ResourceSpans resourceSpans = server.traceRequests().get(0).getResourceSpans(0);
    assertThat(resourceSpans.getScopeSpans(0).getSpans(0).getName()).isEqualTo("handled");
    assertThat(resourceSpans.getResource().getAttributesList())
        .anySatisfy(kv -> assertThat(kv.getValue().getStringValue()).isEqualTo("autoconfigured"));
    assertThat(server.accepted(Signal.TRACES).get(0).transport()).isEqualTo(Transport.GRPC);
    assertThat(
            server
                .logsRequests()
                .get(0)
                .getResourceLogs(0)
                .getScopeLogs(0)
                .getLogRecords(0)
                .getBody()
                .getStringValue())
        .isEqualTo("hello");
    assertThat(server.metricsRequests())
        .anySatisfy(
            m ->
                assertThat(m.getResourceMetrics(0).getScopeMetricsList())
                    .anySatisfy(
                        sm ->
                            assertThat(sm.getMetricsList())
                                .anySatisfy(
                                    metric -> assertThat(metric.getName()).isEqualTo("hits"))));
    // The processor's own metrics went to the autoconfigured MeterProvider (AutoConfigureListener).
    assertThat(server.metricsRequests())
        .anySatisfy(
            m ->
                assertThat(m.getResourceMetrics(0).getScopeMetricsList())
                    .anySatisfy(
                        sm -> {
                          assertThat(sm.getScope().getName()).isEqualTo("io.otlp4j.sdk");
                          assertThat(sm.getMetricsList())
                              .anySatisfy(
                                  metric ->
                                      assertThat(metric.getName()).isEqualTo("processedSpans"));
                        }));
  }

  @Test
  void standardOtlpPropertiesApplyWhenOtlp4jOnesAreAbsent() {
    server.clear();
    OpenTelemetrySdk sdk =
        autoconfigure(
            Map.of(
                "otel.traces.exporter",
                "otlp4j",
                "otel.metrics.exporter",
                "none",
                "otel.logs.exporter",
                "none",
                "otel.exporter.otlp.protocol",
                "http/protobuf",
                "otel.exporter.otlp.endpoint",
                server.httpEndpoint()));
    try {
      sdk.getTracer("app").spanBuilder("via http").startSpan().end();
    } finally {
      assertThat(sdk.shutdown().join(20, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> server.spanCount() == 1);
    assertThat(server.accepted(Signal.TRACES).get(0).transport()).isEqualTo(Transport.HTTP);
  }

  @Test
  void theSdkProcessorStaysWhenReplacementIsTurnedOffOrOtherExportersShareIt() {
    OpenTelemetrySdk off =
        autoconfigure(
            Map.of(
                "otel.traces.exporter",
                "otlp4j",
                "otel.metrics.exporter",
                "none",
                "otel.logs.exporter",
                "none",
                "otel.exporter.otlp4j.batch.processor.enabled",
                "false",
                "otel.exporter.otlp4j.endpoint",
                server.httpEndpoint()));
    OpenTelemetrySdk shared =
        autoconfigure(
            Map.of(
                "otel.traces.exporter",
                "otlp4j,otlp",
                "otel.metrics.exporter",
                "none",
                "otel.logs.exporter",
                "none",
                "otel.exporter.otlp4j.endpoint",
                server.httpEndpoint()));
    try {
      assertThat(off.getSdkTracerProvider().toString())
          .containsPattern(SDK_PROCESSOR)
          .doesNotContain("Otlp4jBatchSpanProcessor");
      assertThat(shared.getSdkTracerProvider().toString())
          .containsPattern(SDK_PROCESSOR)
          .doesNotContain("Otlp4jBatchSpanProcessor");
    } finally {
      off.shutdown().join(20, TimeUnit.SECONDS);
      shared.shutdown().join(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void otlp4jPropertiesWinOverStandardOnesPerSignal() {
    Map<String, String> props = new HashMap<>();
    props.put("otel.exporter.otlp.protocol", "grpc");
    props.put("otel.exporter.otlp.endpoint", "http://standard:4317");
    props.put("otel.exporter.otlp.traces.endpoint", "http://standard-traces:4317");
    props.put("otel.exporter.otlp.headers", "a=1,b=2");
    props.put("otel.exporter.otlp.compression", "gzip");
    props.put("otel.exporter.otlp.timeout", "3s");
    props.put("otel.exporter.otlp4j.protocol", "http/protobuf");
    props.put("otel.exporter.otlp4j.endpoint", "http://mine:4318");
    props.put("otel.exporter.otlp4j.metrics.endpoint", "http://mine-metrics:9999/custom");
    props.put("otel.exporter.otlp4j.headers", "b=3");
    props.put("otel.exporter.otlp4j.timeout", "1500");
    props.put("otel.exporter.otlp4j.metrics.temporality.preference", "delta");
    props.put("otel.java.exporter.memory_mode", "reusable_data");
    DefaultConfigProperties config = DefaultConfigProperties.createFromMap(props);

    Otlp4jSpanExporter spans =
        (Otlp4jSpanExporter) new Otlp4jSpanExporterProvider().createExporter(config);
    Otlp4jMetricExporter metrics =
        (Otlp4jMetricExporter) new Otlp4jMetricExporterProvider().createExporter(config);
    try {
      assertThat(spans.transport().protocol()).isEqualTo(Protocol.HTTP_PROTOBUF);
      // The standard per-signal endpoint is more specific than otlp4j's generic one.
      assertThat(spans.transport().endpoint(Signal.TRACES))
          .isEqualTo("http://standard-traces:4317/");
      assertThat(spans.transport().headers()).containsEntry("a", "1").containsEntry("b", "3");
      assertThat(spans.transport().compression()).isEqualTo(Compression.GZIP);
      assertThat(spans.transport().timeout()).isEqualTo(Duration.ofMillis(1500));
      assertThat(metrics.transport().endpoint(Signal.METRICS))
          .isEqualTo("http://mine-metrics:9999/custom");
      assertThat(metrics.getAggregationTemporality(InstrumentType.COUNTER))
          .isEqualTo(AggregationTemporality.DELTA);
      assertThat(metrics.getMemoryMode()).isEqualTo(MemoryMode.REUSABLE_DATA);
    } finally {
      spans.shutdown().join(10, TimeUnit.SECONDS);
      metrics.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void badValuesFailConfigurationNamingTheSetting() {
    assertThatThrownBy(
            () ->
                new Otlp4jSpanExporterProvider()
                    .createExporter(
                        DefaultConfigProperties.createFromMap(
                            Map.of("otel.exporter.otlp4j.protocol", "carrier-pigeon"))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("PROTOCOL")
        .hasMessageContaining("carrier-pigeon");
    assertThatThrownBy(
            () ->
                new Otlp4jMetricExporterProvider()
                    .createExporter(
                        DefaultConfigProperties.createFromMap(
                            Map.of(
                                "otel.exporter.otlp.metrics.temporality.preference", "sometimes"))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("sometimes");
  }
}
