package io.otlp4j.core;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which occurrences of a repeated condition (an export that keeps failing, an upstream that
 * keeps rejecting part of each request) are logged loudly: the first, then at most one per
 * interval; the others go to {@code DEBUG}. A retry loop against a dead upstream then writes one
 * warning per interval instead of one per attempt.
 *
 * <pre>{@code
 * private final ThrottledLog failures = ThrottledLog.every(Duration.ofSeconds(10));
 * ...
 * LOG.log(failures.level(Level.WARNING), "export failed: " + cause);
 * }</pre>
 *
 * <p><b>Concurrency:</b> thread-safe and lock-free; when several threads hit the condition in the
 * same instant, exactly one of them (the one whose compare-and-set wins) gets the loud level.
 */
public final class ThrottledLog {

  private static final long NEVER = Long.MIN_VALUE;

  private final long intervalNanos;
  private final NanoClock clock;
  private final AtomicLong lastLoud = new AtomicLong(NEVER);

  private ThrottledLog(Duration interval, NanoClock clock) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive: " + interval);
    }
    this.intervalNanos = interval.toNanos();
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A log loud at most once per {@code interval} of the system clock. */
  public static ThrottledLog every(Duration interval) {
    return new ThrottledLog(interval, NanoClock.system());
  }

  /** A log loud at most once per {@code interval} of {@code clock} (tests drive a fake one). */
  public static ThrottledLog every(Duration interval, NanoClock clock) {
    return new ThrottledLog(interval, clock);
  }

  /** Whether this occurrence is to be logged loudly: the first one, then one per interval. */
  public boolean loud() {
    long now = clock.nanoTime();
    long last = lastLoud.get();
    return (last == NEVER || now - last >= intervalNanos) && lastLoud.compareAndSet(last, now);
  }

  /**
   * {@code loud} for an occurrence that {@link #loud()} lets through, {@code DEBUG} for the others.
   */
  public Level level(Level loud) {
    return loud() ? loud : Level.DEBUG;
  }

  /**
   * The interval, as a phrase for the loud message ("further ones within 10 s are logged at
   * DEBUG").
   */
  public String quietPhrase() {
    return "further ones within "
        + Duration.ofNanos(intervalNanos).toString().substring(2).toLowerCase(java.util.Locale.ROOT)
        + " are logged at DEBUG";
  }
}
