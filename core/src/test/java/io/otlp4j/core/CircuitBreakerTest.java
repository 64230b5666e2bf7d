package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.core.CircuitBreaker.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CircuitBreakerTest {

  private static final long FAST = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long SLOW = TimeUnit.SECONDS.toNanos(2);

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<String> transitions = new ArrayList<>();

  private CircuitBreaker.Builder builder() {
    return CircuitBreaker.builder("test")
        .clock(now::get)
        .addListener((from, to) -> transitions.add(from + "->" + to));
  }

  private void advance(Duration d) {
    now.addAndGet(d.toNanos());
  }

  private static void succeed(CircuitBreaker b, int times) {
    for (int i = 0; i < times; i++) {
      assertThat(b.tryAcquirePermission()).isTrue();
      b.onSuccess(FAST);
    }
  }

  private static void fail(CircuitBreaker b, int times) {
    for (int i = 0; i < times; i++) {
      assertThat(b.tryAcquirePermission()).isTrue();
      b.onError(FAST);
    }
  }

  /** Trips a breaker whose rate threshold is reachable with {@code minimumCalls} failures. */
  private void trip(CircuitBreaker b) {
    while (b.state() == State.CLOSED) {
      fail(b, 1);
    }
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void failureRateTripsOnlyOnceMinimumCallsAreRecorded() {
    CircuitBreaker b =
        builder().countBasedWindow(10).minimumCalls(5).failureRateThreshold(50).build();
    fail(b, 4);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 100 % failures but only 4 calls
    succeed(b, 1); // 4 of 5 failed: the success completes the minimum and the rate trips
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(transitions).containsExactly("CLOSED->OPEN");
    assertThat(b.transitions()).isEqualTo(1);
    assertThat(b.calls()).isEqualTo(5);
    assertThat(b.failedCalls()).isEqualTo(4);
    assertThat(b.successfulCalls()).isEqualTo(1);
  }

  private CircuitBreaker.Builder window(CircuitBreaker.WindowType type, int size) {
    return type == CircuitBreaker.WindowType.COUNT_BASED
        ? builder().countBasedWindow(size)
        : builder().timeBasedWindow(size, Duration.ofSeconds(1));
  }

  @ParameterizedTest
  @EnumSource(CircuitBreaker.WindowType.class)
  void everyWindowTypeWaitsForTheMinimumThenTripsOnTheRate(CircuitBreaker.WindowType type) {
    CircuitBreaker b = window(type, 10).minimumCalls(6).failureRateThreshold(50).build();
    succeed(b, 3);
    fail(b, 2);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 5 calls: below the minimum
    succeed(b, 1);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 2 of 6 = 33 %
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 3 of 7 = 43 %
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.OPEN); // 4 of 8 = 50 %
  }

  @ParameterizedTest
  @EnumSource(CircuitBreaker.WindowType.class)
  void everyWindowTypeRecoversThroughHalfOpen(CircuitBreaker.WindowType type) {
    CircuitBreaker b =
        window(type, 4).minimumCalls(2).openWait(Duration.ofSeconds(1)).halfOpen(2, 2).build();
    trip(b);
    advance(Duration.ofSeconds(1));
    succeed(b, 2);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    succeed(b, 10); // the new CLOSED phase starts with an empty window
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.CLOSED);
  }

  @Test
  void failureRateBelowThresholdKeepsTheBreakerClosed() {
    CircuitBreaker b =
        builder().countBasedWindow(10).minimumCalls(10).failureRateThreshold(50).build();
    for (int i = 0; i < 50; i++) {
      fail(b, 4);
      succeed(b, 6);
    }
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(transitions).isEmpty();
  }

  @Test
  void countWindowForgetsOutcomesOlderThanItsSize() {
    CircuitBreaker b =
        builder().countBasedWindow(4).minimumCalls(4).failureRateThreshold(50).build();
    fail(b, 1);
    succeed(b, 3); // 1 of 4
    succeed(b, 1); // evicts the failure: 0 of 4
    fail(b, 1); // 1 of 4
    assertThat(b.state()).isEqualTo(State.CLOSED);
    fail(b, 1); // 2 of 4
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void healthyFastPathStillCountsLaterFailuresOverTheLastNCalls() {
    CircuitBreaker b =
        builder().countBasedWindow(4).minimumCalls(4).failureRateThreshold(50).build();
    succeed(b, 4); // full and healthy: later fast successes take the read-only path
    succeed(b, 100);
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void consecutiveFailuresTripBeforeTheRateCan() {
    CircuitBreaker b =
        builder().countBasedWindow(100).minimumCalls(100).consecutiveFailureThreshold(3).build();
    fail(b, 2);
    succeed(b, 1); // resets the run
    fail(b, 2);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void slowCallRateTrips() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(10)
            .minimumCalls(4)
            .slowCallDuration(Duration.ofSeconds(1))
            .slowCallRateThreshold(50)
            .build();
    succeed(b, 2);
    assertThat(b.tryAcquirePermission()).isTrue();
    b.onSuccess(SLOW);
    assertThat(b.state()).isEqualTo(State.CLOSED); // 3 calls: below the minimum
    assertThat(b.tryAcquirePermission()).isTrue();
    b.onSuccess(SLOW);
    assertThat(b.state()).isEqualTo(State.OPEN); // 2 of 4 slow
    assertThat(b.slowCalls()).isEqualTo(2);
    assertThat(b.failedCalls()).isZero();
  }

  @Test
  void slowCallsAreNotSlowWhenNoThresholdIsConfigured() {
    CircuitBreaker b = builder().countBasedWindow(4).minimumCalls(4).build();
    for (int i = 0; i < 10; i++) {
      assertThat(b.tryAcquirePermission()).isTrue();
      b.onSuccess(SLOW);
    }
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(b.slowCalls()).isZero();
  }

  @Test
  void openRejectsUntilTheWaitThenTheNextCallMovesToHalfOpen() {
    CircuitBreaker b =
        builder().countBasedWindow(2).minimumCalls(2).openWait(Duration.ofSeconds(5)).build();
    trip(b);
    assertThat(b.tryAcquirePermission()).isFalse();
    advance(Duration.ofSeconds(5).minusNanos(1));
    assertThat(b.tryAcquirePermission()).isFalse();
    assertThat(b.state()).isEqualTo(State.OPEN); // no timer: nothing happens without a call
    advance(Duration.ofNanos(1));
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    assertThat(b.rejectedCalls()).isEqualTo(2);
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN");
  }

  @Test
  void openWaitGrowsOnRepeatedTripsUpToTheMaxAndResetsAfterClosing() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(2)
            .minimumCalls(2)
            .halfOpen(1, 1)
            .openWait(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(5))
            .build();
    trip(b);
    long[] expectedWaitsSeconds = {1, 2, 4, 5, 5};
    for (long wait : expectedWaitsSeconds) {
      advance(Duration.ofSeconds(wait).minusNanos(1));
      assertThat(b.tryAcquirePermission()).as("before a %ds wait", wait).isFalse();
      advance(Duration.ofNanos(1));
      assertThat(b.tryAcquirePermission()).as("after a %ds wait", wait).isTrue();
      b.onError(FAST); // the probe fails: reopen with a longer wait
      assertThat(b.state()).isEqualTo(State.OPEN);
    }
    advance(Duration.ofSeconds(5));
    assertThat(b.tryAcquirePermission()).isTrue();
    b.onSuccess(FAST);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    trip(b);
    advance(Duration.ofSeconds(1));
    assertThat(b.tryAcquirePermission()).as("a trip after a close waits the initial 1 s").isTrue();
  }

  @Test
  void halfOpenAdmitsAtMostConfiguredProbesAndClosesAfterEnoughSuccesses() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(2)
            .minimumCalls(2)
            .openWait(Duration.ofSeconds(1))
            .halfOpen(3, 2)
            .build();
    trip(b);
    advance(Duration.ofSeconds(1));
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isFalse();
    b.onSuccess(FAST);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
    b.onSuccess(FAST);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    b.onSuccess(FAST); // the third probe completes after the close: recorded in CLOSED
    assertThat(b.state()).isEqualTo(State.CLOSED);
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->CLOSED");
    assertThat(b.tryAcquirePermission()).isTrue();
  }

  @Test
  void halfOpenReopensOnAnyFailure() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(2)
            .minimumCalls(2)
            .openWait(Duration.ofSeconds(1))
            .halfOpen(3, 3)
            .build();
    trip(b);
    advance(Duration.ofSeconds(1));
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isTrue();
    b.onSuccess(FAST);
    b.onError(FAST);
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.tryAcquirePermission()).isFalse();
    assertThat(transitions).containsExactly("CLOSED->OPEN", "OPEN->HALF_OPEN", "HALF_OPEN->OPEN");
  }

  @Test
  void slowProbeInHalfOpenReopens() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(2)
            .minimumCalls(2)
            .slowCallDuration(Duration.ofSeconds(1))
            .openWait(Duration.ofSeconds(1))
            .halfOpen(2, 2)
            .build();
    trip(b);
    advance(Duration.ofSeconds(1));
    assertThat(b.tryAcquirePermission()).isTrue();
    b.onSuccess(SLOW);
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void ignoredProbeReturnsItsPermit() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(2)
            .minimumCalls(2)
            .openWait(Duration.ofSeconds(1))
            .halfOpen(1, 1)
            .build();
    trip(b);
    advance(Duration.ofSeconds(1));
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isFalse();
    b.onIgnored();
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.ignoredCalls()).isEqualTo(1);
    assertThat(b.state()).isEqualTo(State.HALF_OPEN);
  }

  @Test
  void returnedPermitsNeverRaiseTheProbeCounterAboveTheLimit() {
    CircuitBreaker b =
        builder()
            .countBasedWindow(2)
            .minimumCalls(2)
            .openWait(Duration.ofSeconds(1))
            .halfOpen(2, 2)
            .build();
    trip(b);
    advance(Duration.ofSeconds(1));
    assertThat(b.tryAcquirePermission()).isTrue();
    b.onIgnored();
    b.onIgnored(); // e.g. a call admitted before the trip, ignored now: must not add a permit
    b.onIgnored();
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isTrue();
    assertThat(b.tryAcquirePermission()).isFalse();
  }

  @Test
  void outcomesArrivingWhileOpenAreCountedButDoNotChangeState() {
    CircuitBreaker b =
        builder().countBasedWindow(2).minimumCalls(2).openWait(Duration.ofSeconds(1)).build();
    assertThat(b.tryAcquirePermission()).isTrue(); // admitted while CLOSED, completes later
    trip(b);
    b.onSuccess(FAST);
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.successfulCalls()).isEqualTo(1);
    assertThat(b.transitions()).isEqualTo(1);
  }

  @Test
  void timeBasedWindowForgetsExpiredBuckets() {
    CircuitBreaker b =
        builder()
            .timeBasedWindow(3, Duration.ofSeconds(1))
            .minimumCalls(4)
            .failureRateThreshold(50)
            .build();
    fail(b, 3);
    advance(Duration.ofSeconds(3)); // the bucket holding the failures has left the window
    succeed(b, 1);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    fail(b, 2); // 2 of 3 in the window, below the minimum
    assertThat(b.state()).isEqualTo(State.CLOSED);
    fail(b, 1); // 3 of 4
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void timeBasedWindowAddsUpBucketsWithinTheWindow() {
    CircuitBreaker b =
        builder()
            .timeBasedWindow(3, Duration.ofSeconds(1))
            .minimumCalls(4)
            .failureRateThreshold(50)
            .build();
    fail(b, 1);
    advance(Duration.ofSeconds(1));
    fail(b, 1);
    advance(Duration.ofSeconds(1));
    succeed(b, 1);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    succeed(b, 1); // 2 of 4 over three buckets
    assertThat(b.state()).isEqualTo(State.OPEN);
  }

  @Test
  void aThrowingListenerDoesNotStopTheTransitionOrOtherListeners() {
    List<State> seen = new ArrayList<>();
    CircuitBreaker b =
        CircuitBreaker.builder("x")
            .clock(now::get)
            .countBasedWindow(2)
            .minimumCalls(2)
            .addListener(
                (from, to) -> {
                  throw new IllegalStateException("boom");
                })
            .addListener((from, to) -> seen.add(to))
            .build();
    trip(b);
    assertThat(seen).containsExactly(State.OPEN);
  }

  @Test
  void builderRejectsBadValuesNamingTheParameter() {
    CircuitBreaker.Builder b = CircuitBreaker.builder("x");
    assertThatThrownBy(() -> b.countBasedWindow(0)).hasMessageContaining("size");
    assertThatThrownBy(() -> b.timeBasedWindow(0, Duration.ofSeconds(1)))
        .hasMessageContaining("bucketCount");
    assertThatThrownBy(() -> b.timeBasedWindow(2, Duration.ZERO))
        .hasMessageContaining("bucketDuration");
    assertThatThrownBy(() -> b.minimumCalls(0)).hasMessageContaining("minimumCalls");
    assertThatThrownBy(() -> b.failureRateThreshold(0))
        .hasMessageContaining("failureRateThreshold");
    assertThatThrownBy(() -> b.failureRateThreshold(101))
        .hasMessageContaining("failureRateThreshold");
    assertThatThrownBy(() -> b.slowCallRateThreshold(Float.NaN))
        .hasMessageContaining("slowCallRateThreshold");
    assertThatThrownBy(() -> b.slowCallDuration(Duration.ofSeconds(-1)))
        .hasMessageContaining("slowCallDuration");
    assertThatThrownBy(() -> b.consecutiveFailureThreshold(-1))
        .hasMessageContaining("consecutiveFailureThreshold");
    assertThatThrownBy(() -> b.openWait(Duration.ofSeconds(1), 0.5, Duration.ofSeconds(2)))
        .hasMessageContaining("openWaitMultiplier");
    assertThatThrownBy(() -> b.openWait(Duration.ofSeconds(3), 2, Duration.ofSeconds(2)))
        .hasMessageContaining("maxOpenWait");
    assertThatThrownBy(() -> b.halfOpen(0, 1)).hasMessageContaining("permittedCallsInHalfOpen");
    assertThatThrownBy(() -> b.halfOpen(2, 3)).hasMessageContaining("successesToClose");
    assertThatThrownBy(() -> b.clock(null)).hasMessageContaining("clock");
  }

  @Test
  void defaultsTripAfterTheMinimumCallsOfTheDefaultWindow() {
    CircuitBreaker b = CircuitBreaker.builder("defaults").clock(now::get).build();
    fail(b, CircuitBreaker.DEFAULT_MINIMUM_CALLS - 1);
    assertThat(b.state()).isEqualTo(State.CLOSED);
    fail(b, 1);
    assertThat(b.state()).isEqualTo(State.OPEN);
    assertThat(b.name()).isEqualTo("defaults");
  }
}
