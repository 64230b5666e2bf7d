package io.otlp4j.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Model-checks the {@link Batcher}'s offer/drain protocol: producers on several threads call {@code
 * offer}, one consumer runs the drainer's step ({@code drainOnce}, the same code the drainer thread
 * runs). Every concurrent history must be explainable by some sequential order of the same calls:
 * an item lost or exported twice, items out of order, or a full batch left unsent shows up as a
 * result no sequential order produces.
 *
 * <p>Batches hold at most 2 items and go when full (SIZE), so a few calls reach the limit. Exports
 * complete at once, on the consumer's thread, into a list that only the consumer reads. The queue
 * (16) holds more than a scenario offers: a step of the drainer takes several batches one item at a
 * time, so a producer can find room that a sequential order would not have given it yet; the
 * full-queue answers are covered by {@code BatcherTest}.
 *
 * <p>{@code queuedCount()} is not an operation here: the drainer takes a batch one item at a time,
 * so a reader may see a batch half taken; the count is linearizable per item, not per batch.
 *
 * <p>{@code flush()} is not an operation here: a flush exports at least what was offered before it,
 * and may export more (its target is read when the drainer takes the request), so its effect is a
 * lower bound that a sequential specification cannot state exactly (Lincheck showed such a
 * history).
 *
 * <p>This test was checked to fail when the producers' queue is a single-producer queue (its offer
 * is a read and a write of the producer index instead of a CAS).
 */
@Param(name = "item", gen = IntGen.class, conf = "1:9")
public class BatcherLincheckTest {

  private final List<Integer> exported = new ArrayList<>();

  private final Batcher<Integer> batcher =
      Batcher.<Integer>builder(
              batch -> {
                if (batch.isEmpty() || batch.size() > 2) {
                  throw new AssertionError("a batch of " + batch.size() + " items: " + batch);
                }
                exported.addAll(batch);
                return CompletableFuture.completedFuture(null);
              })
          .strategy(Batcher.Strategy.SIZE)
          .capacity(16)
          .maxBatchSize(2)
          .maxInFlight(8)
          .overflow(Batcher.Overflow.REJECT)
          .clock(() -> 0L)
          .buildManual();

  @Operation
  public Batcher.OfferResult offer(@Param(name = "item") int item) {
    return batcher.offer(item);
  }

  /**
   * The consumer: one step of the drainer; returns the items it exported, in export order. Where a
   * batch ends depends on when items arrive, so the result is the items, not the batches; every
   * batch is checked to hold 1 to 2 items as it is exported.
   */
  @Operation(nonParallelGroup = "consumer")
  public String drain() {
    batcher.drainOnce(0L);
    String items = exported.toString();
    exported.clear();
    return items;
  }

  @Test
  void offerAndDrainAreLinearizable() {
    new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(100)
        .threads(3)
        .actorsPerThread(2)
        .actorsBefore(1)
        .check(BatcherLincheckTest.class);
  }

  @Test
  void offerAndDrainAreLinearizableUnderStress() {
    new StressOptions()
        .iterations(2)
        .invocationsPerIteration(100)
        .threads(3)
        .actorsPerThread(2)
        .actorsBefore(1)
        .check(BatcherLincheckTest.class);
  }
}
