package io.otlp4j.core;

/**
 * A source of monotonic time in nanoseconds, injectable so that every time-driven transition (a
 * breaker's open wait, a batch's max delay, a backoff) is tested with a fake clock instead of
 * sleeps.
 *
 * <p>Implementations must be thread-safe; values are only meaningful as differences, like {@link
 * System#nanoTime()}.
 */
@FunctionalInterface
public interface NanoClock {

  /** The current value of the clock, in nanoseconds. */
  long nanoTime();

  /** The system's monotonic clock, {@link System#nanoTime()}. */
  static NanoClock system() {
    return System::nanoTime;
  }
}
