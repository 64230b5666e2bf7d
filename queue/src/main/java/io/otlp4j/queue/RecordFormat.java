package io.otlp4j.queue;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The on-disk frame of one record; all fields big-endian.
 *
 * <pre>
 *   offset  size  field
 *   0       4     payload length (bytes, non-negative)
 *   4       4     CRC32C of bytes [8, 26) and of the payload
 *   8       1     magic 0xA7 (format version 1)
 *   9       1     kind
 *   10      8     item count
 *   18      8     append time, epoch milliseconds
 *   26      n     payload
 * </pre>
 *
 * A segment file is a sequence of frames and nothing else; its base position is in its name.
 */
final class RecordFormat {

  static final int HEADER_BYTES = 26;
  static final byte MAGIC = (byte) 0xA7;
  private static final int CHECKED_FROM = 8;

  private RecordFormat() {}

  /**
   * The CRC32C of a record: of its header's bytes [8, 26) and of {@code payload} (whose positions
   * are restored). Computed by the appending thread before the record joins a group, so that the
   * writer thread, which serves every producer, only copies it into the header.
   */
  static int checksum(byte kind, long itemCount, long appendedAtMillis, ByteBuffer[] payload) {
    CRC32C crc = new CRC32C();
    byte[] fields = new byte[HEADER_BYTES - CHECKED_FROM];
    ByteBuffer.wrap(fields).put(MAGIC).put(kind).putLong(itemCount).putLong(appendedAtMillis);
    crc.update(fields);
    for (ByteBuffer b : payload) {
      int position = b.position();
      crc.update(b);
      b.position(position);
    }
    return (int) crc.getValue();
  }

  /** Writes a header at {@code header}'s position (advancing it); see {@link #checksum}. */
  static void writeHeader(
      ByteBuffer header,
      int payloadLength,
      int checksum,
      byte kind,
      long itemCount,
      long appendedAtMillis) {
    header
        .putInt(payloadLength)
        .putInt(checksum)
        .put(MAGIC)
        .put(kind)
        .putLong(itemCount)
        .putLong(appendedAtMillis);
  }

  /** The payload length in {@code header} (positions 0..26), or -1 if the header is malformed. */
  static int payloadLength(ByteBuffer header) {
    if (header.get(8) != MAGIC) {
      return -1;
    }
    return header.getInt(0);
  }

  /** Whether the CRC in {@code header} matches its fields and {@code payload} (not consumed). */
  static boolean crcMatches(ByteBuffer header, ByteBuffer payload) {
    CRC32C crc = new CRC32C();
    crc.update(header.duplicate().position(CHECKED_FROM).limit(HEADER_BYTES));
    crc.update(payload.duplicate());
    return (int) crc.getValue() == header.getInt(4);
  }

  static byte kind(ByteBuffer header) {
    return header.get(9);
  }

  static long itemCount(ByteBuffer header) {
    return header.getLong(10);
  }

  static long appendedAtMillis(ByteBuffer header) {
    return header.getLong(18);
  }
}
