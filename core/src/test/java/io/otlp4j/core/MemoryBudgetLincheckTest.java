package io.otlp4j.core;

import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Model-checks {@link MemoryBudget}: every concurrent history of {@code tryAcquire}, {@code
 * release} and the readers must be explainable by some sequential order of the same calls
 * (linearizability). Lincheck explores thread interleavings at every shared-memory access, so a
 * lost update (two acquires that both pass the limit check, a release that overwrites an acquire,
 * the REFUSING bit dropped or kept wrongly) shows up as a result no sequential order produces.
 *
 * <p>The limit is small (10 bytes, high water 8, low water 4) so that a few calls of 1 to 4 bytes
 * reach the limit and both hysteresis thresholds. {@code peakBytes()} is left out on purpose: the
 * peak is updated after the CAS that admits the bytes, so a reader may briefly see usage above the
 * peak; it is a statistic, not part of the admission contract.
 *
 * <p>This test was checked to fail when the CAS in {@code tryAcquire} is replaced by a volatile
 * read followed by a volatile write.
 */
@Param(name = "bytes", gen = IntGen.class, conf = "1:4")
public class MemoryBudgetLincheckTest {

  private final MemoryBudget budget =
      MemoryBudget.builder(10).highWaterBytes(8).lowWaterBytes(4).build();

  @Operation
  public boolean tryAcquire(@Param(name = "bytes") int bytes) {
    return budget.tryAcquire(bytes);
  }

  /**
   * A release of more than is held throws; Lincheck compares that outcome like any other result.
   */
  @Operation
  public void release(@Param(name = "bytes") int bytes) {
    budget.release(bytes);
  }

  @Operation
  public long usedBytes() {
    return budget.usedBytes();
  }

  @Operation
  public long refusals() {
    return budget.refusals();
  }

  /** A pure function of the limit; an operation so that it is interleaved with the others. */
  @Operation
  public boolean isOversized(@Param(name = "bytes") int bytes) {
    return budget.isOversized(bytes * 3L);
  }

  @Operation
  public boolean isOverHighWater() {
    return budget.isOverHighWater();
  }

  @Test
  void acquireAndReleaseAreLinearizable() {
    new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(100)
        .threads(3)
        .actorsPerThread(3)
        .actorsBefore(2)
        .check(MemoryBudgetLincheckTest.class);
  }

  @Test
  void acquireAndReleaseAreLinearizableUnderStress() {
    new StressOptions()
        .iterations(2)
        .invocationsPerIteration(100)
        .threads(3)
        .actorsPerThread(3)
        .actorsBefore(2)
        .check(MemoryBudgetLincheckTest.class);
  }
}
