package io.otlp4j.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * An exact counter whose hot path has no atomic read-modify-write: each thread claims a padded cell
 * (by CAS, once) keyed by its thread id and then increments it with a plain load and an opaque
 * store, since it is the cell's only writer. A thread whose cell is owned by another thread (an id
 * collision, or a thread that has died: ids are never reused, so its cell stays claimed) falls back
 * to a {@link LongAdder}. Readers sum opaque loads of the cells plus the adder; a sum taken after
 * the writers finished (a join, a future) is exact.
 */
final class ThreadOwnedCounter {
  private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

  /** 16 longs = 128 bytes per cell: owner at +0, count at +1, no false sharing. */
  private static final int STRIDE = 16;

  private final int mask;
  private final long[] cells;
  private final LongAdder fallback = new LongAdder();

  ThreadOwnedCounter() {
    int cpus = Runtime.getRuntime().availableProcessors();
    int n = Math.max(8, Math.min(256, Integer.highestOneBit(Math.max(1, cpus * 4 - 1)) << 1));
    this.mask = n - 1;
    this.cells = new long[n * STRIDE];
  }

  void increment() {
    long owner = Thread.currentThread().getId() + 1; // 0 marks a free cell
    int i = ((int) owner & mask) * STRIDE;
    long current = (long) CELLS.getOpaque(cells, i);
    if (current == owner || (current == 0 && CELLS.compareAndSet(cells, i, 0L, owner))) {
      // Single writer: a plain read of our own count, an opaque store for the readers.
      CELLS.setOpaque(cells, i + 1, (long) CELLS.get(cells, i + 1) + 1);
      return;
    }
    fallback.increment();
  }

  long sum() {
    long sum = fallback.sum();
    for (int i = 1; i < cells.length; i += STRIDE) {
      sum += (long) CELLS.getOpaque(cells, i);
    }
    return sum;
  }
}
