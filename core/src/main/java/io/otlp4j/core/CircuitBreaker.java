package io.otlp4j.core;

import io.otlp4j.core.BreakerPhase.Closed;
import io.otlp4j.core.BreakerPhase.HalfOpen;
import io.otlp4j.core.BreakerPhase.Open;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
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
   *
   * Where the parts live (package-private siblings): the phase objects in BreakerPhase, the
   * configuration in BreakerConfig, the windows in OutcomeWindow, CountWindow and TimeWindow, the
   * counters in ThreadOwnedCounter and ConsecutiveCount. This class keeps the transitions, the
   * lifetime metrics, the listeners and the builder.
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
      PHASE =
          MethodHandles.lookup().findVarHandle(CircuitBreaker.class, "phase", BreakerPhase.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String name;
  private final BreakerConfig config;
  private final NanoClock clock;
  private final TransitionListener[] listeners;

  @SuppressWarnings("unused") // accessed through PHASE
  private volatile BreakerPhase phase;

  private final ThreadOwnedCounter successes = new ThreadOwnedCounter();
  private final LongAdder failures = new LongAdder();
  private final LongAdder slowCalls = new LongAdder();
  private final LongAdder ignored = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final AtomicLong transitions = new AtomicLong();

  private CircuitBreaker(Builder b) {
    this.name = b.name;
    this.config = new BreakerConfig(b);
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
      BreakerPhase p = lvPhase();
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
    BreakerPhase p = lvPhase();
    if (p instanceof Closed) {
      Closed closed = (Closed) p;
      if (closed.consecutiveFailures.lvCount() != 0) {
        closed.consecutiveFailures.soZero();
      }
      if (closed.window.record(slow ? OutcomeWindow.SLOW_SUCCESS : OutcomeWindow.SUCCESS, clock)) {
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
    BreakerPhase p = lvPhase();
    if (p instanceof Closed) {
      Closed closed = (Closed) p;
      long consecutive = closed.consecutiveFailures.incrementAndGet();
      boolean tripByRate =
          closed.window.record(slow ? OutcomeWindow.SLOW_FAILURE : OutcomeWindow.FAILURE, clock);
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
    BreakerPhase p = lvPhase();
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
    BreakerPhase p = lvPhase();
    return p instanceof Closed && ((Closed) p).window instanceof CountWindow
        ? (CountWindow) ((Closed) p).window
        : null;
  }

  // ---------------------------------------------------------------------------------------------

  private BreakerPhase lvPhase() {
    return (BreakerPhase) PHASE.getAcquire(this);
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
  private void trip(BreakerPhase from, int previousTrips) {
    int trips = previousTrips + 1;
    transition(from, new Open(clock.nanoTime(), config.openWaitNanos(trips), trips));
  }

  private void transition(BreakerPhase from, BreakerPhase to) {
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

  // --- builder -----------------------------------------------------------------------------------

  /** Configures a {@link CircuitBreaker}. Not thread-safe; {@link #build()} copies its state. */
  public static final class Builder {
    final String name;
    WindowType windowType = WindowType.COUNT_BASED;
    int windowSize = DEFAULT_WINDOW_SIZE;
    int bucketCount = DEFAULT_BUCKET_COUNT;
    Duration bucketDuration = DEFAULT_BUCKET_DURATION;
    int minimumCalls = DEFAULT_MINIMUM_CALLS;
    float failureRateThreshold = DEFAULT_FAILURE_RATE_THRESHOLD;
    float slowCallRateThreshold = DEFAULT_SLOW_CALL_RATE_THRESHOLD;
    Duration slowCallDuration;
    int consecutiveFailureThreshold = DEFAULT_CONSECUTIVE_FAILURE_THRESHOLD;
    Duration openWait = DEFAULT_OPEN_WAIT;
    double openWaitMultiplier = DEFAULT_OPEN_WAIT_MULTIPLIER;
    Duration maxOpenWait = DEFAULT_MAX_OPEN_WAIT;
    int permittedCallsInHalfOpen = DEFAULT_PERMITTED_CALLS_IN_HALF_OPEN;
    int successesToClose = DEFAULT_SUCCESSES_TO_CLOSE;
    NanoClock clock = NanoClock.system();
    final List<TransitionListener> listeners = new ArrayList<>();

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
