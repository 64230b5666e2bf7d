package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.core.RetryPolicy.GiveUpReason;
import io.otlp4j.core.RetryPolicy.Jitter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RetrierTest {

  private static final long SECOND = 1_000_000_000L;

  private final AtomicLong now = new AtomicLong();
  private final Deque<Runnable> scheduled = new ArrayDeque<>();
  private final List<Long> delays = new ArrayList<>();
  private final List<String> giveUps = new ArrayList<>();

  /** A fake timer: records the delay, advances the fake clock when the test runs the task. */
  private final Retrier.Scheduler scheduler =
      (task, delayNanos) -> {
        delays.add(delayNanos);
        scheduled.add(
            () -> {
              now.addAndGet(delayNanos);
              task.run();
            });
      };

  private Retrier retrier(RetryPolicy policy) {
    return Retrier.create(
        policy, scheduler, now::get, (attempts, reason) -> giveUps.add(attempts + ":" + reason));
  }

  private static RetryPolicy.Builder policy() {
    return RetryPolicy.builder()
        .initialDelay(Duration.ofSeconds(1))
        .multiplier(2)
        .maxDelay(Duration.ofSeconds(8))
        .jitter(Jitter.NONE);
  }

  private void runScheduled() {
    while (!scheduled.isEmpty()) {
      scheduled.poll().run();
    }
  }

  /** An HTTP-like classifier: 200 succeeds, retryable statuses retry, others are permanent. */
  private static Retrier.Verdict classifyHttp(Integer status, Throwable failure) {
    if (failure != null) {
      return Retrier.Verdict.RETRYABLE;
    }
    if (status == 200) {
      return Retrier.Verdict.SUCCESS;
    }
    return OtlpRetryability.isRetryableHttpStatus(status)
        ? Retrier.Verdict.RETRYABLE
        : Retrier.Verdict.PERMANENT;
  }

  @Test
  void retriesOnTheTimerUntilSuccessWithGrowingDelays() throws Exception {
    int[] statuses = {503, 502, 429, 200};
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().build())
            .execute(
                () -> CompletableFuture.completedFuture(statuses[calls.getAndIncrement()]),
                RetrierTest::classifyHttp);
    assertThat(calls.get()).isEqualTo(1); // the first attempt ran on the caller; retries wait
    assertThat(result).isNotDone();
    runScheduled();
    assertThat(result.get()).isEqualTo(200);
    assertThat(calls.get()).isEqualTo(4);
    assertThat(delays).containsExactly(SECOND, 2 * SECOND, 4 * SECOND);
    assertThat(giveUps).isEmpty();
  }

  @Test
  void permanentFailureIsNotRetried() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().build())
            .execute(
                () -> {
                  calls.incrementAndGet();
                  return CompletableFuture.completedFuture(400);
                },
                RetrierTest::classifyHttp);
    assertThat(result.get()).isEqualTo(400);
    assertThat(calls.get()).isEqualTo(1);
    assertThat(scheduled).isEmpty();
    assertThat(giveUps).containsExactly("1:NOT_RETRYABLE");
  }

  @Test
  void stopsAfterMaxAttemptsAndReturnsTheLastFailure() {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().maxAttempts(3).build())
            .execute(
                () ->
                    CompletableFuture.failedFuture(
                        new IllegalStateException("down " + calls.incrementAndGet())),
                RetrierTest::classifyHttp);
    runScheduled();
    assertThat(result)
        .failsWithin(Duration.ZERO)
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(IllegalStateException.class)
        .withMessageContaining("down 3");
    assertThat(giveUps).containsExactly("3:" + GiveUpReason.MAX_ATTEMPTS);
  }

  @Test
  void stopsWhenTheElapsedBudgetIsSpent() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().maxElapsed(Duration.ofSeconds(5)).build())
            .execute(
                () -> {
                  calls.incrementAndGet();
                  return CompletableFuture.completedFuture(503);
                },
                RetrierTest::classifyHttp);
    runScheduled();
    assertThat(result.get()).isEqualTo(503);
    // attempts at 0 s, 1 s, 3 s; the next would start at 7 s > 5 s
    assertThat(calls.get()).isEqualTo(3);
    assertThat(giveUps).containsExactly("3:" + GiveUpReason.MAX_ELAPSED);
  }

  @Test
  void serverDelayOverridesTheBackoff() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().build())
            .execute(
                () -> CompletableFuture.completedFuture(calls.incrementAndGet() < 3 ? 429 : 200),
                (status, failure) ->
                    status == 429
                        ? Retrier.Verdict.retryableAfter(
                            RetryAfterHeader.parseDelayNanos("30", 0))
                        : Retrier.Verdict.SUCCESS);
    runScheduled();
    assertThat(result.get()).isEqualTo(200);
    assertThat(delays).containsExactly(30 * SECOND, 30 * SECOND);
  }

  @Test
  void serverDelayBeyondTheBudgetGivesUpAtOnce() throws Exception {
    CompletableFuture<Integer> result =
        retrier(policy().maxElapsed(Duration.ofSeconds(10)).build())
            .execute(
                () -> CompletableFuture.completedFuture(429),
                (status, failure) -> Retrier.Verdict.retryableAfter(60 * SECOND));
    assertThat(result.get()).isEqualTo(429);
    assertThat(scheduled).isEmpty();
    assertThat(giveUps).containsExactly("1:" + GiveUpReason.SERVER_DELAY_EXCEEDS_BUDGET);
  }

  @Test
  void aThrowingAttemptCountsAsAFailedAttempt() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().build())
            .execute(
                () -> {
                  if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("connect failed");
                  }
                  return CompletableFuture.completedFuture(200);
                },
                RetrierTest::classifyHttp);
    runScheduled();
    assertThat(result.get()).isEqualTo(200);
    assertThat(calls.get()).isEqualTo(2);
  }

  @Test
  void cancellingTheResultStopsFurtherAttempts() {
    AtomicInteger calls = new AtomicInteger();
    CompletableFuture<Integer> result =
        retrier(policy().build())
            .execute(
                () -> {
                  calls.incrementAndGet();
                  return CompletableFuture.completedFuture(503);
                },
                RetrierTest::classifyHttp);
    result.cancel(false);
    runScheduled();
    assertThat(calls.get()).isEqualTo(1);
  }

  @Test
  void worksOnARealScheduledExecutorWithoutSleeping() throws Exception {
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try {
      AtomicInteger calls = new AtomicInteger();
      RetryPolicy fast =
          RetryPolicy.builder()
              .initialDelay(Duration.ofMillis(1))
              .maxDelay(Duration.ofMillis(2))
              .jitter(Jitter.FULL)
              .build();
      CompletableFuture<Integer> result =
          Retrier.create(fast, Retrier.Scheduler.of(executor))
              .execute(
                  () ->
                      CompletableFuture.supplyAsync(
                          () -> calls.incrementAndGet() < 5 ? 503 : 200, executor),
                  RetrierTest::classifyHttp);
      assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(200);
      assertThat(calls.get()).isEqualTo(5);
    } finally {
      executor.shutdownNow();
    }
  }
}
