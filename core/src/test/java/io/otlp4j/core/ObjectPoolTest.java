package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObjectPoolTest {

  private static final class Scratch {
    final int id;
    int uses;

    Scratch(int id) {
      this.id = id;
    }

    @Override
    public String toString() {
      return "Scratch" + id;
    }
  }

  private final AtomicInteger ids = new AtomicInteger();

  private ObjectPool.Builder<Scratch> builder() {
    return ObjectPool.builder(() -> new Scratch(ids.incrementAndGet())).reset(s -> s.uses = 0);
  }

  @Test
  void aReleasedObjectIsResetAndReused() {
    ObjectPool<Scratch> pool = builder().maxTotal(4).build();
    Scratch first = pool.tryBorrow();
    first.uses = 7;
    pool.release(first);
    Scratch second = pool.tryBorrow();
    assertThat(second).isSameAs(first);
    assertThat(second.uses).isZero();
    assertThat(pool.createdCount()).isEqualTo(1);
    assertThat(pool.missCount()).isEqualTo(1);
    assertThat(pool.hitCount()).isEqualTo(1);
  }

  @Test
  void neverHasMoreThanMaxTotalAliveAndSaysSoWithNull() {
    ObjectPool<Scratch> pool = builder().maxTotal(3).build();
    List<Scratch> borrowed = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      borrowed.add(pool.tryBorrow());
    }
    assertThat(borrowed).doesNotContainNull().doesNotHaveDuplicates();
    assertThat(pool.tryBorrow()).isNull();
    assertThat(pool.exhaustedCount()).isEqualTo(1);
    assertThat(pool.aliveCount()).isEqualTo(3);

    pool.release(borrowed.get(1));
    assertThat(pool.tryBorrow()).isSameAs(borrowed.get(1));
  }

  @Test
  void discardFreesAPlaceForANewObject() {
    ObjectPool<Scratch> pool = builder().maxTotal(1).build();
    Scratch broken = pool.tryBorrow();
    assertThat(pool.tryBorrow()).isNull();
    pool.discard(broken);
    Scratch fresh = pool.tryBorrow();
    assertThat(fresh).isNotNull().isNotSameAs(broken);
    assertThat(pool.discardedCount()).isEqualTo(1);
    assertThat(pool.createdCount()).isEqualTo(2);
  }

  @Test
  void anObjectWhoseResetThrowsIsDiscarded() {
    ObjectPool<Scratch> pool =
        ObjectPool.builder(() -> new Scratch(ids.incrementAndGet()))
            .reset(
                s -> {
                  throw new IllegalStateException("cannot reset");
                })
            .maxTotal(1)
            .build();
    Scratch object = pool.tryBorrow();
    pool.release(object);
    assertThat(pool.discardedCount()).isEqualTo(1);
    assertThat(pool.aliveCount()).isZero();
    assertThat(pool.tryBorrow()).isNotSameAs(object);
  }

  @Test
  void testsRunWithAssertionsSoDebugModeIsOnByDefault() {
    assertThat(builder().build().isDebug()).isTrue();
  }

  @Test
  void aDoubleReleaseIsDetectedInDebugMode() {
    ObjectPool<Scratch> pool = builder().build();
    Scratch object = pool.tryBorrow();
    pool.release(object);
    assertThatThrownBy(() -> pool.release(object))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("double release");
    assertThat(pool.tryBorrow()).isSameAs(object); // the pool is still consistent
    assertThat(pool.tryBorrow()).isNotSameAs(object);
  }

  @Test
  void releasingAnObjectThePoolDidNotHandOutIsDetectedInDebugMode() {
    ObjectPool<Scratch> pool = builder().debug(true).build();
    assertThatThrownBy(() -> pool.release(new Scratch(-1)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> pool.discard(new Scratch(-2)))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void anIdleObjectReleasedOnOneThreadIsBorrowedOnAnotherEvenAtMaxTotal() throws Exception {
    ObjectPool<Scratch> pool = builder().maxTotal(2).build();
    List<Scratch> released =
        CompletableFuture.supplyAsync(
                () -> {
                  Scratch a = pool.tryBorrow();
                  Scratch b = pool.tryBorrow();
                  pool.release(a);
                  pool.release(b);
                  return List.of(a, b);
                })
            .get(10, TimeUnit.SECONDS);
    Scratch first = pool.tryBorrow();
    Scratch second = pool.tryBorrow();
    assertThat(List.of(first, second)).containsExactlyInAnyOrderElementsOf(released);
    assertThat(pool.createdCount()).isEqualTo(2);
  }

  @Test
  void poolsResettableWritersSoEachBorrowerStartsEmpty() {
    ObjectPool<java.io.ByteArrayOutputStream> writers = ObjectPool.builder(java.io.ByteArrayOutputStream::new)
        .reset(java.io.ByteArrayOutputStream::reset).maxTotal(2).build();
    java.io.ByteArrayOutputStream writer = writers.tryBorrow();
    writer.writeBytes("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    byte[] first = writer.toByteArray();
    writers.release(writer);
    java.io.ByteArrayOutputStream again = writers.tryBorrow();
    assertThat(again).isSameAs(writer);
    again.writeBytes("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(again.toByteArray()).isEqualTo(first);
  }

  @Test
  void borrowAndReleaseAllocateNothingInSteadyState() {
    ObjectPool<Scratch> pool = builder().maxTotal(8).debug(false).build();
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 20_000; i++) { // warm up: create, and let the JIT compile
      pool.release(pool.tryBorrow());
    }
    // The least of a few rounds: JIT and counter bookkeeping may allocate once in a round; a single
    // allocation per operation would show as at least 1.6 MB.
    long allocated = Long.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 100_000; i++) {
        Scratch object = pool.tryBorrow();
        object.uses++;
        pool.release(object);
      }
      allocated = Math.min(allocated, threads.getCurrentThreadAllocatedBytes() - before);
    }
    assertThat(allocated).as("bytes allocated by 100,000 borrow+release").isLessThan(1_024);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void eightThreadsNeverHoldMoreThanMaxTotalNorShareAnObject(boolean debug) throws Exception {
    int maxTotal = 16;
    int threads = 8;
    int iterations = 30_000;
    ObjectPool<Scratch> pool = builder().maxTotal(maxTotal).debug(debug).build();
    AtomicInteger outstanding = new AtomicInteger();
    AtomicInteger maxOutstanding = new AtomicInteger();
    AtomicInteger shared = new AtomicInteger();
    Set<Scratch> inUse = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        results.add(
            executor.submit(
                () -> {
                  start.await();
                  int borrowed = 0;
                  List<Scratch> held = new ArrayList<>();
                  for (int i = 0; i < iterations; i++) {
                    // Hold up to three at a time so that the pool really runs dry.
                    Scratch object = pool.tryBorrow();
                    if (object != null) {
                      borrowed++;
                      maxOutstanding.accumulateAndGet(outstanding.incrementAndGet(), Math::max);
                      if (!inUse.add(object)) {
                        shared.incrementAndGet();
                      }
                      held.add(object);
                    }
                    if (held.size() == 3 || (object == null && !held.isEmpty())) {
                      for (Scratch h : held) {
                        inUse.remove(h);
                        outstanding.decrementAndGet();
                        pool.release(h);
                      }
                      held.clear();
                    }
                  }
                  for (Scratch h : held) {
                    inUse.remove(h);
                    outstanding.decrementAndGet();
                    pool.release(h);
                  }
                  return borrowed;
                }));
      }
      start.countDown();
      long borrowed = 0;
      for (Future<Integer> result : results) {
        borrowed += result.get(60, TimeUnit.SECONDS);
      }
      assertThat(maxOutstanding.get()).isLessThanOrEqualTo(maxTotal);
      assertThat(shared.get()).isZero();
      assertThat(pool.createdCount()).isLessThanOrEqualTo(maxTotal);
      assertThat(pool.aliveCount()).isLessThanOrEqualTo(maxTotal);
      assertThat(pool.idleCount()).isEqualTo(pool.aliveCount());
      assertThat(pool.hitCount() + pool.missCount()).isEqualTo(borrowed);
    } finally {
      executor.shutdownNow();
    }
  }
}
