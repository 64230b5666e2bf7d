package io.otlp4j.exporter;

import com.google.protobuf.Message;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;

/**
 * Requests for the exporter's tests, built with the official classes. (How test servers decode what
 * arrives lives in otlp4j-testing's {@link io.otlp4j.testing.OfficialDecoding}.)
 */
final class OfficialDecoding {

  private OfficialDecoding() {}

  /** A deterministic, production-like request of {@code signal} with {@code items} items. */
  static Message realistic(Signal signal, int items) {
    switch (signal) {
      case TRACES:
        return OtlpGenerator.realisticTraces(items);
      case METRICS:
        return OtlpGenerator.realisticMetrics(items);
      default:
        return OtlpGenerator.realisticLogs(items);
    }
  }
}
