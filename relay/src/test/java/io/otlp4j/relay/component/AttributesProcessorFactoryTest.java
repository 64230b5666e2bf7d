package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code attributes} processor against the official classes: each expected request is built
 * with the protobuf builders as the Collector's {@code attraction} would leave it, the
 * configurations are the Collector's documented examples.
 */
@ExtendWith(NettyLeakCheck.class)
class AttributesProcessorFactoryTest {

  static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setStringValue(value))
        .build();
  }

  static KeyValue kv(String key, long value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setIntValue(value))
        .build();
  }

  static KeyValue kv(String key, double value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setDoubleValue(value))
        .build();
  }

  static KeyValue kv(String key, boolean value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setBoolValue(value))
        .build();
  }

  static ExportTraceServiceRequest traces(String service, Span... spans) {
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(kv("service.name", service)))
                .addScopeSpans(
                    ScopeSpans.newBuilder()
                        .setScope(InstrumentationScope.newBuilder().setName("lib").setVersion("1"))
                        .addAllSpans(List.of(spans))))
        .build();
  }

  static Span span(String name, KeyValue... attributes) {
    return Span.newBuilder()
        .setTraceId(ByteString.copyFrom(new byte[16]))
        .setSpanId(ByteString.copyFrom(new byte[8]))
        .setName(name)
        .addAllAttributes(List.of(attributes))
        .build();
  }

  static ExportTraceServiceRequest parseTraces(byte[] bytes) throws Exception {
    return ExportTraceServiceRequest.parseFrom(bytes);
  }

  /**
   * The README's sample, less its {@code from_context} entry (otlp4j processors do not see the
   * client).
   */
  private static final String README_EXAMPLE =
      """
      actions:
        - key: db.table
          action: delete
        - key: redacted_span
          value: true
          action: upsert
        - key: copy_key
          from_attribute: key_original
          action: update
        - key: account_id
          value: 2245
          action: insert
        - key: account_password
          action: delete
        - key: account_email
          action: hash
        - key: http.status_code
          action: convert
          converted_type: int
        # Use default_value when source attribute doesn't exist
        - key: region
          from_attribute: cloud.region
          default_value: "us-east-1"
          action: insert
      """;

  @Test
  void readmeExampleAppliesEveryActionInOrder() throws Exception {
    ProcessorHarness h = new ProcessorHarness("attributes/example", README_EXAMPLE);
    Span.Event event =
        Span.Event.newBuilder()
            .setName("e")
            .addAttributes(kv("db.table", "kept on events"))
            .build();
    Span in =
        span(
                "s",
                kv("db.table", "users"),
                kv("key_original", "orig"),
                kv("copy_key", "old"),
                kv("account_password", "secret"),
                kv("account_email", "abc"),
                kv("http.status_code", "200"))
            .toBuilder()
            .addEvents(event)
            .build();
    Span other =
        span(
            "t", kv("account_id", 7L), kv("cloud.region", "eu-west-1"), kv("redacted_span", false));

    ExportTraceServiceRequest out =
        parseTraces(h.run(Signal.TRACES, traces("svc", in, other)).bytes());

    Span expected =
        span(
                "s",
                kv("key_original", "orig"),
                kv("copy_key", "orig"),
                // SHA-256("abc"), the FIPS 180-2 test vector
                kv(
                    "account_email",
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                kv("http.status_code", 200L),
                kv("redacted_span", true),
                kv("account_id", 2245L),
                kv("region", "us-east-1"))
            .toBuilder()
            .addEvents(event)
            .build();
    Span expectedOther =
        span(
            "t",
            kv("account_id", 7L),
            kv("cloud.region", "eu-west-1"),
            kv("redacted_span", true),
            kv("region", "eu-west-1"));
    assertThat(out).isEqualTo(traces("svc", expected, expectedOther));
    assertThat(h.counter(ProcessorCounts.INCOMING, "traces")).isEqualTo(2);
    assertThat(h.counter(ProcessorCounts.OUTGOING, "traces")).isEqualTo(2);
  }

  @Test
  void hashIsTheCollectorsSha256OfEachScalarEncoding() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        actions:
          - { pattern: ^h\\., action: hash }
        """);
    Span in =
        span(
            "s",
            kv("h.s", "abc"),
            kv("h.i", 1L),
            kv("h.d", 1.5),
            kv("h.b", true),
            KeyValue.newBuilder()
                .setKey("h.kv")
                .setValue(
                    AnyValue.newBuilder()
                        .setKvlistValue(KeyValueList.newBuilder().addValues(kv("a", "b"))))
                .build(),
            kv("other", "abc"));
    ExportTraceServiceRequest out = parseTraces(h.run(Signal.TRACES, traces("svc", in)).bytes());
    // int and double: their 8 little-endian bytes; bool: one byte 1/0; others: the empty string
    assertThat(out)
        .isEqualTo(
            traces(
                "svc",
                span(
                    "s",
                    kv("h.s", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                    kv("h.i", sha256Hex(new byte[] {1, 0, 0, 0, 0, 0, 0, 0})),
                    kv("h.d", sha256Hex(new byte[] {0, 0, 0, 0, 0, 0, (byte) 0xf8, 0x3f})),
                    kv("h.b", sha256Hex(new byte[] {1})),
                    kv("h.kv", ""),
                    kv("other", "abc"))));
  }

  private static String sha256Hex(byte[] b) throws Exception {
    byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(b);
    StringBuilder s = new StringBuilder();
    for (byte x : d) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  @Test
  void extractPutsNamedGroupsAsStringAttributes() throws Exception {
    // The span processor README's pattern, and Go's group names with underscores
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        actions:
          - key: http.url
            pattern: ^\\/api\\/v1\\/document\\/(?P<documentId>.*)\\/update$
            action: extract
          - key: url
            pattern: ^(?P<http_protocol>[a-z]+)://(?P<http_domain>[^/]*)(?P<http_path>/[^?]*)?
            action: extract
        """);
    Span in =
        span(
            "s",
            kv("http.url", "/api/v1/document/12345678/update"),
            kv("url", "https://example.com"),
            kv("http_domain", "old"));
    ExportTraceServiceRequest out = parseTraces(h.run(Signal.TRACES, traces("svc", in)).bytes());
    assertThat(out)
        .isEqualTo(
            traces(
                "svc",
                span(
                    "s",
                    kv("http.url", "/api/v1/document/12345678/update"),
                    kv("url", "https://example.com"),
                    kv("http_domain", "example.com"),
                    kv("documentId", "12345678"),
                    kv("http_protocol", "https"),
                    kv("http_path", ""))));
  }

  @Test
  void convertFollowsTheCollectorsRules() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        actions:
          - { key: a, action: convert, converted_type: int }
          - { key: b, action: convert, converted_type: int }
          - { key: c, action: convert, converted_type: double }
          - { key: d, action: convert, converted_type: string }
          - { key: e, action: convert, converted_type: string }
          - { key: f, action: convert, converted_type: int }
          - { key: g, action: convert, converted_type: double }
          - { key: h, action: convert, converted_type: string }
        """);
    Span in =
        span(
            "s",
            kv("a", 3.9),
            kv("b", "x12"),
            kv("c", "1e3"),
            kv("d", 0.1),
            kv("e", 1e21),
            kv("f", true),
            kv("g", 5L),
            kv("h", 42L));
    ExportTraceServiceRequest out = parseTraces(h.run(Signal.TRACES, traces("svc", in)).bytes());
    assertThat(out)
        .isEqualTo(
            traces(
                "svc",
                span(
                    "s",
                    kv("a", 3L),
                    kv("b", "x12"),
                    kv("c", 1000.0),
                    kv("d", "0.1"),
                    kv("e", "1e+21"),
                    kv("f", 1L),
                    kv("g", 5.0),
                    kv("h", "42"))));
  }

  @Test
  void fromAttributeCopiesAnyValueAndDeleteByPattern() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        actions:
          - { key: copy, from_attribute: map, action: upsert }
          - { key: missing, from_attribute: nothing, action: upsert }
          - { pattern: "^secret", action: delete }
        """);
    KeyValue map =
        KeyValue.newBuilder()
            .setKey("map")
            .setValue(
                AnyValue.newBuilder()
                    .setKvlistValue(KeyValueList.newBuilder().addValues(kv("x", 1L))))
            .build();
    Span in = span("s", map, kv("secret.a", "1"), kv("x.secret", "2"), kv("secret.b", "3"));
    ExportTraceServiceRequest out = parseTraces(h.run(Signal.TRACES, traces("svc", in)).bytes());
    KeyValue copy = map.toBuilder().setKey("copy").build();
    assertThat(out).isEqualTo(traces("svc", span("s", map, kv("x.secret", "2"), copy)));
  }

  /** The Collector's testdata {@code attributes/includeexclude}. */
  @Test
  void includeAndExcludeSelectTheSpans() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes/includeexclude",
            """
        include:
          match_type: strict
          services: ["svcA", "svcB"]
        exclude:
          match_type: strict
          attributes:
            - key: redact_trace
              value: false
        actions:
          - key: credit_card
            action: delete
          - key: duplicate_key
            action: delete
        """);
    Span a = span("a", kv("credit_card", "1"), kv("redact_trace", false));
    Span b = span("b", kv("credit_card", "1"), kv("redact_trace", true));
    Span c = span("c", kv("credit_card", "1"), kv("duplicate_key", "x"));
    assertThat(parseTraces(h.run(Signal.TRACES, traces("svcA", a, b, c)).bytes()))
        .isEqualTo(traces("svcA", a, span("b", kv("redact_trace", true)), span("c")));
    ExportTraceServiceRequest other = traces("svcC", a, b, c);
    assertThat(parseTraces(h.run(Signal.TRACES, other).bytes())).isEqualTo(other);
  }

  @Test
  void regexpMatchesNamesKindsLibrariesAndResources() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        include:
          match_type: regexp
          span_names: ["^login", "logout$"]
          span_kinds: ["SERVER"]
          libraries: [{ name: "^li", version: "1" }]
          resources: [{ key: service.name, value: "sv.$" }]
          attributes: [{ key: http.status_code, value: "^5" }]
        actions:
          - { key: matched, value: yes, action: insert }
        """);
    Span.Builder server = Span.newBuilder().setKind(Span.SpanKind.SPAN_KIND_SERVER);
    Span hit =
        span("login-form", kv("http.status_code", 503L)).toBuilder()
            .setKind(Span.SpanKind.SPAN_KIND_SERVER)
            .build();
    Span wrongKind = hit.toBuilder().setKind(Span.SpanKind.SPAN_KIND_CLIENT).build();
    Span wrongStatus =
        span("user-logout", kv("http.status_code", 200L)).toBuilder()
            .setKind(server.getKind())
            .build();
    Span hit2 =
        span("user-logout", kv("http.status_code", "500")).toBuilder()
            .setKind(server.getKind())
            .build();
    Span noName =
        span("other", kv("http.status_code", 503L)).toBuilder().setKind(server.getKind()).build();
    ExportTraceServiceRequest out =
        parseTraces(
            h.run(Signal.TRACES, traces("svc", hit, wrongKind, wrongStatus, hit2, noName)).bytes());
    assertThat(out)
        .isEqualTo(
            traces(
                "svc",
                hit.toBuilder().addAttributes(kv("matched", "yes")).build(),
                wrongKind,
                wrongStatus,
                hit2.toBuilder().addAttributes(kv("matched", "yes")).build(),
                noName));
    ExportTraceServiceRequest service = traces("service", hit);
    assertThat(parseTraces(h.run(Signal.TRACES, service).bytes())).isEqualTo(service);
  }

  @Test
  void logRecordsMatchBodiesAndSeverity() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        include:
          match_type: strict
          log_bodies: ["connection reset"]
          log_severity_number: { min: WARN, match_undefined: false }
        actions:
          - { key: flagged, value: 1, action: upsert }
        """);
    LogRecord warn = log("connection reset", SeverityNumber.SEVERITY_NUMBER_WARN);
    LogRecord info = log("connection reset", SeverityNumber.SEVERITY_NUMBER_INFO);
    LogRecord error = log("other", SeverityNumber.SEVERITY_NUMBER_ERROR);
    ExportLogsServiceRequest out =
        ExportLogsServiceRequest.parseFrom(h.run(Signal.LOGS, logs(warn, info, error)).bytes());
    assertThat(out)
        .isEqualTo(logs(warn.toBuilder().addAttributes(kv("flagged", 1L)).build(), info, error));
    assertThat(h.counter(ProcessorCounts.INCOMING, "logs")).isEqualTo(3);
  }

  static LogRecord log(String body, SeverityNumber severity) {
    return LogRecord.newBuilder()
        .setBody(AnyValue.newBuilder().setStringValue(body))
        .setSeverityNumber(severity)
        .build();
  }

  static ExportLogsServiceRequest logs(LogRecord... records) {
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(
            ResourceLogs.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(kv("service.name", "svc")))
                .addScopeLogs(ScopeLogs.newBuilder().addAllLogRecords(List.of(records))))
        .build();
  }

  @Test
  void metricDataPointsOfMatchingMetricsAreChanged() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        include:
          match_type: regexp
          metric_names: ["^http\\\\."]
        actions:
          - { key: host, action: delete }
          - { key: env, value: prod, action: insert }
        """);
    NumberDataPoint p =
        NumberDataPoint.newBuilder().setAsInt(1).addAttributes(kv("host", "h1")).build();
    ExportMetricsServiceRequest in = metrics(gauge("http.requests", p, p), gauge("db.calls", p));
    NumberDataPoint changed =
        NumberDataPoint.newBuilder().setAsInt(1).addAttributes(kv("env", "prod")).build();
    ExportMetricsServiceRequest out =
        ExportMetricsServiceRequest.parseFrom(h.run(Signal.METRICS, in).bytes());
    assertThat(out)
        .isEqualTo(metrics(gauge("http.requests", changed, changed), gauge("db.calls", p)));
    assertThat(h.counter(ProcessorCounts.OUTGOING, "metrics")).isEqualTo(3);
  }

  static Metric gauge(String name, NumberDataPoint... points) {
    return Metric.newBuilder()
        .setName(name)
        .setGauge(Gauge.newBuilder().addAllDataPoints(List.of(points)))
        .build();
  }

  static ExportMetricsServiceRequest metrics(Metric... metrics) {
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(
            ResourceMetrics.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(kv("service.name", "svc")))
                .addScopeMetrics(ScopeMetrics.newBuilder().addAllMetrics(List.of(metrics))))
        .build();
  }

  @Test
  void anUntouchedRequestIsPassedOnByteForByte() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        actions:
          - { key: absent, action: delete }
          - { key: absent, value: 1, action: update }
        """);
    ExportTraceServiceRequest in = traces("svc", span("a", kv("x", "1")), span("b"));
    assertThat(h.run(Signal.TRACES, in).bytes()).isEqualTo(in.toByteArray());
  }

  @Test
  void configurationErrorsNameTheirLine() {
    assertThat(
            ProcessorHarness.errors(
                "attributes",
                """
        actions:
          - { key: a, action: rename }
          - { action: insert, value: 1 }
          - { key: b, action: upsert, value: 1, from_attribute: c }
          - { key: c, action: insert, from_context: metadata.tenant }
          - key: http.url
            pattern: ^(?P<http_protocol>.*):\\/\\/(?P<http_domain>.*)\\/(?P<http_path>.*)(\\?|\\&)(?P<q>.*)
            action: extract
          - { key: d, action: convert, converted_type: float }
          - { key: e, action: extract, pattern: "[" }
        """))
        .startsWith(
            "line 8: processors.attributes.actions[0].action: unsupported action 'rename' ("
                + AttributeActions.ACTIONS
                + ")",
            "line 9: processors.attributes.actions[1].key: missing required field \"key\"",
            "line 10: processors.attributes.actions[2]: multiple value sources (give one of value, from_attribute)",
            "line 11: processors.attributes.actions[3].from_context: is not supported by otlp4j: its processors do not"
                + " see the client's request (client metadata, auth, address); use value or from_attribute",
            "line 13: processors.attributes.actions[4].pattern: contains at least one unnamed matcher group",
            "line 15: processors.attributes.actions[5].converted_type: invalid value \"float\" (int, double, string)",
            "line 16: processors.attributes.actions[6].pattern: invalid regular expression '[': Unclosed character class");
    assertThat(
            ProcessorHarness.errors(
                "attributes",
                """
        include:
          services: [a]
        exclude:
          match_type: strict
        actions: []
        """))
        .startsWith(
            "line 11: processors.attributes.actions: missing required field \"actions\" (a non-empty list)",
            "line 7: processors.attributes.include.match_type: is required (strict, regexp)",
            "line 9: processors.attributes.exclude: at least one of services, span_names, span_kinds, attributes, "
                + "resources, libraries, log_bodies, log_severity_texts, log_severity_number, metric_names must be given");
  }

  /**
   * Reading and matching an item that nothing changes allocates nothing: only the per-request
   * views.
   */
  @Test
  void untouchedSpansAllocateNothingEach() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "attributes",
            """
        include:
          match_type: regexp
          span_names: ["^never"]
        actions:
          - { key: absent, action: delete }
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
    // 512 spans: anything per span would be at least 16 bytes each (8 KiB); a request's views stay
    // below that.
    assertThat(Arrays.stream(perRequest).min().getAsLong()).isLessThan(8 * 1024);
  }
}
