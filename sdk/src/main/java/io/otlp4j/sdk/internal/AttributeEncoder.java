package io.otlp4j.sdk.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributeType;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.internal.InternalAttributeKeyImpl;
import io.otlp4j.wire.ProtoWriter;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The part of {@link TelemetryEncoder} every signal shares: the OTLP field numbers of the request
 * structure and of {@code KeyValue}/{@code AnyValue}, attributes and attribute values, and the
 * scalar fields (proto3 defaults skipped, as the SDK's marshalers do), all written into {@link
 * #out}.
 *
 * <h2>Allocation</h2>
 *
 * Walks attributes with itself as the {@link BiConsumer} so that no lambda is allocated; attribute
 * keys are copied from the UTF-8 bytes the API caches in each key; ids are decoded from hex into a
 * scratch array the encoder keeps. Its methods are final, so the subclasses' calls bind statically.
 *
 * <p>Not thread-safe (one encoder per thread, see {@link OtlpMarshaler}).
 */
abstract class AttributeEncoder implements BiConsumer<AttributeKey<?>, Object> {
  // ExportXServiceRequest.resource_x, ResourceX.{resource, scope_x, schema_url}, ScopeX.{scope,
  // items, schema_url}
  static final int REQUEST_RESOURCE = 1;
  static final int RESOURCE_RESOURCE = 1;
  static final int RESOURCE_SCOPES = 2;
  static final int RESOURCE_SCHEMA_URL = 3;
  static final int SCOPE_SCOPE = 1;
  static final int SCOPE_ITEMS = 2;
  static final int SCOPE_SCHEMA_URL = 3;

  static final int KEY_VALUE_KEY = 1;
  static final int KEY_VALUE_VALUE = 2;
  static final int ANY_STRING = 1;
  static final int ANY_BOOL = 2;
  static final int ANY_INT = 3;
  static final int ANY_DOUBLE = 4;
  static final int ANY_ARRAY = 5;
  static final int ANY_KVLIST = 6;
  static final int ANY_BYTES = 7;
  static final int LIST_VALUES = 1;

  private static final byte[] HEX_VALUES = new byte[128];

  static {
    java.util.Arrays.fill(HEX_VALUES, (byte) 0);
    for (int i = 0; i < 10; i++) {
      HEX_VALUES['0' + i] = (byte) i;
    }
    for (int i = 0; i < 6; i++) {
      HEX_VALUES['a' + i] = (byte) (10 + i);
      HEX_VALUES['A' + i] = (byte) (10 + i);
    }
  }

  final ProtoWriter out;
  private final byte[] idScratch = new byte[16];

  // Field number of the KeyValue being written by accept(); set around Attributes.forEach.
  private int attributeField;

  AttributeEncoder(ProtoWriter out) {
    this.out = out;
  }

  // ================================================================ attributes and values

  final void attributes(int field, Attributes attributes) {
    if (attributes.isEmpty()) {
      return;
    }
    int saved = attributeField;
    attributeField = field;
    attributes.forEach(this);
    attributeField = saved;
  }

  /**
   * One attribute as a {@code KeyValue}: the callback of {@link Attributes#forEach}. A scalar
   * value's {@code KeyValue} and {@code AnyValue} are sized up front and their headers written
   * directly, so the writer has no nested lengths to close for them (the most common messages of a
   * request); arrays and complex values are opened as nested messages.
   */
  @Override
  public final void accept(AttributeKey<?> key, Object value) {
    ProtoWriter w = out;
    String name = key.getKey();
    byte[] keyUtf8 = null;
    int keyLength = 0;
    if (!name.isEmpty()) {
      if (key instanceof InternalAttributeKeyImpl) {
        keyUtf8 = ((InternalAttributeKeyImpl<?>) key).getKeyUtf8();
        keyLength = keyUtf8.length;
      } else {
        keyLength = ProtoWriter.utf8Length(name);
      }
    }
    AttributeType type = key.getType();
    if (type == AttributeType.STRING) {
      String text = (String) value;
      // One pass for ASCII text: sized as if ASCII, rewritten exactly only when it is not.
      int mark = w.size();
      stringAttribute(name, keyUtf8, keyLength, text.length());
      if (w.rawAscii(text)) {
        return;
      }
      w.truncate(mark);
      int utf8Length = ProtoWriter.utf8Length(text);
      stringAttribute(name, keyUtf8, keyLength, utf8Length);
      w.rawUtf8(text, utf8Length);
      return;
    }
    int anyLength;
    switch (type) {
      case BOOLEAN:
        anyLength = 2;
        break;
      case LONG:
        anyLength = 1 + ProtoWriter.varintSize((long) (Long) value);
        break;
      case DOUBLE:
        anyLength = 9;
        break;
      default:
        w.begin(attributeField);
        key(name, keyUtf8, keyLength);
        w.begin(KEY_VALUE_VALUE);
        attributeValue(type, value);
        w.end();
        w.end();
        return;
    }
    int keyField = name.isEmpty() ? 0 : 1 + ProtoWriter.varintSize(keyLength) + keyLength;
    w.tag(attributeField, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
        .rawVarint32(keyField + 1 + ProtoWriter.varintSize(anyLength) + anyLength);
    key(name, keyUtf8, keyLength);
    w.tag(KEY_VALUE_VALUE, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(anyLength);
    switch (type) {
      case BOOLEAN:
        w.bool(ANY_BOOL, (Boolean) value);
        break;
      case LONG:
        w.int64(ANY_INT, (Long) value);
        break;
      default:
        w.doubleField(ANY_DOUBLE, (Double) value);
        break;
    }
  }

  /** A string attribute's headers up to its text, for text of {@code utf8Length} bytes. */
  final void stringAttribute(String name, byte[] keyUtf8, int keyLength, int utf8Length) {
    int anyLength = 1 + ProtoWriter.varintSize(utf8Length) + utf8Length;
    int keyField = name.isEmpty() ? 0 : 1 + ProtoWriter.varintSize(keyLength) + keyLength;
    ProtoWriter w = out;
    w.tag(attributeField, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
        .rawVarint32(keyField + 1 + ProtoWriter.varintSize(anyLength) + anyLength);
    key(name, keyUtf8, keyLength);
    w.tag(KEY_VALUE_VALUE, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(anyLength);
    w.tag(ANY_STRING, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(utf8Length);
  }

  /**
   * The key field of a {@code KeyValue}: the API's cached UTF-8 bytes where it has them; none if
   * empty.
   */
  final void key(String name, byte[] keyUtf8, int keyLength) {
    if (name.isEmpty()) {
      return;
    }
    ProtoWriter w = out;
    w.tag(KEY_VALUE_KEY, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(keyLength);
    if (keyUtf8 != null) {
      w.raw(keyUtf8, 0, keyLength);
    } else {
      w.rawUtf8(name, keyLength);
    }
  }

  final void attributeValue(AttributeType type, Object value) {
    ProtoWriter w = out;
    switch (type) {
      case STRING:
        w.string(ANY_STRING, (String) value);
        break;
      case BOOLEAN:
        w.bool(ANY_BOOL, (Boolean) value);
        break;
      case LONG:
        w.int64(ANY_INT, (Long) value);
        break;
      case DOUBLE:
        w.doubleField(ANY_DOUBLE, (Double) value);
        break;
      case STRING_ARRAY:
      case BOOLEAN_ARRAY:
      case LONG_ARRAY:
      case DOUBLE_ARRAY:
        w.begin(ANY_ARRAY);
        List<?> list = (List<?>) value;
        for (int i = 0, n = list.size(); i < n; i++) {
          w.begin(LIST_VALUES);
          Object element = list.get(i);
          switch (type) {
            case STRING_ARRAY:
              w.string(ANY_STRING, (String) element);
              break;
            case BOOLEAN_ARRAY:
              w.bool(ANY_BOOL, (Boolean) element);
              break;
            case LONG_ARRAY:
              w.int64(ANY_INT, (Long) element);
              break;
            default:
              w.doubleField(ANY_DOUBLE, (Double) element);
              break;
          }
          w.end();
        }
        w.end();
        break;
      case VALUE:
        anyValueContent((Value<?>) value);
        break;
      default:
        throw new IllegalArgumentException("Unsupported attribute type " + type);
    }
  }

  /** The fields of an {@code AnyValue} holding {@code value} (the caller opened the message). */
  @SuppressWarnings("unchecked")
  final void anyValueContent(Value<?> value) {
    ProtoWriter w = out;
    switch (value.getType()) {
      case STRING:
        w.string(ANY_STRING, (String) value.getValue());
        break;
      case BOOLEAN:
        w.bool(ANY_BOOL, (Boolean) value.getValue());
        break;
      case LONG:
        w.int64(ANY_INT, (Long) value.getValue());
        break;
      case DOUBLE:
        w.doubleField(ANY_DOUBLE, (Double) value.getValue());
        break;
      case ARRAY:
        w.begin(ANY_ARRAY);
        List<Value<?>> values = (List<Value<?>>) value.getValue();
        for (int i = 0, n = values.size(); i < n; i++) {
          w.begin(LIST_VALUES);
          anyValueContent(values.get(i));
          w.end();
        }
        w.end();
        break;
      case KEY_VALUE_LIST:
        w.begin(ANY_KVLIST);
        List<KeyValue> entries = (List<KeyValue>) value.getValue();
        for (int i = 0, n = entries.size(); i < n; i++) {
          KeyValue entry = entries.get(i);
          w.begin(LIST_VALUES);
          string(KEY_VALUE_KEY, entry.getKey());
          w.begin(KEY_VALUE_VALUE);
          anyValueContent(entry.getValue());
          w.end();
          w.end();
        }
        w.end();
        break;
      case BYTES:
        w.bytes(ANY_BYTES, (ByteBuffer) value.getValue());
        break;
      default: // EMPTY: an AnyValue with no value set
        break;
    }
  }

  // ================================================================ scalars (proto3 defaults
  // skipped)

  /**
   * A message in {@code field} holding only {@code text} in its field {@code inner} (an AnyValue
   * with a string, say), sized up front; one pass for ASCII text.
   */
  final void stringInMessage(int field, int inner, String text) {
    ProtoWriter w = out;
    int mark = w.size();
    int n = text.length();
    w.tag(field, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
        .rawVarint32(1 + ProtoWriter.varintSize(n) + n);
    w.tag(inner, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(n);
    if (w.rawAscii(text)) {
      return;
    }
    w.truncate(mark);
    int length = ProtoWriter.utf8Length(text);
    w.tag(field, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
        .rawVarint32(1 + ProtoWriter.varintSize(length) + length);
    w.tag(inner, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(length).rawUtf8(text, length);
  }

  final void string(int field, String value) {
    if (value != null && !value.isEmpty()) {
      out.string(field, value);
    }
  }

  final void fixed64(int field, long value) {
    if (value != 0) {
      out.fixed64(field, value);
    }
  }

  final void uint32(int field, int value) {
    if (value != 0) {
      out.uint32(field, value);
    }
  }

  /** A double skipped when it equals zero (-0.0 included), as the SDK's serializer does. */
  final void doubleNonZero(int field, double value) {
    if (value != 0D) {
      out.doubleField(field, value);
    }
  }

  final void traceId(int field, String hex) {
    hexBytes(field, hex, 16);
  }

  final void spanId(int field, String hex) {
    hexBytes(field, hex, 8);
  }

  final void hexBytes(int field, String hex, int length) {
    if (hex == null) {
      return;
    }
    byte[] b = idScratch;
    byte[] values = HEX_VALUES;
    for (int i = 0; i < length; i++) {
      char hi = hex.charAt(2 * i);
      char lo = hex.charAt(2 * i + 1);
      b[i] = (byte) ((values[hi & 0x7f] << 4) | values[lo & 0x7f]);
    }
    out.bytes(field, b, 0, length);
  }
}
