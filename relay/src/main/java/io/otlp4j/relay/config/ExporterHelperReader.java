package io.otlp4j.relay.config;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.SendingQueueSettings;
import java.time.Duration;
import java.util.Map;

/**
 * Reads the settings every exporter shares, from the Collector's {@code exporterhelper}: {@code
 * sending_queue} and {@code retry_on_failure}. Stateless.
 */
public final class ExporterHelperReader {
  /** {@code max_elapsed_time: 0}: retry for as long as the relay runs (a century). */
  private static final Duration UNLIMITED_ELAPSED = Duration.ofDays(36_500);

  private ExporterHelperReader() {}

  /**
   * The Collector's {@code sending_queue}: enabled, num_consumers, queue_size, storage. A storage
   * named here is checked against {@code service.extensions} once that is read.
   */
  public static SendingQueueSettings sendingQueue(
      ConfigReader in, String exporterId, ConfigNode node, String where) {
    if (node == null) {
      return SendingQueueSettings.DEFAULTS;
    }
    String w = where + ".sending_queue";
    Map<String, ConfigNode> m = in.mapOrEmpty(node, w);
    if (m == null) {
      return SendingQueueSettings.DEFAULTS;
    }
    in.checkKeys(m, w, "enabled", "num_consumers", "queue_size", "storage");
    boolean enabled = in.bool(m.get("enabled"), w + ".enabled", true);
    int consumers =
        in.intValue(
            m.get("num_consumers"),
            w + ".num_consumers",
            SendingQueueSettings.DEFAULT_NUM_CONSUMERS,
            1);
    int size =
        in.intValue(
            m.get("queue_size"), w + ".queue_size", SendingQueueSettings.DEFAULT_QUEUE_SIZE, 1);
    String storage = null;
    ConfigNode st = m.get("storage");
    if (st != null && !st.isNull()) {
      storage = in.string(st, w + ".storage");
      if (storage != null && !enabled) {
        in.error(
            st.line(), w + ".storage", "a disabled sending_queue (enabled: false) has no storage");
        storage = null;
      } else if (storage != null) {
        in.storageUsed(exporterId, st.line());
      }
    }
    return new SendingQueueSettings(enabled, consumers, size, storage);
  }

  /**
   * The Collector's {@code retry_on_failure}, with its defaults (5s initial interval, 0.5
   * randomization, 1.5 multiplier, 30s max interval, 5m max elapsed time; {@code 0} max elapsed
   * time retries without end). A randomization factor above 0 spreads each delay uniformly over
   * [delay/2, delay] (the core policy's equal jitter); 0 turns jitter off. Disabled: one attempt,
   * no retry. Null after an error.
   */
  public static RetryPolicy retryOnFailure(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = node == null ? Map.of() : in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(
        m,
        where,
        "enabled",
        "initial_interval",
        "randomization_factor",
        "multiplier",
        "max_interval",
        "max_elapsed_time");
    boolean enabled = in.bool(m.get("enabled"), where + ".enabled", true);
    Duration initial =
        in.duration(m.get("initial_interval"), where + ".initial_interval", Duration.ofSeconds(5));
    Duration maxInterval =
        in.duration(m.get("max_interval"), where + ".max_interval", Duration.ofSeconds(30));
    Duration maxElapsed =
        in.duration(m.get("max_elapsed_time"), where + ".max_elapsed_time", Duration.ofMinutes(5));
    double randomization =
        in.number(m.get("randomization_factor"), where + ".randomization_factor", 0.5, 0, 1);
    double multiplier = in.number(m.get("multiplier"), where + ".multiplier", 1.5, 1, 1000);
    boolean ok =
        initial != null
            && maxInterval != null
            && maxElapsed != null
            && !Double.isNaN(randomization)
            && !Double.isNaN(multiplier);
    if (initial != null && initial.isZero()) {
      in.error(m.get("initial_interval").line(), where + ".initial_interval", "must be positive");
      ok = false;
    }
    if (maxInterval != null && maxInterval.isZero()) {
      in.error(m.get("max_interval").line(), where + ".max_interval", "must be positive");
      ok = false;
    } else if (ok && maxInterval.compareTo(initial) < 0) {
      in.error(
          m.containsKey("max_interval")
              ? m.get("max_interval").line()
              : m.get("initial_interval").line(),
          where + ".max_interval",
          "must be at least initial_interval (" + initial + "), was " + maxInterval);
      ok = false;
    }
    if (!ok) {
      return null;
    }
    if (!enabled) {
      return RetryPolicy.builder().maxAttempts(1).build();
    }
    return RetryPolicy.builder()
        .initialDelay(initial)
        .maxDelay(maxInterval)
        .multiplier(multiplier)
        .maxElapsed(maxElapsed.isZero() ? UNLIMITED_ELAPSED : maxElapsed)
        .maxAttempts(Integer.MAX_VALUE)
        .jitter(randomization == 0 ? RetryPolicy.Jitter.NONE : RetryPolicy.Jitter.EQUAL)
        .build();
  }
}
