package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The word-at-a-time ASCII check of proto3 strings must agree with protobuf-java byte for byte,
 * whatever the string's length and wherever its first non-ASCII byte sits (inside a word, in the
 * overlapping last word, in a string too short for a word), for every form of input (array, array
 * range, read-only buffer, direct ByteBuffer, direct ByteBuf) and in every loop of the walker that
 * checks a string (see {@link Placement}). The build runs it with unchecked reads and again with
 * {@code io.otlp4j.wire.unsafe=false}.
 */
class StringUtf8CheckTest {
  private static final int MAX_LENGTH = 40;
  private static final byte[][] SEQUENCES = {
    bytes(0xC3, 0xA9), // é
    bytes(0xE2, 0x82, 0xAC), // €
    bytes(0xF0, 0x9F, 0x98, 0x80), // 😀
    bytes(0x80), // lone continuation byte
    bytes(0xFF), // never valid
    bytes(0xC0, 0x80), // overlong NUL
    bytes(0xED, 0xA0, 0x80), // surrogate
    bytes(0xF4, 0x90, 0x80, 0x80), // above U+10FFFF
    bytes(0xE2, 0x82), // truncated
    bytes(0xE0, 0x80, 0xAF), // overlong '/'
    bytes(0xF0, 0x80, 0x80, 0xAF), // overlong '/', four bytes
    bytes(0xED, 0xBF, 0xBF), // low surrogate
    bytes(0xC3), // lead byte at the end of the word
    bytes(0xE2, 0x28, 0xA1), // bad continuation
  };

  /**
   * Where the string sits: each is checked by a different loop of the walker (the generic message
   * walk, the KeyValue frame, the AnyValue frame, an AnyValue inside an array).
   */
  enum Placement {
    SCHEMA_URL,
    ATTRIBUTE_KEY,
    ATTRIBUTE_STRING_VALUE,
    ARRAY_ELEMENT_STRING_VALUE;

    /**
     * The request with {@code string} in this place. Protobuf-java's builders refuse invalid UTF-8,
     * so the request is built around a placeholder of the same length, then the placeholder's bytes
     * are replaced (the encoding's lengths do not change).
     */
    byte[] request(byte[] string) {
      if (this == SCHEMA_URL) {
        return requestWithSchemaUrl(string);
      }
      byte[] placeholder = new byte[string.length];
      Arrays.fill(placeholder, (byte) 'Z');
      String text = new String(placeholder, StandardCharsets.US_ASCII);
      AnyValue.Builder value = AnyValue.newBuilder();
      KeyValue.Builder attribute = KeyValue.newBuilder().setKey("k");
      switch (this) {
        case ATTRIBUTE_KEY:
          attribute.setKey(text).setValue(value.setIntValue(1));
          break;
        case ATTRIBUTE_STRING_VALUE:
          attribute.setValue(value.setStringValue(text));
          break;
        default:
          attribute.setValue(
              value.setArrayValue(
                  ArrayValue.newBuilder()
                      .addValues(AnyValue.newBuilder().setBoolValue(true))
                      .addValues(AnyValue.newBuilder().setStringValue(text))));
          break;
      }
      byte[] request =
          ExportTraceServiceRequest.newBuilder()
              .addResourceSpans(
                  ResourceSpans.newBuilder()
                      .setResource(Resource.newBuilder().addAttributes(attribute))
                      .addScopeSpans(
                          ScopeSpans.newBuilder()
                              .addSpans(Span.newBuilder().setName("s").addAttributes(attribute))))
              .build()
              .toByteArray();
      int replaced = 0;
      for (int i = 0; string.length > 0 && i + string.length <= request.length; i++) {
        if (Arrays.equals(request, i, i + string.length, placeholder, 0, placeholder.length)) {
          System.arraycopy(string, 0, request, i, string.length);
          i += string.length - 1;
          replaced++;
        }
      }
      assertThat(replaced).isEqualTo(string.length > 0 ? 2 : 0);
      return request;
    }
  }

  @ParameterizedTest
  @EnumSource(Placement.class)
  void acceptsExactlyTheStringsProtobufJavaAcceptsAtEveryLengthAndPosition(Placement placement)
      throws Exception {
    OtlpWalker walker = OtlpWalker.create();
    int checked = 0;
    for (int length = 0; length <= MAX_LENGTH; length++) {
      for (byte[] sequence : SEQUENCES) {
        for (int at = 0; at + sequence.length <= length; at++) {
          byte[] string = new byte[length];
          Arrays.fill(string, (byte) 'a');
          System.arraycopy(sequence, 0, string, at, sequence.length);
          byte[] request = placement.request(string);
          boolean valid = ByteString.copyFrom(string).isValidUtf8();
          assertThat(parsesWithProtobufJava(request)).isEqualTo(valid);

          assertAgrees(valid, () -> walker.walk(Signal.TRACES, request));
          ByteBuf direct = Unpooled.directBuffer(request.length).writeBytes(request);
          try {
            assertAgrees(valid, () -> walker.walk(Signal.TRACES, direct));
          } finally {
            direct.release();
          }
          if (placement == Placement.SCHEMA_URL) {
            // Every other form once: the string loops are the same code for every placement.
            assertAgrees(
                valid,
                () ->
                    walker.walk(
                        Signal.TRACES,
                        ByteBuffer.wrap(request).asReadOnlyBuffer(),
                        OtlpVisitor.NONE));
            ByteBuffer directBuffer = ByteBuffer.allocateDirect(request.length).put(request).flip();
            assertAgrees(valid, () -> walker.walk(Signal.TRACES, directBuffer, OtlpVisitor.NONE));
            byte[] padded = new byte[request.length + 11];
            System.arraycopy(request, 0, padded, 3, request.length);
            assertAgrees(
                valid,
                () -> walker.walk(Signal.TRACES, padded, 3, request.length, OtlpVisitor.NONE));
          }
          checked++;
        }
      }
      byte[] ascii = new byte[length];
      Arrays.fill(ascii, (byte) 'z');
      assertThat(walker.walk(Signal.TRACES, placement.request(ascii)).resourceCount()).isEqualTo(1);
    }
    assertThat(checked).isGreaterThan(2_000);
  }

  private static void assertAgrees(boolean valid, Runnable walk) {
    Throwable thrown = catchThrowable(walk::run);
    if (valid) {
      assertThat(thrown).isNull();
    } else {
      assertThat(thrown)
          .isInstanceOf(WireFormatException.class)
          .hasMessageContaining("invalid UTF-8");
    }
  }

  private static boolean parsesWithProtobufJava(byte[] request) {
    try {
      ExportTraceServiceRequest.parseFrom(request);
      return true;
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  /**
   * An ExportTraceServiceRequest of one ResourceSpans whose schema_url (a string, field 3) is
   * {@code string}.
   */
  private static byte[] requestWithSchemaUrl(byte[] string) {
    ByteArrayOutputStream resourceSpans = new ByteArrayOutputStream();
    resourceSpans.write(3 << 3 | 2);
    resourceSpans.write(string.length);
    resourceSpans.writeBytes(string);
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.write(1 << 3 | 2);
    request.write(resourceSpans.size());
    request.writeBytes(resourceSpans.toByteArray());
    return request.toByteArray();
  }

  private static byte[] bytes(int... values) {
    byte[] result = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (byte) values[i];
    }
    return result;
  }
}
