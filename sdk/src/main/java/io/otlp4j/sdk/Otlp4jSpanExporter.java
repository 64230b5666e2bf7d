package io.otlp4j.sdk;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.sdk.internal.OtlpMarshaler;
import io.otlp4j.wire.Signal;
import java.util.Collection;
import java.util.function.LongConsumer;

/**
 * An OpenTelemetry SDK {@link SpanExporter} that sends spans over OTLP/gRPC or OTLP/HTTP through
 * otlp4j's {@link OtlpExporter}: spans are marshaled straight into a pooled buffer (no
 * protobuf-java), retried as the OTLP specification says, behind a circuit breaker, with several
 * exports in flight.
 *
 * <pre>{@code
 * SpanExporter exporter = Otlp4jSpanExporter.builder()
 *     .protocol("grpc").endpoint("http://collector:4317").compression("gzip").build();
 * SdkTracerProvider.builder()
 *     .addSpanProcessor(Otlp4jBatchSpanProcessor.builder(exporter).build()).build();
 * }</pre>
 *
 * <p><b>Results:</b> {@link #export} marshals on the calling thread and returns at once; its result
 * succeeds when the endpoint accepted the spans (a partial success counts as success and is
 * logged), and fails when they were refused or every retry failed. {@link #flush} completes when
 * the exports in flight at the time of the call have their results. {@link #shutdown} refuses
 * further exports (they fail at once), lets those in flight finish until the shutdown timeout, then
 * closes connections and I/O threads; it is idempotent.
 *
 * <p><b>Buffer ownership:</b> each export's marshaled buffer passes to {@link OtlpExporter#export},
 * which releases it; the spans themselves are only read, during {@code export}.
 *
 * <p>Thread-safe; {@code export} may be called concurrently.
 */
public final class Otlp4jSpanExporter implements SpanExporter {

  private final ExportBridge bridge;

  private Otlp4jSpanExporter(ExportBridge bridge) {
    this.bridge = bridge;
  }

  /** A builder with otlp4j's defaults (http/protobuf to {@code http://localhost:4318}). */
  public static Builder builder() {
    return new Builder();
  }

  /** An exporter configured from the {@code OTEL_EXPORTER_OTLP_*} environment variables. */
  public static Otlp4jSpanExporter fromEnvironment() {
    return builder().fromEnvironment().build();
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    return bridge.export(spans, OtlpMarshaler::encodeSpans, spans.size());
  }

  /** As {@link #export(Collection)}, telling {@code payloadBytes} the encoded size (processor). */
  CompletableResultCode export(Collection<SpanData> spans, LongConsumer payloadBytes) {
    return bridge.export(spans, OtlpMarshaler::encodeSpans, spans.size(), payloadBytes);
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

  /**
   * An exporter over the same transport that takes over its ownership (see {@link
   * ExportBridge#handOver}).
   */
  Otlp4jSpanExporter handOver() {
    return new Otlp4jSpanExporter(bridge.handOver());
  }

  /**
   * Owns the transport again after a {@link #handOver} whose new owner could not be put in place.
   */
  void takeBack() {
    bridge.takeBack();
  }

  @Override
  public String toString() {
    return "Otlp4jSpanExporter" + bridge;
  }

  /** Configures an {@link Otlp4jSpanExporter}; not thread-safe. */
  public static final class Builder extends Otlp4jExporterBuilder<Builder> {
    private Builder() {
      super(Signal.TRACES);
    }

    /**
     * Builds the exporter; it opens its I/O threads now and connects on first use. If they cannot
     * start, it logs why once and returns an exporter whose every export, flush and shutdown fails.
     */
    public Otlp4jSpanExporter build() {
      return new Otlp4jSpanExporter(bridge("otlp4j span exporter"));
    }
  }
}
