package io.otlp4j.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * A global byte budget with a hard limit and water-mark hysteresis, like the Collector's {@code
 * memory_limiter}: a request is admitted only if it fits under the limit; once usage rises above
 * the high water mark the budget <em>refuses</em> every request until releases bring usage below
 * the low water mark.
 *
 * <p>A request larger than the whole limit can never succeed; {@link #isOversized(long)} tells a
 * caller so it can answer "too large" (HTTP 413) rather than "retry later" (429).
 *
 * <p><b>Thread-safety:</b> lock-free and thread-safe. <b>Invariants:</b> {@code 0 <= usedBytes()}
 * at every instant, and {@code usedBytes() <= limitBytes()} unless {@link #acquireAccepted} took it
 * above (then every {@link #tryAcquire} is refused until releases bring usage below the low water
 * mark); releasing more than is held is a caller bug and throws {@link IllegalStateException}
 * without changing the budget.
 */
public final class MemoryBudget {

  /*
   * Concurrency: usage and the "refusing" flag live in one long (flag in bit 63), changed only by
   * CAS, so the flag is always consistent with the usage it was decided on: an acquire that ends
   * above the high mark sets it in the same CAS, a release that ends below the low mark clears it
   * in the same CAS. (Two separate fields could leave the flag set after the release that should
   * have cleared it, refusing forever.) Peak is a separate monotonic max, refusals a LongAdder.
   *
   * Memory ordering: all accesses to state are volatile (VarHandle getVolatile/compareAndSet).
   */

  /** Default high water mark as a fraction of the limit. */
  public static final double DEFAULT_HIGH_WATER_RATIO = 0.9;

  /** Default low water mark as a fraction of the limit. */
  public static final double DEFAULT_LOW_WATER_RATIO = 0.8;

  private static final long REFUSING = Long.MIN_VALUE;
  private static final long USED_MASK = Long.MAX_VALUE;
  private static final VarHandle STATE;
  private static final VarHandle PEAK;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      STATE = lookup.findVarHandle(MemoryBudget.class, "state", long.class);
      PEAK = lookup.findVarHandle(MemoryBudget.class, "peak", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final long limit;
  private final long highWater;
  private final long lowWater;
  private final LongAdder refusals = new LongAdder();

  @SuppressWarnings("unused") // accessed through STATE
  private volatile long state;

  @SuppressWarnings("unused") // accessed through PEAK
  private volatile long peak;

  private MemoryBudget(long limit, long highWater, long lowWater) {
    this.limit = limit;
    this.highWater = highWater;
    this.lowWater = lowWater;
  }

  /** A builder for a budget of {@code limitBytes} (> 0). */
  public static Builder builder(long limitBytes) {
    return new Builder(limitBytes);
  }

  /**
   * Reserves {@code bytes} if they fit under the limit and the budget is not refusing.
   *
   * @return {@code true} if reserved (the caller must {@link #release} them later), {@code false}
   *     if refused (counted in {@link #refusals()})
   */
  public boolean tryAcquire(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0: " + bytes);
    }
    for (; ; ) {
      long s = (long) STATE.getVolatile(this);
      long used = s & USED_MASK;
      if ((s & REFUSING) != 0 || bytes > limit - used) {
        refusals.increment();
        return false;
      }
      long next = used + bytes;
      long nextState = next > highWater ? next | REFUSING : next;
      if (STATE.compareAndSet(this, s, nextState)) {
        updatePeak(next);
        return true;
      }
    }
  }

  /**
   * Reserves {@code bytes} of data that was already acknowledged and must not be refused (what a
   * processor emits after holding it, such as {@code tail_sampling}'s sampled traces): always
   * succeeds, also above the limit, and sets the refusing state when usage ends above the high
   * water mark, so that new requests ({@link #tryAcquire}) are refused until releases bring usage
   * below the low water mark. The caller bounds what it reserves so (typically by releasing at
   * least as much soon after, such as the held copies the emitted bytes came from).
   */
  public void acquireAccepted(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0: " + bytes);
    }
    for (; ; ) {
      long s = (long) STATE.getVolatile(this);
      long next = (s & USED_MASK) + bytes;
      long nextState = next > highWater ? next | REFUSING : next | (s & REFUSING);
      if (STATE.compareAndSet(this, s, nextState)) {
        updatePeak(next);
        return;
      }
    }
  }

  /**
   * Returns {@code bytes} previously reserved.
   *
   * @throws IllegalStateException if more is released than is held (a bug in the caller)
   */
  public void release(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0: " + bytes);
    }
    for (; ; ) {
      long s = (long) STATE.getVolatile(this);
      long used = s & USED_MASK;
      if (bytes > used) {
        throw new IllegalStateException(
            "released " + bytes + " bytes but only " + used + " are held: double release?");
      }
      long next = used - bytes;
      long nextState = ((s & REFUSING) != 0 && next >= lowWater) ? next | REFUSING : next;
      if (STATE.compareAndSet(this, s, nextState)) {
        return;
      }
    }
  }

  /** Whether a request of {@code bytes} exceeds the whole limit and can never be admitted. */
  public boolean isOversized(long bytes) {
    return bytes > limit;
  }

  /** Whether usage went above the high water mark and has not yet dropped below the low one. */
  public boolean isOverHighWater() {
    return ((long) STATE.getVolatile(this) & REFUSING) != 0;
  }

  /** Bytes currently reserved. */
  public long usedBytes() {
    return (long) STATE.getVolatile(this) & USED_MASK;
  }

  /** The highest usage seen. */
  public long peakBytes() {
    return (long) PEAK.getVolatile(this);
  }

  /** Requests refused since creation. */
  public long refusals() {
    return refusals.sum();
  }

  /** The hard limit, in bytes. */
  public long limitBytes() {
    return limit;
  }

  /** The high water mark, in bytes. */
  public long highWaterBytes() {
    return highWater;
  }

  /** The low water mark, in bytes. */
  public long lowWaterBytes() {
    return lowWater;
  }

  @Override
  public String toString() {
    return "MemoryBudget{used="
        + usedBytes()
        + ", limit="
        + limit
        + ", refusing="
        + isOverHighWater()
        + "}";
  }

  private void updatePeak(long used) {
    for (; ; ) {
      long p = (long) PEAK.getVolatile(this);
      if (used <= p || PEAK.compareAndSet(this, p, used)) {
        return;
      }
    }
  }

  /** Configures a {@link MemoryBudget}. Not thread-safe. */
  public static final class Builder {
    private final long limit;
    private long highWater = -1;
    private long lowWater = -1;

    private Builder(long limit) {
      if (limit <= 0) {
        throw new IllegalArgumentException("limitBytes must be > 0: " + limit);
      }
      this.limit = limit;
    }

    /** Usage above this starts refusing (default 90 % of the limit); at most the limit. */
    public Builder highWaterBytes(long bytes) {
      if (bytes <= 0 || bytes > limit) {
        throw new IllegalArgumentException(
            "highWaterBytes must be in (0, limitBytes=" + limit + "]: " + bytes);
      }
      this.highWater = bytes;
      return this;
    }

    /** Usage below this stops refusing (default 80 % of the limit); at most the high water mark. */
    public Builder lowWaterBytes(long bytes) {
      if (bytes < 0 || bytes > limit) {
        throw new IllegalArgumentException(
            "lowWaterBytes must be in [0, limitBytes=" + limit + "]: " + bytes);
      }
      this.lowWater = bytes;
      return this;
    }

    /** Builds the budget. */
    public MemoryBudget build() {
      long high = highWater >= 0 ? highWater : (long) (limit * DEFAULT_HIGH_WATER_RATIO);
      long low = lowWater >= 0 ? lowWater : (long) (limit * DEFAULT_LOW_WATER_RATIO);
      if (low > high) {
        throw new IllegalArgumentException(
            "lowWaterBytes must be <= highWaterBytes=" + high + ": " + low);
      }
      return new MemoryBudget(limit, high, low);
    }
  }
}
