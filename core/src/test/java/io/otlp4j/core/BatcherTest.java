package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.otlp4j.core.Batcher.OfferResult;
import io.otlp4j.core.Batcher.Overflow;
import io.otlp4j.core.Batcher.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BatcherTest {

  private static final long MS = 1_000_000L;

  private final AtomicLong now = new AtomicLong(1_000 * MS);
  private final NanoClock clock = now::get;
  private final RecordingExporter exporter = new RecordingExporter();

  /** Records every batch; each export finishes only when the test completes it. */
  static final class RecordingExporter {
    final List<List<String>> batches = new CopyOnWriteArrayList<>();
    final List<CompletableFuture<Void>> exports = new CopyOnWriteArrayList<>();
    volatile boolean completeImmediately;

    CompletionStage<Void> export(List<String> batch) {
      batches.add(new ArrayList<>(batch));
      CompletableFuture<Void> future = new CompletableFuture<>();
      exports.add(future);
      if (completeImmediately) {
        future.complete(null);
      }
      return future;
    }

    void completeAll() {
      exports.forEach(f -> f.complete(null));
    }

    List<Integer> sizes() {
      List<Integer> sizes = new ArrayList<>();
      batches.forEach(b -> sizes.add(b.size()));
      return sizes;
    }
  }

  private final List<Batcher<String>> built = new CopyOnWriteArrayList<>();

  /** Invariants every batcher must hold after any test (Caffeine-style). */
  @AfterEach
  void checkInvariants() {
    for (Batcher<String> batcher : built) {
      assertThat(batcher.inFlightCount()).isBetween(0, Batcher.DEFAULT_MAX_IN_FLIGHT);
      assertThat(batcher.itemsSent()).isLessThanOrEqualTo(batcher.enqueuedCount());
      assertThat(batcher.batchesFailed()).isLessThanOrEqualTo(batcher.batchesSent());
      assertThat(batcher.largestBatchSize()).isLessThanOrEqualTo(4 * 8);
      assertThat(batcher.queuedCount()).isBetween(0, batcher.capacity());
      assertThat(exporter.sizes()).allSatisfy(size -> assertThat(size).isPositive());
    }
  }

  private Batcher<String> track(Batcher<String> batcher) {
    built.add(batcher);
    return batcher;
  }

  private Batcher.Builder<String> builder(Strategy strategy) {
    Batcher.Builder<String> builder =
        Batcher.<String>builder(exporter::export)
            .strategy(strategy)
            .clock(clock)
            .maxBatchSize(4)
            .capacity(16)
            .maxDelay(Duration.ofMillis(100));
    if (strategy == Strategy.HYBRID) {
      builder.maxBatchBytes(1_000, String::length);
    }
    return builder;
  }

  private static void offerAll(Batcher<String> batcher, String... items) {
    for (String item : items) {
      assertThat(batcher.offer(item)).isEqualTo(OfferResult.ACCEPTED);
    }
  }

  // ------------------------------------------------------------------------------ size

  @Test
  void sizeStrategySendsOnlyFullBatches() {
    Batcher<String> batcher = track(builder(Strategy.SIZE).buildManual());
    offerAll(batcher, "a", "b", "c");
    now.addAndGet(10_000 * MS);
    assertThat(batcher.drainOnce(now.get())).isZero();
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_FULL);
    assertThat(batcher.waitDeadline()).isEqualTo(Batcher.NO_DEADLINE);

    offerAll(batcher, "d", "e");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.batches).containsExactly(List.of("a", "b", "c", "d"));
    assertThat(batcher.queuedCount()).isEqualTo(1);
  }

  @Test
  void mayStartAnotherLimitsExportsBeyondTheFirstOnly() {
    AtomicReference<Boolean> mayStart = new AtomicReference<>(false);
    Batcher<String> batcher =
        track(builder(Strategy.SIZE).maxInFlight(2).mayStartAnother(mayStart::get).buildManual());
    offerAll(batcher, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1); // the first goes whatever the gate says
    assertThat(batcher.inFlightCount()).isEqualTo(1);
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_COMPLETION);

    mayStart.set(true);
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1); // then maxInFlight still bounds it
    assertThat(batcher.inFlightCount()).isEqualTo(2);

    mayStart.set(false);
    exporter.exports.get(0).complete(null);
    assertThat(batcher.drainOnce(now.get())).isZero(); // one in flight, the gate closed
    exporter.exports.get(1).complete(null);
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1); // none in flight: one goes
    assertThat(exporter.batches).hasSize(3);
  }

  // ------------------------------------------------------------------------------ time

  @Test
  void timeStrategySendsWhenFirstItemHasWaitedMaxDelay() {
    Batcher<String> batcher = track(builder(Strategy.TIME).buildManual());
    long start = now.get();
    assertThat(batcher.drainOnce(start)).isZero();
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_ANY);

    offerAll(batcher, "a");
    assertThat(batcher.drainOnce(start)).isZero();
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_FULL);
    assertThat(batcher.waitDeadline()).isEqualTo(start + 100 * MS);

    offerAll(batcher, "b");
    assertThat(batcher.drainOnce(start + 99 * MS)).isZero();
    assertThat(batcher.waitDeadline()).isEqualTo(start + 100 * MS);
    assertThat(batcher.drainOnce(start + 100 * MS)).isEqualTo(1);
    assertThat(exporter.batches).containsExactly(List.of("a", "b"));
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_ANY);
  }

  @Test
  void timeStrategySendsFullBatchesWithoutWaiting() {
    Batcher<String> batcher = track(builder(Strategy.TIME).buildManual());
    offerAll(batcher, "a", "b", "c", "d", "e");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.sizes()).containsExactly(4);
    // The leftover keeps the batch's start: it goes no later than maxDelay after it came.
    assertThat(batcher.waitDeadline()).isEqualTo(now.get() + 100 * MS);
  }

  // ------------------------------------------------------------------------------ hybrid

  @Test
  void hybridSendsWhenByteLimitIsReachedAndNeverExceedsIt() {
    Batcher<String> batcher =
        track(
            builder(Strategy.HYBRID)
                .maxBatchSize(100)
                .capacity(128)
                .maxBatchBytes(10, String::length)
                .buildManual());
    offerAll(batcher, "aaaa", "bbbb");
    assertThat(batcher.drainOnce(now.get())).isZero(); // 8 bytes < 10
    offerAll(batcher, "cccc"); // 12 bytes
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.batches).containsExactly(List.of("aaaa", "bbbb")); // 12 would exceed 10
    // The leftover (4 bytes) waits for the delay.
    assertThat(batcher.drainOnce(now.get() + 100 * MS)).isEqualTo(1);
    assertThat(exporter.batches.get(1)).containsExactly("cccc");
  }

  @Test
  void hybridSendsAnItemHeavierThanTheByteLimitAlone() {
    Batcher<String> batcher =
        track(builder(Strategy.HYBRID).maxBatchBytes(5, String::length).buildManual());
    offerAll(batcher, "xxxxxxxxxx", "y");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.batches).containsExactly(List.of("xxxxxxxxxx"));
  }

  @Test
  void hybridSendsOnItemCountAndOnDelay() {
    Batcher<String> batcher = track(builder(Strategy.HYBRID).buildManual());
    offerAll(batcher, "a", "b", "c", "d", "e");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(batcher.drainOnce(now.get() + 100 * MS)).isEqualTo(1);
    assertThat(exporter.sizes()).containsExactly(4, 1);
  }

  @Test
  void hybridWithoutWeigherIsAConfigurationError() {
    assertThatThrownBy(
            () -> Batcher.<String>builder(exporter::export).strategy(Strategy.HYBRID).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBatchBytes");
  }

  // ------------------------------------------------------------------------------ adaptive

  @Test
  void adaptiveSendsALoneItemAtOnce() {
    Batcher<String> batcher = track(builder(Strategy.ADAPTIVE).buildManual());
    offerAll(batcher, "a");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.batches).containsExactly(List.of("a"));
  }

  @Test
  void adaptiveAccumulatesWhileAnExportIsInFlightAndSendsThemTogetherWhenItFinishes() {
    Batcher<String> batcher = track(builder(Strategy.ADAPTIVE).maxBatchSize(8).buildManual());
    offerAll(batcher, "a");
    batcher.drainOnce(now.get());
    offerAll(batcher, "b", "c", "d");
    now.addAndGet(10_000 * MS); // no timer: time changes nothing
    assertThat(batcher.drainOnce(now.get())).isZero();
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_FULL);

    exporter.exports.get(0).complete(null);
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.batches).containsExactly(List.of("a"), List.of("b", "c", "d"));
  }

  @Test
  void adaptiveSendsAFullBatchWhileAnotherIsInFlightIfAPermitIsFree() {
    Batcher<String> batcher = track(builder(Strategy.ADAPTIVE).maxInFlight(2).buildManual());
    offerAll(batcher, "a");
    batcher.drainOnce(now.get());
    offerAll(batcher, "b", "c", "d", "e", "f");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(exporter.sizes()).containsExactly(1, 4);
    assertThat(batcher.inFlightCount()).isEqualTo(2);
  }

  // ------------------------------------------------------------------------------ in flight

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void neverRunsMoreExportsThanMaxInFlight(Strategy strategy) {
    Batcher<String> batcher = track(builder(strategy).maxBatchSize(1).maxInFlight(2).buildManual());
    offerAll(batcher, "a", "b", "c", "d", "e");
    assertThat(batcher.drainOnce(now.get())).isEqualTo(2);
    assertThat(batcher.inFlightCount()).isEqualTo(2);
    assertThat(batcher.waitKind()).isEqualTo(Batcher.WAKE_ON_COMPLETION);

    exporter.exports.get(1).complete(null);
    assertThat(batcher.drainOnce(now.get())).isEqualTo(1);
    assertThat(batcher.inFlightCount()).isEqualTo(2);
    exporter.completeAll();
    assertThat(batcher.drainOnce(now.get())).isEqualTo(2);
    exporter.completeAll();
    assertThat(batcher.inFlightCount()).isZero();
    assertThat(exporter.batches)
        .containsExactly(List.of("a"), List.of("b"), List.of("c"), List.of("d"), List.of("e"));
  }

  @Test
  void defaultAllowsMoreThanOneExportInFlight() {
    assertThat(Batcher.DEFAULT_MAX_IN_FLIGHT).isGreaterThan(1);
  }

  @Test
  void aFailedOrThrowingExportReleasesItsPermitAndIsCounted() {
    AtomicReference<String> mode = new AtomicReference<>("fail");
    Batcher<String> batcher =
        Batcher.<String>builder(
                batch -> {
                  if (mode.get().equals("throw")) {
                    throw new IllegalStateException("boom");
                  }
                  return CompletableFuture.failedFuture(new RuntimeException("upstream down"));
                })
            .strategy(Strategy.SIZE)
            .maxBatchSize(1)
            .maxInFlight(1)
            .capacity(4)
            .clock(clock)
            .buildManual();
    offerAll(batcher, "a");
    batcher.drainOnce(now.get());
    mode.set("throw");
    offerAll(batcher, "b");
    batcher.drainOnce(now.get());
    assertThat(batcher.batchesFailed()).isEqualTo(2);
    assertThat(batcher.itemsFailed()).isEqualTo(2);
    assertThat(batcher.inFlightCount()).isZero();
  }

  // ------------------------------------------------------------------------------ overflow

  @Test
  void rejectHandsTheItemBackWithAStatusAndCountsIt() {
    Batcher<String> batcher =
        track(builder(Strategy.SIZE).capacity(4).overflow(Overflow.REJECT).buildManual());
    offerAll(batcher, "a", "b", "c", "d");
    assertThat(batcher.offer("e")).isEqualTo(OfferResult.REJECTED);
    assertThat(batcher.rejectedCount()).isEqualTo(1);
    assertThat(batcher.droppedCount()).isZero();
    assertThat(batcher.enqueuedCount()).isEqualTo(4);
  }

  @Test
  void dropNewestDiscardsTheOfferedItemAndCountsIt() {
    Batcher<String> batcher =
        track(builder(Strategy.SIZE).capacity(4).overflow(Overflow.DROP_NEWEST).buildManual());
    offerAll(batcher, "a", "b", "c", "d");
    assertThat(batcher.offer("e")).isEqualTo(OfferResult.DROPPED);
    assertThat(batcher.offer("f")).isEqualTo(OfferResult.DROPPED);
    assertThat(batcher.droppedCount()).isEqualTo(2);
    batcher.drainOnce(now.get());
    assertThat(exporter.batches).containsExactly(List.of("a", "b", "c", "d"));
  }

  @Test
  void blockGivesUpAfterTheTimeout() {
    Batcher<String> batcher =
        track(
            builder(Strategy.SIZE)
                .capacity(4)
                .overflow(Overflow.BLOCK)
                .blockTimeout(Duration.ofMillis(20))
                .buildManual());
    offerAll(batcher, "a", "b", "c", "d");
    assertThat(batcher.offer("e")).isEqualTo(OfferResult.TIMED_OUT);
    assertThat(batcher.timedOutCount()).isEqualTo(1);
    assertThat(batcher.enqueuedCount()).isEqualTo(4);
  }

  @Test
  void blockWaitsUntilTheDrainerMakesSpace() throws Exception {
    Batcher<String> batcher =
        track(
            builder(Strategy.SIZE)
                .capacity(4)
                .overflow(Overflow.BLOCK)
                .blockTimeout(Duration.ofSeconds(30))
                .buildManual());
    offerAll(batcher, "a", "b", "c", "d");
    CompletableFuture<OfferResult> blocked =
        CompletableFuture.supplyAsync(() -> batcher.offer("e"));
    await().atMost(Duration.ofSeconds(30)).until(() -> batcher.blockedProducerCount() == 1);
    assertThat(blocked).isNotDone();

    batcher.drainOnce(now.get());
    assertThat(blocked.get(30, TimeUnit.SECONDS)).isEqualTo(OfferResult.ACCEPTED);
    assertThat(batcher.queuedCount()).isEqualTo(1);
  }

  @Test
  void shutdownReleasesBlockedProducersWithClosed() throws Exception {
    Batcher<String> batcher =
        track(
            builder(Strategy.SIZE)
                .capacity(4)
                .maxInFlight(1)
                .overflow(Overflow.BLOCK)
                .blockTimeout(Duration.ofSeconds(30))
                .buildManual());
    offerAll(batcher, "a", "b", "c", "d");
    CompletableFuture<OfferResult> blocked =
        CompletableFuture.supplyAsync(() -> batcher.offer("e"));
    await().atMost(Duration.ofSeconds(30)).until(() -> batcher.blockedProducerCount() == 1);
    batcher.shutdown(Duration.ofSeconds(30));
    assertThat(blocked.get(30, TimeUnit.SECONDS)).isEqualTo(OfferResult.CLOSED);
  }

  // ------------------------------------------------------------------------------ flush, shutdown

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void flushExportsEverythingOfferedBeforeItAndCompletesWhenTheExportsFinish(Strategy strategy) {
    Batcher<String> batcher = track(builder(strategy).buildManual());
    offerAll(batcher, "a", "b", "c", "d", "e", "f");
    CompletableFuture<Void> flushed = batcher.flush();
    batcher.drainOnce(now.get());
    assertThat(exporter.batches).containsExactly(List.of("a", "b", "c", "d"), List.of("e", "f"));
    assertThat(flushed).isNotDone();
    exporter.exports.get(0).complete(null);
    assertThat(flushed).isNotDone();
    exporter.exports.get(1).complete(null);
    assertThat(flushed).isCompleted();
  }

  @Test
  void flushOfAnEmptyBatcherCompletesAtOnce() {
    Batcher<String> batcher = track(builder(Strategy.SIZE).buildManual());
    CompletableFuture<Void> flushed = batcher.flush();
    batcher.drainOnce(now.get());
    assertThat(flushed).isCompleted();
  }

  @Test
  void flushDoesNotWaitForItemsOfferedAfterIt() {
    Batcher<String> batcher = track(builder(Strategy.SIZE).maxInFlight(1).buildManual());
    exporter.completeImmediately = true;
    offerAll(batcher, "a");
    CompletableFuture<Void> flushed = batcher.flush();
    batcher.drainOnce(now.get()); // takes the request, sends "a"
    offerAll(batcher, "b");
    batcher.drainOnce(now.get());
    assertThat(flushed).isCompleted();
    assertThat(exporter.batches).containsExactly(List.of("a"));
    assertThat(batcher.queuedCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(Strategy.class)
  void shutdownExportsEverythingAndThenRefusesNewItems(Strategy strategy) {
    Batcher<String> batcher = track(builder(strategy).buildManual());
    exporter.completeImmediately = true;
    offerAll(batcher, "a", "b", "c", "d", "e", "f", "g");
    CompletableFuture<Boolean> shutdown = batcher.shutdown(Duration.ofSeconds(30));
    assertThat(batcher.offer("late")).isEqualTo(OfferResult.CLOSED);
    batcher.drainOnce(now.get());
    assertThat(shutdown).isCompletedWithValue(true);
    assertThat(exporter.batches.stream().flatMap(List::stream))
        .containsExactly("a", "b", "c", "d", "e", "f", "g");
    assertThat(batcher.shutdown(Duration.ZERO)).isSameAs(shutdown);
    assertThat(batcher.droppedCount()).isZero();
  }

  @Test
  void shutdownThatTimesOutDropsTheRestAndHandsItToTheDiscardListener() throws Exception {
    List<String> discarded = new CopyOnWriteArrayList<>();
    Batcher<String> batcher =
        track(builder(Strategy.SIZE).maxInFlight(1).discardListener(discarded::add).buildManual());
    offerAll(batcher, "a", "b", "c", "d", "e", "f");
    CompletableFuture<Boolean> shutdown = batcher.shutdown(Duration.ofMillis(50));
    batcher.drainOnce(now.get()); // sends a..d, which never finish; e, f wait for a permit
    assertThat(shutdown.get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(discarded).containsExactly("e", "f");
    assertThat(batcher.droppedCount()).isEqualTo(2);
    assertThat(batcher.offer("late")).isEqualTo(OfferResult.CLOSED);
  }

  // ------------------------------------------------------------------------------ with a drainer
  // thread

  @Test
  void drainerThreadSendsALoneAdaptiveItemWithoutATimer() {
    Batcher<String> batcher =
        Batcher.<String>builder(exporter::export)
            .strategy(Strategy.ADAPTIVE)
            .maxDelay(Duration.ofDays(1))
            .build();
    try {
      assertThat(batcher.offer("a")).isEqualTo(OfferResult.ACCEPTED);
      await().atMost(Duration.ofSeconds(30)).until(() -> exporter.batches.size() == 1);
    } finally {
      exporter.completeAll();
      batcher.shutdown(Duration.ofSeconds(5)).join();
    }
  }

  @Test
  void drainerThreadWakesForTheDelayOfATimedBatch() {
    Batcher<String> batcher =
        Batcher.<String>builder(exporter::export)
            .strategy(Strategy.TIME)
            .maxDelay(Duration.ofMillis(20))
            .build();
    exporter.completeImmediately = true;
    try {
      offerAll(batcher, "a", "b");
      await().atMost(Duration.ofSeconds(30)).until(() -> batcher.itemsSent() == 2);
      offerAll(batcher, "c");
      await().atMost(Duration.ofSeconds(30)).until(() -> batcher.itemsSent() == 3);
    } finally {
      batcher.shutdown(Duration.ofSeconds(5)).join();
    }
  }

  @Test
  void drainerThreadShutdownDrainsEverything() throws Exception {
    Batcher<String> batcher =
        Batcher.<String>builder(exporter::export).strategy(Strategy.SIZE).maxBatchSize(100).build();
    exporter.completeImmediately = true;
    for (int i = 0; i < 250; i++) {
      offerAll(batcher, "item" + i);
    }
    assertThat(batcher.shutdown(Duration.ofSeconds(10)).get(20, TimeUnit.SECONDS)).isTrue();
    assertThat(batcher.itemsSent()).isEqualTo(250);
    assertThat(exporter.sizes()).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(100));
    assertThat(batcher.enqueuedCount()).isEqualTo(250);
    assertThat(batcher.averageBatchSize()).isGreaterThan(0);
    assertThat(Collections.max(exporter.sizes())).isEqualTo(batcher.largestBatchSize());
  }
}
