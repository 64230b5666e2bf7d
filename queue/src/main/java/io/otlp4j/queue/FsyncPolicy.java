package io.otlp4j.queue;

import java.time.Duration;
import java.util.Objects;

/**
 * When the queue forces written records to stable storage, and so when an append completes.
 *
 * <ul>
 *   <li>{@link #perBatch()} (the default): every group of concurrent appends is written and forced
 *       once; each append completes only after the force that covers it. An acknowledged record
 *       survives a process crash and a power loss.
 *   <li>{@link #interval(Duration)}: appends complete once written (in the page cache); the active
 *       segment is forced on that interval. Survives a process crash; a power loss may lose the
 *       last interval's records.
 *   <li>{@link #never()}: <b>unsafe</b> — appends complete once written and the queue forces only
 *       when it closes. Survives a process crash; a power loss or kernel panic may lose any amount
 *       of acknowledged data. For tests and benchmarks.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class FsyncPolicy {

  enum Mode {
    PER_BATCH,
    INTERVAL,
    NEVER
  }

  private static final FsyncPolicy PER_BATCH = new FsyncPolicy(Mode.PER_BATCH, Duration.ZERO);
  private static final FsyncPolicy NEVER = new FsyncPolicy(Mode.NEVER, Duration.ZERO);

  private final Mode mode;
  private final Duration interval;

  private FsyncPolicy(Mode mode, Duration interval) {
    this.mode = mode;
    this.interval = interval;
  }

  /** Force after every group commit; an append completes after the force covering it. */
  public static FsyncPolicy perBatch() {
    return PER_BATCH;
  }

  /**
   * Force the active segment every {@code interval}; appends complete once written.
   *
   * @throws IllegalArgumentException if {@code interval} is not positive
   */
  public static FsyncPolicy interval(Duration interval) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive, was " + interval);
    }
    return new FsyncPolicy(Mode.INTERVAL, interval);
  }

  /** Never force except on close: unsafe against power loss, see the class comment. */
  public static FsyncPolicy never() {
    return NEVER;
  }

  Mode mode() {
    return mode;
  }

  Duration intervalDuration() {
    return interval;
  }

  @Override
  public String toString() {
    switch (mode) {
      case PER_BATCH:
        return "FsyncPolicy.perBatch()";
      case NEVER:
        return "FsyncPolicy.never()";
      default:
        return "FsyncPolicy.interval(" + interval + ")";
    }
  }
}
