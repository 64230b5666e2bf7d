package io.otlp4j.sdk;

import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.otlp4j.core.NanoClock;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The settings both otlp4j batch processors share, named as the SDK's {@code
 * BatchSpanProcessorBuilder} names them less the {@code set} prefix (otlp4j's builders follow one
 * convention, OkHttp's {@code x(...)}): {@code setScheduleDelay(d)} becomes {@code
 * scheduleDelay(d)}; plus otlp4j's own ({@link #maxConcurrentExports}, {@link #maxInFlightBytes}).
 * Setters validate and name a bad parameter.
 *
 * <p>Not thread-safe. Only this package's processor builders extend it.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class Otlp4jBatchProcessorBuilder<B extends Otlp4jBatchProcessorBuilder<B>> {

  /** Default queue capacity: 2048, as the SDK's. */
  public static final int DEFAULT_MAX_QUEUE_SIZE = 2048;

  /** Default most items per export: 512, as the SDK's. */
  public static final int DEFAULT_MAX_EXPORT_BATCH_SIZE = 512;

  /** Default export timeout: 30 s, as the SDK's. */
  public static final Duration DEFAULT_EXPORT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Default most exports in flight at once in front of an exporter that does not report its
   * payloads' sizes (any but otlp4j's): 4 (the SDK's processors have one).
   */
  public static final int DEFAULT_MAX_CONCURRENT_EXPORTS = 4;

  /**
   * Default most exports in flight at once in front of otlp4j's own exporter, which reports each
   * payload's size: 16, further bounded by {@link #DEFAULT_MAX_IN_FLIGHT_BYTES}. Exports beyond the
   * first start only while full batches wait, so the number in flight follows the backlog.
   */
  public static final int DEFAULT_MAX_CONCURRENT_EXPORTS_SIZED = 16;

  /**
   * Default most encoded bytes in flight: 1,400,000, about what the SDK's own default queue of 2048
   * spans holds in memory (1,429,900 B measured for 9-attribute server spans, {@code
   * SdkQueueMemoryProbe} in the bench module). Only exporters that report their payloads' sizes
   * (otlp4j's) are bounded by it.
   */
  public static final long DEFAULT_MAX_IN_FLIGHT_BYTES = 1_400_000L;

  /** Default time {@code shutdown()} gives the queue to drain: 10 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /** Default shortest time between two warnings about dropped items: 60 s. */
  public static final Duration DEFAULT_DROP_WARNING_INTERVAL = Duration.ofSeconds(60);

  /** The {@code otel.exporter.otlp4j.*} property that sets {@link #maxConcurrentExports}. */
  public static final String MAX_IN_FLIGHT_PROPERTY = "otel.exporter.otlp4j.max.in.flight";

  private static final System.Logger LOG =
      System.getLogger(Otlp4jBatchProcessorBuilder.class.getName());

  private final String propertyPrefix; // otel.bsp. or otel.blrp.
  Duration scheduleDelay;
  int maxQueueSize = DEFAULT_MAX_QUEUE_SIZE;
  int maxExportBatchSize = DEFAULT_MAX_EXPORT_BATCH_SIZE;
  Duration exportTimeout = DEFAULT_EXPORT_TIMEOUT;
  int maxConcurrentExports; // 0: the default for the exporter (sized or not)
  long maxInFlightBytes = DEFAULT_MAX_IN_FLIGHT_BYTES;
  Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
  Duration dropWarningInterval = DEFAULT_DROP_WARNING_INTERVAL;
  Supplier<MeterProvider> meterProvider = MeterProvider::noop;
  NanoClock clock = NanoClock.system();

  Otlp4jBatchProcessorBuilder(String propertyPrefix, Duration defaultScheduleDelay) {
    this.propertyPrefix = propertyPrefix;
    this.scheduleDelay = defaultScheduleDelay;
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** The longest an item waits for its batch to fill before the batch goes anyway. */
  public B scheduleDelay(Duration delay) {
    this.scheduleDelay = positive(delay, "scheduleDelay");
    return self();
  }

  /** As {@link #scheduleDelay(Duration)}. */
  public B scheduleDelay(long delay, TimeUnit unit) {
    return scheduleDelay(Duration.ofNanos(Objects.requireNonNull(unit, "unit").toNanos(delay)));
  }

  /**
   * The queue's capacity, rounded up to a power of two; when it is full new items are dropped and
   * counted.
   */
  public B maxQueueSize(int maxQueueSize) {
    this.maxQueueSize = positive(maxQueueSize, "maxQueueSize");
    return self();
  }

  /** The most items in one export; clamped to the queue size (with a warning), as the SDK does. */
  public B maxExportBatchSize(int maxExportBatchSize) {
    this.maxExportBatchSize = positive(maxExportBatchSize, "maxExportBatchSize");
    return self();
  }

  /**
   * How long an export may take before its slot is given to the next batch (the export itself is
   * bounded by the exporter's own timeout and retries).
   */
  public B exporterTimeout(Duration timeout) {
    this.exportTimeout = positive(timeout, "exporterTimeout");
    return self();
  }

  /** As {@link #exporterTimeout(Duration)}. */
  public B exporterTimeout(long timeout, TimeUnit unit) {
    return exporterTimeout(Duration.ofNanos(Objects.requireNonNull(unit, "unit").toNanos(timeout)));
  }

  /**
   * The most exports in flight at once (default {@value #DEFAULT_MAX_CONCURRENT_EXPORTS_SIZED} in
   * front of otlp4j's exporters, {@value #DEFAULT_MAX_CONCURRENT_EXPORTS} in front of others).
   */
  public B maxConcurrentExports(int maxConcurrentExports) {
    this.maxConcurrentExports = positive(maxConcurrentExports, "maxConcurrentExports");
    return self();
  }

  /**
   * The most encoded bytes the exports in flight may hold (default {@value
   * #DEFAULT_MAX_IN_FLIGHT_BYTES}): a further export starts only while the payloads in flight hold
   * fewer; one export may always go, whatever its size. Only exporters that report their payloads'
   * sizes (otlp4j's) are bounded by it; others by {@link #maxConcurrentExports} alone.
   */
  public B maxInFlightBytes(long maxInFlightBytes) {
    if (maxInFlightBytes <= 0) {
      throw new IllegalArgumentException("maxInFlightBytes must be > 0: " + maxInFlightBytes);
    }
    this.maxInFlightBytes = maxInFlightBytes;
    return self();
  }

  /** How long {@code shutdown()} lets the queue drain before it drops the rest. */
  public B shutdownTimeout(Duration timeout) {
    this.shutdownTimeout = positive(timeout, "shutdownTimeout");
    return self();
  }

  /** The shortest time between two warnings about dropped items. */
  public B dropWarningInterval(Duration interval) {
    this.dropWarningInterval = positive(interval, "dropWarningInterval");
    return self();
  }

  /** Where the processor's metrics go (default: none), as the SDK's processor. */
  public B meterProvider(MeterProvider meterProvider) {
    Objects.requireNonNull(meterProvider, "meterProvider");
    this.meterProvider = () -> meterProvider;
    return self();
  }

  /** As {@link #meterProvider(MeterProvider)}, resolved on the first export (not at build). */
  public B meterProvider(Supplier<MeterProvider> meterProvider) {
    this.meterProvider = Objects.requireNonNull(meterProvider, "meterProvider");
    return self();
  }

  /**
   * Applies the SDK's autoconfigure properties ({@code otel.bsp.*} for spans, {@code otel.blrp.*}
   * for logs: {@code schedule.delay}, {@code max.queue.size}, {@code max.export.batch.size}, {@code
   * export.timeout}) and {@value #MAX_IN_FLIGHT_PROPERTY}; absent ones leave the builder as it is.
   */
  public B fromConfig(ConfigProperties config) {
    Objects.requireNonNull(config, "config");
    Duration delay = config.getDuration(propertyPrefix + "schedule.delay");
    if (delay != null) {
      scheduleDelay(delay);
    }
    Integer queue = config.getInt(propertyPrefix + "max.queue.size");
    if (queue != null) {
      maxQueueSize(queue);
    }
    Integer batch = config.getInt(propertyPrefix + "max.export.batch.size");
    if (batch != null) {
      maxExportBatchSize(batch);
    }
    Duration timeout = config.getDuration(propertyPrefix + "export.timeout");
    if (timeout != null) {
      exporterTimeout(timeout);
    }
    Integer inFlight = config.getInt(MAX_IN_FLIGHT_PROPERTY);
    if (inFlight != null) {
      maxConcurrentExports(inFlight);
    }
    return self();
  }

  /** Applies the process's environment variables (see the other overload). */
  public B fromEnvironment() {
    return fromEnvironment(System::getenv);
  }

  /**
   * Applies {@code OTEL_BSP_*} (spans) or {@code OTEL_BLRP_*} (logs) variables as the specification
   * defines them ({@code SCHEDULE_DELAY} and {@code EXPORT_TIMEOUT} in milliseconds, {@code
   * MAX_QUEUE_SIZE}, {@code MAX_EXPORT_BATCH_SIZE}) and {@code OTEL_EXPORTER_OTLP4J_MAX_IN_FLIGHT};
   * null or blank values are unset.
   *
   * @throws IllegalArgumentException naming the variable when a value is malformed
   */
  public B fromEnvironment(Function<String, String> env) {
    Objects.requireNonNull(env, "env");
    String prefix = propertyPrefix.toUpperCase(Locale.ROOT).replace('.', '_');
    Long delay = envLong(env, prefix + "SCHEDULE_DELAY");
    if (delay != null) {
      scheduleDelay(Duration.ofMillis(delay));
    }
    Long queue = envLong(env, prefix + "MAX_QUEUE_SIZE");
    if (queue != null) {
      maxQueueSize(Math.toIntExact(queue));
    }
    Long batch = envLong(env, prefix + "MAX_EXPORT_BATCH_SIZE");
    if (batch != null) {
      maxExportBatchSize(Math.toIntExact(batch));
    }
    Long timeout = envLong(env, prefix + "EXPORT_TIMEOUT");
    if (timeout != null) {
      exporterTimeout(Duration.ofMillis(timeout));
    }
    Long inFlight = envLong(env, "OTEL_EXPORTER_OTLP4J_MAX_IN_FLIGHT");
    if (inFlight != null) {
      maxConcurrentExports(Math.toIntExact(inFlight));
    }
    return self();
  }

  /** The clock for batch delays and drop warnings (tests). */
  B clock(NanoClock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return self();
  }

  /**
   * The validated settings; {@code sized}: the exporter reports its payloads' sizes (otlp4j's), so
   * the default concurrency is {@link #DEFAULT_MAX_CONCURRENT_EXPORTS_SIZED}.
   */
  BatchExportCore.Settings settings(
      String processorType, String itemName, String itemMetric, String threadName, boolean sized) {
    int inFlight =
        maxConcurrentExports > 0
            ? maxConcurrentExports
            : sized ? DEFAULT_MAX_CONCURRENT_EXPORTS_SIZED : DEFAULT_MAX_CONCURRENT_EXPORTS;
    int batch = maxExportBatchSize;
    if (batch > maxQueueSize) {
      LOG.log(
          Level.WARNING,
          "{0}: maxExportBatchSize ({1}) exceeds maxQueueSize ({2}); using {2}",
          processorType,
          batch,
          maxQueueSize);
      batch = maxQueueSize;
    }
    BatchExportCore.Settings s = new BatchExportCore.Settings();
    s.processorType = processorType;
    s.itemName = itemName;
    s.itemMetric = itemMetric;
    s.threadName = threadName;
    s.dropAdvice =
        "raise "
            + propertyPrefix
            + "max.queue.size ("
            + maxQueueSize
            + ") or "
            + MAX_IN_FLIGHT_PROPERTY
            + " ("
            + inFlight
            + "), or export faster";
    s.scheduleDelay = scheduleDelay;
    s.maxQueueSize = maxQueueSize;
    s.maxExportBatchSize = batch;
    s.exportTimeout = exportTimeout;
    s.maxConcurrentExports = inFlight;
    s.maxInFlightBytes = maxInFlightBytes;
    s.shutdownTimeout = shutdownTimeout;
    s.dropWarningInterval = dropWarningInterval;
    s.meterProvider = meterProvider;
    s.clock = clock;
    return s;
  }

  private static Long envLong(Function<String, String> env, String name) {
    String v = env.apply(name);
    if (v == null || v.isBlank()) {
      return null;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n <= 0 || n > Integer.MAX_VALUE) {
        throw new NumberFormatException("must be between 1 and " + Integer.MAX_VALUE);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + "='" + v + "' is invalid: " + e.getMessage(), e);
    }
  }

  private static int positive(int n, String what) {
    if (n <= 0) {
      throw new IllegalArgumentException(what + " must be > 0: " + n);
    }
    return n;
  }

  private static Duration positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + d);
    }
    return d;
  }
}
