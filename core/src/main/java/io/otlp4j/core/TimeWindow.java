package io.otlp4j.core;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A circuit breaker's time-based window: N buckets of a fixed duration. A bucket is replaced (one
 * small allocation per bucket period) when its epoch is stale, so a counter is never reset under a
 * concurrent writer. Each bucket's counters are striped by thread, each stripe on its own cache
 * lines, so concurrent successes do not contend on one counter. A fast success only sums the window
 * when a failure or slow call happened within it ({@code lastBadEpoch}): without one no rate can
 * trip.
 */
final class TimeWindow extends OutcomeWindow {
  /** A power of two at least the number of CPUs (at most 16). */
  private static final int STRIPES = stripes(Runtime.getRuntime().availableProcessors());

  /** 16 longs = 128 bytes between stripes: no false sharing, even with adjacent-line prefetch. */
  private static final int STRIDE = 16;

  private final BreakerConfig config;
  private final AtomicReferenceArray<Bucket> buckets;

  /** The latest epoch that recorded a failure or a slow call; written only by such outcomes. */
  private final AtomicLong lastBadEpoch = new AtomicLong(Long.MIN_VALUE);

  TimeWindow(BreakerConfig config) {
    this.config = config;
    this.buckets = new AtomicReferenceArray<>(config.bucketCount);
  }

  @Override
  boolean record(byte outcome, NanoClock clock) {
    long epoch = Math.floorDiv(clock.nanoTime(), config.bucketNanos);
    int index = (int) Math.floorMod(epoch, (long) config.bucketCount);
    Bucket bucket = buckets.get(index);
    while (bucket == null || bucket.epoch != epoch) {
      if (bucket != null && bucket.epoch > epoch) {
        return false; // the clock moved on past this call: drop the stale outcome
      }
      Bucket fresh = new Bucket(epoch);
      if (buckets.compareAndSet(index, bucket, fresh)) {
        bucket = fresh;
      } else {
        bucket = buckets.get(index);
      }
    }
    int base = ((int) Thread.currentThread().getId() & (STRIPES - 1)) * STRIDE;
    bucket.cells.getAndIncrement(base);
    boolean bad = false;
    if (isFailure(outcome)) {
      bucket.cells.getAndIncrement(base + 1);
      bad = true;
    }
    if (isSlow(outcome)) {
      bucket.cells.getAndIncrement(base + 2);
      bad = true;
    }
    long oldest = epoch - config.bucketCount + 1;
    if (bad) {
      lastBadEpoch.accumulateAndGet(epoch, Math::max);
    } else if (lastBadEpoch.get() < oldest) {
      return false; // no failure or slow call in the window: no rate can trip
    }
    long calls = 0;
    long failed = 0;
    long slow = 0;
    for (int i = 0; i < config.bucketCount; i++) {
      Bucket b = buckets.get(i);
      if (b != null && b.epoch >= oldest && b.epoch <= epoch) {
        for (int stripe = 0; stripe < STRIPES * STRIDE; stripe += STRIDE) {
          calls += b.cells.get(stripe);
          failed += b.cells.get(stripe + 1);
          slow += b.cells.get(stripe + 2);
        }
      }
    }
    return config.exceedsThresholds(calls, failed, slow);
  }

  static int stripes(int cpus) {
    int n = Integer.highestOneBit(Math.max(1, cpus - 1)) << 1;
    return Math.min(16, n);
  }

  private static final class Bucket {
    final long epoch;

    /** Per stripe: calls, failures, slow calls at offsets 0, 1, 2. */
    final AtomicLongArray cells = new AtomicLongArray(STRIPES * STRIDE);

    Bucket(long epoch) {
      this.epoch = epoch;
    }
  }
}
