package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Bounds-checked protobuf primitives over absolute indexes of a {@link ByteBuffer}, shared by the
 * walker, the splitter and the resource rewrite.
 *
 * <p>Every method takes the end of the enclosing message and never reads at or past it, so a
 * hostile length or varint can never make a read leave the message it belongs to. Errors are thrown
 * as {@link WireFormatException} with the offset relative to {@code base} (the index of the input's
 * first byte). Methods that return a position and a value return them packed in one {@code long}
 * (position in the high 32 bits) so that the hot path allocates nothing.
 *
 * <p>Stateless; all methods static and thread-safe.
 */
final class WireReader {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int START_GROUP = 3;
  static final int END_GROUP = 4;
  static final int FIXED32 = 5;

  private static final long HIGH_BITS = 0x8080808080808080L;

  /** Eight bytes of a byte[] in one load (the ASCII check does not care about their order). */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

  private static final VarHandle INTS =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());

  private WireReader() {}

  /**
   * A read-only view of the readable bytes of {@code buf} whose {@code position()} is the first
   * readable byte. A heap buffer is wrapped (one small object); a direct buffer is viewed through
   * {@link ByteBuf#nioBuffer(int, int)}; a composite of several components is copied into one
   * (documented on every public method that accepts a ByteBuf).
   */
  static ByteBuffer view(ByteBuf buf) {
    int length = buf.readableBytes();
    if (buf.hasArray()) {
      return ByteBuffer.wrap(buf.array(), buf.arrayOffset() + buf.readerIndex(), length);
    }
    return buf.nioBuffer(buf.readerIndex(), length);
  }

  /**
   * The array behind {@code b} when its indexes are the array's own (a writable heap buffer with
   * array offset 0, as {@link #view(ByteBuf)} and {@code ByteBuffer.wrap} make), else {@code null}.
   * Hot paths read such an array directly, with the JVM's array bounds check instead of the
   * buffer's index checks.
   */
  static byte[] array(ByteBuffer b) {
    return b.hasArray() && b.arrayOffset() == 0 ? b.array() : null;
  }

  /**
   * The byte at absolute index {@code p}: from {@code a} when it is {@code b}'s array (see {@link
   * #array}).
   */
  static int byteAt(ByteBuffer b, byte[] a, int p) {
    return a != null ? a[p] : b.get(p);
  }

  private static long longAt(ByteBuffer b, byte[] a, int p) {
    return a != null ? (long) LONGS.get(a, p) : b.getLong(p);
  }

  private static int intAt(ByteBuffer b, byte[] a, int p) {
    return a != null ? (int) INTS.get(a, p) : b.getInt(p);
  }

  static WireFormatException error(int index, int base, String reason) {
    return new WireFormatException((long) index - base, reason);
  }

  /** Position of the packed result. */
  static int pos(long packed) {
    return (int) (packed >>> 32);
  }

  /** Value of the packed result (an unsigned 32-bit value). */
  static int value(long packed) {
    return (int) packed;
  }

  /**
   * Reads a varint whose value must fit in 32 unsigned bits (a tag or a length); returns {@code
   * (newPos << 32) | value}.
   */
  static long readVarint32(ByteBuffer b, int p, int end, int base) {
    if (p < end) {
      int x = b.get(p);
      if (x >= 0) {
        return ((long) (p + 1) << 32) | x;
      }
      // Two bytes (lengths 128..16383: most items and long strings), also without the general loop.
      if (p + 1 < end) {
        int y = b.get(p + 1);
        if (y >= 0) {
          return ((long) (p + 2) << 32) | (x & 0x7F) | (y << 7);
        }
      }
    }
    return readVarint32Slow(b, p, end, base);
  }

  private static long readVarint32Slow(ByteBuffer b, int start, int end, int base) {
    long result = 0;
    int p = start;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p >= end) {
        throw error(
            start, base, "truncated varint (the enclosing message ends at " + (end - base) + ")");
      }
      int x = b.get(p++);
      if (shift < 64) {
        result |= (long) (x & 0x7F) << shift;
      }
      if (x >= 0) {
        if (shift >= 35 || (result >>> 32) != 0) {
          throw error(
              start,
              base,
              "varint value "
                  + Long.toUnsignedString(result)
                  + " does not fit in 32 bits where a tag or length is expected");
        }
        return ((long) p << 32) | result;
      }
    }
    throw error(start, base, "varint longer than 10 bytes");
  }

  /** Skips one varint of at most 10 bytes; returns the position after it. */
  static int skipVarint(ByteBuffer b, int p, int end, int base) {
    int limit = Math.min(end, p + 10);
    for (int i = p; i < limit; i++) {
      if (b.get(i) >= 0) {
        return i + 1;
      }
    }
    if (limit == p + 10) {
      throw error(p, base, "varint longer than 10 bytes");
    }
    throw error(p, base, "truncated varint (the enclosing message ends at " + (end - base) + ")");
  }

  /**
   * Reads a length prefix at {@code p} and checks that the content fits before {@code end}; returns
   * {@code (contentStart << 32) | length}.
   */
  static long readLength(ByteBuffer b, int p, int end, int base) {
    long r = readVarint32(b, p, end, base);
    int start = pos(r);
    long length = value(r) & 0xFFFFFFFFL;
    if (length > end - start) {
      throw error(
          p,
          base,
          "length "
              + length
              + " runs past the end of the enclosing message (ends at "
              + (end - base)
              + ")");
    }
    return r;
  }

  /**
   * Skips the value of a field of wire type {@code wireType} that starts at {@code p} (after the
   * tag at {@code tagPos}); returns the position after it. Groups are refused.
   */
  static int skipValue(ByteBuffer b, int wireType, int tagPos, int p, int end, int base) {
    switch (wireType) {
      case VARINT:
        return skipVarint(b, p, end, base);
      case FIXED64:
        return fixed(p, 8, end, base);
      case LENGTH_DELIMITED:
        {
          long r = readLength(b, p, end, base);
          return pos(r) + value(r);
        }
      case FIXED32:
        return fixed(p, 4, end, base);
      case START_GROUP:
        throw error(
            tagPos,
            base,
            "wire type 3 (start group) is not supported: groups are deprecated"
                + " and never used by OTLP");
      case END_GROUP:
        throw error(tagPos, base, "wire type 4 (end group) without a matching start group");
      default:
        throw error(tagPos, base, "invalid wire type " + wireType);
    }
  }

  static int fixed(int p, int size, int end, int base) {
    if (end - p < size) {
      throw error(
          p,
          base,
          "fixed"
              + (size * 8)
              + " value runs past the end of the enclosing message (ends at "
              + (end - base)
              + ")");
    }
    return p + size;
  }

  /** Reads a tag at {@code p} and refuses field number 0; returns {@code (newPos << 32) | tag}. */
  static long readTag(ByteBuffer b, int p, int end, int base) {
    long r = readVarint32(b, p, end, base);
    if ((value(r) >>> 3) == 0) {
      throw error(p, base, "field number 0 is not allowed");
    }
    return r;
  }

  /**
   * Checks that {@code [p, end)} is well-formed UTF-8 exactly as protobuf-java's {@code
   * Utf8.isValidUtf8} defines it (no overlong forms, no surrogates, nothing above U+10FFFF). Eight
   * ASCII bytes are checked per step. {@code a} is {@code b}'s array or {@code null} (see {@link
   * #array}).
   */
  static void checkUtf8(ByteBuffer b, byte[] a, int p, int end, int base, int field) {
    int length = end - p;
    if (length >= 8) {
      // Whole words, then the last (possibly overlapping) word: all-ASCII strings never take a byte
      // step.
      int lastWord = end - 8;
      while (p < lastWord && (longAt(b, a, p) & HIGH_BITS) == 0) {
        p += 8;
      }
      if (p >= lastWord && (longAt(b, a, lastWord) & HIGH_BITS) == 0) {
        return;
      }
    } else if (length >= 4) {
      if (((intAt(b, a, p) | intAt(b, a, end - 4)) & (int) HIGH_BITS) == 0) {
        return;
      }
    }
    checkUtf8From(b, p, end, base, field);
  }

  /** The byte-by-byte check from {@code p}, for input that is not all ASCII. */
  private static void checkUtf8From(ByteBuffer b, int p, int end, int base, int field) {
    while (p < end) {
      int b0 = b.get(p);
      if (b0 >= 0) {
        p++;
        continue;
      }
      int start = p;
      if (b0 < (byte) 0xE0) {
        // two bytes: C2..DF 80..BF
        if (end - p < 2 || b0 < (byte) 0xC2 || b.get(p + 1) > (byte) 0xBF) {
          throw badUtf8(start, base, field);
        }
        p += 2;
      } else if (b0 < (byte) 0xF0) {
        // three bytes: E0 A0..BF | E1..EC 80..BF | ED 80..9F | EE..EF 80..BF, then 80..BF
        if (end - p < 3) {
          throw badUtf8(start, base, field);
        }
        int b1 = b.get(p + 1);
        if (b1 > (byte) 0xBF
            || (b0 == (byte) 0xE0 && b1 < (byte) 0xA0)
            || (b0 == (byte) 0xED && b1 >= (byte) 0xA0)
            || b.get(p + 2) > (byte) 0xBF) {
          throw badUtf8(start, base, field);
        }
        p += 3;
      } else {
        // four bytes: F0 90..BF | F1..F3 80..BF | F4 80..8F, then two of 80..BF
        if (end - p < 4) {
          throw badUtf8(start, base, field);
        }
        int b1 = b.get(p + 1);
        if (b0 > (byte) 0xF4
            || b1 > (byte) 0xBF
            || (b0 == (byte) 0xF0 && b1 < (byte) 0x90)
            || (b0 == (byte) 0xF4 && b1 > (byte) 0x8F)
            || b.get(p + 2) > (byte) 0xBF
            || b.get(p + 3) > (byte) 0xBF) {
          throw badUtf8(start, base, field);
        }
        p += 4;
      }
    }
  }

  private static WireFormatException badUtf8(int p, int base, int field) {
    return error(p, base, "invalid UTF-8 in string field " + field);
  }

  /**
   * The key of the {@code KeyValue} whose content is {@code [start, end)}, read without the general
   * field loop when the message has the layout protobuf writers give it: the key field first (tag
   * {@code 0x0A}, a one-byte length), then nothing, or exactly one value field (tag {@code 0x12}, a
   * one- or two-byte length) that ends exactly at {@code end}. The key field is then the only one,
   * so it is the key as protobuf reads it (the last key field), and the value field, if any, runs
   * from {@link #simpleValueStart} to {@code end}. Returns {@code (keyStart << 32) | keyLength}, or
   * -1 for any other layout, malformed ones included: the caller then reads the fields one by one,
   * with every check. Reads at most five bytes, all below {@code end}; throws nothing.
   */
  static long simpleKey(ByteBuffer b, int start, int end) {
    if (end - start < 2 || b.get(start) != 0x0A) {
      return -1;
    }
    int length = b.get(start + 1);
    int keyEnd = start + 2 + length;
    if (length < 0 || keyEnd > end) {
      return -1;
    }
    if (keyEnd < end) {
      if (end - keyEnd < 2 || b.get(keyEnd) != 0x12) {
        return -1;
      }
      int x = b.get(keyEnd + 1);
      int valueEnd;
      if (x >= 0) {
        valueEnd = keyEnd + 2 + x;
      } else {
        if (end - keyEnd < 3) {
          return -1;
        }
        int y = b.get(keyEnd + 2);
        if (y < 0) {
          return -1;
        }
        valueEnd = keyEnd + 3 + ((x & 0x7F) | (y << 7));
      }
      if (valueEnd != end) {
        return -1;
      }
    }
    return ((long) (start + 2) << 32) | length;
  }

  /**
   * Where the value's content starts in a {@code KeyValue} that {@link #simpleKey} read, given the
   * end of its key: {@code end} itself when there is no value field.
   */
  static int simpleValueStart(ByteBuffer b, int keyEnd, int end) {
    return keyEnd == end ? end : keyEnd + (b.get(keyEnd + 1) >= 0 ? 2 : 3);
  }

  /** Whether {@code [p, p + key.length)} holds exactly {@code key}. */
  static boolean bytesEqual(ByteBuffer b, int p, int length, byte[] key) {
    if (length != key.length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (b.get(p + i) != key[i]) {
        return false;
      }
    }
    return true;
  }
}
