package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RequestCoalescerTest {

  private static final long MS = 1_000_000L;

  private final AtomicLong now = new AtomicLong(5_000 * MS);
  private final List<List<String>> groups = new CopyOnWriteArrayList<>();
  private final List<CompletableFuture<GroupResult<String>>> operations =
      new CopyOnWriteArrayList<>();

  private CompletionStage<GroupResult<String>> operation(List<String> payloads) {
    groups.add(new ArrayList<>(payloads));
    CompletableFuture<GroupResult<String>> operation = new CompletableFuture<>();
    operations.add(operation);
    return operation;
  }

  private RequestCoalescer.Builder<String, String> builder() {
    return RequestCoalescer.<String, String>builder(this::operation).clock(now::get);
  }

  private static Throwable failureOf(CompletableFuture<?> future) {
    assertThat(future).isCompletedExceptionally();
    try {
      future.join();
      throw new AssertionError("not failed");
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  @Test
  void aLoneRequestGoesAtOnceAndGetsTheOperationsValue() {
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    CompletableFuture<String> a = coalescer.submit("a", 1);
    assertThat(coalescer.drainOnce(now.get())).isEqualTo(1);
    assertThat(groups).containsExactly(List.of("a"));
    assertThat(a).isNotDone();
    operations.get(0).complete(GroupResult.uniform("stored"));
    assertThat(a).isCompletedWithValue("stored");
  }

  @Test
  void requestsArrivingWhileAnOperationRunsShareTheNextOne() {
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    coalescer.submit("a", 1);
    coalescer.drainOnce(now.get());
    CompletableFuture<String> b = coalescer.submit("b", 1);
    CompletableFuture<String> c = coalescer.submit("c", 1);
    CompletableFuture<String> d = coalescer.submit("d", 1);
    assertThat(coalescer.drainOnce(now.get())).isZero(); // default: one operation in flight
    assertThat(coalescer.inFlightCount()).isEqualTo(1);

    operations.get(0).complete(GroupResult.uniform("first"));
    assertThat(coalescer.drainOnce(now.get())).isEqualTo(1);
    assertThat(groups).containsExactly(List.of("a"), List.of("b", "c", "d"));
    operations.get(1).complete(GroupResult.uniform("second"));
    assertThat(List.of(b, c, d)).allSatisfy(f -> assertThat(f).isCompletedWithValue("second"));
    assertThat(coalescer.averageGroupSize()).isEqualTo(2.0);
  }

  @Test
  void groupsNeverExceedTheSizeOrByteLimit() {
    RequestCoalescer<String, String> coalescer =
        builder().maxGroupSize(3).maxGroupBytes(100).maxInFlight(8).buildManual();
    coalescer.submit("a", 10);
    coalescer.submit("b", 10);
    coalescer.submit("c", 10);
    coalescer.submit("d", 10); // size limit: d starts the next group
    coalescer.submit("e", 60);
    coalescer.submit("f", 60); // byte limit: 10 + 60 + 60 > 100
    coalescer.submit("huge", 500); // alone
    coalescer.flush();
    coalescer.drainOnce(now.get());
    assertThat(groups)
        .containsExactly(List.of("a", "b", "c"), List.of("d", "e"), List.of("f"), List.of("huge"));
  }

  @Test
  void aPositiveLingerHoldsTheGroupUntilItExpires() {
    RequestCoalescer<String, String> coalescer =
        builder().linger(Duration.ofMillis(50)).buildManual();
    long start = now.get();
    coalescer.submit("a", 1);
    assertThat(coalescer.drainOnce(start)).isZero();
    coalescer.submit("b", 1);
    assertThat(coalescer.drainOnce(start + 49 * MS)).isZero();
    assertThat(coalescer.drainOnce(start + 50 * MS)).isEqualTo(1);
    assertThat(groups).containsExactly(List.of("a", "b"));
  }

  @Test
  void aFailedOperationFailsExactlyTheCallersItCarriedWithTheSameCause() {
    RequestCoalescer<String, String> coalescer =
        builder().maxInFlight(2).maxGroupSize(2).buildManual();
    CompletableFuture<String> a = coalescer.submit("a", 1);
    CompletableFuture<String> b = coalescer.submit("b", 1);
    CompletableFuture<String> c = coalescer.submit("c", 1);
    coalescer.drainOnce(now.get()); // [a, b] is full and goes; c waits while it runs
    IllegalStateException diskFull = new IllegalStateException("disk full");
    operations.get(0).completeExceptionally(new CompletionException(diskFull));
    coalescer.drainOnce(now.get());
    assertThat(groups).containsExactly(List.of("a", "b"), List.of("c"));
    operations.get(1).complete(GroupResult.uniform("ok"));
    assertThat(failureOf(a)).isSameAs(diskFull);
    assertThat(failureOf(b)).isSameAs(diskFull);
    assertThat(c).isCompletedWithValue("ok");
    assertThat(coalescer.operationsFailed()).isEqualTo(1);
  }

  @Test
  void perPayloadResultsGoToTheirOwnCallers() {
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    CompletableFuture<String> a = coalescer.submit("a", 1);
    CompletableFuture<String> b = coalescer.submit("b", 1);
    coalescer.drainOnce(now.get());
    operations.get(0).complete(GroupResult.perPayload(List.of("result-a", "result-b")));
    assertThat(a).isCompletedWithValue("result-a");
    assertThat(b).isCompletedWithValue("result-b");
  }

  @Test
  void aPartialSuccessFailsOnlyTheNamedPayloads() {
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    CompletableFuture<String> a = coalescer.submit("a", 1);
    CompletableFuture<String> b = coalescer.submit("b", 1);
    CompletableFuture<String> c = coalescer.submit("c", 1);
    coalescer.drainOnce(now.get());
    RuntimeException rejected = new RuntimeException("2 spans rejected");
    operations
        .get(0)
        .complete(
            GroupResult.<String>builder(3)
                .succeed(0, "ok")
                .fail(1, rejected)
                .succeed(2, "ok")
                .build());
    assertThat(a).isCompletedWithValue("ok");
    assertThat(failureOf(b)).isSameAs(rejected);
    assertThat(c).isCompletedWithValue("ok");
  }

  @Test
  void aResultOfTheWrongSizeFailsTheWholeGroupWithAClearMessage() {
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    CompletableFuture<String> a = coalescer.submit("a", 1);
    CompletableFuture<String> b = coalescer.submit("b", 1);
    coalescer.drainOnce(now.get());
    operations.get(0).complete(GroupResult.perPayload(List.of("only one")));
    assertThat(failureOf(a))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("operation returned 1 per-payload results for a group of 2 payloads");
    assertThat(failureOf(b)).isSameAs(failureOf(a));
  }

  @Test
  void anOperationThatThrowsFailsItsGroupAndTheNextGroupStillRuns() {
    IllegalArgumentException bug = new IllegalArgumentException("bug");
    List<List<String>> seen = new CopyOnWriteArrayList<>();
    RequestCoalescer<String, String> coalescer =
        RequestCoalescer.<String, String>builder(
                payloads -> {
                  seen.add(payloads);
                  if (payloads.contains("bad")) {
                    throw bug;
                  }
                  return CompletableFuture.completedFuture(GroupResult.uniform("ok"));
                })
            .clock(now::get)
            .buildManual();
    CompletableFuture<String> bad = coalescer.submit("bad", 1);
    coalescer.drainOnce(now.get());
    CompletableFuture<String> good = coalescer.submit("good", 1);
    coalescer.drainOnce(now.get());
    assertThat(failureOf(bad)).isSameAs(bug);
    assertThat(good).isCompletedWithValue("ok");
    assertThat(seen).containsExactly(List.of("bad"), List.of("good"));
  }

  @Test
  void whenTooManyAreWaitingSubmitFailsAtOnceWithARetryableRefusal() {
    RequestCoalescer<String, String> coalescer =
        builder().maxPending(4).maxGroupSize(4).buildManual();
    for (int i = 0; i < 4; i++) {
      coalescer.submit("p" + i, 1);
    }
    CompletableFuture<String> refused = coalescer.submit("late", 1);
    assertThat(failureOf(refused))
        .isInstanceOf(RejectedExecutionException.class)
        .hasMessageContaining("full");
    assertThat(coalescer.refusedCount()).isEqualTo(1);
    assertThat(coalescer.pendingCount()).isEqualTo(4);
  }

  @Test
  void afterShutdownSubmitFailsAndATimedOutShutdownFailsTheWaitingCallers() throws Exception {
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    CompletableFuture<String> carried = coalescer.submit("a", 1);
    coalescer.drainOnce(now.get());
    CompletableFuture<String> waiting = coalescer.submit("b", 1);
    CompletableFuture<Boolean> shutdown = coalescer.shutdown(Duration.ofMillis(30));
    assertThat(failureOf(coalescer.submit("c", 1))).isInstanceOf(IllegalStateException.class);
    coalescer.drainOnce(now.get()); // "b" cannot start: "a" holds the only permit
    assertThat(shutdown.get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(failureOf(waiting)).isInstanceOf(RejectedExecutionException.class);
    assertThat(carried).isNotDone();
    operations.get(0).complete(GroupResult.uniform("late but fine"));
    assertThat(carried).isCompletedWithValue("late but fine");
  }

  @Test
  void withADispatcherThreadATimedOutShutdownHasFailedTheWaitingCallersWhenItCompletes()
      throws Exception {
    RequestCoalescer<String, String> coalescer = builder().build();
    coalescer.submit("a", 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> groups.size() == 1);
    CompletableFuture<String> waiting = coalescer.submit("b", 1);
    assertThat(coalescer.shutdown(Duration.ofMillis(30)).get(30, TimeUnit.SECONDS)).isFalse();
    assertThat(failureOf(waiting)).isInstanceOf(RejectedExecutionException.class);
  }

  @Test
  void shutdownCarriesEverythingWaiting() throws ExecutionException, InterruptedException {
    RequestCoalescer<String, Void> coalescer =
        RequestCoalescer.<String, Void>builder(
                payloads -> CompletableFuture.completedFuture(GroupResult.uniform(null)))
            .build();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      futures.add(coalescer.submit("p" + i, 1));
    }
    assertThat(coalescer.shutdown(Duration.ofSeconds(10)).get()).isTrue();
    assertThat(futures).allSatisfy(f -> assertThat(f).isCompleted());
  }

  @Test
  void configurationErrorsNameTheParameter() {
    assertThatThrownBy(() -> builder().maxGroupSize(0)).hasMessageContaining("maxGroupSize");
    assertThatThrownBy(() -> builder().linger(Duration.ofMillis(-1)))
        .hasMessageContaining("linger");
    RequestCoalescer<String, String> coalescer = builder().buildManual();
    assertThatThrownBy(() -> coalescer.submit("a", -1)).hasMessageContaining("bytes");
    assertThatThrownBy(() -> GroupResult.builder(2).succeed(0, "x").build())
        .hasMessageContaining("payload 1");
  }
}
