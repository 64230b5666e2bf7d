package io.otlp4j.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A circuit breaker's count-based window: the last N outcomes in a ring. The aggregate packs three
 * 21-bit fields (calls, failures, slow) each offset by {@link #BIAS}, so a transient negative never
 * borrows from its neighbour.
 */
final class CountWindow extends OutcomeWindow {
  private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(byte[].class);
  private static final VarHandle CURSOR;
  private static final VarHandle AGGREGATE;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      CURSOR = lookup.findVarHandle(CountWindow.class, "cursor", long.class);
      AGGREGATE = lookup.findVarHandle(CountWindow.class, "aggregate", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  static final int FIELD_BITS = 21;
  static final long FIELD_MASK = (1L << FIELD_BITS) - 1;
  static final long BIAS = 1L << 19;
  static final int FAILURES_SHIFT = FIELD_BITS;
  static final int SLOW_SHIFT = 2 * FIELD_BITS;
  static final long ZERO = BIAS | (BIAS << FAILURES_SHIFT) | (BIAS << SLOW_SHIFT);

  private final BreakerConfig config;
  private final byte[] slots;

  /** The aggregate of a full window of fast successes: recording one more changes nothing. */
  private final long fullAndHealthy;

  @SuppressWarnings("unused") // accessed through CURSOR
  private volatile long cursor;

  @SuppressWarnings("unused") // accessed through AGGREGATE
  private volatile long aggregate;

  CountWindow(BreakerConfig config) {
    this.config = config;
    this.slots = new byte[config.windowSize];
    this.fullAndHealthy = ZERO + config.windowSize;
    this.aggregate = ZERO;
  }

  @Override
  boolean record(byte outcome, NanoClock clock) {
    long agg = (long) AGGREGATE.getVolatile(this);
    if (outcome == SUCCESS && agg == fullAndHealthy) {
      return false; // read-only fast path: no write, no contention, no allocation
    }
    long seq = (long) CURSOR.getAndAdd(this, 1L);
    int index = (int) (seq % slots.length);
    byte old = (byte) SLOTS.getAndSet(slots, index, outcome);
    long delta = 0;
    if (old == EMPTY) {
      delta += 1;
    }
    delta += (long) (bit(isFailure(outcome)) - bit(isFailure(old))) << FAILURES_SHIFT;
    delta += (long) (bit(isSlow(outcome)) - bit(isSlow(old))) << SLOW_SHIFT;
    agg = (long) AGGREGATE.getAndAdd(this, delta) + delta;
    if (outcome == SUCCESS && (old == SUCCESS || old == SLOW_SUCCESS)) {
      // A fast success replacing a success can only lower the rates and did not add a call.
      return false;
    }
    return config.exceedsThresholds(calls(agg), failures(agg), slow(agg));
  }

  /** The aggregate as {calls, failures, slow}; exact when no recording is in flight. */
  long[] aggregateCounts() {
    long agg = (long) AGGREGATE.getVolatile(this);
    return new long[] {calls(agg), failures(agg), slow(agg)};
  }

  /** The slots recounted as {calls, failures, slow}; must equal the aggregate when quiescent. */
  long[] recount() {
    long[] counts = new long[3];
    for (int i = 0; i < slots.length; i++) {
      byte outcome = (byte) SLOTS.getVolatile(slots, i);
      counts[0] += outcome == EMPTY ? 0 : 1;
      counts[1] += bit(isFailure(outcome));
      counts[2] += bit(isSlow(outcome));
    }
    return counts;
  }

  static long calls(long agg) {
    return Math.max(0, (agg & FIELD_MASK) - BIAS);
  }

  static long failures(long agg) {
    return Math.max(0, ((agg >>> FAILURES_SHIFT) & FIELD_MASK) - BIAS);
  }

  static long slow(long agg) {
    return Math.max(0, ((agg >>> SLOW_SHIFT) & FIELD_MASK) - BIAS);
  }

  private static int bit(boolean b) {
    return b ? 1 : 0;
  }
}
