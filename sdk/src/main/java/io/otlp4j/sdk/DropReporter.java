package io.otlp4j.sdk;

import io.otlp4j.core.NanoClock;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts items a batch processor dropped and says, at most once per interval, how many were dropped
 * since it last said so.
 *
 * <p><b>Concurrency:</b> {@link #dropped()} runs on application threads when the queue is full: one
 * {@link LongAdder} increment (no contention between producers). {@link #report()} may run on any
 * thread; one CAS on the last report time elects the single thread that reports in an interval, and
 * {@code reported} is only advanced by that thread.
 */
final class DropReporter {

  private final String what;
  private final String advice;
  private final NanoClock clock;
  private final long intervalNanos;
  private final LongAdder total = new LongAdder();
  private final AtomicLong lastReport;
  private final AtomicLong reported = new AtomicLong();

  DropReporter(String what, String advice, NanoClock clock, long intervalNanos) {
    this.what = what;
    this.advice = advice;
    this.clock = clock;
    this.intervalNanos = intervalNanos;
    this.lastReport =
        new AtomicLong(clock.nanoTime() - intervalNanos); // the first drop reports at once
  }

  /** Counts one dropped item. */
  void dropped() {
    total.increment();
  }

  /** Items dropped so far. */
  long total() {
    return total.sum();
  }

  /**
   * The warning to log now, or {@code null}: there are drops not yet reported and the last report
   * is at least one interval old. At most one caller per interval gets a message.
   */
  String report() {
    long now = clock.nanoTime();
    long last = lastReport.get();
    if (now - last < intervalNanos) {
      return null;
    }
    long sum = total.sum();
    if (sum == reported.get() || !lastReport.compareAndSet(last, now)) {
      return null;
    }
    long since = sum - reported.getAndSet(sum);
    return since
        + " "
        + what
        + " dropped since the last report ("
        + sum
        + " in total): the queue was full (or the processor shut down); "
        + advice;
  }
}
