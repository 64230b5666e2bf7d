package io.otlp4j.wire;

import static io.otlp4j.wire.OtlpJsonSchema.BOOL;
import static io.otlp4j.wire.OtlpJsonSchema.BYTES;
import static io.otlp4j.wire.OtlpJsonSchema.DOUBLE;
import static io.otlp4j.wire.OtlpJsonSchema.ENUM;
import static io.otlp4j.wire.OtlpJsonSchema.FIXED32;
import static io.otlp4j.wire.OtlpJsonSchema.FIXED64;
import static io.otlp4j.wire.OtlpJsonSchema.HEX_ID;
import static io.otlp4j.wire.OtlpJsonSchema.INT32;
import static io.otlp4j.wire.OtlpJsonSchema.INT64;
import static io.otlp4j.wire.OtlpJsonSchema.MESSAGE;
import static io.otlp4j.wire.OtlpJsonSchema.SFIXED64;
import static io.otlp4j.wire.OtlpJsonSchema.SINT32;
import static io.otlp4j.wire.OtlpJsonSchema.STRING;
import static io.otlp4j.wire.OtlpJsonSchema.UINT32;
import static io.otlp4j.wire.OtlpJsonSchema.UINT64;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.otlp4j.wire.OtlpJsonSchema.Field;
import io.otlp4j.wire.OtlpJsonSchema.MessageType;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * One OTLP/JSON to protobuf transcoding: reads tokens from a Jackson parser and writes the fields
 * straight into a {@link ProtoWriter}, with no object tree in between.
 *
 * <p>Recursion follows the message nesting, which the schema bounds except for {@code AnyValue}
 * (arrays and key-value lists inside values); it is capped at {@link OtlpJson#MAX_NESTING_DEPTH}.
 * Values of unknown keys are skipped by Jackson's iterative {@code skipChildren}, whose nesting the
 * factory's read constraints bound. Strings reach the writer through a reused scratch array rather
 * than a {@code String} per value (see {@link JsonStringDecoder}). Not thread-safe: one instance
 * per call.
 */
final class JsonToProtobuf {
  private static final int MAX_NUMBER_TEXT = 128;
  private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);

  private final JsonParser p;
  private final ProtoWriter out;
  private final JsonStringDecoder strings;

  JsonToProtobuf(JsonParser parser, ProtoWriter out) {
    this.p = parser;
    this.out = out;
    this.strings = new JsonStringDecoder(parser);
  }

  /** Reads one whole request document: a JSON object, and nothing after it. */
  void readRequest(MessageType request) throws IOException {
    JsonToken t = p.nextToken();
    if (t == null) {
      throw error("empty input: expected a JSON object");
    }
    if (t != JsonToken.START_OBJECT) {
      throw error("expected a JSON object at the top level, found " + describe(t));
    }
    readMessage(request, 0);
    if (p.nextToken() != null) {
      throw error("unexpected content after the top-level JSON object");
    }
  }

  // ---------------------------------------------------------------- messages

  /**
   * Reads the fields of an object whose START_OBJECT is the current token, up to its END_OBJECT;
   * {@code depth} is its nesting level (the request is 0).
   */
  private void readMessage(MessageType type, int depth) throws IOException {
    long seen = 0;
    int oneofsSeen = 0;
    String name;
    while ((name = p.nextFieldName()) != null) {
      Field f = type.field(name);
      JsonToken t = p.nextToken();
      if (f == null) {
        // Unknown key: skip its value whatever it is (iteratively, bounded by the read
        // constraints).
        p.skipChildren();
        continue;
      }
      if (t == JsonToken.VALUE_NULL) {
        continue;
      }
      if ((seen & f.bit) != 0) {
        throw error("duplicate field " + f.describe());
      }
      seen |= f.bit;
      if (f.oneof >= 0) {
        int groupBit = 1 << f.oneof;
        if ((oneofsSeen & groupBit) != 0) {
          throw error(
              "more than one field of a oneof set in " + type.name + " (at " + f.jsonName + ")");
        }
        oneofsSeen |= groupBit;
      }
      if (f.repeated) {
        readRepeated(f, t, depth);
      } else {
        readSingle(f, t, depth);
      }
    }
    if (p.currentToken() != JsonToken.END_OBJECT) {
      throw error("expected a field name or '}' in " + type.name);
    }
  }

  private void readRepeated(Field f, JsonToken t, int depth) throws IOException {
    if (t != JsonToken.START_ARRAY) {
      throw error(f.describe() + " must be an array, found " + describe(t));
    }
    if (f.kind == MESSAGE || !f.packable()) {
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t == JsonToken.VALUE_NULL) {
          throw error(f.describe() + " has a null element");
        }
        readSingle(f, t, depth);
      }
      return;
    }
    // Packed numeric field: written only if it has elements, as protobuf-java does.
    t = p.nextToken();
    if (t == JsonToken.END_ARRAY) {
      return;
    }
    out.begin(f.number);
    do {
      if (t == JsonToken.VALUE_NULL) {
        throw error(f.describe() + " has a null element");
      }
      switch (f.kind) {
        case DOUBLE:
          out.rawFixed64(Double.doubleToRawLongBits(readDouble(f, t)));
          break;
        case FIXED64:
        case SFIXED64:
          out.rawFixed64(readInteger(f, t));
          break;
        case FIXED32:
          out.rawFixed32((int) readInteger(f, t));
          break;
        case SINT32:
          {
            int v = (int) readInteger(f, t);
            out.rawVarint32((v << 1) ^ (v >> 31));
            break;
          }
        case BOOL:
          out.rawVarint32(readBool(f, t) ? 1 : 0);
          break;
        case UINT32:
          out.rawVarint32((int) readInteger(f, t));
          break;
        default: // INT32, ENUM, INT64, UINT64: plain varints (negative int32 sign-extended)
          out.rawVarint64(f.kind == ENUM ? readEnum(f, t) : readInteger(f, t));
          break;
      }
    } while ((t = p.nextToken()) != JsonToken.END_ARRAY);
    out.end();
  }

  /** Reads one value of field {@code f} (a singular field, or one element of a repeated one). */
  private void readSingle(Field f, JsonToken t, int depth) throws IOException {
    // A repeated element is always written; a singular field without presence only when not
    // default.
    boolean always = f.presence || f.repeated;
    switch (f.kind) {
      case MESSAGE:
        {
          if (t != JsonToken.START_OBJECT) {
            throw error(f.describe() + " must be an object, found " + describe(t));
          }
          if (depth >= OtlpJson.MAX_NESTING_DEPTH) {
            throw error(
                "messages nested deeper than "
                    + OtlpJson.MAX_NESTING_DEPTH
                    + " levels (at "
                    + f.describe()
                    + ")");
          }
          out.begin(f.number);
          readMessage(f.message, depth + 1);
          out.end();
          return;
        }
      case STRING:
        {
          expectString(f, t);
          int length = p.getTextLength();
          if (length > 0 || always) {
            int n = strings.encodeUtf8(p.getTextCharacters(), p.getTextOffset(), length);
            out.bytes(f.number, strings.scratch, 0, n);
          }
          return;
        }
      case HEX_ID:
        {
          expectString(f, t);
          int length = p.getTextLength();
          if (length > 0) {
            strings.decodeHex(f, p.getTextCharacters(), p.getTextOffset(), length);
            out.bytes(f.number, strings.scratch, 0, f.idLength);
          }
          return;
        }
      case BYTES:
        {
          expectString(f, t);
          int n =
              strings.decodeBase64(f, p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
          if (n > 0 || always) {
            out.bytes(f.number, strings.scratch, 0, n);
          }
          return;
        }
      case BOOL:
        {
          boolean v = readBool(f, t);
          if (v || always) {
            out.bool(f.number, v);
          }
          return;
        }
      case DOUBLE:
        {
          double v = readDouble(f, t);
          // proto3 omits exactly +0.0; -0.0 has a bit set and is written.
          if (Double.doubleToRawLongBits(v) != 0 || always) {
            out.doubleField(f.number, v);
          }
          return;
        }
      case ENUM:
        {
          long v = readEnum(f, t);
          if (v != 0 || always) {
            out.int32(f.number, (int) v);
          }
          return;
        }
      default:
        break;
    }
    long v = readInteger(f, t);
    if (v == 0 && !always) {
      return;
    }
    switch (f.kind) {
      case INT32:
        out.int32(f.number, (int) v);
        break;
      case UINT32:
        out.uint32(f.number, (int) v);
        break;
      case SINT32:
        out.sint32(f.number, (int) v);
        break;
      case FIXED32:
        out.fixed32(f.number, (int) v);
        break;
      case INT64:
      case UINT64:
        out.int64(f.number, v);
        break;
      case FIXED64:
      case SFIXED64:
        out.fixed64(f.number, v);
        break;
      default:
        throw new AssertionError("kind " + f.kind);
    }
  }

  // ---------------------------------------------------------------- scalars

  private void expectString(Field f, JsonToken t) throws IOException {
    if (t != JsonToken.VALUE_STRING) {
      throw error(f.describe() + " must be a string, found " + describe(t));
    }
  }

  private boolean readBool(Field f, JsonToken t) throws IOException {
    if (t == JsonToken.VALUE_TRUE) {
      return true;
    }
    if (t == JsonToken.VALUE_FALSE) {
      return false;
    }
    if (t == JsonToken.VALUE_STRING) {
      // protobuf's JSON parser accepts the quoted literals as well.
      if (textEquals("true")) {
        return true;
      }
      if (textEquals("false")) {
        return false;
      }
    }
    throw error(f.describe() + " must be true or false, found " + describe(t));
  }

  /** An enum as its number, or (as protobuf JSON allows) its name; an unknown name reads as 0. */
  private long readEnum(Field f, JsonToken t) throws IOException {
    if (t == JsonToken.VALUE_STRING) {
      Integer number = f.enumType.numbersByName.get(p.getText());
      if (number != null) {
        return number;
      }
      if (!looksNumeric()) {
        // A name from a newer schema: ignored, as protobuf's JSON parser does when ignoring unknown
        // fields.
        return 0;
      }
    }
    return readInteger(f, t);
  }

  /**
   * An integer field's value from a JSON number or a decimal string, range-checked for the field's
   * type. 64-bit unsigned values above {@code Long.MAX_VALUE} come back as their two's-complement
   * bits.
   */
  private long readInteger(Field f, JsonToken t) throws IOException {
    if (t == JsonToken.VALUE_NUMBER_INT) {
      JsonParser.NumberType nt = p.getNumberType();
      if (nt == JsonParser.NumberType.INT || nt == JsonParser.NumberType.LONG) {
        return checkRange(f, p.getLongValue());
      }
      return checkRange(f, p.getBigIntegerValue());
    }
    if (t == JsonToken.VALUE_STRING) {
      long v = parseSmallDecimal(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
      if (v != Long.MIN_VALUE) {
        return checkRange(f, v);
      }
      return checkRange(f, integralValue(f));
    }
    if (t == JsonToken.VALUE_NUMBER_FLOAT) {
      return checkRange(f, integralValue(f));
    }
    throw error(
        f.describe() + " must be an integer (a number or a decimal string), found " + describe(t));
  }

  /**
   * The value of a plain decimal of at most 19 digits (every OTLP timestamp), or Long.MIN_VALUE
   * when the text is anything else or beyond the signed range: those take the exact, slower path.
   */
  private static long parseSmallDecimal(char[] c, int off, int len) {
    int i = off;
    int end = off + len;
    boolean negative = false;
    if (i < end && c[i] == '-') {
      negative = true;
      i++;
    }
    int digits = end - i;
    if (digits < 1 || digits > 19) {
      return Long.MIN_VALUE;
    }
    long v = 0;
    for (; i < end; i++) {
      int d = c[i] - '0';
      if (d < 0 || d > 9) {
        return Long.MIN_VALUE;
      }
      v = v * 10 + d; // below 10^19 < 2^64: no unsigned overflow
    }
    if (v < 0) {
      return Long.MIN_VALUE; // above Long.MAX_VALUE
    }
    return negative ? -v : v;
  }

  /**
   * The current token's text as an exact integer (it may be "1e3", "5.0", a long decimal string).
   */
  private BigInteger integralValue(Field f) throws IOException {
    int len = p.getTextLength();
    if (len > MAX_NUMBER_TEXT) {
      throw error(f.describe() + ": number too long (" + len + " characters)");
    }
    BigDecimal d;
    try {
      d = new BigDecimal(p.getTextCharacters(), p.getTextOffset(), len);
    } catch (NumberFormatException e) {
      throw error(f.describe() + " must be an integer, found '" + p.getText() + "'");
    }
    if (d.signum() == 0) {
      return BigInteger.ZERO;
    }
    // Guard before converting: "1e999999999" must not become a billion-digit integer, nor
    // "1e-999999999" a billion-digit division.
    d = d.stripTrailingZeros();
    if (d.scale() > 0) {
      throw error(f.describe() + " must be an integer, found '" + p.getText() + "'");
    }
    if (d.precision() - d.scale() > 20) {
      throw error(f.describe() + ": value out of range");
    }
    return d.toBigInteger();
  }

  private long checkRange(Field f, BigInteger v) throws IOException {
    if (v.bitLength() <= 63) {
      return checkRange(f, v.longValue());
    }
    if ((f.kind == FIXED64 || f.kind == UINT64) && v.signum() > 0 && v.compareTo(TWO_TO_64) < 0) {
      return v.longValue();
    }
    throw error(f.describe() + ": value out of range: " + v);
  }

  private long checkRange(Field f, long v) throws IOException {
    switch (f.kind) {
      case INT32:
      case ENUM:
      case SINT32:
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
          throw error(f.describe() + ": value out of range for a 32-bit integer: " + v);
        }
        return v;
      case UINT32:
      case FIXED32:
        if (v < 0 || v > 0xFFFF_FFFFL) {
          throw error(f.describe() + ": value out of range for an unsigned 32-bit integer: " + v);
        }
        return v;
      case UINT64:
      case FIXED64:
        if (v < 0) {
          throw error(f.describe() + ": negative value for an unsigned integer: " + v);
        }
        return v;
      default:
        return v;
    }
  }

  private double readDouble(Field f, JsonToken t) throws IOException {
    double v;
    if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
      v = p.getDoubleValue();
    } else if (t == JsonToken.VALUE_STRING) {
      if (textEquals("NaN")) {
        return Double.NaN;
      }
      if (textEquals("Infinity")) {
        return Double.POSITIVE_INFINITY;
      }
      if (textEquals("-Infinity")) {
        return Double.NEGATIVE_INFINITY;
      }
      if (!looksNumeric() || p.getTextLength() > MAX_NUMBER_TEXT) {
        throw error(f.describe() + " must be a number, found '" + p.getText() + "'");
      }
      try {
        v = Double.parseDouble(p.getText());
      } catch (NumberFormatException e) {
        throw error(f.describe() + " must be a number, found '" + p.getText() + "'");
      }
    } else {
      throw error(f.describe() + " must be a number, found " + describe(t));
    }
    if (Double.isInfinite(v)) {
      throw error(f.describe() + ": value out of range for a double");
    }
    return v;
  }

  /** True when the current string token consists of characters of a JSON number only. */
  private boolean looksNumeric() throws IOException {
    char[] c = p.getTextCharacters();
    int off = p.getTextOffset();
    int len = p.getTextLength();
    if (len == 0) {
      return false;
    }
    for (int i = off; i < off + len; i++) {
      char ch = c[i];
      if (!((ch >= '0' && ch <= '9')
          || ch == '-'
          || ch == '+'
          || ch == '.'
          || ch == 'e'
          || ch == 'E')) {
        return false;
      }
    }
    return true;
  }

  private boolean textEquals(String s) throws IOException {
    int len = p.getTextLength();
    if (len != s.length()) {
      return false;
    }
    char[] c = p.getTextCharacters();
    int off = p.getTextOffset();
    for (int i = 0; i < len; i++) {
      if (c[off + i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- errors

  private WireFormatException error(String reason) {
    return new WireFormatException(offset(p.currentTokenLocation()), reason);
  }

  static long offset(JsonLocation location) {
    if (location == null) {
      return -1;
    }
    long bytes = location.getByteOffset();
    return bytes >= 0 ? bytes : location.getCharOffset();
  }

  private static String describe(JsonToken t) {
    if (t == null) {
      return "the end of the input";
    }
    switch (t) {
      case START_OBJECT:
        return "an object";
      case START_ARRAY:
        return "an array";
      case VALUE_STRING:
        return "a string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "a number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "a boolean";
      case VALUE_NULL:
        return "null";
      default:
        return t.toString();
    }
  }
}
