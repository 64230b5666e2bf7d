package io.otlp4j.sdk.internal;

import static io.otlp4j.sdk.internal.Fixtures.PARENT_SPAN_ID;
import static io.otlp4j.sdk.internal.Fixtures.TRACE_ID;
import static io.otlp4j.sdk.internal.SdkReference.assertSpansMatch;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.resources.internal.Entity;
import io.opentelemetry.sdk.resources.internal.EntityUtil;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanLimits;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SpanMarshalingTest {
  private static final Resource RESOURCE = Fixtures.resource("svc");
  private static final InstrumentationScopeInfo SCOPE = Fixtures.scope("lib");

  static TestSpanData.Builder span() {
    return TestSpanData.builder()
        .setSpanContext(Fixtures.spanContext(true, false, TraceState.getDefault()))
        .setResource(RESOURCE)
        .setInstrumentationScopeInfo(SCOPE)
        .setName("GET /")
        .setKind(SpanKind.SERVER)
        .setStartEpochNanos(1_700_000_000_000_000_000L)
        .setEndEpochNanos(1_700_000_000_123_456_789L)
        .setStatus(StatusData.unset())
        .setHasEnded(true)
        .setTotalRecordedEvents(0)
        .setTotalRecordedLinks(0);
  }

  @Test
  void emptyBatchIsAnEmptyRequest() {
    assertThat(SdkReference.oursSpans(Collections.emptyList())).isEmpty();
    assertSpansMatch(Collections.emptyList());
  }

  @ParameterizedTest
  @EnumSource(SpanKind.class)
  void everySpanKindMatches(SpanKind kind) {
    assertSpansMatch(List.of(span().setKind(kind).build()));
  }

  @ParameterizedTest
  @EnumSource(StatusCode.class)
  void everyStatusCodeWithAndWithoutMessageMatches(StatusCode code) {
    assertSpansMatch(
        List.of(
            span().setStatus(StatusData.create(code, "")).build(),
            span().setStatus(StatusData.create(code, "it \u00e9 failed \uD83D\uDE00")).build()));
  }

  @Test
  void parentIsRemoteBitsFollowTheParentContext() {
    SpanContext remoteParent =
        SpanContext.createFromRemoteParent(
            TRACE_ID, PARENT_SPAN_ID, TraceFlags.getSampled(), TraceState.getDefault());
    SpanContext localParent =
        SpanContext.create(
            TRACE_ID, PARENT_SPAN_ID, TraceFlags.getDefault(), TraceState.getDefault());
    ExportTraceServiceRequest parsed =
        assertSpansMatch(
            List.of(
                span().build(),
                span().setParentSpanContext(remoteParent).build(),
                span().setParentSpanContext(localParent).build(),
                span()
                    .setSpanContext(Fixtures.spanContext(false, false, TraceState.getDefault()))
                    .build()));
    List<io.opentelemetry.proto.trace.v1.Span> spans =
        parsed.getResourceSpans(0).getScopeSpans(0).getSpansList();
    assertThat(spans.get(0).getFlags()).isEqualTo(0x101);
    assertThat(spans.get(1).getFlags()).isEqualTo(0x301);
    assertThat(spans.get(2).getFlags()).isEqualTo(0x101);
    assertThat(spans.get(3).getFlags()).isEqualTo(0x100);
    assertThat(spans.get(0).getParentSpanId().isEmpty()).isTrue();
    assertThat(spans.get(1).getParentSpanId().size()).isEqualTo(8);
  }

  @Test
  void eventsLinksTraceStateAndDroppedCountsMatch() {
    SpanContext remoteLink =
        SpanContext.createFromRemoteParent(
            TRACE_ID, PARENT_SPAN_ID, TraceFlags.getSampled(), Fixtures.traceState());
    SpanContext localLink =
        SpanContext.create(
            TRACE_ID, PARENT_SPAN_ID, TraceFlags.getDefault(), TraceState.getDefault());
    SpanData span =
        span()
            .setSpanContext(Fixtures.spanContext(true, false, Fixtures.traceState()))
            .setAttributes(Attributes.of(AttributeKey.stringKey("k"), "v"))
            .setTotalAttributeCount(5)
            .setEvents(
                List.of(
                    EventData.create(1L, "e1", Attributes.empty()),
                    EventData.create(0L, "", Attributes.of(AttributeKey.longKey("n"), 3L), 4),
                    EventData.create(Long.MAX_VALUE, "exception", Fixtures.everyAttributeType())))
            .setTotalRecordedEvents(10)
            .setLinks(
                List.of(
                    LinkData.create(remoteLink),
                    LinkData.create(
                        localLink, Attributes.of(AttributeKey.booleanKey("b"), true), 3),
                    LinkData.create(SpanContext.getInvalid())))
            .setTotalRecordedLinks(7)
            .build();
    ExportTraceServiceRequest parsed = assertSpansMatch(List.of(span));
    io.opentelemetry.proto.trace.v1.Span proto =
        parsed.getResourceSpans(0).getScopeSpans(0).getSpans(0);
    assertThat(proto.getDroppedAttributesCount()).isEqualTo(4);
    assertThat(proto.getDroppedEventsCount()).isEqualTo(7);
    assertThat(proto.getDroppedLinksCount()).isEqualTo(4);
    assertThat(proto.getTraceState()).isEqualTo("other=x1,vendor=value");
    assertThat(proto.getLinks(0).getFlags()).isEqualTo(0x301);
  }

  @Test
  void everyAttributeTypeMatches() {
    assertSpansMatch(List.of(span().setAttributes(Fixtures.everyAttributeType()).build()));
  }

  @Test
  void emptyAttributesAndEmptyNameMatch() {
    assertSpansMatch(List.of(span().setName("").setAttributes(Attributes.empty()).build()));
  }

  @Test
  void awkwardUnicodeMatchesEverywhere() {
    List<SpanData> spans = new ArrayList<>();
    for (String s : Fixtures.AWKWARD_STRINGS) {
      spans.add(
          span()
              .setName(s)
              .setAttributes(
                  Attributes.of(AttributeKey.stringKey(s), s, AttributeKey.stringKey("v"), s))
              .setStatus(StatusData.create(StatusCode.ERROR, s))
              .setEvents(List.of(EventData.create(5L, s, Attributes.empty())))
              .setTotalRecordedEvents(1)
              .setInstrumentationScopeInfo(
                  InstrumentationScopeInfo.builder(s).setVersion(s).build())
              .build());
    }
    assertSpansMatch(spans);
  }

  @Test
  void megabyteStringsMatch() {
    char[] ascii = new char[1 << 20];
    Arrays.fill(ascii, 'x');
    char[] wide = new char[1 << 20];
    Arrays.fill(wide, '\u00e9');
    String bigAscii = new String(ascii);
    String bigWide = new String(wide);
    assertSpansMatch(
        List.of(
            span().setName(bigAscii).build(),
            span().setAttributes(Attributes.of(AttributeKey.stringKey("big"), bigWide)).build()));
    // The oversized thread-local writer is dropped afterwards; the next small batch still matches.
    assertSpansMatch(List.of(span().build()));
  }

  @Test
  void missingOptionalFieldsMatch() {
    assertSpansMatch(
        List.of(
            span()
                .setResource(Resource.empty())
                .setInstrumentationScopeInfo(InstrumentationScopeInfo.create("bare"))
                .setStartEpochNanos(0)
                .setEndEpochNanos(0)
                .build(),
            span()
                .setResource(Resource.create(Attributes.empty()))
                .setInstrumentationScopeInfo(InstrumentationScopeInfo.empty())
                .build()));
  }

  @Test
  void resourceEntityRefsMatch() {
    Resource withEntities =
        EntityUtil.createResource(
            List.of(
                Entity.builder(
                        "service",
                        Attributes.of(AttributeKey.stringKey("service.name"), "checkout"))
                    .setDescription(
                        Attributes.of(
                            AttributeKey.stringKey("service.version"),
                            "1.0",
                            AttributeKey.longKey("service.pid"),
                            7L))
                    .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
                    .build(),
                Entity.builder("host", Attributes.of(AttributeKey.stringKey("host.id"), "h-1"))
                    .build()));
    ExportTraceServiceRequest parsed =
        assertSpansMatch(List.of(span().setResource(withEntities).build()));
    assertThat(parsed.getResourceSpans(0).getResource().getEntityRefsCount()).isEqualTo(2);
  }

  @Test
  void spansAreGroupedByResourceAndScopeInFirstSeenOrder() {
    Resource r1 = Fixtures.resource("one");
    Resource r2 = Fixtures.resource("two");
    InstrumentationScopeInfo a = Fixtures.scope("a");
    InstrumentationScopeInfo b = Fixtures.scope("b");
    List<SpanData> spans = new ArrayList<>();
    String[] order = {"r2a", "r1a", "r2b", "r1a", "r2a", "r1b", "r2b"};
    for (int i = 0; i < order.length; i++) {
      String o = order[i];
      spans.add(
          span()
              .setName(o + "-" + i)
              .setResource(o.startsWith("r1") ? r1 : r2)
              .setInstrumentationScopeInfo(o.endsWith("a") ? a : b)
              .build());
    }
    ExportTraceServiceRequest parsed = assertSpansMatch(spans);
    assertThat(parsed.getResourceSpansCount()).isEqualTo(2);
    assertThat(parsed.getResourceSpans(0).getResource().getAttributesList())
        .anySatisfy(kv -> assertThat(kv.getValue().getStringValue()).isEqualTo("two"));
    assertThat(parsed.getResourceSpans(0).getScopeSpansList())
        .extracting(s -> s.getScope().getName())
        .containsExactly("a", "b");
    assertThat(parsed.getResourceSpans(0).getScopeSpans(0).getSpansList())
        .extracting(io.opentelemetry.proto.trace.v1.Span::getName)
        .containsExactly("r2a-0", "r2a-4");
    assertThat(parsed.getResourceSpans(1).getScopeSpansList())
        .extracting(s -> s.getScope().getName())
        .containsExactly("a", "b");
  }

  @Test
  void equalButDistinctResourcesAreSeparateGroupsAsInTheSdk() {
    // The SDK groups by identity; equal copies each get their own ResourceSpans.
    ExportTraceServiceRequest parsed =
        assertSpansMatch(
            List.of(
                span().setResource(Fixtures.resource("same")).build(),
                span().setResource(Fixtures.resource("same")).build()));
    assertThat(parsed.getResourceSpansCount()).isEqualTo(2);
  }

  @Test
  void manyDistinctResourcesAndScopesMatch() {
    List<SpanData> spans = new ArrayList<>();
    List<Resource> resources = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      resources.add(Fixtures.resource("svc-" + i));
    }
    for (int i = 0; i < 400; i++) {
      spans.add(
          span()
              .setName("s" + i)
              .setResource(resources.get((i * 7) % 40))
              .setInstrumentationScopeInfo(Fixtures.scope("scope-" + (i % 3)))
              .build());
    }
    assertSpansMatch(spans);
  }

  @Test
  void appendsToTheCallersBufferAfterWhatItHolds() {
    List<SpanData> spans = List.of(span().build(), span().setKind(SpanKind.CLIENT).build());
    byte[] expected = SdkReference.oursSpans(spans);
    ByteBuf out = Unpooled.buffer();
    try {
      out.writeByte(0x7f);
      int written = OtlpMarshaler.encodeSpans(spans, out);
      assertThat(written).isEqualTo(expected.length);
      assertThat(out.readByte()).isEqualTo((byte) 0x7f);
      byte[] rest = new byte[out.readableBytes()];
      out.readBytes(rest);
      assertThat(rest).isEqualTo(expected);
    } finally {
      out.release();
    }
  }

  @Test
  void spansFromARealTracerProviderMatch() {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(Resource.getDefault().merge(Fixtures.resource("real")))
            .setSpanLimits(
                SpanLimits.builder()
                    .setMaxNumberOfAttributes(4)
                    .setMaxNumberOfEvents(2)
                    .setMaxNumberOfLinks(1)
                    .build())
            .addSpanProcessor(SimpleSpanProcessor.create(exporter))
            .build();
    try {
      Tracer tracer = provider.get("io.otlp4j.test", "0.1");
      Tracer other =
          provider.tracerBuilder("other").setSchemaUrl("https://example.com/schema").build();
      Span parent = tracer.spanBuilder("parent").setSpanKind(SpanKind.SERVER).startSpan();
      for (int i = 0; i < 5; i++) {
        Span child =
            (i % 2 == 0 ? tracer : other)
                .spanBuilder("child " + i)
                .setParent(Context.current().with(parent))
                .addLink(
                    parent.getSpanContext(), Attributes.of(AttributeKey.longKey("i"), (long) i))
                .addLink(
                    SpanContext.createFromRemoteParent(
                        TRACE_ID, PARENT_SPAN_ID, TraceFlags.getSampled(), Fixtures.traceState()))
                .startSpan();
        for (int a = 0; a < 6; a++) {
          child.setAttribute("attr." + a, a);
        }
        child
            .addEvent("ev1")
            .addEvent("ev2", Attributes.of(AttributeKey.stringKey("x"), "y"))
            .addEvent("ev3");
        child.recordException(new IllegalStateException("boom " + i));
        if (i == 3) {
          child.setStatus(StatusCode.ERROR, "failed");
        }
        child.end();
      }
      Span remoteChild =
          tracer
              .spanBuilder("remote child")
              .setParent(
                  Context.root()
                      .with(
                          Span.wrap(
                              SpanContext.createFromRemoteParent(
                                  TRACE_ID,
                                  PARENT_SPAN_ID,
                                  TraceFlags.getSampled(),
                                  Fixtures.traceState()))))
              .startSpan();
      remoteChild.end();
      parent.setStatus(StatusCode.OK).end();
      List<SpanData> finished = exporter.getFinishedSpanItems();
      assertThat(finished).hasSize(7);
      assertSpansMatch(finished);
    } finally {
      provider.close();
    }
  }
}
