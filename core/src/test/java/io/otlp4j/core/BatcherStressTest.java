package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.core.Batcher.OfferResult;
import io.otlp4j.core.Batcher.Overflow;
import io.otlp4j.core.Batcher.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Many producers against one real drainer: nothing lost, nothing duplicated, bounds held. */
class BatcherStressTest {

  private static final int PRODUCERS = 8;
  private static final int ITEMS_PER_PRODUCER = 20_000;
  private static final int MAX_BATCH = 64;
  private static final int MAX_IN_FLIGHT = 3;
  private static final long DEADLINE_SECONDS = 30;

  /** Completes every export on another thread, tracking the exports running at once. */
  private static final class AsyncExporter {
    final ConcurrentLinkedQueue<Long> exported = new ConcurrentLinkedQueue<>();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final AtomicInteger maxBatch = new AtomicInteger();
    final ExecutorService completer = Executors.newFixedThreadPool(2);

    CompletableFuture<Void> export(List<Long> batch) {
      int now = running.incrementAndGet();
      maxRunning.accumulateAndGet(now, Math::max);
      maxBatch.accumulateAndGet(batch.size(), Math::max);
      exported.addAll(batch);
      return CompletableFuture.runAsync(running::decrementAndGet, completer);
    }
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void blockingProducersLoseAndDuplicateNothing(Strategy strategy) throws Exception {
    AsyncExporter exporter = new AsyncExporter();
    Batcher.Builder<Long> builder =
        Batcher.<Long>builder(exporter::export)
            .strategy(strategy)
            .maxBatchSize(MAX_BATCH)
            .capacity(256)
            .maxInFlight(MAX_IN_FLIGHT)
            .maxDelay(Duration.ofMillis(1))
            .overflow(Overflow.BLOCK)
            .blockTimeout(Duration.ofSeconds(DEADLINE_SECONDS));
    if (strategy == Strategy.HYBRID) {
      builder.maxBatchBytes(40 * 8, item -> 8);
    }
    Batcher<Long> batcher = builder.build();
    try {
      List<OfferResult> failures = runProducers(batcher);
      assertThat(failures).isEmpty();
      assertThat(batcher.shutdown(Duration.ofSeconds(DEADLINE_SECONDS)).get(60, TimeUnit.SECONDS))
          .isTrue();

      List<Long> exported = new ArrayList<>(exporter.exported);
      assertThat(exported).hasSize(PRODUCERS * ITEMS_PER_PRODUCER);
      assertThat(new HashSet<>(exported)).hasSize(PRODUCERS * ITEMS_PER_PRODUCER);
      assertThat(exporter.maxRunning.get()).isLessThanOrEqualTo(MAX_IN_FLIGHT);
      assertThat(exporter.maxBatch.get())
          .isLessThanOrEqualTo(strategy == Strategy.HYBRID ? 40 : MAX_BATCH);
      assertThat(batcher.itemsSent()).isEqualTo(PRODUCERS * ITEMS_PER_PRODUCER);
      assertThat(batcher.enqueuedCount()).isEqualTo(PRODUCERS * ITEMS_PER_PRODUCER);
      assertThat(batcher.droppedCount()).isZero();
    } finally {
      exporter.completer.shutdownNow();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Overflow.class,
      names = {"DROP_NEWEST", "REJECT"})
  void itemsRefusedWhenFullAreCountedAndNeverExported(Overflow overflow) throws Exception {
    AsyncExporter exporter = new AsyncExporter();
    Batcher<Long> batcher =
        Batcher.<Long>builder(exporter::export)
            .strategy(Strategy.ADAPTIVE)
            .maxBatchSize(MAX_BATCH)
            .capacity(64)
            .maxInFlight(MAX_IN_FLIGHT)
            .overflow(overflow)
            .build();
    Set<Long> refused = concurrentSet();
    try {
      LongAdder accepted = new LongAdder();
      runProducers(
          batcher,
          (item, result) -> {
            if (result.accepted()) {
              accepted.increment();
            } else {
              refused.add(item);
            }
          });
      assertThat(batcher.shutdown(Duration.ofSeconds(DEADLINE_SECONDS)).get(60, TimeUnit.SECONDS))
          .isTrue();
      List<Long> exported = new ArrayList<>(exporter.exported);
      Set<Long> unique = new HashSet<>(exported);
      assertThat(unique).hasSize(exported.size());
      unique.retainAll(refused); // (AssertJ's containment checks are linear per element)
      assertThat(unique).as("refused items that were exported").isEmpty();
      assertThat((long) exported.size()).isEqualTo(accepted.sum());
      assertThat(exported.size() + refused.size()).isEqualTo(PRODUCERS * ITEMS_PER_PRODUCER);
      long counted = overflow == Overflow.REJECT ? batcher.rejectedCount() : batcher.droppedCount();
      assertThat(counted).isEqualTo(refused.size());
    } finally {
      exporter.completer.shutdownNow();
    }
  }

  private static Set<Long> concurrentSet() {
    return java.util.concurrent.ConcurrentHashMap.newKeySet();
  }

  private interface ResultSink {
    void accept(long item, OfferResult result);
  }

  private static List<OfferResult> runProducers(Batcher<Long> batcher) throws Exception {
    List<OfferResult> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    runProducers(
        batcher,
        (item, result) -> {
          if (!result.accepted()) {
            failures.add(result);
          }
        });
    return failures;
  }

  private static void runProducers(Batcher<Long> batcher, ResultSink sink) throws Exception {
    ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < PRODUCERS; p++) {
        long base = (long) p * ITEMS_PER_PRODUCER;
        done.add(
            producers.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
                    long item = base + i;
                    sink.accept(item, batcher.offer(item));
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> future : done) {
        future.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
      }
    } finally {
      producers.shutdownNow();
    }
  }
}
