package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * "No space left on device" while writing is handled like a full queue: a retryable refusal, the
 * partial record truncated away, no corrupt segment, and appends succeed once space returns. The
 * disk is bounded through the {@link SegmentChannels} seam (no small filesystem can be mounted
 * without privileges in CI).
 */
class DiskFullTest {

  private static final int SIZE = 1000;

  @TempDir Path dir;

  private DurableQueue open(BoundedDisk disk) throws IOException {
    return DurableQueue.builder(dir)
        .consumers("a")
        .segmentBytes(4096)
        .maxBytes(1 << 20) // far above the disk: the disk fills first
        .segmentChannels(disk)
        .open();
  }

  /**
   * The disks to fill: always the bounded-disk seam; also a real small filesystem when {@code
   * -Dotlp4j.queue.smallFilesystem=/mount/point} names one (for example a 64 KiB tmpfs), where the
   * kernel itself answers ENOSPC.
   */
  static Stream<String> disks() {
    String real = System.getProperty("otlp4j.queue.smallFilesystem", "");
    return real.isEmpty() ? Stream.of("seam") : Stream.of("seam", real);
  }

  @ParameterizedTest
  @MethodSource("disks")
  void aFullDiskRefusesRetryablyLeavesNoPartialRecordAndRecoversWhenSpaceReturns(String where)
      throws Exception {
    BoundedDisk disk;
    if (where.equals("seam")) {
      disk = new BoundedDisk(dir, 10_000);
    } else {
      dir = Files.createTempDirectory(Path.of(where), "queue-");
      disk =
          new BoundedDisk(dir, Long.MAX_VALUE) { // the filesystem's own bound
            @Override
            public java.nio.channels.FileChannel openForWrite(Path path) throws IOException {
              return SegmentChannels.DEFAULT.openForWrite(path);
            }
          };
    }
    int appended = 0;
    try (DurableQueue queue = open(disk)) {
      AppendResult result;
      while ((result = DurableQueueTest.append(queue, 0, appended, SIZE)).appended()) {
        appended++;
        assertThat(appended).isLessThan(5000);
      }
      assertThat(result).isInstanceOf(AppendResult.Refused.class);
      AppendResult.Refused refused = (AppendResult.Refused) result;
      assertThat(refused.retryable()).isTrue();
      assertThat(refused.reason()).contains("No space left on device");
      // the partial write was truncated away: what is on disk is exactly the appended records
      assertThat(disk.used()).isEqualTo(queue.sizeBytes());
      assertThat(queue.sizeBytes()).isEqualTo(appended * (long) (RecordFormat.HEADER_BYTES + SIZE));
      assertThat(DurableQueueTest.append(queue, 0, appended, SIZE).appended()).isFalse();

      // the consumer frees whole segments: space returns, appends succeed again
      QueueConsumer consumer = queue.consumer("a");
      List<QueueRecord> records = consumer.poll(4, 1 << 20);
      consumer.commit(records.get(3).position());
      records.forEach(r -> r.payload().release());
      assertThat(DurableQueueTest.append(queue, 0, appended, SIZE).appended()).isTrue();
      appended++;
    }
    try (DurableQueue queue = open(new BoundedDisk(dir, Long.MAX_VALUE))) {
      List<long[]> read = TestRecords.drain(queue.consumer("a"), true);
      assertThat(read).extracting(r -> r[1]).first().isEqualTo(4L);
      assertThat(read).extracting(r -> r[1]).last().isEqualTo((long) appended - 1);
      assertThat(read).hasSize(appended - 4);
    }
  }

  @Test
  void concurrentAppendsOnAFullDiskAreRefusedAndLaterOnesSucceedWhenTheDiskGrows()
      throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, 30_000);
    List<Long> acknowledged = new ArrayList<>();
    try (DurableQueue queue = open(disk)) {
      List<CompletableFuture<AppendResult>> futures = new ArrayList<>();
      List<ByteBuf> payloads = new ArrayList<>();
      for (int seq = 0; seq < 200; seq++) {
        ByteBuf payload = TestRecords.buffer(1, seq, SIZE);
        payloads.add(payload);
        futures.add(queue.append((byte) 0, 1, payload));
      }
      int refused = 0;
      for (int seq = 0; seq < futures.size(); seq++) {
        AppendResult result = futures.get(seq).get(30, TimeUnit.SECONDS);
        payloads.get(seq).release();
        if (result.appended()) {
          acknowledged.add((long) seq);
        } else {
          assertThat(((AppendResult.Refused) result).retryable()).isTrue();
          refused++;
        }
      }
      assertThat(refused).isPositive();
      assertThat(acknowledged).isNotEmpty();
      assertThat(disk.used()).isEqualTo(queue.sizeBytes());
      disk.capacity(Long.MAX_VALUE);
      assertThat(DurableQueueTest.append(queue, 1, 1000, SIZE).appended()).isTrue();
      acknowledged.add(1000L);
    }
    try (DurableQueue queue = open(new BoundedDisk(dir, Long.MAX_VALUE))) {
      assertThat(TestRecords.drain(queue.consumer("a"), true))
          .extracting(r -> r[1])
          .containsExactlyElementsOf(acknowledged);
    }
  }

  @Test
  void aFailedForceRefusesTheWholeGroupAndNothingOfItIsReadOrKept() throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    try (DurableQueue queue =
        DurableQueue.builder(dir)
            .consumers("a")
            .segmentBytes(4096)
            .maxBytes(4096) // one segment: room comes only from sealing the consumed active one
            .segmentChannels(disk)
            .open()) {
      QueueConsumer consumer = queue.consumer("a");
      for (long seq = 0; seq < 3; seq++) {
        assertThat(DurableQueueTest.append(queue, 0, seq, SIZE).appended()).isTrue();
      }
      assertThat(TestRecords.drain(consumer, true)).hasSize(3);
      long sizeBefore = queue.sizeBytes();

      disk.failForces(true); // the next append seals and deletes the consumed segment, then fails
      AppendResult failed = DurableQueueTest.append(queue, 0, 3, SIZE);
      assertThat(failed).isInstanceOf(AppendResult.Refused.class);
      assertThat(((AppendResult.Refused) failed).retryable()).isTrue();
      assertThat(((AppendResult.Refused) failed).reason()).contains("Input/output error");
      assertThat(consumer.poll(10, 1 << 20)).isEmpty();
      assertThat(queue.sizeBytes()).isLessThanOrEqualTo(sizeBefore);
      assertThat(disk.used()).isEqualTo(queue.sizeBytes());

      disk.failForces(false);
      for (long seq = 4; seq < 7; seq++) { // a segment's worth
        assertThat(DurableQueueTest.append(queue, 0, seq, SIZE).appended()).isTrue();
      }
      assertThat(TestRecords.drain(consumer, false))
          .extracting(r -> r[1])
          .containsExactly(4L, 5L, 6L);
    }
    try (DurableQueue queue = open(new BoundedDisk(dir, Long.MAX_VALUE))) {
      assertThat(TestRecords.drain(queue.consumer("a"), true))
          .extracting(r -> r[1])
          .containsExactly(4L, 5L, 6L);
    }
  }
}
