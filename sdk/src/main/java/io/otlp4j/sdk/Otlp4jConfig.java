package io.otlp4j.sdk;

import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.export.AggregationTemporalitySelector;
import io.opentelemetry.sdk.metrics.export.DefaultAggregationSelector;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Function;

/**
 * Reads otlp4j's exporter settings from the SDK's autoconfigure {@link ConfigProperties}: the
 * standard {@code otel.exporter.otlp.*} properties (and their {@code otel.exporter.otlp.<signal>.*}
 * forms), overridden by the same names under {@code otel.exporter.otlp4j.*}, plus otlp4j's own
 * options.
 *
 * <p>Stateless; thread-safe.
 */
final class Otlp4jConfig {

  static final String PREFIX = "otel.exporter.otlp4j.";

  /**
   * Whether the otlp4j batch processors replace the SDK's in front of otlp4j exporters (default
   * true).
   */
  static final String REPLACE_PROCESSORS = PREFIX + "batch.processor.enabled";

  private static final String ENV_STANDARD = "OTEL_EXPORTER_OTLP_";
  private static final String ENV_OTLP4J = "OTEL_EXPORTER_OTLP4J_";

  private Otlp4jConfig() {}

  /** {@code OTEL_EXPORTER_OTLP_X} → {@code OTEL_EXPORTER_OTLP4J_X}; other names unchanged. */
  static String otlp4jName(String envName) {
    return envName.startsWith(ENV_STANDARD)
        ? ENV_OTLP4J + envName.substring(ENV_STANDARD.length())
        : envName;
  }

  /**
   * The environment-variable view of {@code config} that {@code
   * OtlpExporter.Builder.fromEnvironment} reads: {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} is
   * {@code otel.exporter.otlp.traces.endpoint}; a timeout is read as a duration ({@code 10s} or
   * milliseconds) and passed on in milliseconds.
   */
  static Function<String, String> asEnvironment(ConfigProperties config) {
    return name -> {
      String key = name.toLowerCase(Locale.ROOT).replace('_', '.');
      if (name.endsWith("_TIMEOUT")) {
        Duration d = config.getDuration(key);
        return d == null ? null : String.valueOf(Math.max(1, d.toMillis()));
      }
      return config.getString(key);
    };
  }

  /** Applies every exporter setting {@code config} holds to {@code builder}. */
  static <B extends Otlp4jExporterBuilder<B>> B configure(B builder, ConfigProperties config) {
    try {
      builder.fromEnvironment(asEnvironment(config));
      Boolean retryDisabled = config.getBoolean(PREFIX + "retry.disabled");
      if (retryDisabled == null) {
        retryDisabled = config.getBoolean("otel.java.exporter.otlp.retry.disabled");
      }
      if (Boolean.TRUE.equals(retryDisabled)) {
        builder.noRetries();
      }
      Integer ioThreads = config.getInt(PREFIX + "io.threads");
      if (ioThreads != null) {
        builder.ioThreads(ioThreads);
      }
      Integer channels = config.getInt(PREFIX + "grpc.channels");
      if (channels != null) {
        builder.transport(t -> t.grpcChannels(channels));
      }
      Integer connections = config.getInt(PREFIX + "max.connections");
      if (connections != null) {
        builder.transport(t -> t.maxConnections(connections));
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(
          "otlp4j exporter: invalid otel.exporter.otlp4j.* / otel.exporter.otlp.* setting: "
              + e.getMessage(),
          e);
    }
    return builder;
  }

  /** Temporality, default aggregation and memory mode of the metric exporter. */
  static Otlp4jMetricExporter.Builder configureMetrics(
      Otlp4jMetricExporter.Builder b, ConfigProperties config) {
    String temporality = either(config, "metrics.temporality.preference");
    if (temporality != null) {
      switch (temporality.trim().toLowerCase(Locale.ROOT)) {
        case "cumulative":
          b.aggregationTemporalitySelector(AggregationTemporalitySelector.alwaysCumulative());
          break;
        case "delta":
          b.aggregationTemporalitySelector(AggregationTemporalitySelector.deltaPreferred());
          break;
        case "lowmemory":
          b.aggregationTemporalitySelector(AggregationTemporalitySelector.lowMemory());
          break;
        default:
          throw new ConfigurationException(
              "Unrecognized aggregation temporality: '"
                  + temporality
                  + "' (expected cumulative, delta or lowmemory)");
      }
    }
    String histogram = either(config, "metrics.default.histogram.aggregation");
    if (histogram != null) {
      switch (histogram.trim().toLowerCase(Locale.ROOT)) {
        case "explicit_bucket_histogram":
          b.defaultAggregationSelector(DefaultAggregationSelector.getDefault());
          break;
        case "base2_exponential_bucket_histogram":
          b.defaultAggregationSelector(
              DefaultAggregationSelector.getDefault()
                  .with(InstrumentType.HISTOGRAM, Aggregation.base2ExponentialBucketHistogram()));
          break;
        default:
          throw new ConfigurationException(
              "Unrecognized default histogram aggregation: '"
                  + histogram
                  + "' (expected explicit_bucket_histogram or base2_exponential_bucket_histogram)");
      }
    }
    String memoryMode = config.getString("otel.java.exporter.memory_mode");
    if (memoryMode != null) {
      try {
        b.memoryMode(MemoryMode.valueOf(memoryMode.trim().toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new ConfigurationException(
            "Unrecognized otel.java.exporter.memory_mode: '"
                + memoryMode
                + "' (expected immutable_data or reusable_data)",
            e);
      }
    }
    return b;
  }

  /** {@code otel.exporter.otlp4j.<suffix>}, else {@code otel.exporter.otlp.<suffix>}. */
  private static String either(ConfigProperties config, String suffix) {
    String own = config.getString(PREFIX + suffix);
    return own != null ? own : config.getString("otel.exporter.otlp." + suffix);
  }
}
