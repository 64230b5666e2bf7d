package io.otlp4j.queue;

/** What {@link DurableQueue#append} does when the queue holds {@code maxBytes} on disk. */
public enum FullPolicy {
  /**
   * Refuse the new record with a retryable {@link AppendResult.Refused} until consumers commit
   * enough for a whole segment to be deleted (the default).
   */
  REFUSE,
  /**
   * Delete the oldest whole segment, advancing every consumer that had not committed past it; the
   * records lost are counted in {@code otlp4j_queue_dropped_records_total}.
   */
  DROP_OLDEST
}
