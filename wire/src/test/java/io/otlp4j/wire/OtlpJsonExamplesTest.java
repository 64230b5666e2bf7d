package io.otlp4j.wire;

import static io.otlp4j.wire.OfficialJson.jsonFormatParse;
import static io.otlp4j.wire.OfficialJson.resource;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The official OTLP/JSON examples from the opentelemetry-proto repository. */
class OtlpJsonExamplesTest {

  @ParameterizedTest
  @CsvSource({
    "/otlp-json/trace.json, TRACES",
    "/otlp-json/metrics.json, METRICS",
    "/otlp-json/logs.json, LOGS",
    "/otlp-json/events.json, LOGS"
  })
  void everyExampleTranscodesToTheMessageJsonFormatBuildsFromTheSameJson(
      String path, Signal signal) {
    byte[] json = resource(path);

    byte[] protobuf = OtlpJson.toProtobuf(signal, json);

    assertThat(OfficialJson.parse(signal, protobuf)).isEqualTo(jsonFormatParse(signal, json));
    assertThat(OtlpJson.detectJsonSignal(json)).isEqualTo(signal);
  }

  @ParameterizedTest
  @CsvSource({
    "/otlp-json/trace.json, TRACES",
    "/otlp-json/metrics.json, METRICS",
    "/otlp-json/logs.json, LOGS",
    "/otlp-json/events.json, LOGS"
  })
  void everyExampleRoundTripsThroughJsonToTheSameBytes(String path, Signal signal) {
    byte[] protobuf = OtlpJson.toProtobuf(signal, resource(path));

    byte[] json = OtlpJson.toJson(signal, protobuf);

    assertThat(OtlpJson.toProtobuf(signal, json)).isEqualTo(protobuf);
    assertThat(jsonFormatParse(signal, json)).isEqualTo(OfficialJson.parse(signal, protobuf));
  }

  @Test
  void traceExampleHasItsSpanWithIdsDecodedFromHex() throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.TRACES, resource("/otlp-json/trace.json")));

    List<Span> spans = request.getResourceSpans(0).getScopeSpans(0).getSpansList();
    assertThat(spans).hasSize(1);
    Span span = spans.get(0);
    assertThat(span.getTraceId()).isEqualTo(hex("5b8efff798038103d269b633813fc60c"));
    assertThat(span.getSpanId()).isEqualTo(hex("eee19b7ec3c1b174"));
    assertThat(span.getParentSpanId()).isEqualTo(hex("eee19b7ec3c1b173"));
    assertThat(span.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(span.getStartTimeUnixNano()).isEqualTo(1544712660000000000L);
    assertThat(span.getAttributes(0).getValue().getStringValue()).isEqualTo("some value");
  }

  @Test
  void metricsExampleHasOneDataPointOfEachKind() throws Exception {
    ExportMetricsServiceRequest request =
        ExportMetricsServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.METRICS, resource("/otlp-json/metrics.json")));

    List<Metric> metrics = request.getResourceMetrics(0).getScopeMetrics(0).getMetricsList();
    assertThat(metrics)
        .extracting(Metric::getDataCase)
        .containsExactly(
            Metric.DataCase.SUM,
            Metric.DataCase.GAUGE,
            Metric.DataCase.HISTOGRAM,
            Metric.DataCase.EXPONENTIAL_HISTOGRAM);
    assertThat(metrics.get(0).getSum().getDataPointsCount()).isEqualTo(1);
    assertThat(metrics.get(0).getSum().getDataPoints(0).getAsDouble()).isEqualTo(5.0);
    assertThat(metrics.get(1).getGauge().getDataPointsCount()).isEqualTo(1);
    assertThat(metrics.get(2).getHistogram().getDataPointsCount()).isEqualTo(1);
    assertThat(metrics.get(2).getHistogram().getDataPoints(0).getBucketCountsList())
        .containsExactly(1L, 1L);
    assertThat(metrics.get(2).getHistogram().getDataPoints(0).hasMin()).isTrue();
    assertThat(metrics.get(3).getExponentialHistogram().getDataPointsCount()).isEqualTo(1);
    assertThat(
            metrics
                .get(3)
                .getExponentialHistogram()
                .getDataPoints(0)
                .getPositive()
                .getBucketCountsList())
        .containsExactly(0L, 2L);
  }

  @Test
  void logsExampleHasItsRecordWithEveryValueType() throws Exception {
    ExportLogsServiceRequest request =
        ExportLogsServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.LOGS, resource("/otlp-json/logs.json")));

    List<LogRecord> records = request.getResourceLogs(0).getScopeLogs(0).getLogRecordsList();
    assertThat(records).hasSize(1);
    assertThat(records.get(0).getBody().getStringValue()).isEqualTo("Example log record");
    assertThat(records.get(0).getAttributesList()).hasSize(6);
    assertThat(records.get(0).getTraceId()).isEqualTo(hex("5b8efff798038103d269b633813fc60c"));
  }

  @Test
  void eventsExampleKeepsItsEventName() throws Exception {
    ExportLogsServiceRequest request =
        ExportLogsServiceRequest.parseFrom(
            OtlpJson.toProtobuf(Signal.LOGS, resource("/otlp-json/events.json")));

    List<LogRecord> records = request.getResourceLogs(0).getScopeLogs(0).getLogRecordsList();
    assertThat(records).hasSize(1);
    assertThat(records.get(0).getEventName()).isEqualTo("browser.page_view");
    assertThat(records.get(0).getBody().getKvlistValue().getValuesCount()).isEqualTo(4);
  }

  private static ByteString hex(String hex) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hex));
  }
}
