package io.otlp4j.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSummaryData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSummaryPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableValueAtQuantile;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.testing.metrics.TestMetricData;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * SDK telemetry for equivalence tests: produced by a real SdkTracerProvider / SdkMeterProvider /
 * SdkLoggerProvider, by the SDK's test builders, hand-written edge cases (empty attributes,
 * unicode, huge strings, NaN and infinities) and seeded random data.
 */
final class TelemetrySamples {

  static final Resource RESOURCE =
      Resource.create(
          Attributes.builder()
              .put("service.name", "checkout")
              .put("host.name", "h-1")
              .put("pids", new long[] {1, 2})
              .build(),
          "https://opentelemetry.io/schemas/1.24.0");
  static final Resource OTHER_RESOURCE =
      Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "ünïcødé ✓ 服务"));
  static final String HUGE = "x".repeat(200_000);

  private TelemetrySamples() {}

  /** Spans of two resources and three scopes, every field set somewhere. */
  static List<SpanData> spans() {
    List<SpanData> out = new ArrayList<>();
    out.addAll(realSpans(RESOURCE));
    out.addAll(realSpans(OTHER_RESOURCE));
    out.add(edgeCaseSpan());
    return out;
  }

  private static List<SpanData> realSpans(Resource resource) {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    try (SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(resource)
            .addSpanProcessor(SimpleSpanProcessor.create(memory))
            .build()) {
      Tracer a =
          provider
              .tracerBuilder("scope-a")
              .setInstrumentationVersion("1.2.3")
              .setSchemaUrl("https://example.com/schema")
              .build();
      Tracer b = provider.get("scope-b");
      Span parent =
          a.spanBuilder("parent")
              .setSpanKind(SpanKind.SERVER)
              .setAttribute("http.method", "GET")
              .setAttribute("flag", true)
              .setAttribute("n", 42L)
              .setAttribute("ratio", 0.5)
              .setAttribute(AttributeKey.stringArrayKey("tags"), List.of("a", "ü", ""))
              .setAttribute(AttributeKey.booleanArrayKey("bools"), List.of(true, false))
              .setAttribute(AttributeKey.longArrayKey("longs"), List.of(1L, -1L, Long.MAX_VALUE))
              .setAttribute(
                  AttributeKey.doubleArrayKey("doubles"),
                  List.of(1.5, Double.NaN, Double.NEGATIVE_INFINITY))
              .startSpan();
      try (Scope ignored = parent.makeCurrent()) {
        Span child =
            b.spanBuilder("child ✓")
                .setSpanKind(SpanKind.CLIENT)
                .addLink(
                    SpanContext.create(
                        "0af7651916cd43dd8448eb211c80319c",
                        "b7ad6b7169203331",
                        TraceFlags.getSampled(),
                        TraceState.builder().put("vendor", "v1").build()),
                    Attributes.of(AttributeKey.stringKey("link"), "attr"))
                .addLink(
                    SpanContext.create(
                        "0af7651916cd43dd8448eb211c80319d",
                        "b7ad6b7169203332",
                        TraceFlags.getDefault(),
                        TraceState.getDefault()))
                .startSpan();
        child.addEvent("empty event");
        child.addEvent("event", Attributes.of(AttributeKey.longKey("k"), 7L));
        child.recordException(new IllegalStateException("boom"));
        child.setStatus(StatusCode.ERROR, "it failed");
        child.end();
        a.spanBuilder("ok").startSpan().setStatus(StatusCode.OK).end();
      }
      parent.end();
      // A child of a remote parent: the parent-is-remote flag bits.
      Context remote =
          Context.root()
              .with(
                  Span.wrap(
                      SpanContext.createFromRemoteParent(
                          "4bf92f3577b34da6a3ce929d0e0e4736",
                          "00f067aa0ba902b7",
                          TraceFlags.getSampled(),
                          TraceState.builder().put("congo", "t61rcWkgMzE").build())));
      b.spanBuilder("from remote")
          .setParent(remote)
          .setSpanKind(SpanKind.CONSUMER)
          .startSpan()
          .end();
      b.spanBuilder("producer").setSpanKind(SpanKind.PRODUCER).setNoParent().startSpan().end();
      return new ArrayList<>(memory.getFinishedSpanItems());
    }
  }

  private static SpanData edgeCaseSpan() {
    return TestSpanData.builder()
        .setSpanContext(
            SpanContext.create(
                "00000000000000000000000000000001",
                "0000000000000001",
                TraceFlags.getSampled(),
                TraceState.getDefault()))
        .setResource(Resource.empty())
        .setInstrumentationScopeInfo(InstrumentationScopeInfo.create(""))
        .setName("")
        .setKind(SpanKind.INTERNAL)
        .setStartEpochNanos(0)
        .setEndEpochNanos(Long.MAX_VALUE)
        .setAttributes(
            Attributes.builder()
                .put("huge", HUGE)
                .put("", "empty key")
                .put("unicode 𝄞", "emoji 😀 and nul \u0000")
                .build())
        .setEvents(List.of(EventData.create(5, "e", Attributes.empty(), 3)))
        .setTotalRecordedEvents(10)
        .setLinks(List.of())
        .setTotalRecordedLinks(4)
        .setTotalAttributeCount(9)
        .setStatus(StatusData.unset())
        .setHasEnded(true)
        .build();
  }

  /** Seeded random spans: names, attribute sets and counts vary. */
  static List<SpanData> randomSpans(long seed, int count) {
    Random random = new Random(seed);
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    try (SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(RESOURCE)
            .addSpanProcessor(SimpleSpanProcessor.create(memory))
            .build()) {
      for (int i = 0; i < count; i++) {
        Tracer tracer = provider.get("scope-" + random.nextInt(3));
        var builder =
            tracer
                .spanBuilder(randomString(random, 1 + random.nextInt(40)))
                .setSpanKind(SpanKind.values()[random.nextInt(SpanKind.values().length)]);
        int attributes = random.nextInt(8);
        for (int k = 0; k < attributes; k++) {
          switch (random.nextInt(4)) {
            case 0 -> builder.setAttribute("s" + k, randomString(random, random.nextInt(100)));
            case 1 -> builder.setAttribute("l" + k, random.nextLong());
            case 2 -> builder.setAttribute("d" + k, random.nextDouble() * 1e6);
            default -> builder.setAttribute("b" + k, random.nextBoolean());
          }
        }
        Span span = builder.startSpan();
        for (int e = random.nextInt(3); e > 0; e--) {
          span.addEvent(
              randomString(random, 10), Attributes.of(AttributeKey.longKey("i"), (long) e));
        }
        span.end();
      }
      return new ArrayList<>(memory.getFinishedSpanItems());
    }
  }

  private static String randomString(Random random, int length) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      int kind = random.nextInt(10);
      sb.appendCodePoint(
          kind < 7
              ? 'a' + random.nextInt(26)
              : kind < 9 ? 0xE0 + random.nextInt(200) : 0x1F600 + random.nextInt(50));
    }
    return sb.toString();
  }

  /**
   * Every metric type: sums, gauges (NaN, infinities), histograms, exponential histograms, summary.
   */
  static List<MetricData> metrics() {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    var builder =
        SdkMeterProvider.builder()
            .setResource(RESOURCE)
            .registerMetricReader(reader)
            .registerView(
                InstrumentSelector.builder().setName("exp").build(),
                View.builder()
                    .setAggregation(Aggregation.base2ExponentialBucketHistogram())
                    .build())
            .setExemplarFilter(ExemplarFilter.alwaysOn());
    List<MetricData> out = new ArrayList<>();
    try (SdkMeterProvider provider = builder.build()) {
      Meter meter =
          provider
              .meterBuilder("meter-a")
              .setInstrumentationVersion("2.0")
              .setSchemaUrl("https://example.com/m")
              .build();
      Meter other = provider.get("meter-b");
      InMemorySpanExporter spans = InMemorySpanExporter.create();
      try (SdkTracerProvider tracing =
          SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()) {
        Span span = tracing.get("t").spanBuilder("with exemplars").startSpan();
        try (Scope ignored = span.makeCurrent()) {
          meter
              .counterBuilder("requests")
              .setUnit("1")
              .setDescription("requests ✓")
              .build()
              .add(5, Attributes.of(AttributeKey.stringKey("route"), "/a"));
          meter.counterBuilder("bytes").ofDoubles().build().add(1.5);
          meter.upDownCounterBuilder("inflight").build().add(-3);
          meter
              .gaugeBuilder("temperature")
              .build()
              .set(Double.NaN, Attributes.of(AttributeKey.stringKey("where"), "nan"));
          meter
              .gaugeBuilder("temperature")
              .build()
              .set(Double.POSITIVE_INFINITY, Attributes.of(AttributeKey.stringKey("where"), "inf"));
          meter
              .gaugeBuilder("temperature")
              .build()
              .set(
                  Double.NEGATIVE_INFINITY, Attributes.of(AttributeKey.stringKey("where"), "-inf"));
          meter.gaugeBuilder("level").ofLongs().build().set(Long.MIN_VALUE);
          var histogram = meter.histogramBuilder("latency").setUnit("ms").build();
          for (double v : new double[] {0, 1, 7.5, 12, 400, 1e9}) {
            histogram.record(v);
          }
          var exp = other.histogramBuilder("exp").build();
          for (double v : new double[] {0.001, 1, 2, 3, 1000, 0}) {
            exp.record(v);
          }
          other.histogramBuilder("empty_attrs").ofLongs().build().record(3, Attributes.empty());
        }
        span.end();
      }
      out.addAll(reader.collectAllMetrics());
    }
    out.add(
        TestMetricData.builder()
            .setResource(OTHER_RESOURCE)
            .setInstrumentationScopeInfo(InstrumentationScopeInfo.create("summaries"))
            .setName("rpc.duration")
            .setDescription("")
            .setUnit("s")
            .setSummaryData(
                ImmutableSummaryData.create(
                    List.of(
                        ImmutableSummaryPointData.create(
                            1,
                            2,
                            Attributes.of(AttributeKey.stringKey("q"), "v"),
                            10,
                            55.5,
                            List.of(
                                ImmutableValueAtQuantile.create(0.0, 0.1),
                                ImmutableValueAtQuantile.create(0.5, 4),
                                ImmutableValueAtQuantile.create(1.0, Double.POSITIVE_INFINITY))))))
            .build());
    return out;
  }

  /** Log records with every kind of body, severities, event names and trace context. */
  static List<LogRecordData> logs() {
    InMemoryLogRecordExporter memory = InMemoryLogRecordExporter.create();
    try (SdkLoggerProvider provider =
        SdkLoggerProvider.builder()
            .setResource(RESOURCE)
            .addLogRecordProcessor(SimpleLogRecordProcessor.create(memory))
            .build()) {
      Logger logger =
          provider
              .loggerBuilder("log-scope")
              .setInstrumentationVersion("3")
              .setSchemaUrl("https://example.com/l")
              .build();
      Logger other = provider.get("other");
      logger
          .logRecordBuilder()
          .setBody("plain ✓")
          .setSeverity(Severity.INFO)
          .setSeverityText("INFO")
          .setTimestamp(1_000, java.util.concurrent.TimeUnit.NANOSECONDS)
          .setObservedTimestamp(2_000, java.util.concurrent.TimeUnit.NANOSECONDS)
          .setAttribute(AttributeKey.stringKey("k"), "v")
          .emit();
      logger.logRecordBuilder().setBody(Value.of(42L)).setSeverity(Severity.ERROR4).emit();
      logger.logRecordBuilder().setBody(Value.of(Double.NaN)).emit();
      logger.logRecordBuilder().setBody(Value.of(true)).setEventName("app.event").emit();
      logger.logRecordBuilder().setBody(Value.of("bytes".getBytes(StandardCharsets.UTF_8))).emit();
      logger
          .logRecordBuilder()
          .setBody(Value.of(Value.of("a"), Value.of(1L), Value.of(List.of())))
          .emit();
      logger
          .logRecordBuilder()
          .setBody(Value.of(Map.of("nested", Value.of(Map.of("x", Value.of(2.5))))))
          .emit();
      other.logRecordBuilder().setBody(HUGE).emit();
      other.logRecordBuilder().emit(); // no body at all
      InMemorySpanExporter spans = InMemorySpanExporter.create();
      try (SdkTracerProvider tracing =
          SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()) {
        Span span = tracing.get("t").spanBuilder("s").startSpan();
        try (Scope ignored = span.makeCurrent()) {
          other.logRecordBuilder().setBody("inside a span").setSeverity(Severity.WARN).emit();
        }
        span.end();
      }
      return new ArrayList<>(memory.getFinishedLogRecordItems());
    }
  }
}
