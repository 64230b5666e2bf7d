package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Coverage-guided fuzzing of {@link QueueRecovery}: a queue directory whose segment file holds
 * valid records followed by, or overwritten from some offset with, arbitrary bytes (or cut short),
 * and whose second consumer has an arbitrary checkpoint file.
 *
 * <p>Properties, for every input: opening the queue never throws; consumer {@code a} (no
 * checkpoint) reads back every record that lies wholly before the first changed byte, unchanged and
 * in order (records after it only if they are intact frames); the file is truncated to exactly the
 * records kept; consumer {@code b} reads a suffix of what {@code a} reads; reopening keeps the same
 * records, and a record appended after recovery reads back.
 *
 * <p>Input (from the end, {@link FuzzedDataProvider}): the number of records, each record's kind,
 * item count and payload, the damage (append, overwrite at an offset, or cut at an offset), the
 * checkpoint of {@code b}; the remaining bytes are the garbage.
 */
class QueueRecoveryFuzzTest {
  private static final Path ROOT;

  static {
    try {
      ROOT = Files.createTempDirectory("queue-recovery-fuzz");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int run;

  private record Frame(byte kind, long items, long time, byte[] payload) {
    int size() {
      return RecordFormat.HEADER_BYTES + payload.length;
    }

    byte[] encode() {
      ByteBuffer out = ByteBuffer.allocate(size());
      ByteBuffer[] body = {ByteBuffer.wrap(payload)};
      RecordFormat.writeHeader(
          out, payload.length, RecordFormat.checksum(kind, items, time, body), kind, items, time);
      out.put(payload);
      return out.array();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Frame f
          && f.kind == kind
          && f.items == items
          && f.time == time
          && Arrays.equals(f.payload, payload);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(payload) * 31 + Long.hashCode(items ^ time) + kind;
    }

    @Override
    public String toString() {
      return "Frame[kind="
          + kind
          + ", items="
          + items
          + ", time="
          + time
          + ", payload="
          + HexFormat.of().formatHex(payload)
          + "]";
    }
  }

  @FuzzTest(maxDuration = "5m")
  void recover(FuzzedDataProvider data) throws Exception {
    int count = data.consumeInt(0, 6);
    List<Frame> frames = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      frames.add(
          new Frame(
              data.consumeByte(),
              data.consumeLong(),
              data.consumeLong(),
              data.consumeBytes(data.consumeInt(0, 300))));
    }
    int damage = data.consumeInt(0, 2); // 0: append garbage, 1: overwrite at, 2: cut at
    int at = data.consumeInt(0, Integer.MAX_VALUE);
    byte[] checkpoint =
        data.consumeBoolean() ? checkpoint(data.consumeLong()) : data.consumeBytes(16);
    byte[] garbage = data.consumeRemainingAsBytes();

    byte[] valid = concat(frames);
    byte[] file;
    int firstBad; // the first byte that differs from the valid log (or its end)
    switch (damage) {
      case 0 -> {
        file = concat(valid, garbage);
        firstBad = valid.length;
      }
      case 1 -> {
        int from = Math.floorMod(at, valid.length + 1);
        file = Arrays.copyOf(valid, Math.max(valid.length, from + garbage.length));
        System.arraycopy(garbage, 0, file, from, garbage.length);
        firstBad = firstDifference(valid, file);
      }
      default -> {
        int cut = Math.floorMod(at, valid.length + 1);
        file = Arrays.copyOf(valid, cut);
        firstBad = cut;
      }
    }
    int intact = 0; // records wholly before the first bad byte
    for (int end = 0; intact < frames.size(); intact++) {
      end += frames.get(intact).size();
      if (end > firstBad) {
        break;
      }
    }

    Path dir = Files.createDirectory(ROOT.resolve("q" + run++));
    try {
      Path segment = dir.resolve(Segment.fileName(0));
      Files.write(segment, file);
      Files.write(dir.resolve("consumer-b.checkpoint"), checkpoint);
      List<Frame> kept;
      try (DurableQueue queue = open(dir)) {
        kept = drain(queue.consumer("a"));
        List<Frame> fromB = drain(queue.consumer("b"));
        assertThat(kept.subList(kept.size() - fromB.size(), kept.size()))
            .as("b reads a suffix of a's records")
            .isEqualTo(fromB);
      }
      assertThat(kept.size()).as("records kept").isGreaterThanOrEqualTo(intact);
      for (int i = 0; i < intact; i++) {
        assertThat(kept.get(i)).as("record %d", i).isEqualTo(frames.get(i));
      }
      assertThat(Files.size(segment))
          .as("the file is truncated to the records kept")
          .isEqualTo(kept.stream().mapToLong(Frame::size).sum());
      try (DurableQueue queue = open(dir)) {
        assertThat(drain(queue.consumer("a"))).as("kept across a reopen").isEqualTo(kept);
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
        try {
          assertThat(queue.append((byte) 7, 1, payload).get(30, TimeUnit.SECONDS).appended())
              .isTrue();
        } finally {
          payload.release();
        }
        List<Frame> appended = drain(queue.consumer("a"));
        assertThat(appended).hasSize(1);
        assertThat(appended.get(0).payload()).containsExactly(1, 2, 3);
      }
    } finally {
      delete(dir);
    }
  }

  private static DurableQueue open(Path dir) throws IOException {
    return DurableQueue.builder(dir).consumers("a", "b").fsyncPolicy(FsyncPolicy.never()).open();
  }

  /** Everything the consumer can read now, without committing. */
  private static List<Frame> drain(QueueConsumer consumer) {
    List<Frame> out = new ArrayList<>();
    while (true) {
      List<QueueRecord> records = consumer.poll(100, 1 << 20);
      if (records.isEmpty()) {
        return out;
      }
      for (QueueRecord r : records) {
        byte[] payload = new byte[r.payload().readableBytes()];
        r.payload().getBytes(r.payload().readerIndex(), payload);
        r.payload().release();
        out.add(new Frame(r.kind(), r.itemCount(), r.appendedAtMillis(), payload));
      }
    }
  }

  /** A checkpoint file with a valid CRC (the format QueueConsumer persists). */
  private static byte[] checkpoint(long position) {
    ByteBuffer b = ByteBuffer.allocate(12).putLong(0, position);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, 8);
    return b.putInt(8, (int) crc.getValue()).array();
  }

  private static byte[] concat(List<Frame> frames) {
    byte[] out = new byte[0];
    for (Frame f : frames) {
      out = concat(out, f.encode());
    }
    return out;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static int firstDifference(byte[] valid, byte[] file) {
    int n = Math.min(valid.length, file.length);
    for (int i = 0; i < n; i++) {
      if (valid[i] != file[i]) {
        return i;
      }
    }
    return n;
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
