package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.DefaultAggregationSelector;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Results, flush, shutdown and configuration of the otlp4j SDK exporters against real servers. */
@ExtendWith(NettyLeakCheck.class)
class Otlp4jExportersTest {

  private static MockOtlpServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MockOtlpServer.started();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void acceptedExportSucceedsAndCountsItsItems() {
    Otlp4jSpanExporter exporter =
        Otlp4jSpanExporter.builder().endpoint(server.httpEndpoint()).build();
    List<SpanData> spans = TelemetrySamples.randomSpans(3, 25);
    try {
      assertThat(exporter.export(spans).join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(exporter.flush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      assertThat(exporter.transport().sentItems(Signal.TRACES)).isEqualTo(25);
      assertThat(exporter.export(List.of()).isSuccess()).as("nothing to send").isTrue();
    } finally {
      exporter.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void unreachableEndpointFailsTheResultWithItsCause() throws Exception {
    int closedPort = MockOtlpServer.freePort(); // nothing listens there
    Otlp4jSpanExporter exporter =
        Otlp4jSpanExporter.builder()
            .endpoint("http://127.0.0.1:" + closedPort)
            .noRetries()
            .timeout(Duration.ofSeconds(2))
            .build();
    try {
      CompletableResultCode result =
          exporter.export(TelemetrySamples.randomSpans(5, 4)).join(20, TimeUnit.SECONDS);
      assertThat(result.isDone()).isTrue();
      assertThat(result.isSuccess()).isFalse();
      assertThat(result.getFailureThrowable())
          .isInstanceOf(ExportBridge.ExportFailedException.class)
          .hasMessageContaining("Outcome{RETRYABLE");
      assertThat(exporter.transport().failedItems(Signal.TRACES)).isEqualTo(4);
    } finally {
      exporter.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void shutdownIsIdempotentAndLaterExportsFailAtOnce() {
    Otlp4jLogRecordExporter exporter =
        Otlp4jLogRecordExporter.builder()
            .protocol(Protocol.GRPC)
            .endpoint(server.grpcEndpoint())
            .build();
    assertThat(exporter.export(TelemetrySamples.logs()).join(10, TimeUnit.SECONDS).isSuccess())
        .isTrue();
    CompletableResultCode first = exporter.shutdown();
    assertThat(first.join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.shutdown()).isSameAs(first);
    CompletableResultCode late = exporter.export(TelemetrySamples.logs());
    assertThat(late.isDone()).isTrue();
    assertThat(late.isSuccess()).isFalse();
  }

  @Test
  void metricExporterReportsItsSelectorsAndMemoryMode() {
    Otlp4jMetricExporter defaults = Otlp4jMetricExporter.builder().build();
    Otlp4jMetricExporter tuned =
        Otlp4jMetricExporter.builder()
            .aggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred())
            .defaultAggregationSelector(
                DefaultAggregationSelector.getDefault()
                    .with(InstrumentType.HISTOGRAM, Aggregation.base2ExponentialBucketHistogram()))
            .memoryMode(MemoryMode.REUSABLE_DATA)
            .build();
    try {
      assertThat(defaults.getAggregationTemporality(InstrumentType.COUNTER))
          .isEqualTo(AggregationTemporality.CUMULATIVE);
      assertThat(defaults.getMemoryMode()).isEqualTo(MemoryMode.IMMUTABLE_DATA);
      assertThat(defaults.getDefaultAggregation(InstrumentType.HISTOGRAM))
          .isEqualTo(Aggregation.defaultAggregation());
      assertThat(tuned.getAggregationTemporality(InstrumentType.COUNTER))
          .isEqualTo(AggregationTemporality.DELTA);
      assertThat(tuned.getAggregationTemporality(InstrumentType.UP_DOWN_COUNTER))
          .isEqualTo(AggregationTemporality.CUMULATIVE);
      assertThat(tuned.getDefaultAggregation(InstrumentType.HISTOGRAM))
          .isEqualTo(Aggregation.base2ExponentialBucketHistogram());
      assertThat(tuned.getMemoryMode()).isEqualTo(MemoryMode.REUSABLE_DATA);
    } finally {
      defaults.shutdown().join(10, TimeUnit.SECONDS);
      tuned.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void environmentVariablesConfigureTheExporterAndOtlp4jOnesWin() {
    Map<String, String> env =
        Map.of(
            "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
            "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317",
            "OTEL_EXPORTER_OTLP_HEADERS", "api-key=s%3Dcret",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip",
            "OTEL_EXPORTER_OTLP_TIMEOUT", "2500",
            "OTEL_EXPORTER_OTLP4J_ENDPOINT", "http://otlp4j-collector:4317");
    Otlp4jSpanExporter exporter = Otlp4jSpanExporter.builder().fromEnvironment(env::get).build();
    try {
      assertThat(exporter.transport().protocol()).isEqualTo(Protocol.GRPC);
      assertThat(exporter.transport().endpoint(Signal.TRACES))
          .isEqualTo("http://otlp4j-collector:4317");
      assertThat(exporter.transport().headers()).containsEntry("api-key", "s=cret");
      assertThat(exporter.transport().compression().name()).isEqualTo("GZIP");
      assertThat(exporter.transport().timeout()).isEqualTo(Duration.ofMillis(2500));
      assertThat(exporter.toString()).contains("grpc").contains("otlp4j-collector");
    } finally {
      exporter.shutdown().join(10, TimeUnit.SECONDS);
    }
  }
}
