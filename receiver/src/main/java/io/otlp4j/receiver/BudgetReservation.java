package io.otlp4j.receiver;

import io.otlp4j.core.MemoryBudget;

/**
 * The bytes one request holds in the {@link MemoryBudget}, from when its body is read until the
 * sink's stage completes; it may grow (a chunked body, a decompressed body) and is released exactly
 * once.
 *
 * <p>Not thread-safe: used by one thread at a time, handed over with the request (the sink's
 * completion may run on another thread, after the I/O thread is done with it).
 */
final class BudgetReservation implements ReceiverSink.Reservation {

  private final MemoryBudget budget;
  private long bytes;
  private boolean released;

  BudgetReservation(MemoryBudget budget) {
    this.budget = budget;
  }

  /**
   * Makes the reservation exactly {@code newBytes}: acquires the difference when growing (returns
   * false, changing nothing, when the budget refuses), returns the difference when shrinking.
   */
  boolean resize(long newBytes) {
    if (released) {
      throw new IllegalStateException("reservation already released");
    }
    if (newBytes > bytes) {
      if (!budget.tryAcquire(newBytes - bytes)) {
        return false;
      }
    } else if (newBytes < bytes) {
      budget.release(bytes - newBytes);
    }
    bytes = newBytes;
    return true;
  }

  /** Takes over {@code acquired} bytes that someone else already holds in the same budget. */
  void adopt(long acquired) {
    if (released) {
      throw new IllegalStateException("reservation already released");
    }
    bytes += acquired;
  }

  @Override
  public long takeOver(MemoryBudget into) {
    if (released) {
      throw new IllegalStateException("reservation already released");
    }
    if (into != budget) {
      return 0;
    }
    long taken = bytes;
    bytes = 0;
    return taken;
  }

  long bytes() {
    return bytes;
  }

  /** Returns everything held; later calls do nothing. */
  void release() {
    if (!released) {
      released = true;
      if (bytes > 0) {
        budget.release(bytes);
      }
      bytes = 0;
    }
  }
}
