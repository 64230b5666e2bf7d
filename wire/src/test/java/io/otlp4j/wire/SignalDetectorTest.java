package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Summary;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SignalDetectorTest {

  @Test
  void realisticRequestsOfEachSignalAreDetected() {
    for (int n : new int[] {1, 2, 50}) {
      assertThat(SignalDetector.detect(OtlpGenerator.realisticTraces(n).toByteArray()))
          .isEqualTo(Signal.TRACES);
      assertThat(SignalDetector.detect(OtlpGenerator.realisticMetrics(n).toByteArray()))
          .isEqualTo(Signal.METRICS);
      assertThat(SignalDetector.detect(OtlpGenerator.realisticLogs(n).toByteArray()))
          .isEqualTo(Signal.LOGS);
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void randomRequestsAreNeverAttributedToTheWrongSignal(Signal signal) {
    OtlpGenerator generator = new OtlpGenerator(7).withUnknownFields(true);
    int detected = 0;
    for (int i = 0; i < 500; i++) {
      Signal result = SignalDetector.detect(generator.request(signal).toByteArray());
      if (result != null) {
        assertThat(result).isEqualTo(signal);
        detected++;
      }
    }
    // Requests without items (or with nearly empty ones) give no evidence; most do.
    assertThat(detected).isGreaterThan(250);
  }

  @Test
  void requestsWithoutItemsAndMalformedInputAreUndecided() {
    assertThat(SignalDetector.detect(new byte[0])).isNull();
    assertThat(SignalDetector.detect(new byte[] {0x0A, 0x7F})).isNull(); // length runs past the end
    Mutator mutator = new Mutator(3);
    byte[] valid = OtlpGenerator.realisticTraces(4).toByteArray();
    for (int i = 0; i < 10_000; i++) {
      Signal result = SignalDetector.detect(mutator.mutate(valid)); // never throws
      assertThat(result).isIn(null, Signal.TRACES, Signal.METRICS, Signal.LOGS);
    }
  }

  /**
   * The reference: the signals as whose request protobuf-java parses the bytes with no unknown
   * field at any depth (a known field number arriving with another wire type is an unknown field
   * there).
   */
  private static Set<Signal> cleanParses(byte[] bytes) {
    Set<Signal> clean = EnumSet.noneOf(Signal.class);
    for (Signal signal : Signal.values()) {
      try {
        Message parsed;
        switch (signal) {
          case TRACES:
            parsed = ExportTraceServiceRequest.parseFrom(bytes);
            break;
          case METRICS:
            parsed = ExportMetricsServiceRequest.parseFrom(bytes);
            break;
          default:
            parsed = ExportLogsServiceRequest.parseFrom(bytes);
        }
        if (!hasUnknownFields(parsed)) {
          clean.add(signal);
        }
      } catch (InvalidProtocolBufferException e) {
        // not a request of this signal
      }
    }
    return clean;
  }

  private static boolean hasUnknownFields(Message message) {
    if (message.getUnknownFields().asMap().size() > 0) {
      return true;
    }
    for (Map.Entry<com.google.protobuf.Descriptors.FieldDescriptor, Object> e :
        message.getAllFields().entrySet()) {
      if (e.getKey().getJavaType()
          != com.google.protobuf.Descriptors.FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (e.getKey().isRepeated()) {
        for (Object child : (java.util.List<?>) e.getValue()) {
          if (hasUnknownFields((Message) child)) {
            return true;
          }
        }
      } else if (hasUnknownFields((Message) e.getValue())) {
        return true;
      }
    }
    return false;
  }

  @Test
  void metricsWithOnlySummaryDataPointsAreMetrics() {
    SummaryDataPoint point =
        SummaryDataPoint.newBuilder()
            .setStartTimeUnixNano(1)
            .setTimeUnixNano(2)
            .setCount(3)
            .setSum(4.5)
            .addQuantileValues(
                SummaryDataPoint.ValueAtQuantile.newBuilder().setQuantile(0.5).setValue(1.0))
            .build();
    byte[] request =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(
                ResourceMetrics.newBuilder()
                    .addScopeMetrics(
                        ScopeMetrics.newBuilder()
                            .addMetrics(
                                Metric.newBuilder()
                                    .setName("rpc.duration")
                                    .setDescription("d")
                                    .setUnit("ms")
                                    .setSummary(Summary.newBuilder().addDataPoints(point)))))
            .build()
            .toByteArray();
    assertThat(cleanParses(request)).containsExactly(Signal.METRICS);
    assertThat(SignalDetector.detect(request)).isEqualTo(Signal.METRICS);
  }

  /**
   * Random requests of every signal, every metric data kind among them (gauge, sum, histogram,
   * exponential histogram, summary, and none): whenever exactly one signal parses the bytes cleanly
   * (official classes, no unknown field), that signal is detected; when several do, the detector
   * names exactly those.
   */
  @ParameterizedTest
  @EnumSource(Signal.class)
  void aRequestThatParsesCleanlyAsExactlyOneSignalIsDetectedAsIt(Signal signal) {
    OtlpGenerator generator = new OtlpGenerator(11);
    int unique = 0;
    for (int i = 0; i < 1_000; i++) {
      byte[] bytes = generator.request(signal).toByteArray();
      Set<Signal> reference = cleanParses(bytes);
      assertThat(reference).contains(signal);
      assertThat(SignalDetector.candidates(bytes)).as("request %d", i).isEqualTo(reference);
      if (reference.size() == 1) {
        unique++;
        assertThat(SignalDetector.detect(bytes)).as("request %d", i).isEqualTo(signal);
      } else {
        assertThat(SignalDetector.detect(bytes)).isNull();
      }
    }
    assertThat(unique).isGreaterThan(500);
  }
}
