package io.otlp4j.queue;

import io.otlp4j.core.internal.DebugThreshold;
import java.util.List;
import java.util.Locale;

/**
 * A debugging aid for the durable acknowledgement's latency, off unless the system property {@value
 * #PROPERTY} names a threshold in milliseconds: then every append whose answer took longer, from
 * {@link DurableQueue#append} to the acknowledgement thread completing it, is logged (INFO, one
 * line) with where its time went: waiting for the writer, the group's write, waiting for the force,
 * the force, and the hand-off to the acknowledgement thread. Off, it costs one static check per
 * append and per group.
 */
final class AckTrace {
  static final String PROPERTY = "otlp4j.debug.slowAppendMillis";

  /** The threshold in nanoseconds; 0: off. */
  static final long THRESHOLD_NANOS = DebugThreshold.nanos(PROPERTY);

  static final boolean ENABLED = THRESHOLD_NANOS > 0;

  private AckTrace() {}

  /**
   * A group's {@link System#nanoTime} stamps: written, force started, force returned (0 where a
   * stage did not happen), and how many groups the force covered.
   */
  record Stamps(long writtenAt, long forceStart, long forceEnd, int batchGroups) {}

  /**
   * Called on the acknowledgement thread as it completes {@code group}'s appends: logs those over
   * the threshold.
   */
  static void acknowledged(List<PendingAppend> group, Stamps stamps) {
    long now = System.nanoTime();
    for (PendingAppend append : group) {
      String line =
          slowLine(
              append.appendedAtNanos, append.length, group.size(), stamps, now, THRESHOLD_NANOS);
      if (line != null) {
        DurableQueue.LOGGER.log(System.Logger.Level.INFO, line);
      }
    }
  }

  /**
   * The line logged for an append framed at {@code appendedAt} and answered at {@code now}, or null
   * when it took less than {@code thresholdNanos}.
   */
  static String slowLine(
      long appendedAt, int bytes, int groupSize, Stamps stamps, long now, long thresholdNanos) {
    long total = now - appendedAt;
    if (total < thresholdNanos) {
      return null;
    }
    long writtenAt = stamps.writtenAt();
    long forceStart = stamps.forceStart();
    long forceEnd = stamps.forceEnd();
    return String.format(
        Locale.ROOT,
        "slow durable append: %.2f ms = to the writer and written %.2f + to the force %.2f"
            + " + force %.2f + to the acknowledgement thread %.2f (group of %d, force of %d"
            + " groups, %d bytes)",
        total / 1e6,
        ms(writtenAt - appendedAt, writtenAt),
        ms(forceStart - writtenAt, forceStart),
        ms(forceEnd - forceStart, forceEnd),
        ms(now - (forceEnd != 0 ? forceEnd : writtenAt), writtenAt),
        groupSize,
        stamps.batchGroups(),
        bytes);
  }

  private static double ms(long nanos, long stamp) {
    return stamp == 0 ? Double.NaN : nanos / 1e6;
  }
}
