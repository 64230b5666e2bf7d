package io.otlp4j.relay.component;

import static io.otlp4j.relay.component.AttributesProcessorFactoryTest.kv;
import static io.otlp4j.relay.component.AttributesProcessorFactoryTest.log;
import static io.otlp4j.relay.component.AttributesProcessorFactoryTest.logs;
import static io.otlp4j.relay.component.AttributesProcessorFactoryTest.parseTraces;
import static io.otlp4j.relay.component.AttributesProcessorFactoryTest.span;
import static io.otlp4j.relay.component.AttributesProcessorFactoryTest.traces;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Summary;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code filter} processor against the official classes: the Collector README's OTTL example,
 * the newer {@code trace_conditions}, the legacy include/exclude, what is dropped when nothing is
 * left, and configuration errors with their lines.
 */
@ExtendWith(NettyLeakCheck.class)
class FilterProcessorFactoryTest {

  /** The filter processor README's example. */
  private static final String README_EXAMPLE =
      """
      error_mode: ignore
      traces:
        span:
          - 'attributes["container.name"] == "app_container_1"'
          - 'resource.attributes["host.name"] == "localhost"'
          - 'name == "app_3"'
        spanevent:
          - 'attributes["grpc"] == true'
          - 'IsMatch(name, ".*grpc.*")'
      metrics:
        metric:
            - 'name == "my.metric" and resource.attributes["my_label"] == "abc123"'
            - 'type == METRIC_DATA_TYPE_HISTOGRAM'
        datapoint:
            - 'metric.type == METRIC_DATA_TYPE_SUMMARY'
            - 'resource.attributes["service.name"] == "my_service_name"'
      logs:
        log_record:
          - 'IsMatch(body, ".*password.*")'
          - 'severity_number < SEVERITY_NUMBER_WARN'
      """;

  @Test
  void readmeExampleDropsSpansAndEvents() throws Exception {
    ProcessorHarness h = new ProcessorHarness("filter/ottl", README_EXAMPLE);
    Span.Event grpcByName = Span.Event.newBuilder().setName("call grpc server").build();
    Span.Event grpcByAttribute =
        Span.Event.newBuilder().setName("x").addAttributes(kv("grpc", true)).build();
    Span.Event kept =
        Span.Event.newBuilder().setName("x").addAttributes(kv("grpc", "true")).build();
    Span keep =
        span("ok", kv("container.name", "app_container_2")).toBuilder()
            .addEvents(grpcByName)
            .addEvents(kept)
            .addEvents(grpcByAttribute)
            .build();
    Span byAttribute = span("ok", kv("container.name", "app_container_1"));
    Span byName = span("app_3");
    ExportTraceServiceRequest in = traces("svc", keep, byAttribute, byName);

    ProcessorHarness.Outcome out = h.run(Signal.TRACES, in);

    assertThat(parseTraces(out.bytes()))
        .isEqualTo(traces("svc", keep.toBuilder().clearEvents().addEvents(kept).build()));
    assertThat(out.summary().itemCount()).isEqualTo(1);
    assertThat(h.counter(ProcessorCounts.INCOMING, "traces")).isEqualTo(3);
    assertThat(h.counter(ProcessorCounts.OUTGOING, "traces")).isEqualTo(1);

    // every span of the resource matches: nothing is left, and the request is dropped (not refused)
    ExportTraceServiceRequest localhost =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(Resource.newBuilder().addAttributes(kv("host.name", "localhost")))
                    .addScopeSpans(ScopeSpans.newBuilder().addSpans(span("a")).addSpans(span("b"))))
            .build();
    ProcessorHarness.Outcome dropped = h.run(Signal.TRACES, localhost);
    assertThat(dropped.bytes()).isNull();
    assertThat(dropped.dropped()).isEqualTo(2);
  }

  @Test
  void readmeExampleDropsMetricsAndDataPoints() throws Exception {
    ProcessorHarness h = new ProcessorHarness("filter/ottl", README_EXAMPLE);
    NumberDataPoint p = NumberDataPoint.newBuilder().setAsInt(1).build();
    Metric gauge =
        Metric.newBuilder()
            .setName("my.metric")
            .setGauge(Gauge.newBuilder().addDataPoints(p))
            .build();
    Metric histogram =
        Metric.newBuilder()
            .setName("h")
            .setHistogram(
                Histogram.newBuilder().addDataPoints(HistogramDataPoint.newBuilder().setCount(1)))
            .build();
    Metric summary =
        Metric.newBuilder()
            .setName("s")
            .setSummary(
                Summary.newBuilder().addDataPoints(SummaryDataPoint.newBuilder().setCount(1)))
            .build();
    ExportMetricsServiceRequest in =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(resourceMetrics("abc123", gauge, histogram, summary))
            .addResourceMetrics(resourceMetrics("other", gauge, summary))
            .build();

    ProcessorHarness.Outcome out = h.run(Signal.METRICS, in);

    ExportMetricsServiceRequest expected =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(resourceMetrics("other", gauge))
            .build();
    assertThat(ExportMetricsServiceRequest.parseFrom(out.bytes())).isEqualTo(expected);
    assertThat(h.counter(ProcessorCounts.INCOMING, "metrics")).isEqualTo(5);
    assertThat(h.counter(ProcessorCounts.OUTGOING, "metrics")).isEqualTo(1);
  }

  private static ResourceMetrics resourceMetrics(String label, Metric... metrics) {
    return ResourceMetrics.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(kv("my_label", label)))
        .addScopeMetrics(ScopeMetrics.newBuilder().addAllMetrics(List.of(metrics)))
        .build();
  }

  @Test
  void readmeExampleDropsLogRecords() throws Exception {
    ProcessorHarness h = new ProcessorHarness("filter/ottl", README_EXAMPLE);
    LogRecord password = log("the password is x", SeverityNumber.SEVERITY_NUMBER_ERROR);
    LogRecord debug = log("fine", SeverityNumber.SEVERITY_NUMBER_DEBUG);
    LogRecord warn = log("fine", SeverityNumber.SEVERITY_NUMBER_WARN);
    LogRecord intBody =
        LogRecord.newBuilder()
            .setBody(AnyValue.newBuilder().setIntValue(7))
            .setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_ERROR)
            .build();
    ProcessorHarness.Outcome out = h.run(Signal.LOGS, logs(password, debug, warn, intBody));
    assertThat(ExportLogsServiceRequest.parseFrom(out.bytes())).isEqualTo(logs(warn, intBody));
  }

  @Test
  void traceConditionsTakeTheirContextFromThePaths() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "filter",
            """
        trace_conditions:
          - 'span.status.code == STATUS_CODE_OK and span.end_time_unix_nano - span.start_time_unix_nano < 1000'
          - 'not (span.kind == SPAN_KIND_SERVER or span.kind == SPAN_KIND_CLIENT) and IsString(span.attributes["q"])'
          - 'instrumentation_scope.name == "noisy" and span.attributes["n"] >= 2.5'
          - context: spanevent
            conditions: ['name == "drop me"', 'span.name == "no-events"']
        """);
    Span fastOk =
        timed("fast-ok", 0, 999).toBuilder()
            .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_OK))
            .build();
    Span slowOk =
        timed("slow-ok", 0, 1000).toBuilder()
            .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_OK))
            .build();
    Span internalQ =
        span("internal", kv("q", "s")).toBuilder()
            .setKind(Span.SpanKind.SPAN_KIND_INTERNAL)
            .build();
    Span serverQ = internalQ.toBuilder().setKind(Span.SpanKind.SPAN_KIND_SERVER).build();
    Span internalIntQ =
        span("internal", kv("q", 1L)).toBuilder().setKind(Span.SpanKind.SPAN_KIND_INTERNAL).build();
    Span n3 = span("n3", kv("n", 3L));
    Span n2 = span("n2", kv("n", 2L));
    Span.Event dropMe = Span.Event.newBuilder().setName("drop me").build();
    Span.Event keepMe = Span.Event.newBuilder().setName("keep me").build();
    Span withEvents = span("events").toBuilder().addEvents(dropMe).addEvents(keepMe).build();
    Span noEvents = span("no-events").toBuilder().addEvents(keepMe).build();
    ExportTraceServiceRequest in =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .addScopeSpans(
                        ScopeSpans.newBuilder()
                            .setScope(InstrumentationScope.newBuilder().setName("noisy"))
                            .addAllSpans(
                                List.of(
                                    fastOk,
                                    slowOk,
                                    internalQ,
                                    serverQ,
                                    internalIntQ,
                                    n3,
                                    n2,
                                    withEvents,
                                    noEvents))))
            .build();

    ExportTraceServiceRequest out = parseTraces(h.run(Signal.TRACES, in).bytes());

    ExportTraceServiceRequest expected =
        in.toBuilder()
            .setResourceSpans(
                0,
                in.getResourceSpans(0).toBuilder()
                    .setScopeSpans(
                        0,
                        in.getResourceSpans(0).getScopeSpans(0).toBuilder()
                            .clearSpans()
                            .addAllSpans(
                                List.of(
                                    slowOk,
                                    serverQ,
                                    internalIntQ,
                                    n2,
                                    withEvents.toBuilder().clearEvents().addEvents(keepMe).build(),
                                    noEvents.toBuilder().clearEvents().build()))))
            .build();
    assertThat(out).isEqualTo(expected);
  }

  private static Span timed(String name, long start, long end) {
    return span(name).toBuilder().setStartTimeUnixNano(start).setEndTimeUnixNano(end).build();
  }

  @Test
  void legacyIncludeAndExcludeStillFilter() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "filter",
            """
        spans:
          include:
            match_type: strict
            services: [app_3]
          exclude:
            match_type: regexp
            span_names: ["^hello"]
        logs:
          include:
            match_type: regexp
            record_attributes:
              - key: record_attr
                value: prefix_.*
        metrics:
          exclude:
            match_type: strict
            metric_names: [hello_world, hello/world]
        """);
    ExportTraceServiceRequest app3 = traces("app_3", span("hello world"), span("other"));
    assertThat(parseTraces(h.run(Signal.TRACES, app3).bytes()))
        .isEqualTo(traces("app_3", span("other")));
    assertThat(h.run(Signal.TRACES, traces("app_4", span("other"))).dropped()).isEqualTo(1);

    LogRecord match =
        log("a", SeverityNumber.SEVERITY_NUMBER_INFO).toBuilder()
            .addAttributes(kv("record_attr", "prefix_1"))
            .build();
    LogRecord miss = log("b", SeverityNumber.SEVERITY_NUMBER_INFO);
    assertThat(ExportLogsServiceRequest.parseFrom(h.run(Signal.LOGS, logs(match, miss)).bytes()))
        .isEqualTo(logs(match));

    NumberDataPoint p = NumberDataPoint.newBuilder().setAsInt(1).build();
    Metric hello =
        Metric.newBuilder()
            .setName("hello/world")
            .setGauge(Gauge.newBuilder().addDataPoints(p))
            .build();
    Metric kept = hello.toBuilder().setName("hello.world").build();
    ExportMetricsServiceRequest metrics =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(resourceMetrics("x", hello, kept))
            .build();
    assertThat(ExportMetricsServiceRequest.parseFrom(h.run(Signal.METRICS, metrics).bytes()))
        .isEqualTo(
            ExportMetricsServiceRequest.newBuilder()
                .addResourceMetrics(resourceMetrics("x", kept))
                .build());
  }

  @Test
  void aRequestNothingMatchesIsPassedOnAsItCame() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "filter",
            """
        traces:
          span: ['attributes["http.target"] == "/health"']
        """);
    ExportTraceServiceRequest in = traces("svc", span("a", kv("http.target", "/api")), span("b"));
    assertThat(h.run(Signal.TRACES, in).bytes()).isEqualTo(in.toByteArray());
  }

  @Test
  void conditionsOutsideTheSubsetAreErrorsWithTheirLine() {
    assertThat(
            ProcessorHarness.errors(
                "filter",
                """
        error_mode: loud
        traces:
          span:
            - 'name == "a"'
            - 'HasAttrKeyOnDatapoint("x")'
            - 'attributes["a"]["b"] == 1'
            - 'severity_number > 3'
            - 'name == "a" and'
        trace_conditions:
          - 'name == "x"'
          - 'log.body == "x"'
        logs:
          log_record: ['Concat(body, "x") == "y"']
        """))
        .startsWith(
            "line 7: processors.filter.error_mode: 'loud' is not one of ignore, silent, propagate",
            "line 11: processors.filter.traces.span[1]: 'HasAttrKeyOnDatapoint' in condition 'HasAttrKeyOnDatapoint(\"x\")'"
                + " is only available in the metric context, not the span context",
            "line 12: processors.filter.traces.span[2]: nested keys are not supported in condition "
                + "'attributes[\"a\"][\"b\"] == 1' (supported: "
                + OttlParser.SUPPORTED
                + ")",
            "line 13: processors.filter.traces.span[3]: path 'severity_number' in condition 'severity_number > 3' is not"
                + " supported (supported: "
                + OttlParser.SUPPORTED
                + ")",
            "line 14: processors.filter.traces.span[4]: condition 'name == \"a\" and' ends early",
            "line 16: processors.filter.trace_conditions[0]: path 'name' in condition 'name == \"x\"' needs a context "
                + "prefix (span., spanevent., metric., datapoint., log., resource.)",
            "line 17: processors.filter.trace_conditions[1]: condition 'log.body == \"x\"' is in the log context, not one"
                + " of this signal's (resource, span, spanevent)",
            "line 19: processors.filter.logs.log_record[0]: 'Concat' in condition 'Concat(body, \"x\") == \"y\"' is not "
                + "supported (supported: "
                + OttlParser.SUPPORTED
                + ")");
  }

  /**
   * Evaluating a condition on a span it does not match allocates nothing: only the per-request
   * views.
   */
  @Test
  void unmatchedSpansAllocateNothingEach() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "filter",
            """
        traces:
          span:
            - 'attributes["http.method"] == "DELETE" or IsMatch(name, "^health") or kind == SPAN_KIND_CONSUMER'
        """);
    List<Span> spans = new ArrayList<>();
    for (int i = 0; i < 512; i++) {
      spans.add(span("span-" + i, kv("http.method", "GET"), kv("n", (long) i)));
    }
    byte[] request = traces("svc", spans.toArray(new Span[0])).toByteArray();
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(request);
    io.otlp4j.wire.WalkSummary summary =
        io.otlp4j.wire.OtlpWalker.create().walk(Signal.TRACES, buf);
    long[] perRequest = new long[50];
    for (int i = 0; i < perRequest.length; i++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      RelayProcessor.Result r = h.processor.process(Signal.TRACES, buf.retain(), summary);
      perRequest[i] = threads.getCurrentThreadAllocatedBytes() - before;
      ((RelayProcessor.Forward) r).request().release();
    }
    buf.release();
    assertThat(Arrays.stream(perRequest).min().getAsLong()).isLessThan(8 * 1024);
  }
}
