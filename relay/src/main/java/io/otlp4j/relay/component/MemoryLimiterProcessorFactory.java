package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.MemoryLimiterConfig;
import java.time.Duration;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The {@code memory_limiter} processor: the relay's one memory budget, the bytes that requests held
 * by the relay may take (the smallest limit when several are defined). It adds no step of its own:
 * the receivers and pipelines reserve from the budget and refuse with a retryable answer when it is
 * spent.
 *
 * <p>The limit is given as the Collector's {@code limit_mib} (with an optional {@code
 * spike_limit_mib}) or as {@code limit_percentage} (with an optional {@code
 * spike_limit_percentage}) of the JVM's maximum heap, {@link Runtime#maxMemory()} ({@code -Xmx}; in
 * a container the JVM derives it from the container's limit). The Collector takes percentages of
 * the total memory (the container's limit or the host's); the JVM's own limit is what the relay can
 * use. The checks are the Collector's: a spike limit below its limit, percentages in 1..100. Unlike
 * the Collector, which silently prefers {@code limit_mib} when both kinds are given, mixing MiB and
 * percentages is an error.
 */
final class MemoryLimiterProcessorFactory implements ProcessorFactory<MemoryLimiterConfig> {
  private static final long MIB = 1024L * 1024L;

  private final LongSupplier maxHeapBytes;

  MemoryLimiterProcessorFactory() {
    this(() -> Runtime.getRuntime().maxMemory());
  }

  /** With another measure of the memory that percentages are of (tests). */
  MemoryLimiterProcessorFactory(LongSupplier maxHeapBytes) {
    this.maxHeapBytes = maxHeapBytes;
  }

  @Override
  public String type() {
    return "memory_limiter";
  }

  @Override
  public MemoryLimiterConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(
        m,
        where,
        "check_interval",
        "limit_mib",
        "spike_limit_mib",
        "limit_percentage",
        "spike_limit_percentage");
    Duration interval =
        in.duration(m.get("check_interval"), where + ".check_interval", Duration.ofSeconds(1));
    if (interval != null && interval.isZero()) {
      in.error(
          m.get("check_interval").line(), where + ".check_interval", "must be greater than zero");
    }
    ConfigNode limitMib = m.get("limit_mib");
    ConfigNode spikeMib = m.get("spike_limit_mib");
    ConfigNode limitPct = m.get("limit_percentage");
    ConfigNode spikePct = m.get("spike_limit_percentage");
    boolean mib = limitMib != null || spikeMib != null;
    boolean pct = limitPct != null || spikePct != null;
    if (mib && pct) {
      in.error(
          (limitPct != null ? limitPct : spikePct).line(),
          where,
          "give limit_mib and spike_limit_mib, or "
              + "limit_percentage and spike_limit_percentage, not both kinds");
      return null;
    }
    if (limitMib == null && limitPct == null) {
      in.error(node.line(), where + ".limit_mib", "is required (or limit_percentage)");
      return null;
    }
    if (mib) {
      int errors = in.errorCount();
      int limit = in.intValue(limitMib, where + ".limit_mib", 0, 1);
      int spike = in.intValue(spikeMib, where + ".spike_limit_mib", 0, 0);
      if (in.errorCount() > errors) {
        return null;
      }
      if (spike >= limit) {
        in.error(
            spikeMib.line(),
            where + ".spike_limit_mib",
            "must be smaller than limit_mib (" + limit + "), was " + spike);
        return null;
      }
      return new MemoryLimiterConfig(id, limit * MIB, spike * MIB, 0, 0);
    }
    int errors = in.errorCount();
    int limit = percentage(in, limitPct, where + ".limit_percentage");
    int spike = spikePct == null ? 0 : percentage(in, spikePct, where + ".spike_limit_percentage");
    if (in.errorCount() > errors) {
      return null;
    }
    if (spike >= limit) {
      in.error(
          spikePct.line(),
          where + ".spike_limit_percentage",
          "must be smaller than limit_percentage (" + limit + "), was " + spike);
      return null;
    }
    long max = maxHeapBytes.getAsLong();
    if (max <= 0 || max == Long.MAX_VALUE) {
      in.error(
          limitPct.line(),
          where + ".limit_percentage",
          "the JVM has no maximum heap to take a percentage " + "of: set -Xmx or use limit_mib");
      return null;
    }
    return new MemoryLimiterConfig(id, max / 100 * limit, max / 100 * spike, limit, spike);
  }

  private static int percentage(ConfigReader in, ConfigNode node, String where) {
    int v = in.intValue(node, where, 0, 1);
    if (v > 100) {
      in.error(node.line(), where, "must be at most 100, was " + v);
    }
    return v;
  }

  /**
   * None: the budget is the relay's, shared by receivers and pipelines ({@link
   * MemoryLimiterConfig#limitBytes()}).
   */
  @Override
  public RelayProcessor create(MemoryLimiterConfig config, ComponentContext context) {
    return null;
  }
}
