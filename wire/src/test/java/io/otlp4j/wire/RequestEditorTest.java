package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.ElementView.Kind;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NettyLeakCheck.class)
class RequestEditorTest {
  private static final RequestEditor EDITOR = RequestEditor.create();
  private static final RequestEditor UNCHECKED = RequestEditor.builder().validation(false).build();

  static Stream<Arguments> scripts() {
    List<Arguments> out = new ArrayList<>();
    for (Signal signal : Signal.values()) {
      out.add(Arguments.of(signal, 25, 35)); // drops and attribute edits together
      out.add(Arguments.of(signal, 60, 0)); // heavy drops: containers become empty
      out.add(Arguments.of(signal, 0, 70)); // attribute edits only
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} drop {1}% edit {2}%")
  @MethodSource("scripts")
  void editsEqualTheSameEditsMadeWithTheOfficialBuilders(
      Signal signal, int dropPercent, int editPercent) throws Exception {
    OtlpGenerator generator =
        new OtlpGenerator(signal.ordinal() * 101L + dropPercent).withUnknownFields(true);
    EditScript script = new EditScript(dropPercent * 31L + editPercent, dropPercent, editPercent);
    EditPolicy policy = script.policy();
    for (int i = 0; i < 300; i++) {
      Message request = generator.request(signal);
      byte[] bytes = request.toByteArray();
      ByteBuf input =
          i % 5 == 4
              ? composite(bytes)
              : (i & 1) == 0
                  ? Unpooled.wrappedBuffer(bytes)
                  : PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
      script.restart();
      EditedRequest result = (i % 3 == 0 ? UNCHECKED : EDITOR).editCounted(signal, input, policy);
      ByteBuf edited = result.request();
      try {
        Message parsed = OfficialView.parse(signal, ByteBufUtil.getBytes(edited));
        assertThat(parsed).as("request %d", i).isEqualTo(script.expected(signal, request));
        assertThat(input.readerIndex()).isZero();
        // The policy visits every item of traces and logs: the editor counted what it kept.
        assertThat(result.summary() != null).isEqualTo(signal != Signal.METRICS);
        assertCountedAsAWalkCounts(signal, result);
      } finally {
        edited.release();
        assertThat(input.refCnt()).isEqualTo(1);
        input.release();
      }
    }
    // The script reached every level the signal has.
    List<Kind> kinds =
        switch (signal) {
          case TRACES ->
              List.of(Kind.RESOURCE, Kind.SCOPE, Kind.SPAN, Kind.SPAN_EVENT, Kind.SPAN_LINK);
          case METRICS -> List.of(Kind.RESOURCE, Kind.SCOPE, Kind.METRIC, Kind.DATA_POINT);
          default -> List.of(Kind.RESOURCE, Kind.SCOPE, Kind.LOG_RECORD);
        };
    for (Kind kind : kinds) {
      if (dropPercent > 0) {
        assertThat(script.drops.get(kind)[0]).as("drops of %s", kind).isPositive();
      }
      if (editPercent > 0) {
        assertThat(script.edits.get(kind)[0]).as("edits of %s", kind).isPositive();
      }
    }
    if (dropPercent >= 60) {
      assertThat(script.emptied.get(Kind.SCOPE)[0]).as("scopes emptied").isPositive();
      assertThat(script.emptied.get(Kind.RESOURCE)[0]).as("resources emptied").isPositive();
      if (signal == Signal.METRICS) {
        assertThat(script.emptied.get(Kind.METRIC)[0]).as("metrics emptied").isPositive();
      }
    }
  }

  /**
   * Items whose attribute fields are split around their other fields, and {@code KeyValue}s in
   * every layout a protobuf reader accepts ({@link FieldScrambler}): the editor's fast paths (an
   * item's attribute list rewritten where it lay as one run, keys read from the usual layout) apply
   * only where they hold, and the result is still what the official builders give, with a policy
   * that visits only items and with one that visits everything.
   */
  @ParameterizedTest
  @EnumSource(Signal.class)
  void editsOfUnusualLayoutsEqualTheSameEditsMadeWithTheOfficialBuilders(Signal signal)
      throws Exception {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 13L + 5).withUnknownFields(true);
    FieldScrambler scrambler = new FieldScrambler(signal.ordinal() + 99L);
    for (EnumSet<Kind> visited :
        List.of(EnumSet.of(Kind.SPAN, Kind.METRIC, Kind.LOG_RECORD), EnumSet.allOf(Kind.class))) {
      EditScript script = new EditScript(visited.size() * 3L, 20, 60, visited);
      EditPolicy policy = script.policy();
      for (int i = 0; i < 40; i++) {
        byte[] bytes = scrambler.scramble(signal, generator.request(signal));
        Message request = OfficialView.parse(signal, bytes);
        ByteBuf input =
            (i & 1) == 0
                ? Unpooled.wrappedBuffer(bytes)
                : PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
        script.restart();
        ByteBuf edited = (i % 3 == 0 ? EDITOR : UNCHECKED).edit(signal, input, policy);
        try {
          assertThat(OfficialView.parse(signal, ByteBufUtil.getBytes(edited)))
              .as("request %d visiting %s", i, visited)
              .isEqualTo(script.expected(signal, request));
        } finally {
          edited.release();
          input.release();
        }
      }
      assertThat(
              script
                  .edits
                  .get(
                      signal == Signal.TRACES
                          ? Kind.SPAN
                          : signal == Signal.METRICS ? Kind.METRIC : Kind.LOG_RECORD)[0])
          .as("items edited")
          .isPositive();
    }
  }

  static Stream<Arguments> partialVisits() {
    List<Arguments> out = new ArrayList<>();
    for (Signal signal : Signal.values()) {
      out.add(Arguments.of(signal, EnumSet.of(Kind.SPAN, Kind.METRIC, Kind.LOG_RECORD)));
      out.add(Arguments.of(signal, EnumSet.of(Kind.SPAN_EVENT, Kind.DATA_POINT, Kind.LOG_RECORD)));
      out.add(Arguments.of(signal, EnumSet.of(Kind.RESOURCE, Kind.SCOPE)));
      out.add(Arguments.of(signal, EnumSet.of(Kind.SCOPE, Kind.SPAN_LINK)));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} visiting {1}")
  @MethodSource("partialVisits")
  void kindsThePolicyDoesNotVisitAreKeptAsTheyAre(Signal signal, EnumSet<Kind> visited)
      throws Exception {
    OtlpGenerator generator =
        new OtlpGenerator(signal.ordinal() * 17L + visited.hashCode()).withUnknownFields(true);
    EditScript script = new EditScript(visited.size() * 7L, 30, 30, visited);
    EditPolicy policy = script.policy();
    for (int i = 0; i < 150; i++) {
      Message request = generator.request(signal);
      ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
      script.restart();
      EditedRequest result = UNCHECKED.editCounted(signal, input, policy);
      ByteBuf edited = result.request();
      try {
        assertThat(OfficialView.parse(signal, ByteBufUtil.getBytes(edited)))
            .as("request %d", i)
            .isEqualTo(script.expected(signal, request));
        boolean seesEveryItem =
            signal != Signal.METRICS
                && (visited.contains(signal == Signal.TRACES ? Kind.SPAN : Kind.LOG_RECORD)
                    || (signal == Signal.TRACES
                        && (visited.contains(Kind.SPAN_EVENT)
                            || visited.contains(Kind.SPAN_LINK))));
        assertThat(result.summary() != null).as("counted").isEqualTo(seesEveryItem);
        assertCountedAsAWalkCounts(signal, result);
      } finally {
        edited.release();
        input.release();
      }
    }
  }

  @Test
  void aPolicyThatVisitsOnlySpansStillReadsTheirScopeAndResource() {
    byte[] bytes = OtlpGenerator.realisticTraces(16).toByteArray();
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(16);
    String scopeName = request.getResourceSpans(0).getScopeSpans(0).getScope().getName();
    String service =
        request.getResourceSpans(0).getResource().getAttributesList().stream()
            .filter(kv -> kv.getKey().equals("service.name"))
            .findFirst()
            .orElseThrow()
            .getValue()
            .getStringValue();
    ByteBuf input = Unpooled.wrappedBuffer(bytes);
    List<String> seen = new ArrayList<>();
    ByteBuf edited =
        EDITOR.edit(
            Signal.TRACES,
            input,
            new EditPolicy() {
              @Override
              public boolean visits(Kind kind) {
                return kind == Kind.SPAN;
              }

              @Override
              public Decision span(ElementView span) {
                seen.add(
                    span.parent().name()
                        + "/"
                        + span.parent()
                            .parent()
                            .attribute(
                                "service.name".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                            .stringValue());
                return Decision.KEEP;
              }
            });
    try {
      assertThat(seen).hasSize(16).containsOnly(scopeName + "/" + service);
    } finally {
      edited.release();
      input.release();
    }
  }

  /** The bytes in a composite of two pooled components, the second with a non-zero reader index. */
  private static ByteBuf composite(byte[] bytes) {
    int half = bytes.length / 2;
    ByteBuf first = PooledByteBufAllocator.DEFAULT.heapBuffer(half).writeBytes(bytes, 0, half);
    ByteBuf second =
        PooledByteBufAllocator.DEFAULT
            .directBuffer(bytes.length - half + 3)
            .writeZero(3)
            .writeBytes(bytes, half, bytes.length - half);
    second.readerIndex(3);
    return Unpooled.compositeBuffer().addComponents(true, first, second);
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void aPolicyThatChangesNothingGetsTheInputBackAsOneSlice(Signal signal) {
    byte[] bytes = new OtlpGenerator(5).withUnknownFields(true).request(signal).toByteArray();
    ByteBuf input = Unpooled.wrappedBuffer(bytes);
    EditPolicy readsEverything =
        new EditPolicy() {
          @Override
          public Decision span(ElementView span) {
            span.attributes().indexOf("http.route"); // read, not changed
            return Decision.KEEP;
          }
        };
    ByteBuf edited = EDITOR.edit(signal, input, readsEverything);
    try {
      assertThat(edited).isNotInstanceOf(CompositeByteBuf.class);
      assertThat(edited.array()).isSameAs(bytes);
      assertThat(ByteBufUtil.getBytes(edited)).isEqualTo(bytes);
    } finally {
      edited.release();
      input.release();
    }
  }

  @Test
  void untouchedPartsAreSlicesOfTheInputAndOnlyPrefixesAndAddedAttributesAreNew() throws Exception {
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(64);
    byte[] bytes = request.toByteArray();
    EncodedAttribute added = EncodedAttribute.of("k", "v");
    int addedFieldBytes = 2 + added.toByteArray().length;
    ByteBuf input = Unpooled.wrappedBuffer(bytes);
    EditPolicy policy =
        new EditPolicy() {
          int n;

          @Override
          public Decision span(ElementView span) {
            int i = n++;
            if (i == 10) {
              return Decision.DROP;
            }
            if (i == 20) {
              span.attributes().add(added);
            }
            return Decision.KEEP;
          }
        };
    ByteBuf edited = EDITOR.edit(Signal.TRACES, input, policy);
    try {
      assertThat(edited).isInstanceOf(CompositeByteBuf.class);
      int fromInput = 0;
      int fresh = 0;
      for (ByteBuffer part : edited.nioBuffers()) {
        if (part.hasArray() && part.array() == bytes) {
          fromInput += part.remaining();
        } else {
          fresh += part.remaining();
        }
      }
      int dropped = request.getResourceSpans(0).getScopeSpans(0).getSpans(10).getSerializedSize();
      int changed = request.getResourceSpans(0).getScopeSpans(0).getSpans(20).getSerializedSize();
      // New bytes: span 20, changed, is written whole (it is small), and its Scope*'s and
      // Resource*'s new
      // prefixes (a tag and a varint length each); everything else is the input's own memory.
      assertThat(fresh).isBetween(changed + addedFieldBytes + 2, changed + addedFieldBytes + 3 * 6);
      // Less than the input: the two spans (with their 3-byte field prefixes), the old Scope* and
      // Resource*
      // prefixes (4 bytes each).
      assertThat(fromInput).isEqualTo(bytes.length - (dropped + 3) - (changed + 3) - 4 - 4);
      // Runs of input (to span 10, to span 20, the rest), the new span and the new prefixes.
      assertThat(((CompositeByteBuf) edited).numComponents()).isLessThanOrEqualTo(8);
      Span span20 = request.getResourceSpans(0).getScopeSpans(0).getSpans(20);
      ExportTraceServiceRequest parsed =
          ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(edited));
      assertThat(parsed.getResourceSpans(0).getScopeSpans(0).getSpansCount()).isEqualTo(63);
      assertThat(parsed.getResourceSpans(0).getScopeSpans(0).getSpans(19))
          .isEqualTo(
              span20.toBuilder()
                  .addAttributes(
                      KeyValue.newBuilder()
                          .setKey("k")
                          .setValue(AnyValue.newBuilder().setStringValue("v")))
                  .build());
    } finally {
      edited.release();
      input.release();
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void droppingEverythingLeavesAnEmptyRequest(Signal signal) throws Exception {
    OtlpGenerator generator = new OtlpGenerator(77);
    for (int i = 0; i < 50; i++) {
      Message request = OtlpGenerator.withoutUnknownFields(generator.request(signal));
      ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
      ByteBuf edited =
          EDITOR.edit(
              signal,
              input,
              new EditPolicy() {
                @Override
                public Decision resource(ElementView resource) {
                  return Decision.DROP;
                }
              });
      try {
        assertThat(edited.readableBytes()).isZero();
      } finally {
        edited.release();
        input.release();
      }
    }
  }

  @Test
  void anExceptionFromThePolicyPropagatesAndLeavesNothingAllocated() {
    byte[] bytes = OtlpGenerator.realisticTraces(32).toByteArray();
    ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    try {
      EditPolicy failing =
          new EditPolicy() {
            int n;

            @Override
            public Decision span(ElementView span) {
              span.attributes().add(EncodedAttribute.of("a", 1L));
              if (++n == 20) {
                throw new IllegalStateException("policy failed");
              }
              return Decision.KEEP;
            }
          };
      assertThatThrownBy(() -> EDITOR.edit(Signal.TRACES, input, failing))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("policy failed");
      assertThat(input.refCnt()).isEqualTo(1);
    } finally {
      input.release();
    }
  }

  @Test
  void malformedInputIsRefusedBeforeThePolicySeesAnything() {
    byte[] bytes = OtlpGenerator.realisticTraces(4).toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 3);
    ByteBuf input = Unpooled.wrappedBuffer(truncated);
    int[] visits = new int[1];
    try {
      assertThatThrownBy(
              () ->
                  EDITOR.edit(
                      Signal.TRACES,
                      input,
                      new EditPolicy() {
                        @Override
                        public Decision span(ElementView span) {
                          visits[0]++;
                          return Decision.KEEP;
                        }
                      }))
          .isInstanceOf(WireFormatException.class);
      assertThat(visits[0]).isZero();
      assertThatThrownBy(
              () ->
                  UNCHECKED.edit(
                      Signal.TRACES,
                      input,
                      new EditPolicy() {
                        @Override
                        public Decision span(ElementView span) {
                          span.attributes().add(EncodedAttribute.of("a", true));
                          return Decision.KEEP;
                        }
                      }))
          .isInstanceOf(WireFormatException.class);
      assertThat(input.refCnt()).isEqualTo(1);
    } finally {
      input.release();
    }
  }

  @Test
  void encodedAttributesMustBeWellFormed() {
    KeyValue kv =
        KeyValue.newBuilder().setKey("k").setValue(AnyValue.newBuilder().setIntValue(3)).build();
    assertThat(EncodedAttribute.ofEncoded(kv.toByteArray()).key()).isEqualTo("k");
    assertThatThrownBy(() -> EncodedAttribute.ofEncoded(new byte[] {0x0A, 0x05, 'a'}))
        .isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> EncodedAttribute.ofEncoded(new byte[] {0x12, 0x00}))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("without a key");
  }

  /** The editor's counts of its output, when it has them, are the walker's. */
  private static void assertCountedAsAWalkCounts(Signal signal, EditedRequest result) {
    if (result.summary() == null) {
      return;
    }
    WalkSummary walked = OtlpWalker.create().walk(signal, result.request());
    WalkSummary counted = result.summary();
    assertThat(counted.resourceCount()).as("resources").isEqualTo(walked.resourceCount());
    assertThat(counted.scopeCount()).as("scopes").isEqualTo(walked.scopeCount());
    assertThat(counted.itemCount()).as("items").isEqualTo(walked.itemCount());
    assertThat(counted.byteCount()).as("bytes").isEqualTo(walked.byteCount());
  }
}
