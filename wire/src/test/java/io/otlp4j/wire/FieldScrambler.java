package io.otlp4j.wire;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.opentelemetry.proto.common.v1.KeyValue;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Encodes a request the way protobuf writers do not, but protobuf readers accept: every item (span,
 * metric, log record) with its attribute fields split around its other fields (some before, the
 * rest after), and each attribute's {@code KeyValue} in one of several layouts (the usual key then
 * value; value then key; a first key that a second one overrides; an unknown field after the value;
 * the value's length as a non-minimal two- or three-byte varint; the key's length as a two-byte
 * one). {@code Resource*} / {@code Scope*} messages get their children after their other fields.
 * The bytes parse (with protobuf-java) to a request that has the same elements, attributes and
 * values as the input; compare an edit's result with the parse of these bytes, not with the input.
 *
 * <p>It reaches the paths of {@link RequestEditor} and {@link ElementView} that the usual layout
 * never takes (and the fast ones that assume it, when it holds).
 */
final class FieldScrambler {
  private final SplittableRandom random;

  FieldScrambler(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** {@code request} (an {@code Export*ServiceRequest} of {@code signal}) scrambled. */
  byte[] scramble(Signal signal, Message request) {
    int attributeField =
        switch (signal) {
          case TRACES -> 9;
          case METRICS -> 12;
          default -> 6;
        };
    return container(
        request,
        1,
        resource ->
            container(
                resource, 2, scope -> container(scope, 2, item -> item(item, attributeField))));
  }

  /**
   * {@code m}'s other fields, then each child of {@code childField} as {@code child} encodes it.
   */
  private static byte[] container(Message m, int childField, Function<Message, byte[]> child) {
    FieldDescriptor fd = m.getDescriptorForType().findFieldByNumber(childField);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      m.toBuilder().clearField(fd).build().writeTo(bytes);
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      for (Object o : (List<?>) m.getField(fd)) {
        out.writeByteArray(childField, child.apply((Message) o));
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private byte[] item(Message item, int attributeField) {
    FieldDescriptor fd = item.getDescriptorForType().findFieldByNumber(attributeField);
    @SuppressWarnings("unchecked")
    List<KeyValue> attributes = (List<KeyValue>) item.getField(fd);
    int before = random.nextInt(attributes.size() + 1);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      for (int i = 0; i < before; i++) {
        out.writeByteArray(attributeField, keyValue(attributes.get(i)));
      }
      out.flush();
      item.toBuilder().clearField(fd).build().writeTo(bytes);
      for (int i = before; i < attributes.size(); i++) {
        out.writeByteArray(attributeField, keyValue(attributes.get(i)));
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private byte[] keyValue(KeyValue kv) {
    byte[] key = kv.getKey().getBytes(StandardCharsets.UTF_8);
    byte[] value = kv.hasValue() ? kv.getValue().toByteArray() : null;
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int layout = random.nextInt(10);
    switch (layout) {
      case 0 -> { // value, then key
        field(b, 2, value, 1);
        field(b, 1, key, 1);
      }
      case 1 -> { // a first key, overridden by the second
        field(b, 1, "x".getBytes(StandardCharsets.UTF_8), 1);
        field(b, 1, key, 1);
        field(b, 2, value, 1);
      }
      case 2 -> { // an unknown field after the value
        field(b, 1, key, 1);
        field(b, 2, value, 1);
        b.write(3 << 3);
        b.write(1);
      }
      case 3 -> { // the value's length in two bytes
        field(b, 1, key, 1);
        field(b, 2, value, 2);
      }
      case 4 -> { // the value's length in three bytes
        field(b, 1, key, 1);
        field(b, 2, value, 3);
      }
      case 5 -> { // the key's length in two bytes
        field(b, 1, key, 2);
        field(b, 2, value, 1);
      }
      default -> { // the usual layout
        field(b, 1, key, 1);
        field(b, 2, value, 1);
      }
    }
    return b.toByteArray();
  }

  /**
   * A length-delimited field ({@code content} null: none) whose length takes at least {@code
   * minLengthBytes} bytes (non-minimal varints read as the same number).
   */
  private static void field(ByteArrayOutputStream b, int number, byte[] content, int minBytes) {
    if (content == null) {
      return;
    }
    b.write((number << 3) | 2);
    int v = content.length;
    int written = 0;
    while ((v & ~0x7F) != 0 || written + 1 < minBytes) {
      b.write((v & 0x7F) | 0x80);
      v >>>= 7;
      written++;
    }
    b.write(v);
    b.write(content, 0, content.length);
  }
}
