package io.otlp4j.sdk;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.logs.ConfigurableLogRecordExporterProvider;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;

/**
 * Autoconfigure SPI: {@code otel.logs.exporter=otlp4j} selects an {@link Otlp4jLogRecordExporter}
 * (see {@link Otlp4jSpanExporterProvider}). Stateless; thread-safe.
 */
public final class Otlp4jLogRecordExporterProvider
    implements ConfigurableLogRecordExporterProvider {

  @Override
  public LogRecordExporter createExporter(ConfigProperties config) {
    return Otlp4jConfig.configure(Otlp4jLogRecordExporter.builder(), config).build();
  }

  @Override
  public String getName() {
    return Otlp4jSpanExporterProvider.NAME;
  }
}
