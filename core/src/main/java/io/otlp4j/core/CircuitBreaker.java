package io.otlp4j.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free circuit breaker: CLOSED admits every call and watches a sliding window of outcomes;
 * OPEN rejects every call for a wait that grows on repeated trips; HALF_OPEN admits a bounded
 * number of probe calls and closes after enough of them succeed.
 *
 * <p>Usage: {@code if (breaker.tryAcquirePermission()) { ...; breaker.onSuccess(nanos) or
 * breaker.onError(nanos) or breaker.onIgnored(); } else { reject }}. Every granted permission must
 * be followed by exactly one of the three outcome calls.
 *
 * <p><b>Thread-safety:</b> all methods are safe to call from any thread; none blocks, none takes a
 * lock, and {@link #tryAcquirePermission()}, {@link #onSuccess(long)}, {@link #onError(long)} and
 * {@link #onIgnored()} allocate nothing except on a state transition (a new phase object) and, for
 * the time-based window, one bucket object per bucket period.
 *
 * <p><b>Invariants:</b> HALF_OPEN's permit counter stays within {@code [0, permittedCalls]} (see
 * {@link Builder#halfOpen(int, int)}), so a half-open phase grants at most {@code permittedCalls}
 * probes plus one per permit returned through {@link #onIgnored()}; each transition is performed,
 * counted and reported to listeners exactly once, by the thread that won it; {@code
 * successfulCalls() + failedCalls()} equals the number of {@code onSuccess}/{@code onError} calls
 * once writers are quiescent.
 */
public final class CircuitBreaker {

  /*
   * Design notes
   *
   * Concurrency: the breaker's state is a single volatile reference to an immutable-by-kind phase
   * object (Closed, Open, HalfOpen). A transition is a CAS of that reference from the exact phase
   * object the deciding thread observed to a freshly built one; the CAS winner alone counts the
   * transition and calls the listeners, after the CAS, so listeners run outside any critical section
   * and exactly once. A thread that loses the CAS simply re-reads the phase. Outcomes that arrive
   * for an older phase (a call admitted while CLOSED that completes after the breaker opened) are
   * counted in the lifetime metrics and otherwise ignored, like Resilience4j.
   *
   * The CLOSED hot path is built to scale with cores. tryAcquirePermission() is one volatile load
   * and a type check. onSuccess() increments a ThreadOwnedCounter (each thread owns a padded cell
   * and bumps it with a plain load and an opaque store: no atomic read-modify-write and no shared
   * cache line) and then asks the window to record a success. The count-based window keeps its
   * aggregate (calls, failures, slow calls) packed in one long; when that aggregate says "full and
   * all fast successes", recording one more fast success changes nothing (every slot already holds
   * a fast success, so which slot is evicted does not matter): the path is read-only and the
   * window's cache lines stay shared across cores. Only windows that hold a failure or a slow call,
   * or are still filling up, take the write path: a cursor getAndIncrement claims a slot, a
   * getAndSet swaps the slot's outcome (so every eviction is exact), and a getAndAdd applies the
   * delta to the packed aggregate, whose result is evaluated against the thresholds. Consecutive
   * failures are counted in a field that a success only writes when it is non-zero.
   *
   * The time-based window stripes each bucket's counters by thread and sums the window only for a
   * failure or slow call, or for a success while such an outcome is still inside the window.
   *
   * HALF_OPEN grants probes by CAS-decrementing a permit counter that never goes below zero (and
   * that onIgnored() never raises above N), so at most N probes are out at once even under
   * contention. OPEN -> HALF_OPEN is decided lazily by the
   * first tryAcquirePermission() after the wait; there is no timer thread.
   *
   * Memory ordering: phase is read with a volatile load (acquire) and replaced with a CAS
   * (release), so a phase's fields, all written before publication, are visible to readers. Window
   * slots and aggregates are updated with VarHandle atomics (volatile semantics). The aggregate and
   * its slots are two atomics, so a racing reader may see a slot swapped but its delta not yet
   * applied; the packed fields carry a bias so such a transient under-count never borrows across
   * fields, and the error is bounded by the number of recordings in flight. Lifetime counters are
   * read without synchronizing with writers (opaque loads, LongAdder sums): exact once the writers
   * are quiescent, never blocking them.
   */

  private static final System.Logger LOGGER = System.getLogger(CircuitBreaker.class.getName());

  /** The breaker's state. */
  public enum State {
    /** Calls are admitted and their outcomes recorded in the sliding window. */
    CLOSED,
    /** Calls are rejected until the open wait has elapsed. */
    OPEN,
    /** A bounded number of probe calls is admitted to test recovery. */
    HALF_OPEN
  }

  /** The kind of sliding window the CLOSED state evaluates. */
  public enum WindowType {
    /** The last N call outcomes. */
    COUNT_BASED,
    /** The outcomes of the last N buckets of a fixed duration each. */
    TIME_BASED
  }

  /**
   * Receives state transitions. Called by the thread that performed the transition, after it took
   * effect, exactly once per transition; must be fast, thread-safe and must not throw (a thrown
   * exception is logged and otherwise ignored). Listeners of two quick successive transitions run
   * on the threads that made them and may therefore overlap or be observed out of order; {@link
   * #state()} is the authority.
   */
  @FunctionalInterface
  public interface TransitionListener {
    /** The breaker went from {@code from} to {@code to}. */
    void onTransition(State from, State to);
  }

  /** Default failure-rate threshold, in percent. */
  public static final float DEFAULT_FAILURE_RATE_THRESHOLD = 50f;

  /** Default slow-call-rate threshold, in percent (only used when a slow-call duration is set). */
  public static final float DEFAULT_SLOW_CALL_RATE_THRESHOLD = 100f;

  /** Default sliding-window size: the last 100 calls, or 100 buckets for a time-based window. */
  public static final int DEFAULT_WINDOW_SIZE = 100;

  /** Default number of buckets of a time-based window. */
  public static final int DEFAULT_BUCKET_COUNT = 10;

  /** Default duration of one bucket of a time-based window. */
  public static final Duration DEFAULT_BUCKET_DURATION = Duration.ofSeconds(1);

  /** Default number of calls the window must hold before a rate can trip the breaker. */
  public static final int DEFAULT_MINIMUM_CALLS = 20;

  /** Default consecutive-failure threshold; 0 disables it. */
  public static final int DEFAULT_CONSECUTIVE_FAILURE_THRESHOLD = 0;

  /** Default first wait in OPEN before a probe is allowed. */
  public static final Duration DEFAULT_OPEN_WAIT = Duration.ofSeconds(5);

  /** Default growth of the open wait on each trip that follows a failed recovery. */
  public static final double DEFAULT_OPEN_WAIT_MULTIPLIER = 2.0;

  /** Default cap of the open wait. */
  public static final Duration DEFAULT_MAX_OPEN_WAIT = Duration.ofSeconds(60);

  /** Default number of probes HALF_OPEN admits. */
  public static final int DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN = 5;

  /** Default number of successful probes that close the breaker. */
  public static final int DEFAULT_SUCCESSES_TO_CLOSE = 5;

  /** Largest count-based window (fits the packed aggregate's fields with room for the bias). */
  static final int MAX_COUNT_WINDOW_SIZE = 1 << 18;

  private static final VarHandle PHASE;

  static {
    try {
      PHASE = MethodHandles.lookup().findVarHandle(CircuitBreaker.class, "phase", Phase.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  private final Config config;
  private final NanoClock clock;
  private final TransitionListener[] listeners;

  @SuppressWarnings("unused") // accessed through PHASE
  private volatile Phase phase;

  private final ThreadOwnedCounter successes = new ThreadOwnedCounter();
  private final LongAdder failures = new LongAdder();
  private final LongAdder slowCalls = new LongAdder();
  private final LongAdder ignored = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final AtomicLong transitions = new AtomicLong();

  private CircuitBreaker(Builder b) {
    this.name = b.name;
    this.config = new Config(b);
    this.clock = b.clock;
    this.listeners = b.listeners.toArray(new TransitionListener[0]);
    this.phase = newClosed();
  }

  /** A builder with every default; {@code name} identifies the breaker in logs. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** The breaker's name. */
  public String name() {
    return name;
  }

  /** The current state (a volatile read; may be stale by the time the caller acts on it). */
  public State state() {
    return lvPhase().state();
  }

  /**
   * Asks for permission to make one call. Never blocks, never allocates on the CLOSED path.
   *
   * @return {@code true} if the call may proceed (the caller must then report exactly one outcome),
   *     {@code false} if it is rejected (counted in {@link #rejectedCalls()})
   */
  public boolean tryAcquirePermission() {
    for (; ; ) {
      Phase p = lvPhase();
      if (p instanceof Closed) {
        return true;
      }
      if (p instanceof Open) {
        Open open = (Open) p;
        if (clock.nanoTime() - open.openedAtNanos < open.waitNanos) {
          rejected.increment();
          return false;
        }
        // Lazily move to HALF_OPEN; whoever wins the CAS reports it, then everyone retries.
        transition(open, new HalfOpen(open.trips, config.permittedCallsInHalfOpen));
        continue;
      }
      HalfOpen half = (HalfOpen) p;
      if (half.tryAcquireProbe()) {
        return true;
      }
      if (lvPhase() == half) {
        rejected.increment();
        return false;
      }
      // The phase changed under us (closed or reopened); decide again.
    }
  }

  /** Reports that a permitted call succeeded after {@code durationNanos}. */
  public void onSuccess(long durationNanos) {
    successes.increment();
    boolean slow = durationNanos >= config.slowCallDurationNanos;
    if (slow) {
      slowCalls.increment();
    }
    Phase p = lvPhase();
    if (p instanceof Closed) {
      Closed closed = (Closed) p;
      if (closed.consecutiveFailures.lvCount() != 0) {
        closed.consecutiveFailures.soZero();
      }
      if (closed.window.record(slow ? Window.SLOW_SUCCESS : Window.SUCCESS, clock)) {
        trip(closed, 0);
      }
    } else if (p instanceof HalfOpen) {
      HalfOpen half = (HalfOpen) p;
      if (slow) {
        // A slow probe means the backend has not recovered: treated as a failure.
        trip(half, half.trips);
      } else if (half.recordProbeSuccess() >= config.successesToClose) {
        transition(half, newClosed());
      }
    }
  }

  /** Reports that a permitted call failed after {@code durationNanos}. */
  public void onError(long durationNanos) {
    failures.increment();
    boolean slow = durationNanos >= config.slowCallDurationNanos;
    if (slow) {
      slowCalls.increment();
    }
    Phase p = lvPhase();
    if (p instanceof Closed) {
      Closed closed = (Closed) p;
      long consecutive = closed.consecutiveFailures.incrementAndGet();
      boolean tripByRate = closed.window.record(slow ? Window.SLOW_FAILURE : Window.FAILURE, clock);
      if (tripByRate
          || (config.consecutiveFailureThreshold > 0
              && consecutive >= config.consecutiveFailureThreshold)) {
        trip(closed, 0);
      }
    } else if (p instanceof HalfOpen) {
      trip(p, ((HalfOpen) p).trips);
    }
  }

  /**
   * Reports that a permitted call ended without an outcome that should count (cancelled by the
   * caller, say). In HALF_OPEN the probe permit is returned, so a cancelled probe does not leave
   * the breaker waiting for an outcome that never comes; the permit counter never rises above the
   * configured number of probes.
   *
   * <p>Permissions carry no token (that would allocate), so an outcome is attributed to the phase
   * current when it is reported: a call admitted while CLOSED that completes during HALF_OPEN
   * counts as a probe outcome, as in Resilience4j.
   */
  public void onIgnored() {
    ignored.increment();
    Phase p = lvPhase();
    if (p instanceof HalfOpen) {
      ((HalfOpen) p).releaseProbe(config.permittedCallsInHalfOpen);
    }
  }

  /** Calls reported through {@link #onSuccess} or {@link #onError}. */
  public long calls() {
    return successes.sum() + failures.sum();
  }

  /** Calls reported through {@link #onSuccess}. */
  public long successfulCalls() {
    return successes.sum();
  }

  /** Calls reported through {@link #onError}. */
  public long failedCalls() {
    return failures.sum();
  }

  /** Reported calls at least as slow as the slow-call threshold (successes and failures). */
  public long slowCalls() {
    return slowCalls.sum();
  }

  /** Calls reported through {@link #onIgnored}. */
  public long ignoredCalls() {
    return ignored.sum();
  }

  /** Calls refused by {@link #tryAcquirePermission()}. */
  public long rejectedCalls() {
    return rejected.sum();
  }

  /** State transitions performed since creation. */
  public long transitions() {
    return transitions.get();
  }

  @Override
  public String toString() {
    return "CircuitBreaker{" + name + ", " + state() + "}";
  }

  /** The current count-based window while CLOSED, else {@code null}; for invariant checks. */
  CountWindow closedCountWindow() {
    Phase p = lvPhase();
    return p instanceof Closed && ((Closed) p).window instanceof CountWindow
        ? (CountWindow) ((Closed) p).window
        : null;
  }

  // ---------------------------------------------------------------------------------------------

  private Phase lvPhase() {
    return (Phase) PHASE.getAcquire(this);
  }

  private Closed newClosed() {
    return new Closed(
        config.windowType == WindowType.COUNT_BASED
            ? new CountWindow(config)
            : new TimeWindow(config));
  }

  /**
   * Opens the breaker from {@code from}; {@code previousTrips} trips preceded it without a close.
   */
  private void trip(Phase from, int previousTrips) {
    int trips = previousTrips + 1;
    transition(from, new Open(clock.nanoTime(), config.openWaitNanos(trips), trips));
  }

  private void transition(Phase from, Phase to) {
    if (PHASE.compareAndSet(this, from, to)) {
      transitions.incrementAndGet();
      for (TransitionListener listener : listeners) {
        try {
          listener.onTransition(from.state(), to.state());
        } catch (RuntimeException e) {
          LOGGER.log(
              System.Logger.Level.WARNING,
              "circuit breaker " + name + ": transition listener threw",
              e);
        }
      }
    }
  }

  /** Immutable configuration derived from a builder. */
  static final class Config {
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

    Config(Builder b) {
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

  // --- phases ------------------------------------------------------------------------------------

  private abstract static class Phase {
    abstract State state();
  }

  private static final class Closed extends Phase {
    final Window window;
    final ConsecutiveCount consecutiveFailures = new ConsecutiveCount();

    Closed(Window window) {
      this.window = window;
    }

    @Override
    State state() {
      return State.CLOSED;
    }
  }

  private static final class Open extends Phase {
    final long openedAtNanos;
    final long waitNanos;
    final int trips;

    Open(long openedAtNanos, long waitNanos, int trips) {
      this.openedAtNanos = openedAtNanos;
      this.waitNanos = waitNanos;
      this.trips = trips;
    }

    @Override
    State state() {
      return State.OPEN;
    }
  }

  private static final class HalfOpen extends Phase {
    private static final VarHandle PERMITS;
    private static final VarHandle SUCCESSES;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        PERMITS = lookup.findVarHandle(HalfOpen.class, "permits", int.class);
        SUCCESSES = lookup.findVarHandle(HalfOpen.class, "probeSuccesses", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    /** Trips since the breaker last closed; the next trip's wait grows from it. */
    final int trips;

    @SuppressWarnings("unused") // accessed through PERMITS
    private volatile int permits;

    @SuppressWarnings("unused") // accessed through SUCCESSES
    private volatile int probeSuccesses;

    HalfOpen(int trips, int permits) {
      this.trips = trips;
      this.permits = permits;
    }

    @Override
    State state() {
      return State.HALF_OPEN;
    }

    /** CAS-decrements the permit counter; it never goes below zero. */
    boolean tryAcquireProbe() {
      for (; ; ) {
        int p = (int) PERMITS.getVolatile(this);
        if (p <= 0) {
          return false;
        }
        if (PERMITS.compareAndSet(this, p, p - 1)) {
          return true;
        }
      }
    }

    /** Returns a permit; the counter never rises above the configured number of probes. */
    void releaseProbe(int maxPermits) {
      for (; ; ) {
        int p = (int) PERMITS.getVolatile(this);
        if (p >= maxPermits || PERMITS.compareAndSet(this, p, p + 1)) {
          return;
        }
      }
    }

    int recordProbeSuccess() {
      return (int) SUCCESSES.getAndAdd(this, 1) + 1;
    }
  }

  /**
   * An exact counter whose hot path has no atomic read-modify-write: each thread claims a padded
   * cell (by CAS, once) keyed by its thread id and then increments it with a plain load and an
   * opaque store, since it is the cell's only writer. A thread whose cell is owned by another
   * thread (an id collision, or a thread that has died: ids are never reused, so its cell stays
   * claimed) falls back to a {@link LongAdder}. Readers sum opaque loads of the cells plus the
   * adder; a sum taken after the writers finished (a join, a future) is exact.
   */
  static final class ThreadOwnedCounter {
    private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

    /** 16 longs = 128 bytes per cell: owner at +0, count at +1, no false sharing. */
    private static final int STRIDE = 16;

    private final int mask;
    private final long[] cells;
    private final LongAdder fallback = new LongAdder();

    ThreadOwnedCounter() {
      int cpus = Runtime.getRuntime().availableProcessors();
      int n = Math.max(8, Math.min(256, Integer.highestOneBit(Math.max(1, cpus * 4 - 1)) << 1));
      this.mask = n - 1;
      this.cells = new long[n * STRIDE];
    }

    void increment() {
      long owner = Thread.currentThread().getId() + 1; // 0 marks a free cell
      int i = ((int) owner & mask) * STRIDE;
      long current = (long) CELLS.getOpaque(cells, i);
      if (current == owner || (current == 0 && CELLS.compareAndSet(cells, i, 0L, owner))) {
        // Single writer: a plain read of our own count, an opaque store for the readers.
        CELLS.setOpaque(cells, i + 1, (long) CELLS.get(cells, i + 1) + 1);
        return;
      }
      fallback.increment();
    }

    long sum() {
      long sum = fallback.sum();
      for (int i = 1; i < cells.length; i += STRIDE) {
        sum += (long) CELLS.getOpaque(cells, i);
      }
      return sum;
    }
  }

  /** A counter that a success resets only when it is non-zero, keeping its line shared. */
  private static final class ConsecutiveCount {
    private static final VarHandle COUNT;

    static {
      try {
        COUNT = MethodHandles.lookup().findVarHandle(ConsecutiveCount.class, "count", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    @SuppressWarnings("unused") // accessed through COUNT
    private volatile long count;

    long lvCount() {
      return (long) COUNT.getVolatile(this);
    }

    void soZero() {
      COUNT.setRelease(this, 0L);
    }

    long incrementAndGet() {
      return (long) COUNT.getAndAdd(this, 1L) + 1;
    }
  }

  // --- windows -----------------------------------------------------------------------------------

  /** A sliding window of outcomes; {@link #record} returns whether the thresholds are exceeded. */
  abstract static class Window {
    static final byte EMPTY = 0;
    static final byte SUCCESS = 1;
    static final byte FAILURE = 2;
    static final byte SLOW_SUCCESS = 3;
    static final byte SLOW_FAILURE = 4;

    static boolean isFailure(int outcome) {
      return outcome == FAILURE || outcome == SLOW_FAILURE;
    }

    static boolean isSlow(int outcome) {
      return outcome == SLOW_SUCCESS || outcome == SLOW_FAILURE;
    }

    abstract boolean record(byte outcome, NanoClock clock);
  }

  /**
   * The last N outcomes in a ring. The aggregate packs three 21-bit fields (calls, failures, slow)
   * each offset by {@link #BIAS}, so a transient negative never borrows from its neighbour.
   */
  static final class CountWindow extends Window {
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

    private final Config config;
    private final byte[] slots;

    /** The aggregate of a full window of fast successes: recording one more changes nothing. */
    private final long fullAndHealthy;

    @SuppressWarnings("unused") // accessed through CURSOR
    private volatile long cursor;

    @SuppressWarnings("unused") // accessed through AGGREGATE
    private volatile long aggregate;

    CountWindow(Config config) {
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

  /**
   * N buckets of a fixed duration. A bucket is replaced (one small allocation per bucket period)
   * when its epoch is stale, so a counter is never reset under a concurrent writer. Each bucket's
   * counters are striped by thread, each stripe on its own cache lines, so concurrent successes do
   * not contend on one counter. A fast success only sums the window when a failure or slow call
   * happened within it ({@code lastBadEpoch}): without one no rate can trip.
   */
  static final class TimeWindow extends Window {
    /** A power of two at least the number of CPUs (at most 16). */
    private static final int STRIPES = stripes(Runtime.getRuntime().availableProcessors());

    /** 16 longs = 128 bytes between stripes: no false sharing, even with adjacent-line prefetch. */
    private static final int STRIDE = 16;

    private final Config config;
    private final AtomicReferenceArray<Bucket> buckets;

    /** The latest epoch that recorded a failure or a slow call; written only by such outcomes. */
    private final AtomicLong lastBadEpoch = new AtomicLong(Long.MIN_VALUE);

    TimeWindow(Config config) {
      this.config = config;
      this.buckets = new AtomicReferenceArray<>(config.bucketCount);
    }

    @Override
    boolean record(byte outcome, NanoClock clock) {
      long epoch = Math.floorDiv(clock.nanoTime(), config.bucketNanos);
      int index = (int) Math.floorMod(epoch, (long) config.bucketCount);
      Bucket bucket = buckets.get(index);
      while (bucket == null || bucket.epoch != epoch) {
        if (bucket != null && bucket.epoch > epoch) {
          return false; // the clock moved on past this call: drop the stale outcome
        }
        Bucket fresh = new Bucket(epoch);
        if (buckets.compareAndSet(index, bucket, fresh)) {
          bucket = fresh;
        } else {
          bucket = buckets.get(index);
        }
      }
      int base = ((int) Thread.currentThread().getId() & (STRIPES - 1)) * STRIDE;
      bucket.cells.getAndIncrement(base);
      boolean bad = false;
      if (isFailure(outcome)) {
        bucket.cells.getAndIncrement(base + 1);
        bad = true;
      }
      if (isSlow(outcome)) {
        bucket.cells.getAndIncrement(base + 2);
        bad = true;
      }
      long oldest = epoch - config.bucketCount + 1;
      if (bad) {
        lastBadEpoch.accumulateAndGet(epoch, Math::max);
      } else if (lastBadEpoch.get() < oldest) {
        return false; // no failure or slow call in the window: no rate can trip
      }
      long calls = 0;
      long failed = 0;
      long slow = 0;
      for (int i = 0; i < config.bucketCount; i++) {
        Bucket b = buckets.get(i);
        if (b != null && b.epoch >= oldest && b.epoch <= epoch) {
          for (int stripe = 0; stripe < STRIPES * STRIDE; stripe += STRIDE) {
            calls += b.cells.get(stripe);
            failed += b.cells.get(stripe + 1);
            slow += b.cells.get(stripe + 2);
          }
        }
      }
      return config.exceedsThresholds(calls, failed, slow);
    }

    static int stripes(int cpus) {
      int n = Integer.highestOneBit(Math.max(1, cpus - 1)) << 1;
      return Math.min(16, n);
    }

    private static final class Bucket {
      final long epoch;

      /** Per stripe: calls, failures, slow calls at offsets 0, 1, 2. */
      final AtomicLongArray cells = new AtomicLongArray(STRIPES * STRIDE);

      Bucket(long epoch) {
        this.epoch = epoch;
      }
    }
  }

  // --- builder -----------------------------------------------------------------------------------

  /** Configures a {@link CircuitBreaker}. Not thread-safe; {@link #build()} copies its state. */
  public static final class Builder {
    private final String name;
    private WindowType windowType = WindowType.COUNT_BASED;
    private int windowSize = DEFAULT_WINDOW_SIZE;
    private int bucketCount = DEFAULT_BUCKET_COUNT;
    private Duration bucketDuration = DEFAULT_BUCKET_DURATION;
    private int minimumCalls = DEFAULT_MINIMUM_CALLS;
    private float failureRateThreshold = DEFAULT_FAILURE_RATE_THRESHOLD;
    private float slowCallRateThreshold = DEFAULT_SLOW_CALL_RATE_THRESHOLD;
    private Duration slowCallDuration;
    private int consecutiveFailureThreshold = DEFAULT_CONSECUTIVE_FAILURE_THRESHOLD;
    private Duration openWait = DEFAULT_OPEN_WAIT;
    private double openWaitMultiplier = DEFAULT_OPEN_WAIT_MULTIPLIER;
    private Duration maxOpenWait = DEFAULT_MAX_OPEN_WAIT;
    private int permittedCallsInHalfOpen = DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN;
    private int successesToClose = DEFAULT_SUCCESSES_TO_CLOSE;
    private NanoClock clock = NanoClock.system();
    private final List<TransitionListener> listeners = new ArrayList<>();

    private Builder(String name) {
      this.name = Objects.requireNonNull(name, "name");
    }

    /** A count-based window over the last {@code size} outcomes (the default, size 100). */
    public Builder countBasedWindow(int size) {
      if (size < 1 || size > MAX_COUNT_WINDOW_SIZE) {
        throw new IllegalArgumentException(
            "size must be in [1, " + MAX_COUNT_WINDOW_SIZE + "]: " + size);
      }
      this.windowType = WindowType.COUNT_BASED;
      this.windowSize = size;
      return this;
    }

    /** A time-based window of {@code bucketCount} buckets of {@code bucketDuration} each. */
    public Builder timeBasedWindow(int bucketCount, Duration bucketDuration) {
      if (bucketCount < 1 || bucketCount > 10_000) {
        throw new IllegalArgumentException("bucketCount must be in [1, 10000]: " + bucketCount);
      }
      requirePositive(bucketDuration, "bucketDuration");
      this.windowType = WindowType.TIME_BASED;
      this.bucketCount = bucketCount;
      this.bucketDuration = bucketDuration;
      return this;
    }

    /**
     * Calls the window must hold before a rate can trip the breaker (default 20; a value above a
     * count-based window's size means the full window).
     */
    public Builder minimumCalls(int minimumCalls) {
      if (minimumCalls < 1) {
        throw new IllegalArgumentException("minimumCalls must be >= 1: " + minimumCalls);
      }
      this.minimumCalls = minimumCalls;
      return this;
    }

    /** Failure rate, in percent (0, 100], at or above which the breaker trips (default 50). */
    public Builder failureRateThreshold(float percent) {
      this.failureRateThreshold = requirePercent(percent, "failureRateThreshold");
      return this;
    }

    /** Treats calls at least {@code threshold} long as slow (disabled by default). */
    public Builder slowCallDuration(Duration threshold) {
      this.slowCallDuration = requirePositive(threshold, "slowCallDuration");
      return this;
    }

    /** Slow-call rate, in percent (0, 100], at or above which the breaker trips (default 100). */
    public Builder slowCallRateThreshold(float percent) {
      this.slowCallRateThreshold = requirePercent(percent, "slowCallRateThreshold");
      return this;
    }

    /** Trips after this many consecutive failures in CLOSED; 0 disables (the default). */
    public Builder consecutiveFailureThreshold(int failures) {
      if (failures < 0) {
        throw new IllegalArgumentException("consecutiveFailureThreshold must be >= 0: " + failures);
      }
      this.consecutiveFailureThreshold = failures;
      return this;
    }

    /**
     * The open wait: {@code initial} after the first trip, multiplied by {@code multiplier} on each
     * further trip without a successful close, capped at {@code max}.
     */
    public Builder openWait(Duration initial, double multiplier, Duration max) {
      requirePositive(initial, "openWait");
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException(
            "openWaitMultiplier must be finite and >= 1: " + multiplier);
      }
      requirePositive(max, "maxOpenWait");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "maxOpenWait must be >= openWait: " + max + " < " + initial);
      }
      this.openWait = initial;
      this.openWaitMultiplier = multiplier;
      this.maxOpenWait = max;
      return this;
    }

    /** A fixed open wait. */
    public Builder openWait(Duration wait) {
      return openWait(wait, 1.0, wait);
    }

    /**
     * HALF_OPEN admits at most {@code permittedCalls} probes and closes after {@code
     * successesToClose} of them succeed ({@code successesToClose <= permittedCalls}).
     */
    public Builder halfOpen(int permittedCalls, int successesToClose) {
      if (permittedCalls < 1) {
        throw new IllegalArgumentException(
            "permittedCallsInHalfOpen must be >= 1: " + permittedCalls);
      }
      if (successesToClose < 1 || successesToClose > permittedCalls) {
        throw new IllegalArgumentException(
            "successesToClose must be in [1, permittedCallsInHalfOpen="
                + permittedCalls
                + "]: "
                + successesToClose);
      }
      this.permittedCallsInHalfOpen = permittedCalls;
      this.successesToClose = successesToClose;
      return this;
    }

    /** The time source (default {@link NanoClock#system()}). */
    public Builder clock(NanoClock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Adds a transition listener. */
    public Builder addListener(TransitionListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Builds the breaker, CLOSED. */
    public CircuitBreaker build() {
      return new CircuitBreaker(this);
    }

    private static float requirePercent(float percent, String parameter) {
      if (!(percent > 0f && percent <= 100f)) {
        throw new IllegalArgumentException(parameter + " must be in (0, 100]: " + percent);
      }
      return percent;
    }

    private static Duration requirePositive(Duration d, String parameter) {
      Objects.requireNonNull(d, parameter);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(parameter + " must be positive: " + d);
      }
      return d;
    }
  }
}
