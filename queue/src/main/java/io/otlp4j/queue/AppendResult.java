package io.otlp4j.queue;

/**
 * The outcome of {@link DurableQueue#append}: {@link Appended} once the record is as durable as the
 * fsync policy says, or {@link Refused} with a reason and whether trying again later may succeed.
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface AppendResult permits AppendResult.Appended, AppendResult.Refused {

  /** Whether the record was appended (and, with {@link FsyncPolicy#perBatch()}, forced to disk). */
  boolean appended();

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
  }

  /**
   * The record was not stored; nothing of it is on disk.
   *
   * @param reason what happened, for logs and errors
   * @param retryable whether the same append may succeed later (the queue was full, the disk was
   *     full or failed, the writer's backlog was full); {@code false} for a record that can never fit
   *     or a closed queue
   */
  record Refused(String reason, boolean retryable) implements AppendResult {
    @Override
    public boolean appended() {
      return false;
    }
  }
}
