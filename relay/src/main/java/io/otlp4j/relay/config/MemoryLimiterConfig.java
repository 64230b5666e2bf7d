package io.otlp4j.relay.config;

/**
 * A {@code memory_limiter} processor: the relay's memory budget. Given in MiB ({@code limit_mib},
 * {@code spike_limit_mib}) or as percentages ({@code limit_percentage}, {@code
 * spike_limit_percentage}) of the JVM's maximum heap ({@link Runtime#maxMemory()}); percentages are
 * 0 when MiB are given and the other way round. Immutable.
 *
 * @param limitBytes the budget: bytes that requests held by the relay may take
 * @param spikeLimitBytes the spike expected between measurements ({@code spike_limit_*}); 0 when
 *     not given (the Collector then takes 20 % of the limit); checked to be below the limit
 */
public record MemoryLimiterConfig(
    String id, long limitBytes, long spikeLimitBytes, int limitPercentage, int spikeLimitPercentage)
    implements ProcessorConfig {

  /** A limit of {@code limitBytes} given in MiB, without a spike limit. */
  public MemoryLimiterConfig(String id, long limitBytes) {
    this(id, limitBytes, 0, 0, 0);
  }
}
