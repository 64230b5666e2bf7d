package io.otlp4j.core;

/**
 * A circuit breaker's sliding window of outcomes; {@link #record} returns whether the thresholds
 * are exceeded.
 */
abstract class OutcomeWindow {
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
