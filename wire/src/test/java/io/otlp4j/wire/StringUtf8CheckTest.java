package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The word-at-a-time ASCII check of proto3 strings must agree with protobuf-java byte for byte,
 * whatever the string's length and wherever its first non-ASCII byte sits (inside a word, in the
 * overlapping last word, in a string too short for a word), for every form of input (array,
 * read-only buffer, direct ByteBuf).
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
  };

  @Test
  void acceptsExactlyTheStringsProtobufJavaAcceptsAtEveryLengthAndPosition() throws Exception {
    OtlpWalker walker = OtlpWalker.create();
    int checked = 0;
    for (int length = 0; length <= MAX_LENGTH; length++) {
      for (byte[] sequence : SEQUENCES) {
        for (int at = 0; at + sequence.length <= length; at++) {
          byte[] string = new byte[length];
          Arrays.fill(string, (byte) 'a');
          System.arraycopy(sequence, 0, string, at, sequence.length);
          byte[] request = requestWithSchemaUrl(string);
          boolean valid = ByteString.copyFrom(string).isValidUtf8();
          assertThat(parsesWithProtobufJava(request)).isEqualTo(valid);

          assertAgrees(valid, () -> walker.walk(Signal.TRACES, request));
          assertAgrees(
              valid,
              () ->
                  walker.walk(
                      Signal.TRACES,
                      ByteBuffer.wrap(request).asReadOnlyBuffer(),
                      OtlpVisitor.NONE));
          ByteBuf direct = Unpooled.directBuffer(request.length).writeBytes(request);
          try {
            assertAgrees(valid, () -> walker.walk(Signal.TRACES, direct));
          } finally {
            direct.release();
          }
          checked++;
        }
      }
      byte[] ascii = new byte[length];
      Arrays.fill(ascii, (byte) 'z');
      assertThat(walker.walk(Signal.TRACES, requestWithSchemaUrl(ascii)).resourceCount())
          .isEqualTo(1);
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
