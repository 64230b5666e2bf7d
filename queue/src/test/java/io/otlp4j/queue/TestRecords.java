package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Payloads derived from (producer, sequence), so a reader can tell each one is intact. */
final class TestRecords {

  private TestRecords() {}

  /**
   * A payload of {@code size} bytes (at least 16) whose content is a function of producer and seq.
   */
  static byte[] payload(int producer, long seq, int size) {
    byte[] bytes = new byte[Math.max(16, size)];
    long header = ((long) producer << 40) | seq;
    for (int i = 0; i < 8; i++) {
      bytes[i] = (byte) (header >>> (56 - 8 * i));
    }
    SplittableRandom random = new SplittableRandom(header * 31 + size);
    for (int i = 8; i < bytes.length - 8; i++) {
      bytes[i] = (byte) random.nextInt();
    }
    long check = checksum(bytes, bytes.length - 8);
    for (int i = 0; i < 8; i++) {
      bytes[bytes.length - 8 + i] = (byte) (check >>> (56 - 8 * i));
    }
    return bytes;
  }

  static ByteBuf buffer(int producer, long seq, int size) {
    return Unpooled.wrappedBuffer(payload(producer, seq, size));
  }

  /** The (producer, seq) of a payload made by {@link #payload}, or throws if it is damaged. */
  static long[] decode(ByteBuf payload) {
    byte[] bytes = new byte[payload.readableBytes()];
    payload.getBytes(payload.readerIndex(), bytes);
    if (bytes.length < 16) {
      throw new AssertionError("payload too short: " + bytes.length);
    }
    long header = 0;
    for (int i = 0; i < 8; i++) {
      header = (header << 8) | (bytes[i] & 0xff);
    }
    int producer = (int) (header >>> 40);
    long seq = header & ((1L << 40) - 1);
    byte[] expected = payload(producer, seq, bytes.length);
    if (!java.util.Arrays.equals(bytes, expected)) {
      throw new AssertionError("payload of producer " + producer + " seq " + seq + " is damaged");
    }
    return new long[] {producer, seq};
  }

  private static long checksum(byte[] bytes, int length) {
    long h = 1125899906842597L;
    for (int i = 0; i < length; i++) {
      h = 31 * h + bytes[i];
    }
    return h;
  }

  static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Polls everything available, releasing payloads after decoding them into (producer, seq). */
  static List<long[]> drain(QueueConsumer consumer, boolean commit) {
    List<long[]> out = new ArrayList<>();
    while (true) {
      List<QueueRecord> records = consumer.poll(100, 1 << 20);
      if (records.isEmpty()) {
        return out;
      }
      for (QueueRecord record : records) {
        try {
          out.add(decode(record.payload()));
        } finally {
          record.payload().release();
        }
      }
      if (commit) {
        consumer.commit(records.get(records.size() - 1).position());
      }
    }
  }
}
