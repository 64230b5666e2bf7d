package io.otlp4j.relay.pipeline;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

/** Trace requests for the pipeline tests, built with the official classes. */
final class TestSpans {
  private TestSpans() {}

  /**
   * {@code count} spans named {@code prefix-i}, each with a {@code padding}-character attribute.
   */
  static ExportTraceServiceRequest spans(String prefix, int count, int padding) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < count; i++) {
      byte[] spanId = new byte[8];
      spanId[7] = (byte) (i + 1);
      scope.addSpans(
          Span.newBuilder()
              .setName(prefix + "-" + i)
              .setTraceId(ByteString.copyFrom(new byte[16]))
              .setSpanId(ByteString.copyFrom(spanId))
              .setStartTimeUnixNano(1_000L + i)
              .setEndTimeUnixNano(2_000L + i)
              .addAttributes(
                  KeyValue.newBuilder()
                      .setKey("pad")
                      .setValue(AnyValue.newBuilder().setStringValue("x".repeat(padding)))));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
        .build();
  }
}
