package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import java.nio.ByteBuffer;

/**
 * A reusable, read-only view of an encoded {@code AnyValue} (an attribute's value or a log body),
 * for {@link ElementView}: reading its type and scalar value allocates nothing. As protobuf does,
 * the last member of the {@code value} oneof that arrived wins.
 *
 * <p>A view is valid during the {@link EditPolicy} callback that filled it, until it is filled
 * again. {@link #ValueView()} makes a spare one for {@link ElementView#attribute(byte[],
 * ValueView)}, so that a policy can hold two values at once. Not thread-safe.
 */
public final class ValueView {
  /** The member of the {@code value} oneof that is set. */
  public enum Type {
    /** No such attribute (or no body). */
    ABSENT,
    /**
     * Present, with no member of the oneof set (or only the profiles-only {@code
     * string_value_strindex}).
     */
    EMPTY,
    STRING,
    BOOL,
    INT,
    DOUBLE,
    ARRAY,
    KVLIST,
    BYTES
  }

  private ByteBuffer b;
  private Type type = Type.ABSENT;
  private int valuePos;
  private int valueLength;

  /** The whole AnyValue's content, for {@link #encoded()}. */
  private int anyStart;

  private int anyEnd;
  private final TextView text = new TextView();

  /**
   * An empty ({@link Type#ABSENT}) view to pass to {@link ElementView#attribute(byte[],
   * ValueView)}.
   */
  public ValueView() {}

  ValueView absent() {
    type = Type.ABSENT;
    return this;
  }

  /**
   * Points the view at the AnyValue whose content is {@code [start, end)} (already bounds-checked).
   */
  ValueView set(ByteBuffer b, int start, int end, int base) {
    this.b = b;
    type = Type.EMPTY;
    anyStart = start;
    anyEnd = end;
    int p = start;
    while (p < end) {
      int tagPos = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int tag = value(r);
      int valueStart = p;
      p = skipValue(b, tag & 7, tagPos, p, end, base);
      Type t =
          switch (tag) {
            case (1 << 3) | 2 -> Type.STRING;
            case (2 << 3) -> Type.BOOL;
            case (3 << 3) -> Type.INT;
            case (4 << 3) | 1 -> Type.DOUBLE;
            case (5 << 3) | 2 -> Type.ARRAY;
            case (6 << 3) | 2 -> Type.KVLIST;
            case (7 << 3) | 2 -> Type.BYTES;
            // string_value_strindex: profiles only; other signals treat the value as empty (the
            // spec's advice)
            case (8 << 3) -> Type.EMPTY;
            default -> null;
          };
      if (t != null) {
        type = t;
        if ((tag & 7) == 2) {
          long lr = readLength(b, valueStart, end, base);
          valuePos = pos(lr);
          valueLength = value(lr);
        } else {
          valuePos = valueStart;
        }
      }
    }
    return this;
  }

  public Type type() {
    return type;
  }

  /** Whether there was a value to view (an attribute with the key, a body). */
  public boolean isPresent() {
    return type != Type.ABSENT;
  }

  /** The string value; absent (empty) unless {@link #type()} is {@link Type#STRING}. */
  public TextView stringValue() {
    return type == Type.STRING ? text.set(b, valuePos, valueLength) : text.absent();
  }

  /**
   * The number of content bytes of a string value (its UTF-8 encoding) or a bytes value; 0 for
   * other types. With {@link #rawByte} it lets a caller hash or compare a value without a copy.
   */
  public int rawLength() {
    return type == Type.STRING || type == Type.BYTES ? valueLength : 0;
  }

  /**
   * Content byte {@code i} of a string or bytes value (see {@link #rawLength()}).
   *
   * @throws IndexOutOfBoundsException when {@code i} is not below {@link #rawLength()}
   */
  public byte rawByte(int i) {
    if (i < 0 || i >= rawLength()) {
      throw new IndexOutOfBoundsException(i);
    }
    return b.get(valuePos + i);
  }

  /** The bool value; false unless {@link #type()} is {@link Type#BOOL}. */
  public boolean boolValue() {
    return type == Type.BOOL && readVarint64(b, valuePos) != 0;
  }

  /** The int value; 0 unless {@link #type()} is {@link Type#INT}. */
  public long intValue() {
    return type == Type.INT ? readVarint64(b, valuePos) : 0;
  }

  /** The double value; 0 unless {@link #type()} is {@link Type#DOUBLE}. */
  public double doubleValue() {
    return type == Type.DOUBLE ? Double.longBitsToDouble(fixed64(b, valuePos)) : 0;
  }

  /**
   * A copy of the encoded {@code AnyValue} message (its fields, no tag or length); empty when
   * absent.
   */
  byte[] encoded() {
    if (type == Type.ABSENT) {
      return new byte[0];
    }
    byte[] copy = new byte[anyEnd - anyStart];
    for (int i = 0; i < copy.length; i++) {
      copy[i] = b.get(anyStart + i);
    }
    return copy;
  }

  /**
   * A varint already bounds-checked by {@link WireReader#skipValue} (at most ten bytes, inside the
   * message).
   */
  static long readVarint64(ByteBuffer b, int p) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int x = b.get(p++);
      result |= (long) (x & 0x7F) << shift;
      if (x >= 0) {
        break;
      }
    }
    return result;
  }

  /** A little-endian fixed64 already bounds-checked. */
  static long fixed64(ByteBuffer b, int p) {
    long x = b.getLong(p);
    return b.order() == java.nio.ByteOrder.LITTLE_ENDIAN ? x : Long.reverseBytes(x);
  }
}
