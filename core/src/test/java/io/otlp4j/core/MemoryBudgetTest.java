package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {

  private static MemoryBudget budget() {
    return MemoryBudget.builder(100).highWaterBytes(80).lowWaterBytes(50).build();
  }

  @Test
  void admitsWhatFitsAndTracksUsageAndPeak() {
    MemoryBudget b = budget();
    assertThat(b.tryAcquire(30)).isTrue();
    assertThat(b.tryAcquire(40)).isTrue();
    assertThat(b.usedBytes()).isEqualTo(70);
    b.release(60);
    assertThat(b.usedBytes()).isEqualTo(10);
    assertThat(b.peakBytes()).isEqualTo(70);
    assertThat(b.refusals()).isZero();
  }

  @Test
  void refusesARequestThatWouldExceedTheLimit() {
    MemoryBudget b = MemoryBudget.builder(100).highWaterBytes(100).lowWaterBytes(100).build();
    assertThat(b.tryAcquire(60)).isTrue();
    assertThat(b.tryAcquire(41)).isFalse();
    assertThat(b.tryAcquire(40)).isTrue();
    assertThat(b.usedBytes()).isEqualTo(100);
    assertThat(b.refusals()).isEqualTo(1);
  }

  @Test
  void aRequestLargerThanTheWholeBudgetIsRefusedAndReportedOversized() {
    MemoryBudget b = budget();
    assertThat(b.isOversized(101)).isTrue();
    assertThat(b.isOversized(100)).isFalse();
    assertThat(b.tryAcquire(101)).isFalse();
    assertThat(b.usedBytes()).isZero();
    assertThat(b.refusals()).isEqualTo(1);
  }

  @Test
  void aboveHighWaterRefusesUntilUsageDropsBelowLowWater() {
    MemoryBudget b = budget();
    assertThat(b.tryAcquire(80)).isTrue();
    assertThat(b.isOverHighWater()).isFalse(); // at the mark, not above it
    assertThat(b.tryAcquire(5)).isTrue();
    assertThat(b.isOverHighWater()).isTrue();
    assertThat(b.tryAcquire(1)).as("refusing although 1 byte fits").isFalse();
    b.release(30); // 55: below high, not yet below low
    assertThat(b.isOverHighWater()).isTrue();
    assertThat(b.tryAcquire(1)).isFalse();
    b.release(5); // 50: at the low mark, still refusing
    assertThat(b.isOverHighWater()).isTrue();
    b.release(1); // 49: below low
    assertThat(b.isOverHighWater()).isFalse();
    assertThat(b.tryAcquire(1)).isTrue();
    assertThat(b.refusals()).isEqualTo(2);
  }

  @Test
  void acceptedDataIsReservedEvenAboveTheLimitAndNewRequestsAreRefusedUntilBelowLowWater() {
    MemoryBudget b = budget();
    assertThat(b.tryAcquire(70)).isTrue();
    b.acquireAccepted(50); // 120: above the limit
    assertThat(b.usedBytes()).isEqualTo(120);
    assertThat(b.peakBytes()).isEqualTo(120);
    assertThat(b.isOverHighWater()).isTrue();
    assertThat(b.tryAcquire(1)).isFalse();
    b.release(70); // 50: at the low mark, still refusing
    assertThat(b.tryAcquire(1)).isFalse();
    b.release(1);
    assertThat(b.tryAcquire(1)).isTrue();
    b.release(50);
    b.acquireAccepted(10); // below the high mark: not refusing
    assertThat(b.isOverHighWater()).isFalse();
    b.release(10);
    assertThat(b.usedBytes()).isZero();
    assertThatThrownBy(() -> b.acquireAccepted(-1)).hasMessageContaining("bytes");
  }

  @Test
  void releasingMoreThanHeldIsDetectedAndLeavesTheBudgetUnchanged() {
    MemoryBudget b = budget();
    assertThat(b.tryAcquire(10)).isTrue();
    assertThatThrownBy(() -> b.release(11))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("released 11 bytes but only 10 are held");
    assertThat(b.usedBytes()).isEqualTo(10);
    b.release(10);
    assertThatThrownBy(() -> b.release(1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void negativeAmountsAreRejected() {
    MemoryBudget b = budget();
    assertThatThrownBy(() -> b.tryAcquire(-1)).hasMessageContaining("bytes");
    assertThatThrownBy(() -> b.release(-1)).hasMessageContaining("bytes");
  }

  @Test
  void builderValidatesWaterMarksNamingTheParameter() {
    assertThatThrownBy(() -> MemoryBudget.builder(0)).hasMessageContaining("limitBytes");
    assertThatThrownBy(() -> MemoryBudget.builder(10).highWaterBytes(11))
        .hasMessageContaining("highWaterBytes");
    assertThatThrownBy(() -> MemoryBudget.builder(10).lowWaterBytes(-1))
        .hasMessageContaining("lowWaterBytes");
    assertThatThrownBy(() -> MemoryBudget.builder(10).highWaterBytes(5).lowWaterBytes(6).build())
        .hasMessageContaining("lowWaterBytes");
    MemoryBudget defaults = MemoryBudget.builder(1000).build();
    assertThat(defaults.highWaterBytes()).isEqualTo(900);
    assertThat(defaults.lowWaterBytes()).isEqualTo(800);
  }

  @Test
  void neverExceedsItsLimitUnderEightThreadsAndReturnsToZero() throws Exception {
    int threads = 8;
    long limit = 10_000;
    MemoryBudget b = MemoryBudget.builder(limit).highWaterBytes(9_000).lowWaterBytes(5_000).build();
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    try {
      CountDownLatch start = new CountDownLatch(1);
      AtomicBoolean running = new AtomicBoolean(true);
      List<Future<Long>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(
            pool.submit(
                () -> {
                  start.await();
                  long admitted = 0;
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  for (int i = 0; i < 50_000; i++) {
                    long bytes = 1L + random.nextInt(1_500);
                    if (b.tryAcquire(bytes)) {
                      admitted++;
                      b.release(bytes);
                    }
                  }
                  return admitted;
                }));
      }
      Future<Long> watcher =
          pool.submit(
              () -> {
                start.await();
                long maxSeen = 0;
                while (running.get()) {
                  maxSeen = Math.max(maxSeen, b.usedBytes());
                }
                return maxSeen;
              });
      start.countDown();
      long admitted = 0;
      for (Future<Long> w : workers) {
        admitted += w.get(30, TimeUnit.SECONDS);
      }
      running.set(false);
      assertThat(watcher.get(30, TimeUnit.SECONDS)).isLessThanOrEqualTo(limit);
      assertThat(admitted).isPositive();
      assertThat(admitted + b.refusals()).isEqualTo(threads * 50_000L);
    } finally {
      pool.shutdownNow();
    }
    assertThat(b.usedBytes()).isZero();
    assertThat(b.peakBytes()).isBetween(1L, limit);
    assertThat(b.isOverHighWater()).isFalse();
  }
}
