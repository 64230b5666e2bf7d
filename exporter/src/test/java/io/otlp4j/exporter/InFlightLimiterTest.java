package io.otlp4j.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The in-flight bound under contention: never exceeded, nothing stranded, overflow refused. */
class InFlightLimiterTest {

  @Test
  void eightThreadsNeverExceedTheBoundAndEveryAcceptedTaskRuns() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    ExecutorService completer = Executors.newFixedThreadPool(2);
    try {
      InFlightLimiter limiter = new InFlightLimiter(3, 1_000_000, completer);
      AtomicInteger running = new AtomicInteger();
      AtomicInteger maxRunning = new AtomicInteger();
      int perThread = 2_000;
      CountDownLatch done = new CountDownLatch(8 * perThread);
      for (int t = 0; t < 8; t++) {
        pool.execute(
            () -> {
              for (int i = 0; i < perThread; i++) {
                boolean accepted =
                    limiter.submit(
                        () -> {
                          int now = running.incrementAndGet();
                          maxRunning.accumulateAndGet(now, Math::max);
                          completer.execute(
                              () -> { // the export ends later, on another thread
                                running.decrementAndGet();
                                limiter.release();
                                done.countDown();
                              });
                        });
                assertThat(accepted).isTrue();
              }
            });
      }
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(maxRunning.get()).isLessThanOrEqualTo(3);
      assertThat(limiter.inFlight()).isZero();
      assertThat(limiter.queued()).isZero();
    } finally {
      pool.shutdownNow();
      completer.shutdownNow();
    }
  }

  @Test
  void submissionsBeyondTheQueueBoundAreRefused() {
    InFlightLimiter limiter = new InFlightLimiter(1, 2, Runnable::run);
    AtomicInteger ran = new AtomicInteger();
    assertThat(limiter.submit(ran::incrementAndGet)).isTrue(); // runs, holds the permit
    assertThat(limiter.submit(ran::incrementAndGet)).isTrue(); // queued
    assertThat(limiter.submit(ran::incrementAndGet)).isTrue(); // queued
    assertThat(limiter.submit(ran::incrementAndGet)).isFalse(); // refused
    assertThat(ran.get()).isEqualTo(1);
    limiter.release();
    assertThat(ran.get()).isEqualTo(2);
    limiter.release();
    limiter.release();
    assertThat(ran.get()).isEqualTo(3);
    assertThat(limiter.inFlight()).isZero();
  }
}
