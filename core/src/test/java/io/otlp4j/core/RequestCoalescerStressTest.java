package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 8 threads submit concurrently against a real dispatcher and an operation that completes on
 * another thread and fails every fifth group: every future completes exactly once, with the outcome
 * of the one operation that carried its payload, and no group exceeds its bounds.
 */
class RequestCoalescerStressTest {

  private static final int THREADS = 8;
  private static final int PER_THREAD = 5_000;
  private static final int MAX_GROUP = 32;
  private static final long MAX_BYTES = 200;
  private static final long DEADLINE_SECONDS = 30;

  @ParameterizedTest
  @ValueSource(ints = {1, 3})
  void everyCallerCompletesExactlyOnceWithItsOperationsOutcome(int maxInFlight) throws Exception {
    ExecutorService completer = Executors.newFixedThreadPool(2);
    ExecutorService submitters = Executors.newFixedThreadPool(THREADS);
    AtomicLong operationIds = new AtomicLong();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    AtomicInteger boundViolations = new AtomicInteger();
    Map<Long, Long> carriedBy = new ConcurrentHashMap<>(); // payload -> operation
    AtomicInteger carriedTwice = new AtomicInteger();
    Map<Long, RuntimeException> failures = new ConcurrentHashMap<>(); // operation -> its failure

    RequestCoalescer<Long, Long> coalescer =
        RequestCoalescer.<Long, Long>builder(
                payloads -> {
                  long op = operationIds.incrementAndGet();
                  maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                  long bytes =
                      payloads.stream().mapToLong(RequestCoalescerStressTest::bytesOf).sum();
                  if (payloads.size() > MAX_GROUP || (payloads.size() > 1 && bytes > MAX_BYTES)) {
                    boundViolations.incrementAndGet();
                  }
                  for (Long payload : payloads) {
                    if (carriedBy.putIfAbsent(payload, op) != null) {
                      carriedTwice.incrementAndGet();
                    }
                  }
                  return CompletableFuture.supplyAsync(
                      () -> {
                        running.decrementAndGet();
                        if (op % 5 == 0) {
                          RuntimeException failure = new RuntimeException("operation " + op);
                          failures.put(op, failure);
                          throw failure;
                        }
                        List<Long> results = new ArrayList<>(payloads.size());
                        for (Long payload : payloads) {
                          results.add(op * 1_000_000_000L + payload); // names op and payload
                        }
                        return GroupResult.perPayload(results);
                      },
                      completer);
                })
            .maxGroupSize(MAX_GROUP)
            .maxGroupBytes(MAX_BYTES)
            .maxInFlight(maxInFlight)
            .maxPending(THREADS * PER_THREAD)
            .build();

    Map<Long, CompletableFuture<Long>> futures = new ConcurrentHashMap<>();
    AtomicInteger completions = new AtomicInteger();
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long base = (long) t * PER_THREAD;
        done.add(
            submitters.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < PER_THREAD; i++) {
                    long payload = base + i;
                    CompletableFuture<Long> future = coalescer.submit(payload, bytesOf(payload));
                    future.whenComplete((v, e) -> completions.incrementAndGet());
                    futures.put(payload, future);
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
      }
      assertThat(coalescer.shutdown(Duration.ofSeconds(DEADLINE_SECONDS)).get(60, TimeUnit.SECONDS))
          .isTrue();
      CompletableFuture.allOf(futures.values().toArray(new CompletableFuture<?>[0]))
          .exceptionally(e -> null)
          .get(DEADLINE_SECONDS, TimeUnit.SECONDS);

      int total = THREADS * PER_THREAD;
      assertThat(futures).hasSize(total);
      assertThat(completions.get()).isEqualTo(total);
      assertThat(carriedBy).hasSize(total);
      assertThat(carriedTwice.get()).isZero();
      assertThat(boundViolations.get()).isZero();
      assertThat(maxRunning.get()).isLessThanOrEqualTo(maxInFlight);
      assertThat(coalescer.refusedCount()).isZero();

      for (Map.Entry<Long, CompletableFuture<Long>> entry : futures.entrySet()) {
        long payload = entry.getKey();
        long op = carriedBy.get(payload);
        CompletableFuture<Long> future = entry.getValue();
        RuntimeException failure = failures.get(op);
        if (failure != null) {
          assertThat(future).isCompletedExceptionally();
          try {
            future.join();
          } catch (CompletionException e) {
            assertThat(e.getCause()).isSameAs(failure);
          }
        } else {
          assertThat(future).isCompletedWithValue(op * 1_000_000_000L + payload);
        }
      }
      assertThat(failures).isNotEmpty();
    } finally {
      submitters.shutdownNow();
      completer.shutdownNow();
    }
  }

  private static long bytesOf(long payload) {
    return 1 + payload % 17;
  }
}
