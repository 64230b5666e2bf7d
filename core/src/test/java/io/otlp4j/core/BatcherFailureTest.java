package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.otlp4j.core.Batcher.Strategy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The drainer outlives failures of its own work (an {@link Error} such as an {@link
 * OutOfMemoryError} from an allocation under memory pressure): no item is swept or lost, and later
 * items still go.
 */
class BatcherFailureTest {

  private static final String DRAINER = "batcher-failure-test-drainer";

  @Test
  void anErrorOnTheDrainerThreadNeitherKillsItNorLosesAnItem() throws Exception {
    List<Integer> exported = new CopyOnWriteArrayList<>();
    List<Integer> discarded = new CopyOnWriteArrayList<>();
    AtomicInteger failuresLeft = new AtomicInteger(3);
    Batcher<Integer> batcher =
        Batcher.<Integer>builder(
                batch -> {
                  exported.addAll(batch);
                  return CompletableFuture.completedFuture(null);
                })
            .strategy(Strategy.ADAPTIVE)
            .maxBatchSize(8)
            .maxBatchBytes(
                1_000,
                item -> {
                  // The weigher runs on producers and on the drainer; fail only the drainer, as an
                  // allocation
                  // of its own would.
                  if (Thread.currentThread().getName().equals(DRAINER)
                      && failuresLeft.getAndDecrement() > 0) {
                    throw new OutOfMemoryError("injected: the drainer could not allocate");
                  }
                  return 1;
                })
            .discardListener(discarded::add)
            .threadFactory(r -> new Thread(r, DRAINER))
            .build();
    try {
      for (int i = 0; i < 100; i++) {
        assertThat(batcher.offer(i).accepted()).isTrue();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> exported.size() == 100);
      assertThat(exported)
          .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 100).boxed().toList());
      assertThat(discarded).isEmpty();
      assertThat(batcher.drainerFailures()).isEqualTo(3);
      // and it still sends what comes later
      assertThat(batcher.offer(100).accepted()).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> exported.size() == 101);
    } finally {
      assertThat(batcher.shutdown(Duration.ofSeconds(5)).get(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void anExporterThatThrowsAnErrorFailsOnlyItsBatchAndGivesThePermitBack() throws Exception {
    List<Integer> exported = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();
    Batcher<Integer> batcher =
        Batcher.<Integer>builder(
                batch -> {
                  if (calls.getAndIncrement() == 0) {
                    throw new OutOfMemoryError("injected: the exporter could not allocate");
                  }
                  exported.addAll(batch);
                  return CompletableFuture.completedFuture(null);
                })
            .strategy(Strategy.ADAPTIVE)
            .maxBatchSize(1)
            .maxInFlight(1)
            .logFirstFailure(false)
            .build();
    try {
      for (int i = 0; i < 10; i++) {
        assertThat(batcher.offer(i).accepted()).isTrue();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> exported.size() == 9);
      assertThat(batcher.batchesFailed()).isEqualTo(1);
      assertThat(batcher.inFlightCount()).isZero();
    } finally {
      batcher.shutdown(Duration.ofSeconds(5)).get(30, TimeUnit.SECONDS);
    }
  }
}
