package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.END_GROUP;
import static io.otlp4j.wire.WireReader.FIXED32;
import static io.otlp4j.wire.WireReader.FIXED64;
import static io.otlp4j.wire.WireReader.LENGTH_DELIMITED;
import static io.otlp4j.wire.WireReader.START_GROUP;
import static io.otlp4j.wire.WireReader.VARINT;

/**
 * The walker's protobuf primitives over {@link ByteAccess} memory: {@code (o, off)} addresses the
 * input's first byte and {@code p} is an index into the input, so reported offsets are {@code p}
 * itself. The same checks as {@link WireReader} (which serves the splitter and the rewrite over
 * {@code ByteBuffer}s), with the same error messages.
 *
 * <p>Every method takes the end of the enclosing message and never reads at or past it: that is the
 * bound that makes {@link ByteAccess}'s unchecked reads safe. Methods that return a position and a
 * value pack them in one {@code long} (position in the high 32 bits).
 *
 * <p>Stateless; all methods static and thread-safe.
 */
final class MemoryReader {
  private static final long HIGH_BITS = 0x8080808080808080L;

  private MemoryReader() {}

  static int byteAt(Object o, long off, int p) {
    return ByteAccess.get(o, off + p);
  }

  static WireFormatException error(int index, String reason) {
    return new WireFormatException(index, reason);
  }

  /** Reads a varint that must fit in 32 unsigned bits; returns {@code (newPos << 32) | value}. */
  static long readVarint32(Object o, long off, int p, int end) {
    if (p + 1 < end) {
      // One or two bytes (tags, lengths up to 16383: nearly every one in OTLP) without the loop.
      int x = ByteAccess.get(o, off + p);
      if (x >= 0) {
        return ((long) (p + 1) << 32) | x;
      }
      int y = ByteAccess.get(o, off + p + 1);
      if (y >= 0) {
        return ((long) (p + 2) << 32) | (x & 0x7F) | (y << 7);
      }
    }
    return readVarint32Slow(o, off, p, end);
  }

  private static long readVarint32Slow(Object o, long off, int start, int end) {
    long result = 0;
    int p = start;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p >= end) {
        throw error(start, "truncated varint (the enclosing message ends at " + end + ")");
      }
      int x = ByteAccess.get(o, off + p++);
      if (shift < 64) {
        result |= (long) (x & 0x7F) << shift;
      }
      if (x >= 0) {
        if (shift >= 35 || (result >>> 32) != 0) {
          throw error(
              start,
              "varint value "
                  + Long.toUnsignedString(result)
                  + " does not fit in 32 bits where a tag or length is expected");
        }
        return ((long) p << 32) | result;
      }
    }
    throw error(start, "varint longer than 10 bytes");
  }

  /** Skips one varint of at most 10 bytes; returns the position after it. */
  static int skipVarint(Object o, long off, int p, int end) {
    int limit = Math.min(end, p + 10);
    for (int i = p; i < limit; i++) {
      if (ByteAccess.get(o, off + i) >= 0) {
        return i + 1;
      }
    }
    if (limit == p + 10) {
      throw error(p, "varint longer than 10 bytes");
    }
    throw error(p, "truncated varint (the enclosing message ends at " + end + ")");
  }

  /**
   * Reads a length prefix at {@code p} and checks that the content fits before {@code end}; returns
   * {@code (contentStart << 32) | length}.
   */
  static long readLength(Object o, long off, int p, int end) {
    long r = readVarint32(o, off, p, end);
    int start = (int) (r >>> 32);
    long length = r & 0xFFFFFFFFL;
    if (length > end - start) {
      throw error(
          p,
          "length " + length + " runs past the end of the enclosing message (ends at " + end + ")");
    }
    return r;
  }

  /** Reads a tag at {@code p} and refuses field number 0; returns {@code (newPos << 32) | tag}. */
  static long readTag(Object o, long off, int p, int end) {
    long r = readVarint32(o, off, p, end);
    if (((int) r >>> 3) == 0) {
      throw error(p, "field number 0 is not allowed");
    }
    return r;
  }

  /**
   * Skips the value of a field of wire type {@code wireType} that starts at {@code p} (after the
   * tag at {@code tagPos}); returns the position after it. Groups are refused.
   */
  static int skipValue(Object o, long off, int wireType, int tagPos, int p, int end) {
    switch (wireType) {
      case VARINT:
        return skipVarint(o, off, p, end);
      case FIXED64:
        return fixed(p, 8, end);
      case LENGTH_DELIMITED:
        {
          long r = readLength(o, off, p, end);
          return (int) (r >>> 32) + (int) r;
        }
      case FIXED32:
        return fixed(p, 4, end);
      case START_GROUP:
        throw error(
            tagPos,
            "wire type 3 (start group) is not supported: groups are deprecated"
                + " and never used by OTLP");
      case END_GROUP:
        throw error(tagPos, "wire type 4 (end group) without a matching start group");
      default:
        throw error(tagPos, "invalid wire type " + wireType);
    }
  }

  static int fixed(int p, int size, int end) {
    if (end - p < size) {
      throw error(
          p,
          "fixed"
              + (size * 8)
              + " value runs past the end of the enclosing message (ends at "
              + end
              + ")");
    }
    return p + size;
  }

  /**
   * Checks that {@code [p, end)} is well-formed UTF-8 exactly as protobuf-java's {@code
   * Utf8.isValidUtf8} defines it (no overlong forms, no surrogates, nothing above U+10FFFF).
   *
   * <p>ASCII first, without a loop for the short strings that make up most of OTLP (keys, names,
   * enum-like values): 9 to 16 bytes as two overlapping words, 8 as one, 4 to 7 as two overlapping
   * ints, 1 to 3 as their first, middle and last byte, so such a string costs at most two loads and
   * one test; longer strings a word per step, the tail with one overlapping word. From the first
   * word with a high bit on, byte by byte. (A branch-free variant for 1 to 16 bytes, reading the
   * word that ends at {@code end} and masking the bytes before {@code p}, measured no faster.)
   */
  static void checkUtf8(Object o, long off, int p, int end, int field) {
    int length = end - p;
    long a = off + p;
    if (length > 16) {
      long last = off + end - 8;
      while (a < last && (ByteAccess.getLong(o, a) & HIGH_BITS) == 0) {
        a += 8;
      }
      if (a >= last && (ByteAccess.getLong(o, last) & HIGH_BITS) == 0) {
        return;
      }
      p = (int) (Math.min(a, last) - off);
    } else if (length >= 8) {
      if (((ByteAccess.getLong(o, a) | ByteAccess.getLong(o, off + end - 8)) & HIGH_BITS) == 0) {
        return;
      }
    } else if (length >= 4) {
      if (((ByteAccess.getInt(o, a) | ByteAccess.getInt(o, off + end - 4)) & (int) HIGH_BITS)
          == 0) {
        return;
      }
    } else if (length > 0) {
      // One to three bytes: the first, the middle and the last are all of them.
      if ((ByteAccess.get(o, a)
              | ByteAccess.get(o, a + (length >> 1))
              | ByteAccess.get(o, end + off - 1))
          >= 0) {
        return;
      }
    } else {
      return;
    }
    checkUtf8From(o, off, p, end, field);
  }

  /** The byte-by-byte check from {@code p}, for input that is not all ASCII. */
  private static void checkUtf8From(Object o, long off, int p, int end, int field) {
    while (p < end) {
      int b0 = ByteAccess.get(o, off + p);
      if (b0 >= 0) {
        p++;
        continue;
      }
      int start = p;
      if (b0 < (byte) 0xE0) {
        // two bytes: C2..DF 80..BF
        if (end - p < 2 || b0 < (byte) 0xC2 || ByteAccess.get(o, off + p + 1) > (byte) 0xBF) {
          throw badUtf8(start, field);
        }
        p += 2;
      } else if (b0 < (byte) 0xF0) {
        // three bytes: E0 A0..BF | E1..EC 80..BF | ED 80..9F | EE..EF 80..BF, then 80..BF
        if (end - p < 3) {
          throw badUtf8(start, field);
        }
        int b1 = ByteAccess.get(o, off + p + 1);
        if (b1 > (byte) 0xBF
            || (b0 == (byte) 0xE0 && b1 < (byte) 0xA0)
            || (b0 == (byte) 0xED && b1 >= (byte) 0xA0)
            || ByteAccess.get(o, off + p + 2) > (byte) 0xBF) {
          throw badUtf8(start, field);
        }
        p += 3;
      } else {
        // four bytes: F0 90..BF | F1..F3 80..BF | F4 80..8F, then two of 80..BF
        if (end - p < 4) {
          throw badUtf8(start, field);
        }
        int b1 = ByteAccess.get(o, off + p + 1);
        if (b0 > (byte) 0xF4
            || b1 > (byte) 0xBF
            || (b0 == (byte) 0xF0 && b1 < (byte) 0x90)
            || (b0 == (byte) 0xF4 && b1 > (byte) 0x8F)
            || ByteAccess.get(o, off + p + 2) > (byte) 0xBF
            || ByteAccess.get(o, off + p + 3) > (byte) 0xBF) {
          throw badUtf8(start, field);
        }
        p += 4;
      }
    }
  }

  private static WireFormatException badUtf8(int p, int field) {
    return error(p, "invalid UTF-8 in string field " + field);
  }

  /** Whether {@code [p, p + length)} holds exactly {@code key}. */
  static boolean bytesEqual(Object o, long off, int p, int length, byte[] key) {
    if (length != key.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (ByteAccess.get(o, off + p + i) != key[i]) {
        return false;
      }
    }
    return true;
  }
}
