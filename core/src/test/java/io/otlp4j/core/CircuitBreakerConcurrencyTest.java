package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.core.CircuitBreaker.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Stress tests, bounded in iterations and in time (each future waits at most 30 s). */
class CircuitBreakerConcurrencyTest {

  private static final int THREADS = 8;

  private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

  @AfterEach
  void shutdown() {
    pool.shutdownNow();
  }

  @Test
  void halfOpenNeverAdmitsMoreThanTheConfiguredProbesUnderContention() throws Exception {
    int probes = 3;
    for (int round = 0; round < 200; round++) {
      AtomicLong now = new AtomicLong();
      CircuitBreaker b =
          CircuitBreaker.builder("stress")
              .clock(now::get)
              .countBasedWindow(1)
              .minimumCalls(1)
              .openWait(Duration.ofNanos(10))
              .halfOpen(probes, probes)
              .build();
      assertThat(b.tryAcquirePermission()).isTrue();
      b.onError(1);
      assertThat(b.state()).isEqualTo(State.OPEN);
      now.addAndGet(10); // the wait is over: the next callers race to move to HALF_OPEN
      AtomicInteger granted = new AtomicInteger();
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 100; i++) {
                    if (b.tryAcquirePermission()) {
                      granted.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
      assertThat(granted.get()).as("round %d", round).isEqualTo(probes);
      assertThat(b.state()).isEqualTo(State.HALF_OPEN);
      assertThat(b.transitions()).isEqualTo(2); // exactly one CLOSED->OPEN and one OPEN->HALF_OPEN
      assertThat(b.rejectedCalls()).isEqualTo(THREADS * 100L - probes);
    }
  }

  @Test
  void threadOwnedCounterIsExactAcrossManyShortLivedThreadsAndIdCollisions() throws Exception {
    ThreadOwnedCounter counter = new ThreadOwnedCounter();
    int threads = 64; // more threads than cells: later ones collide with claimed cells
    int perThread = 10_000;
    for (int batch = 0; batch < threads / THREADS; batch++) {
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> started = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Thread thread =
            new Thread(
                () -> {
                  try {
                    start.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                  for (int i = 0; i < perThread; i++) {
                    counter.increment();
                  }
                });
        thread.start();
        started.add(thread);
      }
      start.countDown();
      for (Thread thread : started) {
        thread.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(thread.isAlive()).isFalse();
      }
    }
    assertThat(counter.sum()).isEqualTo((long) threads * perThread);
  }

  @Test
  void countWindowAggregateMatchesItsSlotsAfterConcurrentRecording() throws Exception {
    CircuitBreaker b =
        CircuitBreaker.builder("window")
            .clock(() -> 0L)
            .countBasedWindow(64)
            .minimumCalls(64)
            .failureRateThreshold(100) // never trips: the window must stay put to be checked
            .slowCallDuration(Duration.ofNanos(500))
            .build();
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      futures.add(
          pool.submit(
              () -> {
                start.await();
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < 50_000; i++) {
                  assertThat(b.tryAcquirePermission()).isTrue();
                  long duration = random.nextInt(1_000);
                  // Mostly fast successes, so the read-only fast path and the write path mix.
                  if (random.nextInt(50) == 0) {
                    b.onError(duration);
                  } else {
                    b.onSuccess(random.nextInt(10) == 0 ? duration : 1);
                  }
                }
                return null;
              }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertThat(b.state()).isEqualTo(State.CLOSED);
    CountWindow window = b.closedCountWindow();
    assertThat(window.aggregateCounts()).containsExactly(window.recount());
    assertThat(window.recount()[0]).isEqualTo(64);
  }

  @ParameterizedTest
  @EnumSource(CircuitBreaker.WindowType.class)
  void countersAndTransitionsStayConsistentUnderEightThreads(CircuitBreaker.WindowType type)
      throws Exception {
    AtomicLong now = new AtomicLong();
    ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
    CircuitBreaker.Builder builder = CircuitBreaker.builder("stress").clock(now::get);
    if (type == CircuitBreaker.WindowType.COUNT_BASED) {
      builder.countBasedWindow(20);
    } else {
      builder.timeBasedWindow(4, Duration.ofNanos(500));
    }
    CircuitBreaker b =
        builder
            .minimumCalls(10)
            .failureRateThreshold(50)
            .consecutiveFailureThreshold(5)
            .slowCallDuration(Duration.ofNanos(900))
            .slowCallRateThreshold(80)
            .openWait(Duration.ofNanos(2_000), 2, Duration.ofNanos(20_000))
            .halfOpen(4, 2)
            .addListener((from, to) -> seen.add(from + "->" + to))
            .build();
    int ops = 50_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Future<long[]>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      futures.add(
          pool.submit(
              () -> {
                start.await();
                long[] local = new long[5]; // success, failure, ignored, rejected, slow
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < ops; i++) {
                  now.addAndGet(1);
                  if (!b.tryAcquirePermission()) {
                    local[3]++;
                    continue;
                  }
                  long duration = random.nextInt(1_000);
                  int outcome = random.nextInt(10);
                  if (duration >= 900 && outcome < 9) {
                    local[4]++; // an ignored call has no duration
                  }
                  if (outcome < 6) {
                    b.onSuccess(duration);
                    local[0]++;
                  } else if (outcome < 9) {
                    b.onError(duration);
                    local[1]++;
                  } else {
                    b.onIgnored();
                    local[2]++;
                  }
                }
                return local;
              }));
    }
    start.countDown();
    long[] total = new long[5];
    for (Future<long[]> f : futures) {
      long[] local = f.get(30, TimeUnit.SECONDS);
      for (int i = 0; i < total.length; i++) {
        total[i] += local[i];
      }
    }
    assertThat(b.successfulCalls()).isEqualTo(total[0]);
    assertThat(b.failedCalls()).isEqualTo(total[1]);
    assertThat(b.ignoredCalls()).isEqualTo(total[2]);
    assertThat(b.rejectedCalls()).isEqualTo(total[3]);
    assertThat(b.slowCalls()).isEqualTo(total[4]);
    assertThat(b.calls()).isEqualTo(total[0] + total[1]);
    assertThat(total[0] + total[1] + total[2] + total[3]).isEqualTo((long) THREADS * ops);
    assertThat(b.transitions()).isPositive().isEqualTo(seen.size());
    assertThat(seen)
        .allMatch(
            s ->
                s.equals("CLOSED->OPEN")
                    || s.equals("OPEN->HALF_OPEN")
                    || s.equals("HALF_OPEN->OPEN")
                    || s.equals("HALF_OPEN->CLOSED"));
  }
}
