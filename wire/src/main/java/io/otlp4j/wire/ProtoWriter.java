package io.otlp4j.wire;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Encodes protobuf messages field by field into a growable byte array, with nested messages opened
 * by {@link #begin(int)} and closed by {@link #end()}, and no object tree and no size pass.
 *
 * <h2>How nested lengths come out right</h2>
 *
 * A nested message's length is not known until it ends, and protobuf writes it before the content
 * as a varint of 1 to 5 bytes. {@code begin} reserves the widest slot (5 bytes); {@code end}
 * records the message's final length, which is its raw length less what the slots inside it will
 * shrink by. {@link #finish()} then closes every gap in one forward pass, writing each length as a
 * minimal varint and moving each run of content once. The cost is one sequential copy of the output
 * in total, whatever the nesting depth, instead of a size pass over the whole tree (the
 * OpenTelemetry SDK's approach) or one shift per nested message. The output is the canonical
 * encoding: byte for byte what protobuf-java writes for the same fields in the same order.
 *
 * <h2>Use</h2>
 *
 * Fields are written in the order the caller writes them; proto3 default values are written if the
 * caller writes them (official encoders skip them, so callers that want identical bytes skip them
 * too). After the last field call {@link #finish()} (or one of the methods that finish implicitly:
 * {@link #toByteArray()}, {@link #writeTo(ByteBuf)}, {@link #array()}). {@link #reset()} makes the
 * writer ready for the next message and keeps its arrays, so a writer is cheap to pool.
 *
 * <p>Not thread-safe: one writer per thread, or pooled.
 */
public final class ProtoWriter {
  public static final int WIRETYPE_VARINT = 0;
  public static final int WIRETYPE_FIXED64 = 1;
  public static final int WIRETYPE_LENGTH_DELIMITED = 2;
  public static final int WIRETYPE_FIXED32 = 5;

  /**
   * The most messages {@link #begin(int)} may have open at once. OTLP needs about ten, nested
   * AnyValues more; protobuf-java refuses input nested deeper than 100, so this bound only stops a
   * runaway caller.
   */
  public static final int MAX_DEPTH = 1024;

  private static final int SLOT = 5;

  private byte[] buf;
  private int pos;

  // One entry per nested message, in the order they were begun (so in increasing slot position).
  private int[] slotPos = new int[16];
  private int[] finalLen = new int[16];
  private int fixups;

  // The open nested messages: index into the fix-up arrays, content start, and the bytes the
  // slots inside it will give back at finish().
  private int[] openFixup = new int[16];
  private int[] openStart = new int[16];
  private int[] openSavings = new int[16];
  private int depth;

  public ProtoWriter() {
    this(256);
  }

  public ProtoWriter(int initialCapacity) {
    if (initialCapacity < 16) {
      throw new IllegalArgumentException(
          "initialCapacity must be at least 16, was " + initialCapacity);
    }
    buf = new byte[initialCapacity];
  }

  /** Forgets everything written so far and keeps the allocated arrays for the next message. */
  public ProtoWriter reset() {
    pos = 0;
    fixups = 0;
    depth = 0;
    return this;
  }

  // ---------------------------------------------------------------- nested messages

  /**
   * Opens a length-delimited field {@code field} whose content is the fields written until {@link
   * #end()}.
   */
  public ProtoWriter begin(int field) {
    if (depth == MAX_DEPTH) {
      throw new IllegalStateException("more than " + MAX_DEPTH + " nested messages open");
    }
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    if (depth == openFixup.length) {
      openFixup = Arrays.copyOf(openFixup, depth * 2);
      openStart = Arrays.copyOf(openStart, depth * 2);
      openSavings = Arrays.copyOf(openSavings, depth * 2);
    }
    if (fixups == slotPos.length) {
      slotPos = Arrays.copyOf(slotPos, fixups * 2);
      finalLen = Arrays.copyOf(finalLen, fixups * 2);
    }
    ensure(SLOT);
    slotPos[fixups] = pos;
    pos += SLOT;
    openFixup[depth] = fixups++;
    openStart[depth] = pos;
    openSavings[depth] = 0;
    depth++;
    return this;
  }

  /** Closes the message opened by the matching {@link #begin(int)}. */
  public ProtoWriter end() {
    if (depth == 0) {
      throw new IllegalStateException("end() without a matching begin()");
    }
    depth--;
    int savings = openSavings[depth];
    int length = pos - openStart[depth] - savings;
    finalLen[openFixup[depth]] = length;
    if (depth > 0) {
      openSavings[depth - 1] += savings + SLOT - varintSize(length);
    }
    return this;
  }

  /** The number of messages opened and not yet ended. */
  public int depth() {
    return depth;
  }

  /**
   * Closes the gaps left for nested lengths; afterwards {@link #size()} is the encoded size and the
   * first {@code size()} bytes of {@link #array()} are the message. Writing may continue
   * afterwards.
   *
   * @throws IllegalStateException when a message is still open
   */
  public ProtoWriter finish() {
    if (depth != 0) {
      throw new IllegalStateException(depth + " nested message(s) still open");
    }
    if (fixups == 0) {
      return this;
    }
    byte[] b = buf;
    int read = 0;
    int write = 0;
    for (int i = 0; i < fixups; i++) {
      int slot = slotPos[i];
      int run = slot - read;
      if (run > 0 && write != read) {
        System.arraycopy(b, read, b, write, run);
      }
      write += run;
      write = putVarint32(b, write, finalLen[i]);
      read = slot + SLOT;
    }
    int tail = pos - read;
    if (tail > 0) {
      System.arraycopy(b, read, b, write, tail);
    }
    pos = write + tail;
    fixups = 0;
    return this;
  }

  // ---------------------------------------------------------------- fields

  public ProtoWriter tag(int field, int wireType) {
    if (field < 1 || field > 0x1FFFFFFF) {
      throw new IllegalArgumentException("field number out of range: " + field);
    }
    return rawVarint32((field << 3) | wireType);
  }

  /**
   * A varint field holding an unsigned 32-bit value (uint32, or an enum/int32 that is not
   * negative).
   */
  public ProtoWriter uint32(int field, int value) {
    tag(field, WIRETYPE_VARINT);
    return rawVarint32(value);
  }

  /** An int32 or enum field; negative values take ten bytes, as protobuf encodes them. */
  public ProtoWriter int32(int field, int value) {
    tag(field, WIRETYPE_VARINT);
    return value >= 0 ? rawVarint32(value) : rawVarint64(value);
  }

  /** An int64 or uint64 field. */
  public ProtoWriter int64(int field, long value) {
    tag(field, WIRETYPE_VARINT);
    return rawVarint64(value);
  }

  /** An sint32 field (zigzag encoded). */
  public ProtoWriter sint32(int field, int value) {
    tag(field, WIRETYPE_VARINT);
    return rawVarint32((value << 1) ^ (value >> 31));
  }

  /** An sint64 field (zigzag encoded). */
  public ProtoWriter sint64(int field, long value) {
    tag(field, WIRETYPE_VARINT);
    return rawVarint64((value << 1) ^ (value >> 63));
  }

  public ProtoWriter bool(int field, boolean value) {
    tag(field, WIRETYPE_VARINT);
    ensure(1);
    buf[pos++] = (byte) (value ? 1 : 0);
    return this;
  }

  /** A fixed64, sfixed64 field. */
  public ProtoWriter fixed64(int field, long value) {
    tag(field, WIRETYPE_FIXED64);
    return rawFixed64(value);
  }

  /** A fixed32 or sfixed32 field. */
  public ProtoWriter fixed32(int field, int value) {
    tag(field, WIRETYPE_FIXED32);
    return rawFixed32(value);
  }

  public ProtoWriter doubleField(int field, double value) {
    return fixed64(field, Double.doubleToRawLongBits(value));
  }

  /**
   * A string field, encoded as UTF-8 straight into the buffer (unpaired surrogates become '?').
   * ASCII text, the common case, takes one pass: its length is its char count, so it is written at
   * once and only a string with other characters is measured and written again.
   */
  public ProtoWriter string(int field, CharSequence value) {
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    int afterTag = pos;
    rawVarint32(value.length());
    if (rawAscii(value)) {
      return this;
    }
    pos = afterTag;
    int length = utf8Length(value);
    rawVarint32(length);
    ensure(length);
    pos = Utf8Text.encodeUtf8(value, buf, pos);
    return this;
  }

  /**
   * Writes the chars of {@code value} as single bytes and returns true when every one is ASCII
   * (below 0x80), its UTF-8 encoding; otherwise writes nothing and returns false. With {@link
   * #truncate(int)} it lets a caller that sized a message for ASCII text fall back when the text is
   * not ASCII.
   */
  public boolean rawAscii(CharSequence value) {
    int n = value.length();
    ensure(n);
    byte[] b = buf;
    int p = pos;
    // No early exit: the loop stays a plain copy the JIT unrolls; non-ASCII is rare and only costs
    // the
    // bytes written past pos, which the next write overwrites.
    int seen = 0;
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      seen |= c;
      b[p + i] = (byte) c;
    }
    if (seen >= 0x80) {
      return false;
    }
    pos = p + n;
    return true;
  }

  /**
   * Drops what was written after the writer's {@link #size()} was {@code mark}, to rewrite it.
   *
   * @throws IllegalStateException when a nested message was begun after {@code mark} (its length
   *     slot would be lost), or when {@code mark} is not between 0 and {@link #size()}
   */
  public ProtoWriter truncate(int mark) {
    if (mark < 0 || mark > pos) {
      throw new IllegalStateException(
          "mark " + mark + " is not within the " + pos + " bytes written");
    }
    if (fixups > 0 && slotPos[fixups - 1] >= mark) {
      throw new IllegalStateException("a nested message was begun after mark " + mark);
    }
    pos = mark;
    return this;
  }

  public ProtoWriter bytes(int field, byte[] value) {
    return bytes(field, value, 0, value.length);
  }

  public ProtoWriter bytes(int field, byte[] value, int offset, int length) {
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    rawVarint32(length);
    return raw(value, offset, length);
  }

  /**
   * A length-delimited field copied from the readable bytes of {@code value}; the buffer is not
   * released.
   */
  public ProtoWriter bytes(int field, ByteBuf value) {
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    int length = value.readableBytes();
    rawVarint32(length);
    ensure(length);
    value.getBytes(value.readerIndex(), buf, pos, length);
    pos += length;
    return this;
  }

  /**
   * A length-delimited field copied from the remaining bytes of {@code value}; its position is
   * unchanged.
   */
  public ProtoWriter bytes(int field, ByteBuffer value) {
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    int length = value.remaining();
    rawVarint32(length);
    ensure(length);
    value.duplicate().get(buf, pos, length);
    pos += length;
    return this;
  }

  /** A packed repeated fixed64 / sfixed64 field; nothing is written for an empty array. */
  public ProtoWriter packedFixed64(int field, long[] values) {
    if (values.length == 0) {
      return this;
    }
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    rawVarint32(values.length * 8);
    ensure(values.length * 8);
    for (long v : values) {
      rawFixed64(v);
    }
    return this;
  }

  /** A packed repeated double field; nothing is written for an empty array. */
  public ProtoWriter packedDouble(int field, double[] values) {
    if (values.length == 0) {
      return this;
    }
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    rawVarint32(values.length * 8);
    ensure(values.length * 8);
    for (double v : values) {
      rawFixed64(Double.doubleToRawLongBits(v));
    }
    return this;
  }

  /** A packed repeated uint64 field; nothing is written for an empty array. */
  public ProtoWriter packedUInt64(int field, long[] values) {
    if (values.length == 0) {
      return this;
    }
    int length = 0;
    for (long v : values) {
      length += varintSize(v);
    }
    tag(field, WIRETYPE_LENGTH_DELIMITED);
    rawVarint32(length);
    for (long v : values) {
      rawVarint64(v);
    }
    return this;
  }

  // ---------------------------------------------------------------- raw

  /** Copies already-encoded bytes (whole fields, or a field's content after its tag and length). */
  public ProtoWriter raw(byte[] bytes, int offset, int length) {
    ensure(length);
    System.arraycopy(bytes, offset, buf, pos, length);
    pos += length;
    return this;
  }

  /** Copies the readable bytes of {@code bytes} without changing its indexes or releasing it. */
  public ProtoWriter raw(ByteBuf bytes) {
    int length = bytes.readableBytes();
    ensure(length);
    bytes.getBytes(bytes.readerIndex(), buf, pos, length);
    pos += length;
    return this;
  }

  public ProtoWriter rawVarint32(int value) {
    ensure(5);
    if ((value & ~0x7F) == 0) {
      // One byte: every tag below field 16 and most lengths; kept out of the loop on the hot path.
      buf[pos++] = (byte) value;
      return this;
    }
    pos = putVarint32(buf, pos, value);
    return this;
  }

  /**
   * The UTF-8 bytes of {@code value} with no tag and no length, for callers that wrote the length
   * themselves; {@code utf8Length} must be {@link #utf8Length(CharSequence) utf8Length(value)}.
   * Lets a caller size a small message (a key-value pair, say) up front and write its header
   * directly instead of opening a nested message.
   */
  public ProtoWriter rawUtf8(CharSequence value, int utf8Length) {
    ensure(utf8Length);
    int start = pos;
    pos = Utf8Text.encodeUtf8(value, buf, start);
    if (pos - start != utf8Length) {
      throw new IllegalArgumentException(
          "utf8Length " + utf8Length + " is not the UTF-8 length of the value, " + (pos - start));
    }
    return this;
  }

  public ProtoWriter rawVarint64(long value) {
    ensure(10);
    byte[] b = buf;
    int p = pos;
    while ((value & ~0x7FL) != 0) {
      b[p++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    b[p++] = (byte) value;
    pos = p;
    return this;
  }

  public ProtoWriter rawFixed64(long value) {
    ensure(8);
    byte[] b = buf;
    int p = pos;
    for (int i = 0; i < 8; i++) {
      b[p + i] = (byte) (value >>> (8 * i));
    }
    pos = p + 8;
    return this;
  }

  public ProtoWriter rawFixed32(int value) {
    ensure(4);
    byte[] b = buf;
    int p = pos;
    b[p] = (byte) value;
    b[p + 1] = (byte) (value >>> 8);
    b[p + 2] = (byte) (value >>> 16);
    b[p + 3] = (byte) (value >>> 24);
    pos = p + 4;
    return this;
  }

  // ---------------------------------------------------------------- output

  /**
   * The number of bytes written. Exact after {@link #finish()}; while nested messages are open or
   * unfinished it includes their reserved length slots.
   */
  public int size() {
    return pos;
  }

  /** Finishes and returns the internal array; the message is its first {@link #size()} bytes. */
  public byte[] array() {
    finish();
    return buf;
  }

  /** Finishes and returns a copy of the encoded message. */
  public byte[] toByteArray() {
    finish();
    return Arrays.copyOf(buf, pos);
  }

  /**
   * Finishes and writes the encoded message into {@code out}; ownership of {@code out} stays with
   * the caller.
   */
  public ByteBuf writeTo(ByteBuf out) {
    finish();
    return out.writeBytes(buf, 0, pos);
  }

  // ---------------------------------------------------------------- helpers

  private void ensure(int extra) {
    int needed = pos + extra;
    if (needed < 0) {
      throw new IllegalStateException("message larger than 2 GiB");
    }
    if (needed > buf.length) {
      int grown = Math.max(needed, buf.length + (buf.length >> 1));
      buf = Arrays.copyOf(buf, grown < 0 ? Integer.MAX_VALUE - 8 : grown);
    }
  }

  private static int putVarint32(byte[] b, int p, int value) {
    while ((value & ~0x7F) != 0) {
      b[p++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    b[p++] = (byte) value;
    return p;
  }

  /** The encoded size of {@code value} as an unsigned varint (1 to 5 bytes). */
  public static int varintSize(int value) {
    if ((value & ~0x7F) == 0) {
      return 1;
    }
    if ((value & ~0x3FFF) == 0) {
      return 2;
    }
    if ((value & ~0x1FFFFF) == 0) {
      return 3;
    }
    if ((value & ~0xFFFFFFF) == 0) {
      return 4;
    }
    return 5;
  }

  /** The encoded size of {@code value} as an unsigned 64-bit varint (1 to 10 bytes). */
  public static int varintSize(long value) {
    int bits = 64 - Long.numberOfLeadingZeros(value | 1);
    return (bits + 6) / 7;
  }

  /**
   * The number of bytes {@code s} takes in UTF-8; an unpaired surrogate counts as one byte ('?').
   */
  public static int utf8Length(CharSequence s) {
    return Utf8Text.utf8Length(s);
  }
}
