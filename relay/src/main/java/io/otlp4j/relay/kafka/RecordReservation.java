package io.otlp4j.relay.kafka;

import io.otlp4j.core.MemoryBudget;
import io.otlp4j.receiver.ReceiverSink;

/**
 * The bytes one Kafka record holds in the relay's memory budget; released exactly once (by the
 * receiver, when the pipeline answered), unless a queue took it over first ({@link #takeOver}).
 * Thread-safe: the consumer thread resizes it, the pipeline's threads take it over or release it.
 */
final class RecordReservation implements ReceiverSink.Reservation {
  private final MemoryBudget budget;
  private long bytes;
  private boolean released;

  /** Holds {@code bytes} already acquired from {@code budget}. */
  RecordReservation(MemoryBudget budget, long bytes) {
    this.budget = budget;
    this.bytes = bytes;
  }

  /** Holds exactly {@code newBytes}; false (nothing changed) when the budget refuses more. */
  synchronized boolean resize(long newBytes) {
    if (newBytes > bytes && !budget.tryAcquire(newBytes - bytes)) {
      return false;
    }
    if (newBytes < bytes) {
      budget.release(bytes - newBytes);
    }
    bytes = newBytes;
    return true;
  }

  @Override
  public synchronized long takeOver(MemoryBudget into) {
    if (into != budget || released) {
      return 0;
    }
    long b = bytes;
    bytes = 0;
    return b;
  }

  /** Gives back what is still held; later calls do nothing. */
  synchronized void release() {
    if (!released) {
      released = true;
      budget.release(bytes);
      bytes = 0;
    }
  }
}
