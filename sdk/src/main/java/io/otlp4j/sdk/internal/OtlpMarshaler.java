package io.otlp4j.sdk.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.Collection;

/**
 * Encodes the SDK's telemetry data into OTLP {@code Export*ServiceRequest} protobuf bytes.
 *
 * <p><b>Buffer ownership:</b> every method returns a new buffer that the caller must release.
 *
 * <p>Thread-safe.
 */
public final class OtlpMarshaler {
  private OtlpMarshaler() {}

  /** An {@code ExportTraceServiceRequest} holding {@code spans}; the caller must release it. */
  public static ByteBuf encodeSpans(Collection<SpanData> spans, ByteBufAllocator alloc) {
    throw new UnsupportedOperationException("not yet implemented");
  }

  /** An {@code ExportMetricsServiceRequest} holding {@code metrics}; the caller must release it. */
  public static ByteBuf encodeMetrics(Collection<MetricData> metrics, ByteBufAllocator alloc) {
    throw new UnsupportedOperationException("not yet implemented");
  }

  /** An {@code ExportLogsServiceRequest} holding {@code logs}; the caller must release it. */
  public static ByteBuf encodeLogs(Collection<LogRecordData> logs, ByteBufAllocator alloc) {
    throw new UnsupportedOperationException("not yet implemented");
  }

  /** The data points in {@code metrics}: what OTLP counts as items of a metrics request. */
  public static long countDataPoints(Collection<MetricData> metrics) {
    long n = 0;
    for (MetricData m : metrics) {
      n += m.getData().getPoints().size();
    }
    return n;
  }
}
