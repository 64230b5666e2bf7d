package io.otlp4j.relay;

import java.time.Duration;

/**
 * How a pipeline's exporter queues batch (the Collector's {@code batch} processor) and how long
 * they are. Immutable and thread-safe.
 *
 * @param sendBatchSize items (spans, data points, log records) at which a batch goes at once; a
 *     batch of several requests never holds more (the Collector lets the last request overshoot it;
 *     here that request starts the next batch), a single larger request goes alone
 * @param sendBatchMaxSize the most items in one exported request (larger batches are split); 0
 *     means no limit
 * @param timeout how long a batch's first request waits for more
 * @param queueSize the most requests waiting in one exporter's queue; a request that finds it full
 *     is refused with a retryable answer
 * @param batching whether requests are held to form batches; when {@code false} a request goes as
 *     soon as the exporter is free, merged only with what queued up meanwhile
 */
public record BatchSettings(
    int sendBatchSize, int sendBatchMaxSize, Duration timeout, int queueSize, boolean batching) {

  /** The Collector's batch processor defaults. */
  public static final int DEFAULT_SEND_BATCH_SIZE = 8192;

  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(200);

  /** The Collector's sending queue default, in requests. */
  public static final int DEFAULT_QUEUE_SIZE = 1000;

  /** No batch processor: requests go as they come. */
  public static final BatchSettings UNBATCHED =
      new BatchSettings(DEFAULT_SEND_BATCH_SIZE, 0, DEFAULT_TIMEOUT, DEFAULT_QUEUE_SIZE, false);

  public BatchSettings {
    if (sendBatchSize < 1) {
      throw new IllegalArgumentException("send_batch_size must be positive, was " + sendBatchSize);
    }
    if (sendBatchMaxSize < 0 || (sendBatchMaxSize > 0 && sendBatchMaxSize < sendBatchSize)) {
      throw new IllegalArgumentException(
          "send_batch_max_size must be 0 or at least send_batch_size, was " + sendBatchMaxSize);
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    if (queueSize < 1) {
      throw new IllegalArgumentException("queue_size must be positive, was " + queueSize);
    }
  }

  /** The same with another queue size. */
  public BatchSettings withQueueSize(int size) {
    return new BatchSettings(sendBatchSize, sendBatchMaxSize, timeout, size, batching);
  }
}
