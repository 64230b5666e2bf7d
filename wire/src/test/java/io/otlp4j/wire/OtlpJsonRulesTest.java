package io.otlp4j.wire;

import static io.otlp4j.wire.OfficialJson.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Exemplar;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.wire.testing.Mutator;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The OTLP/JSON encoding rules, one by one, on hand-built JSON and protobuf. */
class OtlpJsonRulesTest {

  // ---------------------------------------------------------------- helpers

  private static String spanJson(String spanFields) {
    return "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" + spanFields + "}]}]}]}";
  }

  private static Span span(String spanFields) throws Exception {
    return ExportTraceServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.TRACES, utf8(spanJson(spanFields))))
        .getResourceSpans(0)
        .getScopeSpans(0)
        .getSpans(0);
  }

  private static AnyValue value(String anyValueJson) throws Exception {
    return span("\"attributes\":[{\"key\":\"k\",\"value\":" + anyValueJson + "}]")
        .getAttributes(0)
        .getValue();
  }

  private static String logJson(String logFields) {
    return "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{" + logFields + "}]}]}]}";
  }

  private static LogRecord log(String logFields) throws Exception {
    return ExportLogsServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.LOGS, utf8(logJson(logFields))))
        .getResourceLogs(0)
        .getScopeLogs(0)
        .getLogRecords(0);
  }

  private static String metricJson(String metricFields) {
    return "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{" + metricFields + "}]}]}]}";
  }

  private static Metric metric(String metricFields) throws Exception {
    return ExportMetricsServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.METRICS, utf8(metricJson(metricFields))))
        .getResourceMetrics(0)
        .getScopeMetrics(0)
        .getMetrics(0);
  }

  private static String spanToJson(Span span) {
    byte[] protobuf =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                io.opentelemetry.proto.trace.v1.ResourceSpans.newBuilder()
                    .addScopeSpans(
                        io.opentelemetry.proto.trace.v1.ScopeSpans.newBuilder().addSpans(span)))
            .build()
            .toByteArray();
    return utf8(OtlpJson.toJson(Signal.TRACES, protobuf));
  }

  private static WireFormatException refusal(Signal signal, String json) {
    return catchThrowableOfType(
        WireFormatException.class, () -> OtlpJson.toProtobuf(signal, utf8(json)));
  }

  private static ByteString hex(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }

  // ---------------------------------------------------------------- ids

  @Test
  void idsAreReadInEitherCaseAndWrittenLowerCase() throws Exception {
    Span span =
        span(
            "\"traceId\":\"5B8EFFF798038103d269b633813fc60C\",\"spanId\":\"EEE19B7EC3C1B174\","
                + "\"parentSpanId\":\"eee19b7ec3c1b173\"");

    assertThat(span.getTraceId()).isEqualTo(hex("5b8efff798038103d269b633813fc60c"));
    assertThat(span.getSpanId()).isEqualTo(hex("eee19b7ec3c1b174"));
    assertThat(span.getParentSpanId()).isEqualTo(hex("eee19b7ec3c1b173"));
    assertThat(spanToJson(span))
        .contains(
            "\"traceId\":\"5b8efff798038103d269b633813fc60c\"",
            "\"spanId\":\"eee19b7ec3c1b174\"",
            "\"parentSpanId\":\"eee19b7ec3c1b173\"");
  }

  @Test
  void anEmptyIdIsAnAbsentId() throws Exception {
    Span span = span("\"traceId\":\"\",\"spanId\":\"\",\"parentSpanId\":\"\",\"name\":\"n\"");

    assertThat(span.getTraceId()).isEmpty();
    assertThat(span.getSpanId()).isEmpty();
    assertThat(spanToJson(span)).doesNotContain("Id");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "TRACES | \"traceId\":\"5b8efff798038103d269b633813fc6\"                | Span.traceId",
        "TRACES | \"spanId\":\"eee19b7ec3c1b17\"                                | Span.spanId",
        "TRACES | \"parentSpanId\":\"eee19b7ec3c1b1734\"                        | Span.parentSpanId",
        "TRACES | \"traceId\":\"5b8efff798038103d269b633813fc6zz\"              | Span.traceId",
        "TRACES | \"links\":[{\"spanId\":\"eee19b7ec3c1b17g\"}]                  | Span.Link.spanId",
        "TRACES | \"traceId\":7                                                | Span.traceId",
        "LOGS   | \"traceId\":\"0102\"                                         | LogRecord.traceId",
        "LOGS   | \"span_id\":\"0x0102030405060708\"                           | LogRecord.spanId",
        "METRICS | \"gauge\":{\"dataPoints\":[{\"exemplars\":[{\"traceId\":\"ab\"}]}]} | Exemplar.traceId",
      })
  void anIdOfTheWrongLengthOrNotHexIsRefusedNamingTheField(
      Signal signal, String fields, String name) {
    String json =
        signal == Signal.TRACES
            ? spanJson(fields)
            : signal == Signal.LOGS ? logJson(fields) : metricJson(fields);

    WireFormatException e = refusal(signal, json);

    assertThat(e).isNotNull();
    assertThat(e.reason()).contains(name);
    assertThat(e.offset()).isPositive();
  }

  @Test
  void aProtobufIdOfAnotherLengthThanOtlpsIsRefusedAsItsJsonCouldNotBeReadBack() {
    byte[] protobuf =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                io.opentelemetry.proto.trace.v1.ResourceSpans.newBuilder()
                    .addScopeSpans(
                        io.opentelemetry.proto.trace.v1.ScopeSpans.newBuilder()
                            .addSpans(
                                Span.newBuilder().setSpanId(ByteString.copyFrom(new byte[5])))))
            .build()
            .toByteArray();

    assertThatThrownBy(() -> OtlpJson.toJson(Signal.TRACES, protobuf))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("Span.spanId");
  }

  // ---------------------------------------------------------------- enums

  @Test
  void enumsAreReadFromNumbersOrNamesAndWrittenAsNumbers() throws Exception {
    assertThat(span("\"kind\":3").getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(span("\"kind\":\"SPAN_KIND_CONSUMER\"").getKind())
        .isEqualTo(Span.SpanKind.SPAN_KIND_CONSUMER);
    assertThat(span("\"kind\":\"2\"").getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(span("\"status\":{\"code\":\"STATUS_CODE_ERROR\"}").getStatus().getCode())
        .isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
    assertThat(log("\"severityNumber\":\"SEVERITY_NUMBER_WARN\"").getSeverityNumberValue())
        .isEqualTo(13);
    assertThat(
            metric("\"sum\":{\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\"}")
                .getSum()
                .getAggregationTemporalityValue())
        .isEqualTo(2);
    // A number this schema does not name survives (proto3 enums are open).
    assertThat(span("\"kind\":99").getKindValue()).isEqualTo(99);

    assertThat(spanToJson(Span.newBuilder().setKind(Span.SpanKind.SPAN_KIND_PRODUCER).build()))
        .contains("\"kind\":4");
  }

  @Test
  void anUnknownEnumNameReadsAsTheDefaultAsProtobufJsonDoesWhenIgnoringUnknownFields()
      throws Exception {
    assertThat(span("\"kind\":\"SPAN_KIND_FROM_THE_FUTURE\",\"name\":\"n\"").getKindValue())
        .isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"kind\":2147483648", "\"kind\":true", "\"kind\":{}", "\"kind\":1.5"})
  void anEnumOutOfRangeOrOfTheWrongTypeIsRefused(String field) {
    assertThat(refusal(Signal.TRACES, spanJson(field)))
        .isNotNull()
        .satisfies(e -> assertThat(e.reason()).contains("Span.kind"));
  }

  // ---------------------------------------------------------------- numbers

  @Test
  void sixtyFourBitIntegersAreWrittenAsDecimalStringsUnsignedWhereTheTypeIs() {
    String json =
        spanToJson(
            Span.newBuilder()
                .setStartTimeUnixNano(-1L)
                .setEndTimeUnixNano(1544712660000000000L)
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("i")
                        .setValue(AnyValue.newBuilder().setIntValue(Long.MIN_VALUE)))
                .build());

    assertThat(json)
        .contains(
            "\"startTimeUnixNano\":\"18446744073709551615\"",
            "\"endTimeUnixNano\":\"1544712660000000000\"",
            "\"intValue\":\"-9223372036854775808\"");
  }

  @Test
  void sixtyFourBitIntegersAreReadFromStringsOrNumbersInEveryIntegralForm() throws Exception {
    assertThat(span("\"startTimeUnixNano\":\"1544712660000000000\"").getStartTimeUnixNano())
        .isEqualTo(1544712660000000000L);
    assertThat(span("\"startTimeUnixNano\":1544712660000000000").getStartTimeUnixNano())
        .isEqualTo(1544712660000000000L);
    assertThat(span("\"startTimeUnixNano\":\"18446744073709551615\"").getStartTimeUnixNano())
        .isEqualTo(-1L);
    assertThat(span("\"startTimeUnixNano\":18446744073709551615").getStartTimeUnixNano())
        .isEqualTo(-1L);
    assertThat(span("\"startTimeUnixNano\":\"9223372036854775808\"").getStartTimeUnixNano())
        .isEqualTo(Long.MIN_VALUE);
    assertThat(span("\"startTimeUnixNano\":1e3").getStartTimeUnixNano()).isEqualTo(1000L);
    assertThat(span("\"startTimeUnixNano\":\"1.5e1\"").getStartTimeUnixNano()).isEqualTo(15L);
    assertThat(span("\"startTimeUnixNano\":5.0").getStartTimeUnixNano()).isEqualTo(5L);
    assertThat(value("{\"intValue\":\"-9223372036854775808\"}").getIntValue())
        .isEqualTo(Long.MIN_VALUE);
    assertThat(value("{\"intValue\":-42}").getIntValue()).isEqualTo(-42L);
    assertThat(span("\"droppedAttributesCount\":4294967295").getDroppedAttributesCount())
        .isEqualTo(-1);
    assertThat(span("\"droppedAttributesCount\":\"7\"").getDroppedAttributesCount()).isEqualTo(7);
    assertThat(span("\"flags\":4294967295").getFlags()).isEqualTo(-1);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"startTimeUnixNano\":\"18446744073709551616\"",
        "\"startTimeUnixNano\":-1",
        "\"startTimeUnixNano\":\"1.5\"",
        "\"startTimeUnixNano\":\"12abc\"",
        "\"startTimeUnixNano\":\"\"",
        "\"startTimeUnixNano\":1e999999999",
        "\"startTimeUnixNano\":\"1e-999999999\"",
        "\"startTimeUnixNano\":true",
        "\"droppedAttributesCount\":4294967296",
        "\"droppedAttributesCount\":-1",
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":\"9223372036854775808\"}}]",
        "\"attributes\":[{\"key\":\"k\",\"value\":{\"intValue\":[]}}]",
      })
  void anIntegerOutOfRangeNotIntegralOrOfTheWrongTypeIsRefused(String field) {
    WireFormatException e = refusal(Signal.TRACES, spanJson(field));

    assertThat(e).isNotNull();
    assertThat(e.offset()).isPositive();
  }

  @Test
  void doublesAreNumbersWithNanAndInfinitiesAsStrings() throws Exception {
    assertThat(value("{\"doubleValue\":637.704}").getDoubleValue()).isEqualTo(637.704);
    assertThat(value("{\"doubleValue\":\"637.704\"}").getDoubleValue()).isEqualTo(637.704);
    assertThat(value("{\"doubleValue\":\"NaN\"}").getDoubleValue()).isNaN();
    assertThat(value("{\"doubleValue\":\"Infinity\"}").getDoubleValue())
        .isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(value("{\"doubleValue\":\"-Infinity\"}").getDoubleValue())
        .isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(value("{\"doubleValue\":-0.0}").getDoubleValue()).isEqualTo(-0.0);
    assertThat(value("{\"doubleValue\":12}").getDoubleValue()).isEqualTo(12.0);

    String json =
        spanToJson(
            Span.newBuilder()
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("a")
                        .setValue(AnyValue.newBuilder().setDoubleValue(Double.NaN)))
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("b")
                        .setValue(AnyValue.newBuilder().setDoubleValue(Double.NEGATIVE_INFINITY)))
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("c")
                        .setValue(AnyValue.newBuilder().setDoubleValue(2.5)))
                .build());
    assertThat(json)
        .contains(
            "{\"doubleValue\":\"NaN\"}",
            "{\"doubleValue\":\"-Infinity\"}",
            "{\"doubleValue\":2.5}");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"doubleValue\":\"nan\"}",
        "{\"doubleValue\":1e400}",
        "{\"doubleValue\":\"0x1p3\"}",
        "{\"doubleValue\":\" 1\"}",
        "{\"doubleValue\":\"1d\"}",
        "{\"doubleValue\":false}"
      })
  void aDoubleThatIsNotANumberOrOutOfRangeIsRefused(String anyValue) {
    assertThat(
            refusal(
                Signal.TRACES,
                spanJson("\"attributes\":[{\"key\":\"k\",\"value\":" + anyValue + "}]")))
        .isNotNull()
        .satisfies(e -> assertThat(e.reason()).contains("AnyValue.doubleValue"));
  }

  // ---------------------------------------------------------------- bytes

  @Test
  void bytesAreBase64WrittenStandardAndReadStandardOrUrlSafe() throws Exception {
    byte[] bytes = {(byte) 0xFB, (byte) 0xFF, (byte) 0xBF, 1};
    assertThat(value("{\"bytesValue\":\"+/+/AQ==\"}").getBytesValue().toByteArray())
        .isEqualTo(bytes);
    assertThat(value("{\"bytesValue\":\"-_-_AQ==\"}").getBytesValue().toByteArray())
        .isEqualTo(bytes);
    assertThat(value("{\"bytesValue\":\"-_-_AQ\"}").getBytesValue().toByteArray()).isEqualTo(bytes);
    assertThat(value("{\"bytesValue\":\"\"}").getValueCase())
        .isEqualTo(AnyValue.ValueCase.BYTES_VALUE);

    assertThat(
            spanToJson(
                Span.newBuilder()
                    .addAttributes(
                        KeyValue.newBuilder()
                            .setKey("b")
                            .setValue(
                                AnyValue.newBuilder().setBytesValue(ByteString.copyFrom(bytes))))
                    .build()))
        .contains("{\"bytesValue\":\"+/+/AQ==\"}");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"A\"", "\"AB=C\"", "\"AB*D\"", "\"ABC==\"", "\"A===\"", "12"})
  void bytesThatAreNotBase64AreRefused(String bytesValue) {
    assertThat(
            refusal(
                Signal.TRACES,
                spanJson(
                    "\"attributes\":[{\"key\":\"k\",\"value\":{\"bytesValue\":"
                        + bytesValue
                        + "}}]")))
        .isNotNull()
        .satisfies(e -> assertThat(e.reason()).contains("AnyValue.bytesValue"));
  }

  // ---------------------------------------------------------------- keys, nulls, duplicates

  @Test
  void protoFieldNamesAreReadAsWellAsJsonNames() throws Exception {
    Span span =
        span(
            "\"trace_id\":\"5b8efff798038103d269b633813fc60c\",\"start_time_unix_nano\":\"7\","
                + "\"dropped_attributes_count\":3");

    assertThat(span.getTraceId()).isEqualTo(hex("5b8efff798038103d269b633813fc60c"));
    assertThat(span.getStartTimeUnixNano()).isEqualTo(7);
    assertThat(span.getDroppedAttributesCount()).isEqualTo(3);
    assertThat(
            OtlpJson.toProtobuf(
                Signal.TRACES, utf8("{\"resource_spans\":[{\"scope_spans\":[{}]}]}")))
        .isEqualTo(
            ExportTraceServiceRequest.newBuilder()
                .addResourceSpans(
                    io.opentelemetry.proto.trace.v1.ResourceSpans.newBuilder()
                        .addScopeSpans(
                            io.opentelemetry.proto.trace.v1.ScopeSpans.getDefaultInstance()))
                .build()
                .toByteArray());
  }

  @Test
  void nullIsAnAbsentField() throws Exception {
    Span span =
        span(
            "\"traceId\":null,\"name\":null,\"kind\":null,\"attributes\":null,\"status\":null,"
                + "\"startTimeUnixNano\":null");

    assertThat(span).isEqualTo(Span.getDefaultInstance());
    assertThat(value("{\"stringValue\":null}").getValueCase())
        .isEqualTo(AnyValue.ValueCase.VALUE_NOT_SET);
  }

  @Test
  void unknownKeysAreSkippedWhateverTheirValue() throws Exception {
    Span span =
        span(
            "\"x\":{\"spans\":[{\"name\":1}]},\"name\":\"n\",\"y\":[[[1,{\"a\":null}]],\"s\"],"
                + "\"z\":null,\"w\":-1.5e300,\"v\":true");

    assertThat(span).isEqualTo(Span.newBuilder().setName("n").build());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"name\":\"a\",\"name\":\"b\"",
        "\"traceId\":\"\",\"trace_id\":\"\"",
        "\"attributes\":[],\"attributes\":[]"
      })
  void aKeyGivenTwiceIsRefusedAsProtobufJsonDoes(String fields) {
    assertThat(refusal(Signal.TRACES, spanJson(fields)))
        .isNotNull()
        .satisfies(e -> assertThat(e.reason()).contains("duplicate field"));
  }

  @Test
  void twoMembersOfOneOneofAreRefused() {
    assertThat(
            refusal(
                Signal.TRACES,
                spanJson(
                    "\"attributes\":[{\"key\":\"k\",\"value\":{\"stringValue\":\"a\",\"intValue\":\"1\"}}]")))
        .isNotNull()
        .satisfies(e -> assertThat(e.reason()).contains("oneof"));
    assertThat(refusal(Signal.METRICS, metricJson("\"gauge\":{},\"sum\":{}"))).isNotNull();
    // null is absent, so it does not count as a second member.
    assertThat(refusal(Signal.METRICS, metricJson("\"gauge\":{},\"sum\":null"))).isNull();
  }

  // ---------------------------------------------------------------- defaults and presence

  @Test
  void defaultsAreLeftOutOfJsonExceptWherePresenceMatters() {
    String json =
        spanToJson(
            Span.newBuilder()
                .setName("")
                .setStatus(io.opentelemetry.proto.trace.v1.Status.getDefaultInstance())
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("s")
                        .setValue(AnyValue.newBuilder().setStringValue("")))
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("i")
                        .setValue(AnyValue.newBuilder().setIntValue(0)))
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("b")
                        .setValue(AnyValue.newBuilder().setBoolValue(false)))
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("d")
                        .setValue(AnyValue.newBuilder().setDoubleValue(0)))
                .addAttributes(
                    KeyValue.newBuilder().setKey("e").setValue(AnyValue.getDefaultInstance()))
                .addAttributes(KeyValue.newBuilder().setKey(""))
                .build());

    assertThat(json)
        .isEqualTo(
            "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":["
                + "{\"key\":\"s\",\"value\":{\"stringValue\":\"\"}},"
                + "{\"key\":\"i\",\"value\":{\"intValue\":\"0\"}},"
                + "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
                + "{\"key\":\"d\",\"value\":{\"doubleValue\":0.0}},"
                + "{\"key\":\"e\",\"value\":{}},"
                + "{}],"
                + "\"status\":{}}]}]}]}");
  }

  @Test
  void metricPresenceSurvivesBothWays() throws Exception {
    byte[] protobuf =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(
                io.opentelemetry.proto.metrics.v1.ResourceMetrics.newBuilder()
                    .addScopeMetrics(
                        io.opentelemetry.proto.metrics.v1.ScopeMetrics.newBuilder()
                            .addMetrics(
                                Metric.newBuilder()
                                    .setName("empty-gauge")
                                    .setGauge(
                                        io.opentelemetry.proto.metrics.v1.Gauge
                                            .getDefaultInstance()))
                            .addMetrics(
                                Metric.newBuilder()
                                    .setName("zeros")
                                    .setSum(
                                        io.opentelemetry.proto.metrics.v1.Sum.newBuilder()
                                            .addDataPoints(
                                                NumberDataPoint.newBuilder()
                                                    .setAsInt(0)
                                                    .addExemplars(
                                                        Exemplar.newBuilder().setAsDouble(0)))
                                            .addDataPoints(
                                                NumberDataPoint.newBuilder().setAsDouble(0))))
                            .addMetrics(
                                Metric.newBuilder()
                                    .setName("h")
                                    .setHistogram(
                                        io.opentelemetry.proto.metrics.v1.Histogram.newBuilder()
                                            .addDataPoints(
                                                HistogramDataPoint.newBuilder()
                                                    .setSum(0)
                                                    .setMin(0)
                                                    .setMax(-0.0))))))
            .build()
            .toByteArray();

    String json = utf8(OtlpJson.toJson(Signal.METRICS, protobuf));

    assertThat(json)
        .contains(
            "\"gauge\":{}",
            "\"asInt\":\"0\"",
            "\"asDouble\":0.0",
            "\"sum\":0.0",
            "\"min\":0.0",
            "\"max\":-0.0");
    assertThat(OtlpJson.toProtobuf(Signal.METRICS, utf8(json))).isEqualTo(protobuf);
  }

  // ---------------------------------------------------------------- strings

  @Test
  void jsonEscapesAndSurrogatePairsBecomeUtf8() throws Exception {
    Span span =
        span("\"name\":\"tab\\t nl\\n quote\\\" bs\\\\ \\u00e9 \\ud83d\\ude00 \\u0000 é 😀\"");

    assertThat(span.getName()).isEqualTo("tab\t nl\n quote\" bs\\ é 😀 \u0000 é 😀");
    assertThat(span(spanToJson(span).replaceAll("^.*\"spans\":\\[\\{|\\}\\]\\}\\]\\}\\]\\}$", "")))
        .isEqualTo(span);
  }

  @Test
  void anUnpairedSurrogateEscapeBecomesAQuestionMarkAsStringGetBytesWrites() throws Exception {
    assertThat(span("\"name\":\"a\\ud800b\"").getName()).isEqualTo("a?b");
  }

  @Test
  void invalidUtf8InAProtobufStringIsRefusedAsTheOfficialClassesDo() {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .bytes(5, new byte[] {'a', (byte) 0xC0, (byte) 0x80})
        .end()
        .end()
        .end();
    byte[] protobuf = w.toByteArray();

    WireFormatException e =
        catchThrowableOfType(
            WireFormatException.class, () -> OtlpJson.toJson(Signal.TRACES, protobuf));

    assertThat(e.reason()).contains("Span.name", "UTF-8");
    assertThat(e.offset()).isEqualTo(protobuf.length - 2);
    assertThatThrownBy(() -> ExportTraceServiceRequest.parseFrom(protobuf))
        .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
  }

  @Test
  void anOccurrenceALaterOneReplacesIsStillCheckedAsTheOfficialClassesCheckIt() {
    ProtoWriter badString = new ProtoWriter();
    badString
        .begin(1)
        .begin(2)
        .begin(2)
        .bytes(5, new byte[] {(byte) 0xFF})
        .string(5, "replaced it")
        .end()
        .end()
        .end();
    ProtoWriter badMessage = new ProtoWriter();
    badMessage
        .begin(1)
        .begin(2)
        .begin(2)
        .bytes(15, new byte[] {0x12, 0x05})
        .begin(15)
        .string(2, "replaced it")
        .end() // status, truncated
        .end()
        .end()
        .end();

    for (byte[] protobuf : new byte[][] {badString.toByteArray(), badMessage.toByteArray()}) {
      assertThatThrownBy(() -> ExportTraceServiceRequest.parseFrom(protobuf))
          .isInstanceOf(com.google.protobuf.InvalidProtocolBufferException.class);
      assertThatThrownBy(() -> OtlpJson.toJson(Signal.TRACES, protobuf))
          .isInstanceOf(WireFormatException.class);
    }
  }

  // ---------------------------------------------------------------- malformed JSON

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"resourceSpans\":[{]}                      | 19",
        "{\"resourceSpans\":[}                        | 18",
        "{\"resourceSpans\":[{\"resource\":{}}        | 33",
        "{\"resourceSpans\":[]}  {}                   | 22",
        "[]                                           | 0",
        "\"text\"                                     | 0",
        "{\"resourceSpans\":{}}                       | 17",
        "{\"resourceSpans\":[[]]}                     | 18",
        "{\"resourceSpans\":[{\"resource\":[]}]}      | 30",
        "{\"resourceSpans\":[null]}                   | 18",
        "{\"resourceSpans\":[{\"schemaUrl\":5}]}      | 31",
        "{\"resourceSpans\":[{\"schemaUrl\":\"x}]}    | 36",
      })
  void malformedJsonIsRefusedWithTheOffsetOfTheProblem(String json, long offset) {
    WireFormatException e = refusal(Signal.TRACES, json.trim());

    assertThat(e).isNotNull();
    assertThat(e.offset()).as(e.getMessage()).isEqualTo(offset);
  }

  @Test
  void emptyInputIsRefused() {
    assertThat(refusal(Signal.LOGS, "")).isNotNull();
    assertThat(refusal(Signal.LOGS, "   ")).isNotNull();
  }

  @Test
  void offsetsAreRelativeToWhereTheCallersInputStarts() {
    byte[] padded = utf8("xxxxx{\"resourceSpans\":[}yyy");

    WireFormatException e =
        catchThrowableOfType(
            WireFormatException.class,
            () -> OtlpJson.toProtobuf(Signal.TRACES, padded, 5, padded.length - 8));

    assertThat(e.offset()).isEqualTo(18);
  }

  // ---------------------------------------------------------------- nesting

  private static String nestedArrayValue(int anyValues) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < anyValues; i++) {
      sb.append("{\"arrayValue\":{\"values\":[");
    }
    sb.append("{\"stringValue\":\"leaf\"}");
    for (int i = 1; i < anyValues; i++) {
      sb.append("]}}");
    }
    return spanJson("\"attributes\":[{\"key\":\"deep\",\"value\":" + sb + "}]");
  }

  private static String nestedKvlistValue(int anyValues) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < anyValues; i++) {
      sb.append("{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":");
    }
    sb.append("{\"intValue\":\"1\"}");
    for (int i = 1; i < anyValues; i++) {
      sb.append("}]}}");
    }
    return spanJson("\"attributes\":[{\"key\":\"deep\",\"value\":" + sb + "}]");
  }

  @Test
  void messagesNestInJsonUpToProtobufJavasLimitAndNoDeeper() throws Exception {
    // A span attribute's value is at nesting level 5; an array adds two levels, a key-value list
    // three.
    int arrays = (OtlpJson.MAX_NESTING_DEPTH - 5) / 2 + 1;
    int kvlists = (OtlpJson.MAX_NESTING_DEPTH - 5) / 3 + 1;
    for (String json : new String[] {nestedArrayValue(arrays), nestedKvlistValue(kvlists)}) {
      byte[] protobuf = OtlpJson.toProtobuf(Signal.TRACES, utf8(json));
      assertThat(ExportTraceServiceRequest.parseFrom(protobuf).getSerializedSize())
          .isEqualTo(protobuf.length);
      assertThat(OtlpJson.toJson(Signal.TRACES, protobuf)).isEqualTo(utf8(json));
    }
    for (String json :
        new String[] {nestedArrayValue(arrays + 1), nestedKvlistValue(kvlists + 1)}) {
      assertThat(refusal(Signal.TRACES, json))
          .isNotNull()
          .satisfies(e -> assertThat(e.reason()).contains("nested deeper than 100"));
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void messagesNestInProtobufExactlyAsDeepAsProtobufJavaAccepts(Signal signal) {
    int deepestOfficial = -1;
    int deepestTranscoded = -1;
    for (int arrays = 30; arrays < 60; arrays++) {
      byte[] protobuf = Mutator.deeplyNestedAnyValue(signal, arrays);
      try {
        OfficialJson.parse(signal, protobuf);
        deepestOfficial = arrays;
      } catch (AssertionError refused) {
        // beyond protobuf-java's recursion limit
      }
      try {
        byte[] json = OtlpJson.toJson(signal, protobuf);
        assertThat(OtlpJson.toProtobuf(signal, json)).isEqualTo(protobuf);
        deepestTranscoded = arrays;
      } catch (WireFormatException refused) {
        assertThat(refused.reason()).contains("nested deeper than 100");
      }
    }

    assertThat(deepestTranscoded).isEqualTo(deepestOfficial).isBetween(40, 50);
    assertThatThrownBy(() -> OtlpJson.toJson(signal, Mutator.deeplyNestedAnyValue(signal, 100_000)))
        .isInstanceOf(WireFormatException.class);
  }

  @Test
  void hundredThousandNestedArraysAreRefusedWithoutExhaustingTheStack() {
    String deep = "[".repeat(100_000);
    for (String json :
        new String[] {
          deep,
          "{\"unknown\":" + deep,
          "{\"resourceSpans\":" + deep,
          spanJson("\"x\":" + deep + "]".repeat(100_000)),
          "{\"a\":" + "{\"a\":".repeat(100_000)
        }) {
      assertThat(refusal(Signal.TRACES, json)).as(json.substring(0, 30)).isNotNull();
    }
  }

  // ---------------------------------------------------------------- protobuf semantics

  /** What protobuf-java makes of {@code bytes} equals what the transcoded JSON reads back to. */
  private static void assertSameMessageAsProtobufJava(byte[] bytes) throws Exception {
    ExportTraceServiceRequest expected =
        io.otlp4j.wire.testing.OtlpGenerator.withoutUnknownFields(
            ExportTraceServiceRequest.parseFrom(bytes));

    byte[] json = OtlpJson.toJson(Signal.TRACES, bytes);

    assertThat(ExportTraceServiceRequest.parseFrom(OtlpJson.toProtobuf(Signal.TRACES, json)))
        .as(utf8(json))
        .isEqualTo(expected);
  }

  @Test
  void aSingularFieldGivenTwiceTakesTheLastValue() throws Exception {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .string(5, "first")
        .uint32(6, 2)
        .string(5, "")
        .fixed64(7, 5)
        .fixed64(7, 9)
        .uint32(6, 0)
        .end()
        .end()
        .end();

    assertSameMessageAsProtobufJava(w.toByteArray());
  }

  @Test
  void aSingularMessageGivenTwiceIsTheMergeOfBoth() throws Exception {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .begin(15)
        .string(2, "message")
        .end()
        .string(5, "between")
        .begin(15)
        .uint32(3, 2)
        .end()
        .end()
        .end()
        .end();

    assertSameMessageAsProtobufJava(w.toByteArray());
    assertThat(utf8(OtlpJson.toJson(Signal.TRACES, w.toByteArray())))
        .contains("\"status\":{\"message\":\"message\",\"code\":2}");
  }

  @Test
  void ofAOneofTheMemberSetLastWinsAndMergesOnlyAfterTheOtherMember() throws Exception {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .begin(9)
        .string(1, "k")
        .begin(2)
        .begin(6)
        .begin(1)
        .string(1, "dropped")
        .end()
        .end() // kvlist_value
        .string(1, "replaced") // string_value
        .begin(6)
        .begin(1)
        .string(1, "kept")
        .end()
        .end() // kvlist_value again: starts afresh
        .begin(6)
        .begin(1)
        .string(1, "merged")
        .end()
        .end()
        .end()
        .end()
        .end()
        .end()
        .end();

    // The protobuf encoding rules (and protobuf-go, C++) say the last member seen is used, so the
    // string_value in between discards the first kvlist. protobuf-java 4.x keeps it, through a
    // field
    // builder that outlives the oneof case: a quirk of its generated code this transcoder does not
    // copy.
    assertThat(utf8(OtlpJson.toJson(Signal.TRACES, w.toByteArray())))
        .contains("{\"kvlistValue\":{\"values\":[{\"key\":\"kept\"},{\"key\":\"merged\"}]}}")
        .doesNotContain("dropped", "replaced");
  }

  @Test
  void interleavedRepeatedFieldsBecomeOneArrayInOrder() throws Exception {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .begin(9)
        .string(1, "a")
        .end()
        .string(5, "name")
        .begin(9)
        .string(1, "b")
        .end()
        .begin(11)
        .string(2, "event")
        .end()
        .begin(9)
        .string(1, "c")
        .end()
        .end()
        .end()
        .end();

    assertSameMessageAsProtobufJava(w.toByteArray());
    assertThat(utf8(OtlpJson.toJson(Signal.TRACES, w.toByteArray())))
        .contains("\"attributes\":[{\"key\":\"a\"},{\"key\":\"b\"},{\"key\":\"c\"}]");
  }

  @Test
  void packedAndUnpackedRepeatedNumbersAreBothRead() throws Exception {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .string(1, "h")
        .begin(9)
        .begin(1)
        .fixed64(6, 1) // bucket_counts unpacked
        .packedFixed64(6, new long[] {2, 3}) // and packed
        .fixed64(6, -1)
        .packedDouble(7, new double[] {0.5}) // explicit_bounds packed
        .doubleField(7, 1.5) // and unpacked
        .end()
        .end()
        .end()
        .end()
        .end();
    byte[] bytes = w.toByteArray();
    ExportMetricsServiceRequest expected = ExportMetricsServiceRequest.parseFrom(bytes);

    byte[] json = OtlpJson.toJson(Signal.METRICS, bytes);

    assertThat(utf8(json))
        .contains(
            "\"bucketCounts\":[\"1\",\"2\",\"3\",\"18446744073709551615\"]",
            "\"explicitBounds\":[0.5,1.5]");
    assertThat(ExportMetricsServiceRequest.parseFrom(OtlpJson.toProtobuf(Signal.METRICS, json)))
        .isEqualTo(expected);
  }

  @Test
  void unknownFieldsAndKnownNumbersWithAnotherWireTypeAreDropped() throws Exception {
    ProtoWriter w = new ProtoWriter();
    w.begin(1)
        .begin(2)
        .begin(2)
        .string(5, "name")
        .fixed32(5, 7) // name with the wrong wire type: an unknown field to protobuf-java
        .uint32(1000, 5) // unknown varint
        .string(1001, "x") // unknown length-delimited
        .fixed64(1002, 1)
        .tag(1003, 3)
        .uint32(1, 1)
        .tag(1004, 3)
        .tag(1004, 4)
        .tag(1003, 4) // unknown nested groups
        .end()
        .end()
        .end();
    byte[] bytes = w.toByteArray();

    assertSameMessageAsProtobufJava(bytes);
    assertThat(utf8(OtlpJson.toJson(Signal.TRACES, bytes)))
        .isEqualTo("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"name\"}]}]}]}");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0a05", // length 5, nothing follows
        "0a02120a", // nested length runs past its parent
        "0f", // wire type 7
        "00", // field number 0
        "0a0412021a", // truncated nested content
        "08ffffffffffffffffffff01", // varint of 11 bytes
        "1b", // group that never ends
        "0c", // end-group without a group
        "0a03122a00", // scope_spans claims 42 bytes inside a 3-byte parent
      })
  void malformedProtobufIsRefused(String hex) {
    byte[] bytes = HexFormat.of().parseHex(hex);

    assertThatThrownBy(() -> OtlpJson.toJson(Signal.TRACES, bytes))
        .isInstanceOf(WireFormatException.class);
  }

  @Test
  void aProtobufErrorNamesTheOffsetWithinTheCallersRange() {
    byte[] bytes = HexFormat.of().parseHex("ffff0a05ffff");

    WireFormatException e =
        catchThrowableOfType(
            WireFormatException.class, () -> OtlpJson.toJson(Signal.TRACES, bytes, 2, 2));

    assertThat(e.offset()).isEqualTo(1);
  }

  // ---------------------------------------------------------------- detection

  @Test
  void theSignalIsDetectedFromTheTopLevelKey() {
    assertThat(OtlpJson.detectJsonSignal(utf8("{\"resourceSpans\":[]}"))).isEqualTo(Signal.TRACES);
    assertThat(OtlpJson.detectJsonSignal(utf8("{\"resource_spans\":[]}"))).isEqualTo(Signal.TRACES);
    assertThat(
            OtlpJson.detectJsonSignal(utf8("{\"x\":{\"resourceLogs\":1},\"resourceMetrics\":[]}")))
        .isEqualTo(Signal.METRICS);
    assertThat(OtlpJson.detectJsonSignal(utf8("{\"resource_logs\":null}"))).isEqualTo(Signal.LOGS);
    assertThat(OtlpJson.detectJsonSignal(utf8("{}"))).isNull();
    assertThat(OtlpJson.detectJsonSignal(utf8("{\"other\":1}"))).isNull();
    assertThatThrownBy(() -> OtlpJson.detectJsonSignal(utf8("[]")))
        .isInstanceOf(WireFormatException.class);
    assertThatThrownBy(() -> OtlpJson.detectJsonSignal(utf8("{\"x\":[}")))
        .isInstanceOf(WireFormatException.class);
  }
}
