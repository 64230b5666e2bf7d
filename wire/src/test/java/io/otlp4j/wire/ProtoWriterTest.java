package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProtoWriterTest {

  @Test
  void nestedMessagesOfEverySizeEncodeExactlyAsProtobufJavaDoes() throws Exception {
    Random random = new Random(42);
    // Values from 0 bytes to beyond 2^21 make every length-varint width appear at several depths.
    int[] sizes = {0, 1, 126, 127, 128, 129, 16_383, 16_384, 16_385, 2_097_151, 2_097_152};
    for (int size : sizes) {
      String value = randomText(random, size);
      ExportTraceServiceRequest expected =
          ExportTraceServiceRequest.newBuilder()
              .addResourceSpans(
                  ResourceSpans.newBuilder()
                      .setResource(
                          Resource.newBuilder()
                              .addAttributes(
                                  KeyValue.newBuilder()
                                      .setKey("service.name")
                                      .setValue(AnyValue.newBuilder().setStringValue(value))))
                      .addScopeSpans(
                          ScopeSpans.newBuilder()
                              .addSpans(
                                  Span.newBuilder()
                                      .setTraceId(ByteString.copyFrom(new byte[16]))
                                      .setName(value)
                                      .setKind(Span.SpanKind.SPAN_KIND_SERVER)
                                      .setStartTimeUnixNano(-1L)
                                      .setFlags(0x301))
                              .setSchemaUrl("s"))
                      .setSchemaUrl(""))
              .build();

      ProtoWriter w = new ProtoWriter(16);
      w.begin(1); // resource_spans
      w.begin(1).begin(1).string(1, "service.name").begin(2).string(1, value).end().end().end();
      w.begin(2); // scope_spans
      w.begin(2).bytes(1, new byte[16]);
      if (!value.isEmpty()) {
        w.string(5, value); // proto3 leaves a default (empty) singular string out
      }
      w.uint32(6, 2).fixed64(7, -1L).fixed32(16, 0x301).end();
      w.string(3, "s");
      w.end();
      w.end();

      byte[] actual = w.toByteArray();
      assertThat(actual).as("size %d", size).isEqualTo(expected.toByteArray());
      assertThat(ExportTraceServiceRequest.parseFrom(actual)).isEqualTo(expected);
    }
  }

  @Test
  void resetReusesTheWriterForAnotherMessage() {
    ProtoWriter w = new ProtoWriter();
    w.begin(1).string(1, "first").end();
    byte[] first = w.toByteArray();
    w.reset();
    w.begin(1).string(1, "first").end();
    assertThat(w.toByteArray()).isEqualTo(first);
  }

  @Test
  void scalarEncodingsMatchProtobufJava() throws Exception {
    com.google.protobuf.ByteString.Output out = ByteString.newOutput();
    com.google.protobuf.CodedOutputStream cos =
        com.google.protobuf.CodedOutputStream.newInstance(out);
    cos.writeInt32(1, -5);
    cos.writeSInt32(2, -5);
    cos.writeSInt64(3, Long.MIN_VALUE);
    cos.writeInt64(4, Long.MAX_VALUE);
    cos.writeDouble(5, Double.NaN);
    cos.writeBool(6, true);
    cos.writeString(7, "h\u00e9llo \uD83D\uDE00 \u4e16");
    cos.writeUInt32NoTag(0);
    cos.flush();

    ProtoWriter w = new ProtoWriter();
    w.int32(1, -5)
        .sint32(2, -5)
        .sint64(3, Long.MIN_VALUE)
        .int64(4, Long.MAX_VALUE)
        .doubleField(5, Double.NaN)
        .bool(6, true)
        .string(7, "h\u00e9llo \uD83D\uDE00 \u4e16")
        .rawVarint32(0);
    assertThat(w.toByteArray()).isEqualTo(out.toByteString().toByteArray());
  }

  @Test
  void rawUtf8AfterAHandWrittenLengthEqualsString() {
    for (String s :
        new String[] {
          "", "ascii", "h\u00e9llo \uD83D\uDE00 \u4e16", "lone \uD800 surrogate", "x".repeat(300)
        }) {
      ProtoWriter expected = new ProtoWriter().string(3, s);
      int length = ProtoWriter.utf8Length(s);
      ProtoWriter w =
          new ProtoWriter()
              .tag(3, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
              .rawVarint32(length)
              .rawUtf8(s, length);
      assertThat(w.toByteArray()).isEqualTo(expected.toByteArray());
    }
    assertThatThrownBy(() -> new ProtoWriter().rawUtf8("\u00e9", 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void stringsOfEveryLengthAndKindEncodeAsProtobufJavaDoes() throws Exception {
    String[] kinds = {"a", "\u00e9", "\u4e16", "\uD83D\uDE00", "\uD800"};
    for (int length : new int[] {0, 1, 127, 128, 16_383, 16_384}) {
      for (String kind : kinds) {
        // ASCII up to the last char, then one of each kind: the one-pass guess fails as late as it
        // can.
        String s = "x".repeat(Math.max(0, length - 1)) + (length == 0 ? "" : kind);
        ByteString.Output out = ByteString.newOutput();
        com.google.protobuf.CodedOutputStream cos =
            com.google.protobuf.CodedOutputStream.newInstance(out);
        cos.writeString(5, s);
        cos.flush();
        ProtoWriter w = new ProtoWriter(16).begin(1).string(5, s).end();
        ProtoWriter expected =
            new ProtoWriter(16).begin(1).raw(out.toByteString().toByteArray(), 0, out.size()).end();
        assertThat(w.toByteArray())
            .as("length %d, last %s", length, kind)
            .isEqualTo(expected.toByteArray());
      }
    }
  }

  @Test
  void rawAsciiWritesOnlyAsciiAndTruncateRewindsToAMark() {
    ProtoWriter w = new ProtoWriter();
    w.uint32(1, 7);
    int mark = w.size();
    assertThat(w.rawAscii("plain")).isTrue();
    assertThat(w.size()).isEqualTo(mark + 5);
    int before = w.size();
    assertThat(w.rawAscii("caf\u00e9")).isFalse();
    assertThat(w.size()).as("nothing written for non-ASCII").isEqualTo(before);
    w.truncate(mark);
    assertThat(w.toByteArray()).isEqualTo(new ProtoWriter().uint32(1, 7).toByteArray());
    w.begin(2);
    int inside = w.size();
    assertThatThrownBy(() -> w.truncate(mark))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("nested");
    w.truncate(inside);
    assertThatThrownBy(() -> w.truncate(w.size() + 1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void unbalancedEndIsRefused() {
    ProtoWriter w = new ProtoWriter();
    assertThatThrownBy(w::end).isInstanceOf(IllegalStateException.class);
    w.begin(1);
    assertThatThrownBy(w::finish)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("still open");
  }

  @Test
  void nestingIsBoundedAtMaxDepthAndTheWriterStaysUsable() {
    ProtoWriter w = new ProtoWriter();
    for (int i = 0; i < ProtoWriter.MAX_DEPTH; i++) {
      w.begin(1);
    }
    int size = w.size();
    assertThatThrownBy(() -> w.begin(1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(String.valueOf(ProtoWriter.MAX_DEPTH));
    assertThat(w.size()).as("nothing written by the refused begin").isEqualTo(size);
    for (int i = 0; i < ProtoWriter.MAX_DEPTH; i++) {
      w.end();
    }
    byte[] encoded = w.toByteArray();
    // Nested empty messages: each level adds a tag byte and its content's length as a minimal
    // varint.
    int expected = 0;
    for (int i = 0; i < ProtoWriter.MAX_DEPTH; i++) {
      expected += 1 + ProtoWriter.varintSize(expected);
    }
    assertThat(encoded).hasSize(expected);
    assertThat(w.depth()).isZero();
  }

  private static String randomText(Random random, int length) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append((char) ('a' + random.nextInt(26)));
    }
    return sb.toString();
  }
}
