package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit with overlap ({@link GroupForcer}): while one group is forced the writer already
 * writes the next, which is acknowledged and readable only after a force of its own; a failed force
 * refuses its group and every group written after it and leaves the file at the last forced record;
 * a failed write refuses only its own group; {@link DurableQueue#close()} answers both. A gate in
 * the disk seam holds a force open so that the next group is written during it.
 */
class ForceOverlapTest {

  private static final int SIZE = 1000;
  private static final long FRAME = RecordFormat.HEADER_BYTES + SIZE;

  @TempDir Path dir;

  private final List<ByteBuf> payloads = new ArrayList<>();
  private final List<Gate> gates = new ArrayList<>();

  @AfterEach
  void releasePayloads() {
    gates.forEach(Gate::open); // never leave a forcer thread parked in a failed test
    payloads.forEach(ByteBuf::release);
  }

  /**
   * Holds the first force that reaches it (after it read the file's length) until opened, and may
   * then fail it; later forces pass.
   */
  private final class Gate implements BoundedDisk.ForceHook {
    final java.util.concurrent.atomic.AtomicBoolean taken =
        new java.util.concurrent.atomic.AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean fail;

    Gate() {
      gates.add(this);
    }

    @Override
    public void beforeForce() throws IOException {
      if (!taken.compareAndSet(false, true)) {
        return;
      }
      entered.countDown();
      try {
        if (!release.await(30, TimeUnit.SECONDS)) {
          throw new IOException("gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
      if (fail) {
        throw new IOException("Input/output error");
      }
    }

    void awaitEntered() throws InterruptedException {
      assertThat(entered.await(30, TimeUnit.SECONDS)).as("the force started").isTrue();
    }

    void open() {
      release.countDown();
    }
  }

  private DurableQueue open(BoundedDisk disk) throws IOException {
    return DurableQueue.builder(dir)
        .consumers("a")
        .segmentBytes(1 << 20)
        .maxBytes(4 << 20)
        .segmentChannels(disk)
        .open();
  }

  private CompletableFuture<AppendResult> append(DurableQueue queue, long seq) {
    ByteBuf payload = TestRecords.buffer(1, seq, SIZE);
    payloads.add(payload);
    return queue.append((byte) 0, 1, payload);
  }

  /** Appends {@code seq} and waits until the writer wrote it (a force may be open meanwhile). */
  private CompletableFuture<AppendResult> appendWritten(
      DurableQueue queue, BoundedDisk disk, long seq) {
    long writes = disk.writes();
    CompletableFuture<AppendResult> result = append(queue, seq);
    Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> disk.writes() > writes);
    return result;
  }

  private static AppendResult answer(CompletableFuture<AppendResult> future) throws Exception {
    return future.get(30, TimeUnit.SECONDS);
  }

  private List<Long> reopenAndRead() throws IOException {
    try (DurableQueue queue = open(new BoundedDisk(dir, Long.MAX_VALUE))) {
      return TestRecords.drain(queue.consumer("a"), true).stream().map(r -> r[1]).toList();
    }
  }

  @Test
  void aFailedForceRefusesItsGroupAndTheGroupWrittenDuringItAndTruncatesBoth() throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    try (DurableQueue queue = open(disk)) {
      assertThat(answer(append(queue, 0)).appended()).isTrue();
      Gate gate = new Gate();
      disk.forceHook(gate);
      CompletableFuture<AppendResult> first = append(queue, 1);
      gate.awaitEntered();
      CompletableFuture<AppendResult> second = appendWritten(queue, disk, 2);
      assertThat(disk.used()).isEqualTo(3 * FRAME); // the second group is on file, unforced
      assertThat(first).isNotDone();
      assertThat(second).isNotDone();

      gate.fail = true;
      gate.open();
      for (CompletableFuture<AppendResult> refused : List.of(first, second)) {
        AppendResult result = answer(refused);
        assertThat(result).isInstanceOf(AppendResult.Refused.class);
        assertThat(((AppendResult.Refused) result).retryable()).isTrue();
        assertThat(((AppendResult.Refused) result).reason()).contains("Input/output error");
      }
      // back to the last forced record: no gap, nothing readable that was not forced
      assertThat(disk.used()).isEqualTo(FRAME);
      assertThat(queue.sizeBytes()).isEqualTo(FRAME);
      assertThat(TestRecords.drain(queue.consumer("a"), false))
          .extracting(r -> r[1])
          .containsExactly(0L);

      disk.forceHook(null);
      assertThat(answer(append(queue, 3)).appended()).isTrue();
      assertThat(TestRecords.drain(queue.consumer("a"), false))
          .extracting(r -> r[1])
          .containsExactly(3L);
    }
    assertThat(reopenAndRead()).containsExactly(0L, 3L);
  }

  @Test
  void aGroupWrittenDuringAForceIsReadableAndAcknowledgedOnlyAfterItsOwnForce() throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    Path segment = dir.resolve(Segment.fileName(0));
    try (DurableQueue queue = open(disk)) {
      QueueConsumer consumer = queue.consumer("a");
      Gate firstForce = new Gate();
      disk.forceHook(firstForce);
      CompletableFuture<AppendResult> first = append(queue, 0);
      firstForce.awaitEntered();
      CompletableFuture<AppendResult> second = appendWritten(queue, disk, 1);

      Gate secondForce = new Gate();
      disk.forceHook(secondForce);
      firstForce.open();
      AppendResult firstResult = answer(first);
      assertThat(firstResult.appended()).isTrue();
      assertThat(disk.forcedLength(segment)).isEqualTo(FRAME);
      secondForce.awaitEntered();
      assertThat(second).isNotDone();
      List<QueueRecord> visible = consumer.poll(10, 1 << 20);
      assertThat(visible).extracting(QueueRecord::position).containsExactly(FRAME);
      visible.forEach(r -> r.payload().release());

      secondForce.open();
      assertThat(answer(second).appended()).isTrue();
      assertThat(disk.forcedLength(segment)).isEqualTo(2 * FRAME);
      assertThat(TestRecords.drain(consumer, false)).extracting(r -> r[1]).containsExactly(1L);
    }
    assertThat(reopenAndRead()).containsExactly(0L, 1L);
  }

  @Test
  void aWriteFailingDuringAForceRefusesOnlyItsOwnGroup() throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    try (DurableQueue queue = open(disk)) {
      Gate gate = new Gate();
      disk.forceHook(gate);
      CompletableFuture<AppendResult> first = append(queue, 0);
      gate.awaitEntered();
      disk.capacity(disk.used()); // the disk is full: the next group's write fails
      CompletableFuture<AppendResult> second = append(queue, 1);
      // the write failed and was undone (the size counts a record from its placing to its undoing)
      Awaitility.await()
          .atMost(30, TimeUnit.SECONDS)
          .until(() -> disk.failedWrites() > 0 && queue.sizeBytes() < 2 * FRAME);
      assertThat(queue.sizeBytes()).isEqualTo(FRAME); // the group being forced is kept
      assertThat(disk.used()).isEqualTo(FRAME);

      gate.open();
      assertThat(answer(first).appended()).isTrue();
      AppendResult refused = answer(second);
      assertThat(refused).isInstanceOf(AppendResult.Refused.class);
      assertThat(((AppendResult.Refused) refused).retryable()).isTrue();
      assertThat(((AppendResult.Refused) refused).reason()).contains("No space left on device");
      assertThat(disk.used()).isEqualTo(FRAME);

      disk.capacity(Long.MAX_VALUE);
      disk.forceHook(null);
      assertThat(answer(append(queue, 2)).appended()).isTrue();
      assertThat(TestRecords.drain(queue.consumer("a"), false))
          .extracting(r -> r[1])
          .containsExactly(0L, 2L);
    }
    assertThat(reopenAndRead()).containsExactly(0L, 2L);
  }

  @Test
  void closeDuringAnOpenForceForcesAndAnswersTheGroupWrittenMeanwhile() throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    DurableQueue queue = open(disk);
    Gate gate = new Gate();
    disk.forceHook(gate);
    CompletableFuture<AppendResult> first = append(queue, 0);
    gate.awaitEntered();
    CompletableFuture<AppendResult> second = appendWritten(queue, disk, 1);
    CompletableFuture<Void> closing = CompletableFuture.runAsync(queue::close);
    // close cannot return while a written group waits for its force (no timing: it is held)
    assertThatThrownBy(() -> closing.get(500, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);
    gate.open();
    closing.get(30, TimeUnit.SECONDS);
    // close returns only once every submitted append is answered, each after its force
    assertThat(first).isCompletedWithValueMatching(AppendResult::appended);
    assertThat(second).isCompletedWithValueMatching(AppendResult::appended);
    assertThat(reopenAndRead()).containsExactly(0L, 1L);
  }

  @Test
  void closeDuringAForceThatFailsRefusesBothGroupsAndKeepsNeither() throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    DurableQueue queue = open(disk);
    assertThat(answer(append(queue, 0)).appended()).isTrue();
    Gate gate = new Gate();
    gate.fail = true;
    disk.forceHook(gate);
    CompletableFuture<AppendResult> first = append(queue, 1);
    gate.awaitEntered();
    CompletableFuture<AppendResult> second = appendWritten(queue, disk, 2);
    CompletableFuture<Void> closing = CompletableFuture.runAsync(queue::close);
    // close cannot return while a written group waits for its force (no timing: it is held)
    assertThatThrownBy(() -> closing.get(500, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);
    gate.open();
    closing.get(30, TimeUnit.SECONDS);
    assertThat(first).isCompletedWithValueMatching(r -> !r.appended());
    assertThat(second).isCompletedWithValueMatching(r -> !r.appended());
    assertThat(reopenAndRead()).containsExactly(0L);
  }
}
