package io.otlp4j.exporter;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the exports in flight to one endpoint without blocking anyone: an export that finds every
 * permit taken waits as a queued task, started (on {@code executor}) when a permit frees.
 *
 * <h2>Concurrency</h2>
 *
 * Permits are an {@link AtomicInteger} taken by CAS. Every path that adds a task or returns a
 * permit then runs {@link #drain()}, which takes a permit and a task together (giving the permit
 * back when the queue turns out empty), so a task queued while another export finishes is never
 * stranded.
 *
 * <h2>Backpressure</h2>
 *
 * At most {@code maxQueued} tasks wait; {@link #submit} refuses more (returns false) so that the
 * caller answers at once with a retryable result instead of growing a queue without bound.
 */
final class InFlightLimiter {

  private final int maxInFlight;
  private final int maxQueued;
  private final Executor executor;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger queued = new AtomicInteger();
  private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  InFlightLimiter(int maxInFlight, int maxQueued, Executor executor) {
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
    this.executor = executor;
  }

  /**
   * Runs {@code task} now (on this thread) if a permit is free, else queues it. The task must call
   * {@link #release()} exactly once when its export is over.
   *
   * @return false, without running or queueing the task, when {@code maxQueued} tasks already wait
   */
  boolean submit(Runnable task) {
    if (waiting.isEmpty() && tryAcquire()) {
      task.run();
      return true;
    }
    if (queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      return false;
    }
    waiting.add(task);
    drain();
    return true;
  }

  /** Returns a permit and starts a waiting task, if any. */
  void release() {
    inFlight.decrementAndGet();
    drain();
  }

  private void drain() {
    while (!waiting.isEmpty() && tryAcquire()) {
      Runnable next = waiting.poll();
      if (next == null) {
        inFlight
            .decrementAndGet(); // lost the race for the last task: give the permit back, look again
        continue;
      }
      queued.decrementAndGet();
      executor.execute(next); // not inline: a chain of quick completions must not grow the stack
    }
  }

  private boolean tryAcquire() {
    for (; ; ) {
      int n = inFlight.get();
      if (n >= maxInFlight) {
        return false;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  int inFlight() {
    return inFlight.get();
  }

  int queued() {
    return queued.get();
  }
}
