package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SignalDetectorTest {

  @Test
  void realisticRequestsOfEachSignalAreDetected() {
    for (int n : new int[] {1, 2, 50}) {
      assertThat(SignalDetector.detect(OtlpGenerator.realisticTraces(n).toByteArray())).isEqualTo(Signal.TRACES);
      assertThat(SignalDetector.detect(OtlpGenerator.realisticMetrics(n).toByteArray())).isEqualTo(Signal.METRICS);
      assertThat(SignalDetector.detect(OtlpGenerator.realisticLogs(n).toByteArray())).isEqualTo(Signal.LOGS);
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
}
