package io.otlp4j.relay;

/**
 * One exporter's {@code sending_queue} (the Collector's keys): whether it has a queue, how many
 * exports it runs at once, how many requests wait in memory, and whether the queue is kept on disk
 * instead. Immutable and thread-safe.
 *
 * @param enabled {@code false}: no queue, every request goes straight to the exporter and its
 *     client's answer waits for the export (as the Collector does without a queue)
 * @param numConsumers exports of this exporter in flight at once from its in-memory queue (the
 *     Collector's consumers); a queue on disk is read by one consumer sending one batch at a time,
 *     in order
 * @param queueSize the most requests waiting in memory; a request that finds the queue full is
 *     refused with a retryable answer
 * @param storage the id of the {@code file_storage} extension that keeps the queue on disk, or
 *     {@code null} for an in-memory queue
 */
public record SendingQueueSettings(
    boolean enabled, int numConsumers, int queueSize, String storage) {

  /** The Collector's {@code sending_queue.num_consumers} default. */
  public static final int DEFAULT_NUM_CONSUMERS = 10;

  /** The Collector's {@code sending_queue.queue_size} default, in requests. */
  public static final int DEFAULT_QUEUE_SIZE = BatchSettings.DEFAULT_QUEUE_SIZE;

  /** The Collector's defaults: an in-memory queue. */
  public static final SendingQueueSettings DEFAULTS =
      new SendingQueueSettings(true, DEFAULT_NUM_CONSUMERS, DEFAULT_QUEUE_SIZE, null);

  public SendingQueueSettings {
    if (numConsumers < 1) {
      throw new IllegalArgumentException("num_consumers must be positive, was " + numConsumers);
    }
    if (queueSize < 1) {
      throw new IllegalArgumentException("queue_size must be positive, was " + queueSize);
    }
    if (!enabled && storage != null) {
      throw new IllegalArgumentException("a disabled sending queue has no storage");
    }
  }

  /** An in-memory queue of {@code queueSize} requests with the default consumers. */
  public static SendingQueueSettings inMemory(int queueSize) {
    return new SendingQueueSettings(true, DEFAULT_NUM_CONSUMERS, queueSize, null);
  }

  /** Whether the queue is kept on disk (a {@code file_storage} extension). */
  public boolean durable() {
    return storage != null;
  }
}
