package io.otlp4j.queue;

import io.otlp4j.core.Outcome;

/**
 * The outcome of {@link DurableQueue#append}: {@link Appended} once the record is as durable as the
 * fsync policy says, or {@link Refused} with a reason and whether trying again later may succeed.
 *
 * <p>It stays a type of its own, beside the one {@link Outcome}, because an appended record has a
 * position the consumer commits; {@link #outcome()} is its answer as an {@link Outcome}.
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface AppendResult permits AppendResult.Appended, AppendResult.Refused {

  /** Whether the record was appended (and, with {@link FsyncPolicy#perBatch()}, forced to disk). */
  boolean appended();

  /**
   * This result as the one outcome type: accepted, retryable, or permanent (a record that can never
   * fit).
   */
  Outcome outcome();

  /**
   * The record is in the queue.
   *
   * @param position the record's position: the log offset just past it, increasing with every
   *     append; pass it (as {@link QueueRecord#position()}) to {@link QueueConsumer#commit(long)}
   */
  record Appended(long position) implements AppendResult {
    @Override
    public boolean appended() {
      return true;
    }

    @Override
    public Outcome outcome() {
      return Outcome.accepted();
    }
  }

  /**
   * The record was not stored; nothing of it is on disk.
   *
   * @param reason what happened, for logs and errors
   * @param retryable whether the same append may succeed later (the queue was full, the disk was
   *     full or failed, the writer's backlog was full); {@code false} for a record that can never
   *     fit or a closed queue
   */
  record Refused(String reason, boolean retryable) implements AppendResult {
    @Override
    public boolean appended() {
      return false;
    }

    @Override
    public Outcome outcome() {
      String why = "durable queue refused the request: " + reason;
      return retryable ? Outcome.retryable(why) : Outcome.permanent(why);
    }
  }
}
