package io.otlp4j.sdk;

import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizer;
import io.opentelemetry.sdk.autoconfigure.spi.AutoConfigurationCustomizerProvider;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.internal.AutoConfigureListener;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.lang.System.Logger.Level;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Autoconfigure SPI: where autoconfigure has put the SDK's {@code BatchSpanProcessor} (or {@code
 * BatchLogRecordProcessor}) in front of an otlp4j exporter alone ({@code
 * otel.traces.exporter=otlp4j}, not a list with other exporters), it installs {@link
 * Otlp4jBatchSpanProcessor} ({@link Otlp4jBatchLogRecordProcessor}) in its place, configured from
 * the same {@code otel.bsp.*} ({@code otel.blrp.*}) properties and {@code
 * otel.exporter.otlp4j.max.in.flight}. Set {@code
 * otel.exporter.otlp4j.batch.processor.enabled=false} to keep the SDK's processor.
 *
 * <p><b>How the swap is clean:</b> autoconfigure offers the processor it built to {@code
 * addSpanProcessorCustomizer}; this provider hands the exporter's transport over to a new exporter
 * object (so the old one's shutdown no longer closes it), shuts the SDK's processor down at once
 * (its queue is still empty: no span has ended yet, and its worker thread ends), and returns the
 * otlp4j processor. The processor's metrics go to the autoconfigured SDK's {@code MeterProvider},
 * which this provider receives after configuration through the SDK's {@code AutoConfigureListener}
 * hook.
 *
 * <p>Thread-safe.
 */
public final class Otlp4jAutoConfigurationCustomizerProvider
    implements AutoConfigurationCustomizerProvider, AutoConfigureListener {

  private static final System.Logger LOG =
      System.getLogger(Otlp4jAutoConfigurationCustomizerProvider.class.getName());

  private final AtomicReference<MeterProvider> meterProvider =
      new AtomicReference<>(MeterProvider.noop());

  @Override
  public void customize(AutoConfigurationCustomizer customizer) {
    customizer.addSpanProcessorCustomizer(this::replaceSpanProcessor);
    customizer.addLogRecordProcessorCustomizer(this::replaceLogRecordProcessor);
  }

  SpanProcessor replaceSpanProcessor(SpanProcessor processor, ConfigProperties config) {
    if (config.getBoolean(Otlp4jConfig.REPLACE_PROCESSORS, true)
        && processor instanceof BatchSpanProcessor
        && ((BatchSpanProcessor) processor).getSpanExporter() instanceof Otlp4jSpanExporter) {
      Otlp4jSpanExporter original =
          (Otlp4jSpanExporter) ((BatchSpanProcessor) processor).getSpanExporter();
      SpanProcessor replacement;
      try {
        replacement =
            Otlp4jBatchSpanProcessor.builder(original.handOver())
                .fromConfig(config)
                .meterProvider(meterProvider::get)
                .build();
      } catch (RuntimeException | LinkageError e) {
        original.takeBack();
        return keep(processor, e);
      }
      processor.shutdown();
      return replacement;
    }
    return processor;
  }

  LogRecordProcessor replaceLogRecordProcessor(
      LogRecordProcessor processor, ConfigProperties config) {
    if (config.getBoolean(Otlp4jConfig.REPLACE_PROCESSORS, true)
        && processor instanceof BatchLogRecordProcessor
        && ((BatchLogRecordProcessor) processor).getLogRecordExporter()
            instanceof Otlp4jLogRecordExporter) {
      Otlp4jLogRecordExporter original =
          (Otlp4jLogRecordExporter) ((BatchLogRecordProcessor) processor).getLogRecordExporter();
      LogRecordProcessor replacement;
      try {
        replacement =
            Otlp4jBatchLogRecordProcessor.builder(original.handOver())
                .fromConfig(config)
                .meterProvider(meterProvider::get)
                .build();
      } catch (RuntimeException | LinkageError e) {
        original.takeBack();
        return keep(processor, e);
      }
      processor.shutdown();
      return replacement;
    }
    return processor;
  }

  /**
   * The SDK's processor stays when the otlp4j one cannot be built: a configuration error is thrown
   * on (autoconfigure reports it), anything else (a class that cannot load) is logged once.
   */
  private static <P> P keep(P processor, Throwable error) {
    if (error instanceof IllegalArgumentException) {
      throw (IllegalArgumentException) error;
    }
    LOG.log(
        Level.ERROR,
        "otlp4j batch processor cannot start ("
            + error
            + "); the SDK's "
            + processor.getClass().getSimpleName()
            + " stays in its place",
        error);
    return processor;
  }

  @Override
  public void afterAutoConfigure(OpenTelemetrySdk sdk) {
    meterProvider.set(sdk.getMeterProvider());
  }
}
