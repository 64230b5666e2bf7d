package io.otlp4j.sdk;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.sdk.internal.OtlpMarshaler;
import io.otlp4j.wire.Signal;
import java.util.Collection;
import java.util.function.LongConsumer;

/**
 * An OpenTelemetry SDK {@link LogRecordExporter} that sends log records over OTLP/gRPC or OTLP/HTTP
 * through otlp4j's {@link OtlpExporter}. Results, flush and shutdown behave as {@link
 * Otlp4jSpanExporter}'s do.
 *
 * <p><b>Buffer ownership:</b> each export's marshaled buffer passes to {@link OtlpExporter#export},
 * which releases it.
 *
 * <p>Thread-safe; {@code export} may be called concurrently.
 */
public final class Otlp4jLogRecordExporter implements LogRecordExporter {

  private final ExportBridge bridge;

  private Otlp4jLogRecordExporter(ExportBridge bridge) {
    this.bridge = bridge;
  }

  /** A builder with otlp4j's defaults (http/protobuf to {@code http://localhost:4318}). */
  public static Builder builder() {
    return new Builder();
  }

  /** An exporter configured from the {@code OTEL_EXPORTER_OTLP_*} environment variables. */
  public static Otlp4jLogRecordExporter fromEnvironment() {
    return builder().fromEnvironment().build();
  }

  @Override
  public CompletableResultCode export(Collection<LogRecordData> logs) {
    return bridge.export(logs, OtlpMarshaler::encodeLogs, logs.size());
  }

  /** As {@link #export(Collection)}, telling {@code payloadBytes} the encoded size (processor). */
  CompletableResultCode export(Collection<LogRecordData> logs, LongConsumer payloadBytes) {
    return bridge.export(logs, OtlpMarshaler::encodeLogs, logs.size(), payloadBytes);
  }

  @Override
  public CompletableResultCode flush() {
    return bridge.flush();
  }

  @Override
  public CompletableResultCode shutdown() {
    return bridge.shutdown();
  }

  /**
   * The transport this exporter owns (tests). Not public: a caller could shut it down under the
   * exporter; self-metrics go to the registry given to the builder ({@link
   * Otlp4jExporterBuilder#metricsRegistry}).
   */
  OtlpExporter transport() {
    return bridge.transport();
  }

  /** The background warm-up, or {@code null} when it is off (tests). */
  ExporterWarmup warmup() {
    return bridge.warmup();
  }

  Otlp4jLogRecordExporter handOver() {
    return new Otlp4jLogRecordExporter(bridge.handOver());
  }

  /**
   * Owns the transport again after a {@link #handOver} whose new owner could not be put in place.
   */
  void takeBack() {
    bridge.takeBack();
  }

  @Override
  public String toString() {
    return "Otlp4jLogRecordExporter" + bridge;
  }

  /** Configures an {@link Otlp4jLogRecordExporter}; not thread-safe. */
  public static final class Builder extends Otlp4jExporterBuilder<Builder> {
    private Builder() {
      super(Signal.LOGS);
    }

    /**
     * Builds the exporter; it opens its I/O threads now and connects on first use. If they cannot
     * start, it logs why once and returns an exporter whose every export, flush and shutdown fails.
     */
    public Otlp4jLogRecordExporter build() {
      return new Otlp4jLogRecordExporter(bridge("otlp4j log record exporter"));
    }
  }
}
