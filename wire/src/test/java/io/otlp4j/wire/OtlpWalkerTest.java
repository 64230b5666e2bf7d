package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OtlpWalkerTest {
  private static final int MESSAGES_PER_SIGNAL = 2_000;
  private static final OtlpWalker WALKER =
      OtlpWalker.builder().resourceAttributeKey("service.name").build();

  @ParameterizedTest
  @EnumSource(Signal.class)
  void countsRangesTraceIdsAndAttributesAgreeWithProtobufJava(Signal signal) throws Exception {
    OtlpGenerator generator =
        new OtlpGenerator(signal.ordinal() * 7919L + 1).withUnknownFields(true);
    for (int i = 0; i < MESSAGES_PER_SIGNAL; i++) {
      Message request = generator.request(signal);
      byte[] bytes = request.toByteArray();
      RecordingVisitor visitor = new RecordingVisitor();
      WalkSummary summary = walkAs(i % 4, signal, bytes, visitor);
      OfficialView official = OfficialView.of(signal, request, "service.name");

      assertThat(summary.byteCount()).isEqualTo(bytes.length);
      assertThat(summary.resourceCount()).isEqualTo(official.resourceEntries.size());
      assertThat(summary.scopeCount()).isEqualTo(official.scopeEntries.size());
      long expectedItems =
          signal == Signal.METRICS ? official.dataPoints.size() : official.items.size();
      assertThat(summary.itemCount()).isEqualTo(expectedItems);
      assertThat(summary.metricCount())
          .isEqualTo(signal == Signal.METRICS ? official.items.size() : 0);

      assertRangesParseTo(bytes, visitor.resourceEntries, official.resourceEntries);
      assertRangesParseTo(bytes, visitor.resources, official.resources);
      assertRangesParseTo(bytes, visitor.scopeEntries, official.scopeEntries);
      assertRangesParseTo(bytes, visitor.scopes, official.scopes);
      assertRangesParseTo(bytes, visitor.items, official.items);
      assertRangesParseTo(bytes, visitor.dataPoints, official.dataPoints);
      assertThat(visitor.traceIds).hasSameSizeAs(official.traceIds);
      for (int t = 0; t < official.traceIds.size(); t++) {
        assertThat(ByteString.copyFrom(RecordingVisitor.slice(bytes, visitor.traceIds.get(t))))
            .isEqualTo(official.traceIds.get(t));
      }
      assertThat(visitor.attributes).hasSameSizeAs(official.attributeValues);
      for (int r = 0; r < official.attributeValues.size(); r++) {
        int[] range = visitor.attributes.get(r);
        String reported =
            range == null
                ? null
                : new String(RecordingVisitor.slice(bytes, range), StandardCharsets.UTF_8);
        assertThat(reported)
            .as("attribute of resource %d", r)
            .isEqualTo(official.attributeValues.get(r));
      }
    }
  }

  /**
   * Walks {@code bytes} held in one of four kinds of input, each with the request not at index 0.
   */
  static WalkSummary walkAs(int kind, Signal signal, byte[] bytes, OtlpVisitor visitor) {
    switch (kind) {
      case 0:
        {
          byte[] padded = new byte[bytes.length + 10];
          System.arraycopy(bytes, 0, padded, 3, bytes.length);
          return WALKER.walk(signal, padded, 3, bytes.length, visitor);
        }
      case 1:
        {
          ByteBuf heap = Unpooled.buffer(bytes.length + 8).writeZero(5).writeBytes(bytes);
          heap.readerIndex(5);
          try {
            WalkSummary summary = WALKER.walk(signal, heap, visitor);
            assertThat(heap.readerIndex()).isEqualTo(5);
            assertThat(heap.refCnt()).isEqualTo(1);
            return summary;
          } finally {
            heap.release();
          }
        }
      case 2:
        {
          ByteBuf direct = Unpooled.directBuffer(bytes.length + 8).writeZero(7).writeBytes(bytes);
          direct.readerIndex(7);
          try {
            return WALKER.walk(signal, direct, visitor);
          } finally {
            direct.release();
          }
        }
      default:
        {
          ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 4);
          direct.position(2);
          direct.put(bytes);
          direct.position(2);
          direct.limit(2 + bytes.length);
          return WALKER.walk(signal, direct, visitor);
        }
    }
  }

  private static void assertRangesParseTo(byte[] bytes, List<int[]> ranges, List<Message> expected)
      throws Exception {
    assertThat(ranges).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      Message parsed =
          expected
              .get(i)
              .getParserForType()
              .parseFrom(RecordingVisitor.slice(bytes, ranges.get(i)));
      assertThat(parsed).as("range %d", i).isEqualTo(expected.get(i));
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void emptyRequestHasNothing(Signal signal) {
    WalkSummary summary = WALKER.walk(signal, new byte[0]);
    assertThat(summary.resourceCount()).isZero();
    assertThat(summary.itemCount()).isZero();
    assertThat(summary.byteCount()).isZero();
  }

  @Test
  void emptyResourceAndZeroLengthMessagesAreCounted() {
    // Resource*{} ; Resource*{resource{}, Scope*{scope{}, span{}}}
    byte[] bytes = {0x0A, 0x00, 0x0A, 0x08, 0x0A, 0x00, 0x12, 0x04, 0x0A, 0x00, 0x12, 0x00};
    RecordingVisitor visitor = new RecordingVisitor();
    WalkSummary summary = WALKER.walk(Signal.TRACES, Unpooled.wrappedBuffer(bytes), visitor);
    assertThat(summary.resourceCount()).isEqualTo(2);
    assertThat(summary.scopeCount()).isEqualTo(1);
    assertThat(summary.itemCount()).isEqualTo(1);
    assertThat(visitor.items).containsExactly(new int[] {12, 12});
    assertThat(visitor.resources).containsExactly(new int[] {6, 6});
  }

  @Test
  void unknownFieldsAtEveryLevelAreSkipped() throws Exception {
    // Every OTLP level gets each unknown wire type: varint, fixed64, length-delimited, fixed32.
    byte[] unknown = {
      (byte) 0xC0,
      0x3E,
      0x01,
      (byte) 0xC1,
      0x3E,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      (byte) 0xC2,
      0x3E,
      0x02,
      (byte) 0xFF,
      0x00,
      (byte) 0xC5,
      0x3E,
      1,
      2,
      3,
      4
    };
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .raw(unknown, 0, unknown.length)
        .begin(1)
        .raw(unknown, 0, unknown.length)
        .end()
        .begin(2)
        .raw(unknown, 0, unknown.length)
        .begin(1)
        .raw(unknown, 0, unknown.length)
        .end()
        .begin(2)
        .raw(unknown, 0, unknown.length)
        .begin(9)
        .raw(unknown, 0, unknown.length)
        .end()
        .end()
        .end()
        .end()
        .raw(unknown, 0, unknown.length);
    byte[] bytes = w.toByteArray();
    ExportTraceServiceRequest official = ExportTraceServiceRequest.parseFrom(bytes);
    assertThat(official.getUnknownFields().getField(1000).getVarintList()).hasSize(1);
    assertThat(official.getUnknownFields().getField(1000).getFixed64List()).hasSize(1);
    assertThat(official.getUnknownFields().getField(1000).getLengthDelimitedList()).hasSize(1);
    assertThat(official.getUnknownFields().getField(1000).getFixed32List()).hasSize(1);
    WalkSummary summary = WALKER.walk(Signal.TRACES, bytes);
    assertThat(summary.resourceCount()).isEqualTo(1);
    assertThat(summary.scopeCount()).isEqualTo(1);
    assertThat(summary.itemCount()).isEqualTo(1);
  }

  @Test
  void histogramBucketCountsArePackedOrUnpackedAsProtobufAccepts() throws Exception {
    HistogramDataPoint point =
        HistogramDataPoint.newBuilder()
            .addAllBucketCounts(List.of(1L, 2L, 3L))
            .addAllExplicitBounds(List.of(1.0, 2.0))
            .setCount(6)
            .build();
    byte[] packed = metricsWith(point.toByteArray());
    // The same point with every repeated fixed64/double unpacked: one tag per element.
    ProtoWriter unpacked = new ProtoWriter();
    unpacked.fixed64(4, 6);
    for (long count : point.getBucketCountsList()) {
      unpacked.fixed64(6, count);
    }
    for (double bound : point.getExplicitBoundsList()) {
      unpacked.doubleField(7, bound);
    }
    byte[] unpackedRequest = metricsWith(unpacked.toByteArray());
    for (byte[] bytes : List.of(packed, unpackedRequest)) {
      ExportMetricsServiceRequest official = ExportMetricsServiceRequest.parseFrom(bytes);
      assertThat(
              official
                  .getResourceMetrics(0)
                  .getScopeMetrics(0)
                  .getMetrics(0)
                  .getHistogram()
                  .getDataPoints(0))
          .isEqualTo(point);
      assertThat(WALKER.walk(Signal.METRICS, bytes).itemCount()).isEqualTo(1);
    }
    // A packed fixed64 whose length is not whole elements: protobuf refuses, and so does the
    // walker.
    byte[] broken = metricsWith(new byte[] {0x32, 0x07, 1, 2, 3, 4, 5, 6, 7});
    assertThatThrownBy(() -> ExportMetricsServiceRequest.parseFrom(broken)).isNotNull();
    assertThatThrownBy(() -> WALKER.walk(Signal.METRICS, broken))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("not a multiple of 8");
  }

  private static byte[] metricsWith(byte[] histogramPoint) {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .string(1, "h")
        .begin(9)
        .bytes(1, histogramPoint)
        .uint32(2, 2)
        .end()
        .end()
        .end()
        .end();
    return w.toByteArray();
  }

  @Test
  void metricDataPointsFollowOneofSemantics() throws Exception {
    // gauge{2 points}, then sum{1 point}: protobuf keeps the sum only; then sum{1 more}: merged.
    byte[] point = {0x19, 1, 0, 0, 0, 0, 0, 0, 0};
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .begin(5)
        .bytes(1, point)
        .bytes(1, point)
        .end()
        .begin(7)
        .bytes(1, point)
        .end()
        .begin(7)
        .bytes(1, point)
        .end()
        .end()
        .end()
        .end();
    byte[] bytes = w.toByteArray();
    Metric metric =
        ExportMetricsServiceRequest.parseFrom(bytes)
            .getResourceMetrics(0)
            .getScopeMetrics(0)
            .getMetrics(0);
    assertThat(metric.getSum().getDataPointsCount()).isEqualTo(2);
    assertThat(WALKER.walk(Signal.METRICS, bytes).itemCount()).isEqualTo(2);
  }

  @Test
  void knownFieldWithAnotherWireTypeIsAnUnknownFieldAsInProtobuf() throws Exception {
    // Span.name (a string) sent as a varint, ScopeSpans.spans sent as fixed32.
    ProtoWriter w = new ProtoWriter();
    w.begin(1).begin(2).begin(2).uint32(5, 7).end().fixed32(2, 9).end().end();
    byte[] bytes = w.toByteArray();
    ExportTraceServiceRequest official = ExportTraceServiceRequest.parseFrom(bytes);
    WalkSummary summary = WALKER.walk(Signal.TRACES, bytes);
    assertThat(summary.itemCount())
        .isEqualTo(official.getResourceSpans(0).getScopeSpans(0).getSpansCount())
        .isEqualTo(1);
  }

  @Test
  void malformedInputIsRefusedWithTheAbsoluteOffset() {
    ByteBuf buf =
        Unpooled.buffer().writeZero(4).writeBytes(new byte[] {0x0A, 0x05, 0x12, 0x03, 0x2A, 0x01});
    buf.readerIndex(4);
    assertThatThrownBy(() -> WALKER.walk(Signal.TRACES, buf))
        .isInstanceOf(WireFormatException.class)
        .hasMessage("offset 1: length 5 runs past the end of the enclosing message (ends at 6)")
        .satisfies(e -> assertThat(((WireFormatException) e).offset()).isEqualTo(1))
        .satisfies(e -> assertThat(e.getStackTrace()).isEmpty());
    buf.release();
  }

  @Test
  void eachMalformationHasItsOwnReason() {
    assertRefused(new byte[] {0x00}, "field number 0");
    assertRefused(new byte[] {0x0B}, "wire type 3 (start group)");
    assertRefused(new byte[] {0x0C}, "wire type 4 (end group)");
    assertRefused(new byte[] {0x0E}, "invalid wire type 6");
    assertRefused(
        new byte[] {
          0x08,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          (byte) 0x80,
          0x01
        },
        "longer than 10 bytes");
    assertRefused(new byte[] {0x08, (byte) 0x80}, "truncated varint");
    assertRefused(new byte[] {0x09, 1, 2}, "fixed64 value runs past");
    // Span{name: C0 80} -- an overlong encoding of NUL.
    assertRefused(
        new byte[] {0x0A, 0x08, 0x12, 0x06, 0x12, 0x04, 0x2A, 0x02, (byte) 0xC0, (byte) 0x80},
        "invalid UTF-8 in string field 5");
    // Span{name: ED A0 80} -- a UTF-16 surrogate.
    assertRefused(
        new byte[] {
          0x0A, 0x09, 0x12, 0x07, 0x12, 0x05, 0x2A, 0x03, (byte) 0xED, (byte) 0xA0, (byte) 0x80
        },
        "invalid UTF-8");
  }

  private static void assertRefused(byte[] bytes, String reason) {
    assertThatThrownBy(() -> WALKER.walk(Signal.TRACES, bytes))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining(reason);
    assertThatThrownBy(() -> ExportTraceServiceRequest.parseFrom(bytes)).isNotNull();
  }

  @Test
  void nestingBeyondTheLimitIsRefusedAndWithinItAccepted() throws Exception {
    for (Signal signal : Signal.values()) {
      byte[] shallow = io.otlp4j.wire.testing.Mutator.deeplyNestedAnyValue(signal, 20);
      OfficialView.parse(signal, shallow);
      assertThat(WALKER.walk(signal, shallow).itemCount()).isEqualTo(1);
      byte[] deep = io.otlp4j.wire.testing.Mutator.deeplyNestedAnyValue(signal, 10_000);
      assertThatThrownBy(() -> WALKER.walk(signal, deep))
          .isInstanceOf(WireFormatException.class)
          .hasMessageContaining("nested deeper than 64");
    }
    assertThatThrownBy(() -> OtlpWalker.builder().maxDepth(101))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void resourceAttributeIsTheFirstWithTheKeyAndOnlyWhenAString() {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder()
                            .addAttributes(kv("host.name", "h"))
                            .addAttributes(kv("service.name", "checkout"))
                            .addAttributes(kv("service.name", "second"))))
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder()
                            .addAttributes(
                                KeyValue.newBuilder()
                                    .setKey("service.name")
                                    .setValue(AnyValue.newBuilder().setIntValue(3)))
                            .addAttributes(kv("service.name", "not-first"))))
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .addScopeSpans(ScopeSpans.newBuilder().addSpans(Span.newBuilder())))
            .build();
    byte[] bytes = request.toByteArray();
    RecordingVisitor visitor = new RecordingVisitor();
    WALKER.walk(Signal.TRACES, bytes, 0, bytes.length, visitor);
    assertThat(visitor.attributes).hasSize(3);
    assertThat(
            new String(
                RecordingVisitor.slice(bytes, visitor.attributes.get(0)), StandardCharsets.UTF_8))
        .isEqualTo("checkout");
    assertThat(visitor.attributes.get(1)).isNull();
    assertThat(visitor.attributes.get(2)).isNull();
  }

  private static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setStringValue(value))
        .build();
  }

  @Test
  void officialJsonExamplesHaveTheExpectedCounts() throws Exception {
    assertThat(walkExample("trace.json", Signal.TRACES, ExportTraceServiceRequest.newBuilder()))
        .isEqualTo(new long[] {1, 1, 1});
    assertThat(walkExample("logs.json", Signal.LOGS, ExportLogsServiceRequest.newBuilder()))
        .isEqualTo(new long[] {1, 1, 1});
    assertThat(walkExample("events.json", Signal.LOGS, ExportLogsServiceRequest.newBuilder()))
        .isEqualTo(new long[] {1, 1, 1});
    long[] metrics =
        walkExample("metrics.json", Signal.METRICS, ExportMetricsServiceRequest.newBuilder());
    assertThat(metrics[0]).isEqualTo(1);
    assertThat(metrics[1]).isEqualTo(1);
    assertThat(metrics[2]).isPositive();
  }

  /**
   * Parses an official OTLP/JSON example with JsonFormat (hex ids turned base64) and walks its
   * bytes.
   */
  private static long[] walkExample(String name, Signal signal, Message.Builder builder)
      throws Exception {
    String json;
    try (InputStream in = OtlpWalkerTest.class.getResourceAsStream("/otlp-json/" + name)) {
      assertThat(in).as(name).isNotNull();
      json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Matcher ids =
        Pattern.compile("\"(traceId|spanId|parentSpanId)\"\\s*:\\s*\"([0-9a-fA-F]*)\"")
            .matcher(json);
    StringBuilder converted = new StringBuilder();
    while (ids.find()) {
      String base64 =
          java.util.Base64.getEncoder().encodeToString(HexFormat.of().parseHex(ids.group(2)));
      ids.appendReplacement(converted, "\"" + ids.group(1) + "\": \"" + base64 + "\"");
    }
    ids.appendTail(converted);
    JsonFormat.parser().ignoringUnknownFields().merge(converted.toString(), builder);
    Message request = builder.build();
    byte[] bytes = request.toByteArray();
    WalkSummary summary = WALKER.walk(signal, bytes);
    OfficialView official = OfficialView.of(signal, request, null);
    long items = signal == Signal.METRICS ? official.dataPoints.size() : official.items.size();
    assertThat(summary.itemCount()).isEqualTo(items);
    return new long[] {summary.resourceCount(), summary.scopeCount(), summary.itemCount()};
  }

  @Test
  void walkingAllocatesOnlyTheSummary() {
    byte[] bytes = OtlpGenerator.realisticTraces(64).toByteArray();
    ByteBuf heap = Unpooled.wrappedBuffer(bytes);
    ByteBuf direct = Unpooled.directBuffer(bytes.length).writeBytes(bytes);
    // The paranoid leak detector wraps the buffer and records a stack trace on every access;
    // measure the
    // buffer itself, as production (no paranoid detector) sees it.
    ByteBuf unwrapped = direct.unwrap() != null ? direct.unwrap() : direct;
    try {
      for (int i = 0; i < 20_000; i++) {
        WALKER.walk(Signal.TRACES, heap);
        WALKER.walk(Signal.TRACES, unwrapped);
      }
      long heapBytes =
          io.otlp4j.wire.testing.AllocationMeter.allocatedBytes(
              () -> WALKER.walk(Signal.TRACES, heap));
      long directBytes =
          io.otlp4j.wire.testing.AllocationMeter.allocatedBytes(
              () -> WALKER.walk(Signal.TRACES, unwrapped));
      assertThat(heapBytes).isLessThanOrEqualTo(160);
      assertThat(directBytes).isLessThanOrEqualTo(160);
    } finally {
      heap.release();
      direct.release();
    }
  }

  @Test
  void scopeMessageRangeIsReported() throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .addScopeSpans(
                        ScopeSpans.newBuilder()
                            .setScope(
                                InstrumentationScope.newBuilder().setName("lib").setVersion("1"))))
            .build();
    byte[] bytes = request.toByteArray();
    RecordingVisitor visitor = new RecordingVisitor();
    WALKER.walk(Signal.TRACES, bytes, 0, bytes.length, visitor);
    assertThat(InstrumentationScope.parseFrom(RecordingVisitor.slice(bytes, visitor.scopes.get(0))))
        .isEqualTo(request.getResourceSpans(0).getScopeSpans(0).getScope());
    assertThat(visitor.items).isEmpty();
  }
}
