package io.otlp4j.sdk;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.DefaultAggregationSelector;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.sdk.internal.OtlpMarshaler;
import io.otlp4j.wire.Signal;
import java.util.Collection;
import java.util.Objects;

/**
 * An OpenTelemetry SDK {@link MetricExporter} that sends metrics over OTLP/gRPC or OTLP/HTTP
 * through otlp4j's {@link OtlpExporter}, with the temporality selector, default aggregation
 * selector and memory mode the SDK's {@code OtlpGrpcMetricExporter} offers (defaults: cumulative,
 * the SDK's default aggregations, immutable data). Results, flush and shutdown behave as {@link
 * Otlp4jSpanExporter}'s do.
 *
 * <p><b>Memory mode:</b> {@link MemoryMode#REUSABLE_DATA} is safe: {@link #export} marshals the
 * points before it returns and never reads them afterwards.
 *
 * <p><b>Buffer ownership:</b> each export's marshaled buffer passes to {@link OtlpExporter#export},
 * which releases it.
 *
 * <p>Thread-safe; {@code export} may be called concurrently.
 */
public final class Otlp4jMetricExporter implements MetricExporter {

  private final ExportBridge bridge;
  private final AggregationTemporalitySelector temporalitySelector;
  private final DefaultAggregationSelector aggregationSelector;
  private final MemoryMode memoryMode;

  private Otlp4jMetricExporter(ExportBridge bridge, Builder b) {
    this.bridge = bridge;
    this.temporalitySelector = b.temporalitySelector;
    this.aggregationSelector = b.aggregationSelector;
    this.memoryMode = b.memoryMode;
  }

  /** A builder with otlp4j's defaults (http/protobuf to {@code http://localhost:4318}). */
  public static Builder builder() {
    return new Builder();
  }

  /** An exporter configured from the {@code OTEL_EXPORTER_OTLP_*} environment variables. */
  public static Otlp4jMetricExporter fromEnvironment() {
    return builder().fromEnvironment().build();
  }

  @Override
  public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
    return temporalitySelector.getAggregationTemporality(instrumentType);
  }

  @Override
  public Aggregation getDefaultAggregation(InstrumentType instrumentType) {
    return aggregationSelector.getDefaultAggregation(instrumentType);
  }

  @Override
  public MemoryMode getMemoryMode() {
    return memoryMode;
  }

  @Override
  public CompletableResultCode export(Collection<MetricData> metrics) {
    return bridge.export(
        metrics, OtlpMarshaler::encodeMetrics, OtlpMarshaler.countDataPoints(metrics));
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

  @Override
  public String toString() {
    return "Otlp4jMetricExporter" + bridge + "{memoryMode=" + memoryMode + "}";
  }

  /** Configures an {@link Otlp4jMetricExporter}; not thread-safe. */
  public static final class Builder extends Otlp4jExporterBuilder<Builder> {
    /** Default temporality: cumulative for every instrument. */
    public static final AggregationTemporalitySelector DEFAULT_TEMPORALITY =
        AggregationTemporalitySelector.alwaysCumulative();

    /** Default memory mode: immutable data, as the SDK's exporters. */
    public static final MemoryMode DEFAULT_MEMORY_MODE = MemoryMode.IMMUTABLE_DATA;

    AggregationTemporalitySelector temporalitySelector = DEFAULT_TEMPORALITY;
    DefaultAggregationSelector aggregationSelector = DefaultAggregationSelector.getDefault();
    MemoryMode memoryMode = DEFAULT_MEMORY_MODE;

    private Builder() {
      super(Signal.METRICS);
    }

    /**
     * Which temporality each instrument type asks for ({@link
     * AggregationTemporalitySelector#deltaPreferred()}...).
     */
    public Builder aggregationTemporalitySelector(AggregationTemporalitySelector selector) {
      this.temporalitySelector = Objects.requireNonNull(selector, "aggregationTemporalitySelector");
      return this;
    }

    /** The default aggregation of each instrument type. */
    public Builder defaultAggregationSelector(DefaultAggregationSelector selector) {
      this.aggregationSelector = Objects.requireNonNull(selector, "defaultAggregationSelector");
      return this;
    }

    /** Whether the SDK may reuse metric data objects between collections. */
    public Builder memoryMode(MemoryMode memoryMode) {
      this.memoryMode = Objects.requireNonNull(memoryMode, "memoryMode");
      return this;
    }

    /**
     * Builds the exporter; it opens its I/O threads now and connects on first use. If they cannot
     * start, it logs why once and returns an exporter whose every export, flush and shutdown fails.
     */
    public Otlp4jMetricExporter build() {
      return new Otlp4jMetricExporter(bridge("otlp4j metric exporter"), this);
    }
  }
}
