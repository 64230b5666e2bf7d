package io.otlp4j.core;

import io.otlp4j.core.CircuitBreaker.WindowType;

/** Immutable configuration of a {@link CircuitBreaker}, derived from its builder. */
final class BreakerConfig {
  final WindowType windowType;
  final int windowSize;
  final int bucketCount;
  final long bucketNanos;
  final int minimumCalls;
  final float failureRateThreshold;
  final float slowCallRateThreshold;
  final long slowCallDurationNanos;
  final int consecutiveFailureThreshold;
  final long openWaitNanos;
  final double openWaitMultiplier;
  final long maxOpenWaitNanos;
  final int permittedCallsInHalfOpen;
  final int successesToClose;

  BreakerConfig(CircuitBreaker.Builder b) {
    windowType = b.windowType;
    windowSize = b.windowSize;
    bucketCount = b.bucketCount;
    bucketNanos = b.bucketDuration.toNanos();
    // Like Resilience4j, a minimum larger than a count-based window means "a full window".
    minimumCalls =
        b.windowType == WindowType.COUNT_BASED
            ? Math.min(b.minimumCalls, b.windowSize)
            : b.minimumCalls;
    failureRateThreshold = b.failureRateThreshold;
    slowCallRateThreshold = b.slowCallRateThreshold;
    slowCallDurationNanos =
        b.slowCallDuration == null ? Long.MAX_VALUE : b.slowCallDuration.toNanos();
    consecutiveFailureThreshold = b.consecutiveFailureThreshold;
    openWaitNanos = b.openWait.toNanos();
    openWaitMultiplier = b.openWaitMultiplier;
    maxOpenWaitNanos = b.maxOpenWait.toNanos();
    permittedCallsInHalfOpen = b.permittedCallsInHalfOpen;
    successesToClose = b.successesToClose;
  }

  /** The wait of the {@code trips}-th consecutive trip (1-based), capped. */
  long openWaitNanos(int trips) {
    double wait = openWaitNanos * Math.pow(openWaitMultiplier, trips - 1);
    return wait >= maxOpenWaitNanos ? maxOpenWaitNanos : (long) wait;
  }

  /** Whether an aggregate of {@code calls}, {@code failed}, {@code slow} trips the breaker. */
  boolean exceedsThresholds(long calls, long failed, long slow) {
    if (calls < minimumCalls || calls <= 0) {
      return false;
    }
    if (failed * 100.0 >= failureRateThreshold * (double) calls) {
      return true;
    }
    return slowCallDurationNanos != Long.MAX_VALUE
        && slow * 100.0 >= slowCallRateThreshold * (double) calls;
  }
}
