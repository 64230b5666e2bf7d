package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.ByteArrayOutputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The walker checks an attribute's AnyValue of the common shapes (one string of one-byte length,
 * one double, one int or bool) in its KeyValue frame without the generic AnyValue loop. That
 * shortcut must answer exactly as the generic walk does: the same acceptance, the same error and
 * the same offset, for every value, including the shapes next to it (a second field after the
 * first, a longer length, a truncated or overlong varint, a wrong wire type), and the same nesting
 * limit. The generic walk is reached with the same AnyValue bytes as an element of an array value,
 * which the walker checks through the schema table; offsets are compared relative to the value.
 */
class AttributeValueShortcutTest {
  private static final int[] TAGS = {
    0x0A, // string_value
    0x10, // bool_value
    0x18, // int_value
    0x21, // double_value
    0x09, // field 1 as fixed64: unknown for AnyValue
    0x11, // field 2 as fixed64
    0x1A, // field 3 length-delimited
    0x22, // field 4 length-delimited
    0x2A, // array_value
    0x38, // field 7 (bytes_value) as varint
    0x42, // bytes_value
    0x0B, // start group
    0x0F, // wire type 7
  };

  @Test
  void answersExactlyAsTheGenericAnyValueWalkOnRandomValues() {
    SplittableRandom random = new SplittableRandom(18);
    OtlpWalker walker = OtlpWalker.create();
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < 10_000; i++) {
      byte[] value = randomValue(random);
      Outcome shortcut = walk(walker, Shape.ATTRIBUTE, value);
      Outcome generic = walk(walker, Shape.ARRAY_ELEMENT, value);
      assertThat(shortcut).as("value %s", hex(value)).isEqualTo(generic);
      if (shortcut.accepted()) {
        accepted++;
        assertThat(parses(Shape.ATTRIBUTE.request(value))).as("value %s", hex(value)).isTrue();
      } else {
        refused++;
      }
    }
    assertThat(accepted).isGreaterThan(1_000);
    assertThat(refused).isGreaterThan(1_000);
  }

  @Test
  void everyStringLengthOfTheOneByteFormAgreesWithTheGenericWalk() {
    OtlpWalker walker = OtlpWalker.create();
    for (int length = 0; length <= 127; length++) {
      for (int at = -1; at < length; at++) {
        ByteArrayOutputStream value = new ByteArrayOutputStream();
        value.write(0x0A);
        value.write(length);
        for (int i = 0; i < length; i++) {
          value.write(i == at ? 0xC3 : 'a' + i % 26); // a lead byte without its continuation
        }
        byte[] bytes = value.toByteArray();
        Outcome shortcut = walk(walker, Shape.ATTRIBUTE, bytes);
        assertThat(shortcut).isEqualTo(walk(walker, Shape.ARRAY_ELEMENT, bytes));
        assertThat(shortcut.accepted()).isEqualTo(at < 0);
        if (at >= 0) {
          assertThat(shortcut.offset()).isEqualTo(2 + at);
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0x0A, 0x10, 0x18, 0x21})
  void theNestingLimitCountsTheAttributeValueWhateverItsShape(int tag) {
    ByteArrayOutputStream value = new ByteArrayOutputStream();
    value.write(tag);
    if (tag == 0x21) {
      value.writeBytes(new byte[8]);
    } else {
      value.write(tag == 0x0A ? 0 : 1);
    }
    byte[] request = Shape.ATTRIBUTE.request(value.toByteArray());
    // request 0, ResourceSpans 1, ScopeSpans 2, Span 3, KeyValue 4, AnyValue 5
    assertThat(OtlpWalker.builder().maxDepth(5).build().walk(Signal.TRACES, request).itemCount())
        .isEqualTo(1);
    assertThatThrownBy(() -> OtlpWalker.builder().maxDepth(4).build().walk(Signal.TRACES, request))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("nested deeper than 4");
  }

  /** Where the AnyValue sits: the KeyValue frame's shortcut, or the generic schema walk. */
  enum Shape {
    /** Span.attributes = [KeyValue{key "k", value: the bytes}]. */
    ATTRIBUTE,
    /**
     * Span.attributes = [KeyValue{key "k", value: AnyValue{array_value: {values: [the bytes]}}}].
     */
    ARRAY_ELEMENT;

    byte[] request(byte[] value) {
      byte[] anyValue =
          this == ATTRIBUTE ? value : field(5, field(1, value)); // ArrayValue.values = [value]
      byte[] keyValue = concat(field(1, "k".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      keyValue = concat(keyValue, field(2, anyValue));
      byte[] span = field(9, keyValue);
      byte[] scopeSpans = field(2, span);
      byte[] resourceSpans = field(2, scopeSpans);
      return field(1, resourceSpans);
    }

    /** Where the value's first byte sits in {@link #request}. */
    int valueOffset(byte[] value) {
      byte[] request = request(value);
      // The value is the request's tail: nothing follows it in any enclosing message.
      return request.length - value.length;
    }
  }

  private record Outcome(boolean accepted, long offset, String message) {}

  private static Outcome walk(OtlpWalker walker, Shape shape, byte[] value) {
    byte[] request = shape.request(value);
    int base = shape.valueOffset(value);
    Outcome heap = outcome(catchThrowable(() -> walker.walk(Signal.TRACES, request)), base);
    ByteBuf direct = Unpooled.directBuffer(request.length).writeBytes(request);
    try {
      Outcome fromDirect = outcome(catchThrowable(() -> walker.walk(Signal.TRACES, direct)), base);
      assertThat(fromDirect).isEqualTo(heap);
    } finally {
      direct.release();
    }
    return heap;
  }

  private static Outcome outcome(Throwable thrown, int base) {
    if (thrown == null) {
      return new Outcome(true, -1, "");
    }
    assertThat(thrown).isInstanceOf(WireFormatException.class);
    WireFormatException e = (WireFormatException) thrown;
    String message = e.getMessage().replaceAll("\\d+", "#"); // ends and offsets are absolute
    return new Outcome(false, e.offset() - base, message);
  }

  private static byte[] randomValue(SplittableRandom random) {
    ByteArrayOutputStream value = new ByteArrayOutputStream();
    int fields = random.nextInt(10) == 0 ? 2 : 1;
    for (int f = 0; f < fields; f++) {
      int tag = TAGS[random.nextInt(TAGS.length)];
      value.write(tag);
      switch (random.nextInt(4)) {
        case 0: // a well-formed body for the tag's wire type
          switch (tag & 7) {
            case 0:
              for (int i = random.nextInt(11); i > 0; i--) {
                value.write(0x80 | random.nextInt(128));
              }
              value.write(random.nextInt(128));
              break;
            case 1:
              value.writeBytes(randomBytes(random, 8));
              break;
            case 2:
              int length = random.nextInt(20);
              value.write(length);
              for (int i = 0; i < length; i++) {
                value.write(random.nextInt(8) == 0 ? 0x80 | random.nextInt(128) : 'a');
              }
              break;
            default:
              break;
          }
          break;
        case 1: // a string of valid UTF-8, ASCII or not
          String text =
              random.nextBoolean() ? "ascii-text" : "h\u00e9llo \u65e5\u672c \ud83d\ude00";
          byte[] utf8 =
              text.substring(0, random.nextInt(text.length() + 1))
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8);
          value.write(utf8.length);
          value.writeBytes(utf8);
          break;
        default: // anything: truncated, overlong, lengths past the end
          value.writeBytes(randomBytes(random, random.nextInt(12)));
          break;
      }
    }
    return value.toByteArray();
  }

  private static boolean parses(byte[] request) {
    try {
      ExportTraceServiceRequest.parseFrom(request);
      return true;
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  private static byte[] field(int number, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    varint(out, number << 3 | 2);
    varint(out, content.length);
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, int value) {
    while ((value & ~0x7F) != 0) {
      out.write((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] randomBytes(SplittableRandom random, int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }

  private static String hex(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (byte b : bytes) {
      out.append(String.format("%02x", b & 0xFF));
    }
    return out.toString();
  }
}
