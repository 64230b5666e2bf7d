package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class ByteArrayPoolTest {

  private final ByteArrayPool pool =
      ByteArrayPool.builder().minSize(64).maxSize(4096).maxIdlePerClass(2).build();

  @Test
  void borrowRoundsUpToTheSizeClass() {
    assertThat(pool.borrow(0)).hasSize(64);
    assertThat(pool.borrow(64)).hasSize(64);
    assertThat(pool.borrow(65)).hasSize(128);
    assertThat(pool.borrow(4096)).hasSize(4096);
    assertThat(pool.missCount()).isEqualTo(4);
  }

  @Test
  void aReleasedArrayServesTheNextBorrowOfItsClass() {
    byte[] array = pool.borrow(100);
    pool.release(array);
    assertThat(pool.borrow(65)).isSameAs(array);
    assertThat(pool.hitCount()).isEqualTo(1);
  }

  @Test
  void anOversizedRequestGetsAnUnpooledArrayThatIsNotKept() {
    byte[] big = pool.borrow(5000);
    assertThat(big).hasSize(5000);
    pool.release(big);
    assertThat(pool.idleBytes()).isZero();
    assertThat(pool.unpooledCount()).isEqualTo(1);
  }

  @Test
  void retainedMemoryIsBoundedPerClass() {
    byte[] a = pool.borrow(64);
    byte[] b = pool.borrow(64);
    byte[] c = pool.borrow(64);
    pool.release(a);
    pool.release(b);
    pool.release(c);
    assertThat(pool.droppedCount()).isEqualTo(1);
    assertThat(pool.idleBytes()).isEqualTo(128);
    assertThat(pool.idleBytes()).isLessThanOrEqualTo(pool.maxIdleBytes());
  }

  @Test
  void aDoubleReleaseIsDetectedInDebugMode() {
    byte[] array = pool.borrow(64);
    pool.release(array);
    assertThatThrownBy(() -> pool.release(array))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("twice");
  }

  @Test
  void borrowAndReleaseAllocateNothingInSteadyState() {
    ByteArrayPool quiet = ByteArrayPool.builder().debug(false).build();
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 20_000; i++) {
      quiet.release(quiet.borrow(1000));
    }
    // The least of a few rounds: JIT and counter bookkeeping may allocate once in a round; a single
    // allocation per operation would show as at least 1.6 MB.
    long allocated = Long.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 100_000; i++) {
        byte[] array = quiet.borrow(1000);
        array[0]++;
        quiet.release(array);
      }
      allocated = Math.min(allocated, threads.getCurrentThreadAllocatedBytes() - before);
    }
    assertThat(allocated).as("bytes allocated by 100,000 borrow+release").isLessThan(1_024);
  }
}
