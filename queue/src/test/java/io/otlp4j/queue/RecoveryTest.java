package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Torn and corrupt tails are detected on open and truncated; the records before them survive. */
class RecoveryTest {

  private static final int SIZE = 300;
  private static final int FRAME = RecordFormat.HEADER_BYTES + SIZE;

  @TempDir Path dir;

  private DurableQueue open() throws IOException {
    return DurableQueue.builder(dir).consumers("a").segmentBytes(8 * FRAME).open();
  }

  /** Appends records seq 0..n-1 of SIZE bytes (3 segments of 8 for n = 20). */
  private void write(int n) throws IOException {
    try (DurableQueue queue = open()) {
      for (int i = 0; i < n; i++) {
        assertThat(DurableQueueTest.append(queue, 0, i, SIZE).appended()).isTrue();
      }
    }
  }

  private Path lastSegment() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.toString().endsWith(".seg"))
          .sorted()
          .reduce((a, b) -> b)
          .orElseThrow();
    }
  }

  private Path firstSegment() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".seg")).sorted().findFirst().orElseThrow();
    }
  }

  /**
   * Reopens, checks the surviving records are exactly 0..survivors-1, appends one more, reads it.
   */
  private void assertSurvivors(int survivors) throws IOException {
    try (DurableQueue queue = open()) {
      assertThat(TestRecords.drain(queue.consumer("a"), false))
          .extracting(r -> r[1])
          .containsExactlyElementsOf(LongStream.range(0, survivors).boxed().toList());
      assertThat(DurableQueueTest.append(queue, 0, survivors, SIZE).appended()).isTrue();
      assertThat(TestRecords.drain(queue.consumer("a"), false))
          .extracting(r -> r[1])
          .containsExactly((long) survivors);
    }
    try (DurableQueue queue = open()) { // and the repaired log stays valid
      assertThat(TestRecords.drain(queue.consumer("a"), true)).hasSize(survivors + 1);
    }
  }

  @ParameterizedTest
  @ValueSource(
      ints = {
        1,
        RecordFormat.HEADER_BYTES - 1,
        RecordFormat.HEADER_BYTES,
        RecordFormat.HEADER_BYTES + 7,
        FRAME - 1
      })
  void aTruncatedLastRecordIsCutAwayAndEarlierRecordsSurvive(int cut) throws IOException {
    write(20);
    Path last = lastSegment();
    long size = Files.size(last);
    try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
      channel.truncate(size - cut); // the last record loses its final `cut` bytes
    }
    assertThat(Files.size(last)).isEqualTo(size - cut);
    assertSurvivors(19);
    assertThat(Files.size(last)).isEqualTo(size); // 19 records + the new one
  }

  @ParameterizedTest
  @ValueSource(
      ints = {
        0,
        4,
        8,
        9,
        12,
        20,
        RecordFormat.HEADER_BYTES,
        RecordFormat.HEADER_BYTES + 150,
        FRAME - 1
      })
  void aFlippedByteInTheLastSegmentTruncatesFromThatRecordOn(int offsetInRecord)
      throws IOException {
    write(20); // the last segment holds records 16..19
    Path last = lastSegment();
    long recordStart = 1L * FRAME; // record 17
    flip(last, recordStart + offsetInRecord);
    assertSurvivors(17);
  }

  @Test
  void garbageAfterTheLastRecordIsCutAway() throws IOException {
    write(20);
    Path last = lastSegment();
    long size = Files.size(last);
    byte[] garbage = new byte[1000];
    new SplittableRandom(7).nextBytes(garbage);
    Files.write(last, garbage, StandardOpenOption.APPEND);
    assertSurvivors(20);
    assertThat(Files.size(last)).isEqualTo(size + FRAME);
  }

  @Test
  void zerosAfterTheLastRecordAreCutAway() throws IOException {
    write(20);
    Files.write(lastSegment(), new byte[4096], StandardOpenOption.APPEND);
    assertSurvivors(20);
  }

  @Test
  void aCorruptRecordInAnOlderSegmentLosesOnlyThatSegmentsRest() throws IOException {
    write(20); // segments: 0..7, 8..15, 16..19
    flip(firstSegment(), 5L * FRAME + 100); // record 5's payload
    try (DurableQueue queue = open()) {
      List<long[]> read = TestRecords.drain(queue.consumer("a"), true);
      assertThat(read)
          .extracting(r -> r[1])
          .containsExactly(
              0L, 1L, 2L, 3L, 4L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L);
      assertThat(queue.consumer("a").pendingRecords()).isZero();
    }
  }

  @Test
  void aCorruptCheckpointFileMeansRedeliveryFromTheOldestRecord() throws IOException {
    write(5);
    try (DurableQueue queue = open()) {
      TestRecords.drain(queue.consumer("a"), true);
    }
    Path checkpoint = dir.resolve("consumer-a.checkpoint");
    flip(checkpoint, 3);
    try (DurableQueue queue = open()) {
      assertThat(TestRecords.drain(queue.consumer("a"), true)).hasSize(5);
    }
  }

  @Test
  void aCheckpointBeyondATruncatedTailIsClampedAndNewRecordsAreRead() throws IOException {
    write(20);
    try (DurableQueue queue = open()) {
      TestRecords.drain(queue.consumer("a"), true); // checkpoint at the end of record 19
    }
    Path last = lastSegment();
    try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE)) {
      channel.truncate(Files.size(last) - 10); // as if the last write had not reached the disk
    }
    try (DurableQueue queue = open()) {
      QueueConsumer consumer = queue.consumer("a");
      assertThat(consumer.pendingRecords()).isZero();
      assertThat(DurableQueueTest.append(queue, 0, 100, SIZE).appended()).isTrue();
      assertThat(TestRecords.drain(consumer, true)).extracting(r -> r[1]).containsExactly(100L);
    }
  }

  @Test
  void fullyConsumedSegmentsLeftByACrashAreDeletedOnOpen() throws IOException {
    write(20);
    Path first = firstSegment();
    // a checkpoint past the first segment whose deletion the crash prevented
    ByteBuffer checkpoint = ByteBuffer.allocate(12).putLong(0, 8L * FRAME);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(checkpoint.array(), 0, 8);
    checkpoint.putInt(8, (int) crc.getValue());
    Files.write(dir.resolve("consumer-a.checkpoint"), checkpoint.array());
    try (DurableQueue queue = open()) {
      assertThat(Files.exists(first)).isFalse();
      assertThat(TestRecords.drain(queue.consumer("a"), true))
          .extracting(r -> r[1])
          .first()
          .isEqualTo(8L);
    }
  }

  private static void flip(Path file, long offset) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      channel.read(one, offset);
      one.put(0, (byte) (one.get(0) ^ 0x5A)).clear();
      channel.write(one, offset);
    }
  }
}
