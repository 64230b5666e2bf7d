package io.otlp4j.core;

import io.otlp4j.core.CircuitBreaker.State;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A phase of a {@link CircuitBreaker}'s state machine: an object of one of the three kinds below,
 * published by the breaker's CAS on its phase reference (so its fields, written before, are visible
 * to readers) and replaced whole on every transition.
 */
abstract class BreakerPhase {
  abstract State state();

  /** CLOSED: every call admitted, outcomes recorded in a fresh window. */
  static final class Closed extends BreakerPhase {
    final OutcomeWindow window;
    final ConsecutiveCount consecutiveFailures = new ConsecutiveCount();

    Closed(OutcomeWindow window) {
      this.window = window;
    }

    @Override
    State state() {
      return State.CLOSED;
    }
  }

  /** OPEN: calls rejected until {@code waitNanos} after {@code openedAtNanos}. */
  static final class Open extends BreakerPhase {
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

  /** HALF_OPEN: at most the configured number of probes out at once. */
  static final class HalfOpen extends BreakerPhase {
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
}
