package io.otlp4j.wire;

import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One attribute (an OTLP {@code KeyValue}) encoded once, to be added to or set in an {@link
 * AttributeList} any number of times: adding it copies its bytes into the edited request and
 * allocates nothing. Build these when configuring a processor, not per item.
 *
 * <p>Immutable and thread-safe.
 */
public final class EncodedAttribute {
  private final byte[] keyValue;
  private final byte[] key;

  /**
   * A view of {@link #keyValue} for reading it like input; only absolute reads, so shared safely.
   */
  final ByteBuffer buffer;

  private EncodedAttribute(byte[] keyValue, byte[] key) {
    this.keyValue = keyValue;
    this.key = key;
    this.buffer = ByteBuffer.wrap(keyValue).asReadOnlyBuffer();
  }

  /** {@code key} with a string value. */
  public static EncodedAttribute of(String key, String value) {
    requireNonNull(value, "value");
    return build(key, new ProtoWriter().string(1, value));
  }

  /** {@code key} with an int value. */
  public static EncodedAttribute of(String key, long value) {
    return build(key, new ProtoWriter().int64(3, value));
  }

  /** {@code key} with a double value. */
  public static EncodedAttribute of(String key, double value) {
    return build(key, new ProtoWriter().doubleField(4, value));
  }

  /** {@code key} with a bool value. */
  public static EncodedAttribute of(String key, boolean value) {
    return build(key, new ProtoWriter().bool(2, value));
  }

  /**
   * {@code key} with a copy of {@code value}, as it arrived (any type, nested values included),
   * such as another attribute's value; the value's bytes were walked with the request they came
   * from.
   */
  public static EncodedAttribute of(String key, ValueView value) {
    requireNonNull(value, "value");
    if (!value.isPresent()) {
      throw new IllegalArgumentException("value must be present");
    }
    return build(key, value.encoded());
  }

  /**
   * An attribute from the encoding of a {@code KeyValue} message (its fields, without a tag or
   * length before them), such as {@code KeyValue.toByteArray()}; the array is copied.
   *
   * @throws WireFormatException when the bytes are not a well-formed message with a key field
   */
  public static EncodedAttribute ofEncoded(byte[] keyValueMessage) {
    byte[] copy = keyValueMessage.clone();
    ByteBuffer b = ByteBuffer.wrap(copy);
    byte[] key = null;
    int p = 0;
    while (p < copy.length) {
      int tagPos = p;
      long r = readTag(b, p, copy.length, 0);
      p = pos(r);
      int tag = value(r);
      int valueStart = p;
      p = skipValue(b, tag & 7, tagPos, p, copy.length, 0);
      if (tag == ((1 << 3) | 2)) {
        long lr = readLength(b, valueStart, copy.length, 0);
        WireReader.checkUtf8(b, copy, pos(lr), pos(lr) + value(lr), 0, 1);
        key = Arrays.copyOfRange(copy, pos(lr), pos(lr) + value(lr));
      }
    }
    if (key == null) {
      throw new WireFormatException(-1, "a KeyValue without a key");
    }
    // Every nested value must parse too: walk it as the attribute of a minimal resource.
    byte[] request = new ProtoWriter().begin(1).begin(1).bytes(1, copy).end().end().toByteArray();
    OtlpWalker.create().walk(Signal.TRACES, request);
    return new EncodedAttribute(copy, key);
  }

  private static EncodedAttribute build(String key, ProtoWriter anyValue) {
    return build(key, anyValue.toByteArray());
  }

  private static EncodedAttribute build(String key, byte[] value) {
    requireNonNull(key, "key");
    byte[] keyValue = new ProtoWriter().string(1, key).bytes(2, value).toByteArray();
    return new EncodedAttribute(keyValue, key.getBytes(StandardCharsets.UTF_8));
  }

  /** The key, UTF-8 encoded (a copy). */
  public byte[] keyUtf8() {
    return key.clone();
  }

  /** The key. */
  public String key() {
    return new String(key, StandardCharsets.UTF_8);
  }

  /** The encoded {@code KeyValue} message (a copy). */
  public byte[] toByteArray() {
    return keyValue.clone();
  }

  byte[] keyBytes() {
    return key;
  }

  byte[] keyValueBytes() {
    return keyValue;
  }

  private static void requireNonNull(Object value, String name) {
    if (value == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
  }

  @Override
  public String toString() {
    return "EncodedAttribute[" + key() + "]";
  }
}
