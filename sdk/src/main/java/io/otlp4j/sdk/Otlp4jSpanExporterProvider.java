package io.otlp4j.sdk;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.trace.export.SpanExporter;

/**
 * Autoconfigure SPI: {@code otel.traces.exporter=otlp4j} selects an {@link Otlp4jSpanExporter},
 * configured from {@code otel.exporter.otlp4j.*} over the standard {@code otel.exporter.otlp.*}
 * properties. Registered in {@code META-INF/services}; also loaded from a Java agent extension jar.
 * Stateless; thread-safe.
 */
public final class Otlp4jSpanExporterProvider implements ConfigurableSpanExporterProvider {

  /** The exporter name in {@code otel.traces.exporter}. */
  public static final String NAME = "otlp4j";

  @Override
  public SpanExporter createExporter(ConfigProperties config) {
    return Otlp4jConfig.configure(Otlp4jSpanExporter.builder(), config).build();
  }

  @Override
  public String getName() {
    return NAME;
  }
}
