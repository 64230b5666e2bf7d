package io.otlp4j.sdk;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.metrics.ConfigurableMetricExporterProvider;
import io.opentelemetry.sdk.metrics.export.MetricExporter;

/**
 * Autoconfigure SPI: {@code otel.metrics.exporter=otlp4j} selects an {@link Otlp4jMetricExporter},
 * with the temporality ({@code otel.exporter.otlp[4j].metrics.temporality.preference}), default
 * histogram aggregation ({@code ...metrics.default.histogram.aggregation}) and memory mode ({@code
 * otel.java.exporter.memory_mode}) the SDK's OTLP exporter reads. Stateless; thread-safe.
 */
public final class Otlp4jMetricExporterProvider implements ConfigurableMetricExporterProvider {

  @Override
  public MetricExporter createExporter(ConfigProperties config) {
    Otlp4jMetricExporter.Builder b = Otlp4jConfig.configure(Otlp4jMetricExporter.builder(), config);
    return Otlp4jConfig.configureMetrics(b, config).build();
  }

  @Override
  public String getName() {
    return Otlp4jSpanExporterProvider.NAME;
  }
}
