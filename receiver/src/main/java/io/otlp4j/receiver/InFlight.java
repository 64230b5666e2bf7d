package io.otlp4j.receiver;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts requests a receiver has started and not yet answered, so that shutdown can wait for them.
 *
 * <p>Thread-safe. Once {@link #drain()} was called, the future it returns completes when the count
 * reaches zero (at once if it is zero).
 */
final class InFlight {

  private final AtomicInteger count = new AtomicInteger();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private volatile boolean draining;

  void begin() {
    count.incrementAndGet();
  }

  void end() {
    // Read draining after the decrement: drain() sets it before reading the count, so one of the
    // two
    // sides sees the other and the future cannot be missed.
    if (count.decrementAndGet() == 0 && draining) {
      drained.complete(null);
    }
  }

  int count() {
    return count.get();
  }

  boolean draining() {
    return draining;
  }

  CompletableFuture<Void> drain() {
    draining = true;
    if (count.get() == 0) {
      drained.complete(null);
    }
    return drained;
  }
}
