package io.otlp4j.wire.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.wire.Signal;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OtlpGeneratorTest {

  @ParameterizedTest
  @EnumSource(Signal.class)
  void theSameSeedGivesTheSameMessagesAndAnotherSeedOthers(Signal signal) {
    OtlpGenerator a = new OtlpGenerator(5).withUnknownFields(true);
    OtlpGenerator b = new OtlpGenerator(5).withUnknownFields(true);
    OtlpGenerator c = new OtlpGenerator(6).withUnknownFields(true);
    int differ = 0;
    for (int i = 0; i < 50; i++) {
      Message fromA = a.request(signal);
      assertThat(b.request(signal)).isEqualTo(fromA);
      if (!c.request(signal).equals(fromA)) {
        differ++;
      }
    }
    assertThat(differ).isGreaterThan(40);
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void generatedMessagesSurviveAProtobufRoundTripUnknownFieldsIncluded(Signal signal)
      throws Exception {
    OtlpGenerator generator = new OtlpGenerator(11).withUnknownFields(true);
    for (int i = 0; i < 200; i++) {
      Message message = generator.request(signal);
      Message parsed = message.getParserForType().parseFrom(message.toByteArray());
      assertThat(parsed).isEqualTo(message);
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void withoutUnknownFieldsStripsThemAtEveryDepthAndKeepsEverythingElse(Signal signal)
      throws Exception {
    OtlpGenerator withUnknown = new OtlpGenerator(3).withUnknownFields(true);
    OtlpGenerator without = new OtlpGenerator(3);
    int hadUnknown = 0;
    for (int i = 0; i < 200; i++) {
      Message message = withUnknown.request(signal);
      Message stripped = OtlpGenerator.withoutUnknownFields(message);
      assertThat(countUnknown(stripped)).isZero();
      if (countUnknown(message) > 0) {
        hadUnknown++;
        assertThat(stripped.getSerializedSize()).isLessThan(message.getSerializedSize());
      }
      // Stripping a message twice, or one that never had unknown fields, changes nothing.
      assertThat(OtlpGenerator.withoutUnknownFields(stripped)).isEqualTo(stripped);
      Message plain = without.request(signal);
      assertThat(OtlpGenerator.withoutUnknownFields(plain)).isEqualTo(plain);
    }
    assertThat(hadUnknown).isGreaterThan(100);
  }

  @Test
  void withoutUnknownFieldsKeepsTheStaticTypeOfItsArgument() {
    ExportTraceServiceRequest traces = new OtlpGenerator(1).withUnknownFields(true).traces();
    ExportTraceServiceRequest stripped = OtlpGenerator.withoutUnknownFields(traces);
    assertThat(stripped.getResourceSpansCount()).isEqualTo(traces.getResourceSpansCount());
  }

  @Test
  void realisticTracesAreDeterministicWithThreeToFiveHundredBytesPerSpan() {
    ExportTraceServiceRequest traces = OtlpGenerator.realisticTraces(1000);
    assertThat(OtlpGenerator.realisticTraces(1000)).isEqualTo(traces);
    assertThat(traces.getResourceSpansCount()).isEqualTo(1);
    assertThat(traces.getResourceSpans(0).getResource().getAttributesCount()).isEqualTo(8);
    assertThat(traces.getResourceSpans(0).getScopeSpansCount()).isEqualTo(1);
    assertThat(traces.getResourceSpans(0).getScopeSpans(0).getSpansCount()).isEqualTo(1000);
    int bytesPerSpan = traces.getSerializedSize() / 1000;
    assertThat(bytesPerSpan).isBetween(300, 500);
    for (Span span : traces.getResourceSpans(0).getScopeSpans(0).getSpansList()) {
      assertThat(span.getTraceId().size()).isEqualTo(16);
      assertThat(span.getSpanId().size()).isEqualTo(8);
      assertThat(span.getAttributesCount()).isBetween(8, 10);
    }
  }

  @Test
  void realisticMetricsHoldExactlyTheRequestedNumberOfPoints() {
    ExportMetricsServiceRequest metrics = OtlpGenerator.realisticMetrics(1003);
    assertThat(OtlpGenerator.realisticMetrics(1003)).isEqualTo(metrics);
    long points =
        metrics.getResourceMetrics(0).getScopeMetrics(0).getMetricsList().stream()
            .mapToLong(
                m ->
                    m.getSum().getDataPointsCount()
                        + m.getGauge().getDataPointsCount()
                        + m.getHistogram().getDataPointsCount())
            .sum();
    assertThat(points).isEqualTo(1003);
  }

  @Test
  void realisticLogsHoldExactlyTheRequestedNumberOfRecords() {
    ExportLogsServiceRequest logs = OtlpGenerator.realisticLogs(500);
    assertThat(OtlpGenerator.realisticLogs(500)).isEqualTo(logs);
    assertThat(logs.getResourceLogs(0).getScopeLogs(0).getLogRecordsCount()).isEqualTo(500);
    assertThat(logs.getSerializedSize() / 500).isBetween(150, 400);
  }

  static int countUnknown(Message message) {
    int count = message.getUnknownFields().asMap().size();
    for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
      if (entry.getKey().getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (entry.getKey().isRepeated()) {
        for (Object element : (Iterable<?>) entry.getValue()) {
          count += countUnknown((Message) element);
        }
      } else {
        count += countUnknown((Message) entry.getValue());
      }
    }
    return count;
  }
}
