package io.otlp4j.sdk.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.otlp4j.wire.ProtoWriter;
import java.util.Collection;
import java.util.function.BiConsumer;

/**
 * Encodes the SDK's telemetry data into OTLP {@code Export*ServiceRequest} protobuf bytes, straight
 * from {@link SpanData} / {@link MetricData} / {@link LogRecordData} with the wire module's {@link
 * ProtoWriter}: no protobuf-java, no intermediate marshaler tree, no separate size pass. Measured
 * by {@code io.otlp4j.bench.sdk.MarshalBenchmark} in the bench module.
 *
 * <p>The output parses (with the official opentelemetry-proto classes) to the message the SDK's own
 * OTLP marshalers write for the same data, with resources and scopes in first-seen order (the SDK
 * groups them by identity in a map without order). See {@link TelemetryEncoder} for the details.
 *
 * <p><b>Allocation:</b> each thread reuses one encoder (its writer array, grouping arrays and the
 * encoded headers of its last few resources and scopes); a writer that grew past {@link
 * #MAX_RETAINED_WRITER_BYTES} for one huge request is dropped afterwards, so an idle thread holds
 * at most that much. The only steady-state allocation is the output buffer.
 *
 * <p><b>Buffer ownership:</b> the {@code encode*(…, ByteBufAllocator)} methods return a new buffer
 * that the caller must release; the {@code encode*(…, ByteBuf)} methods append to a buffer that
 * stays the caller's.
 *
 * <p><b>Limits:</b> a request larger than 2 GiB, or values nested deeper than {@link
 * ProtoWriter#MAX_DEPTH}, fail with {@link IllegalStateException}; nothing is written to the
 * caller's buffer then.
 *
 * <p>Thread-safe.
 */
public final class OtlpMarshaler {
  /** A per-thread writer larger than this after an encode is dropped instead of kept for reuse. */
  public static final int MAX_RETAINED_WRITER_BYTES = 4 * 1024 * 1024;

  private static final ThreadLocal<TelemetryEncoder> ENCODER =
      ThreadLocal.withInitial(TelemetryEncoder::new);

  private OtlpMarshaler() {}

  /** An {@code ExportTraceServiceRequest} holding {@code spans}; the caller must release it. */
  public static ByteBuf encodeSpans(Collection<SpanData> spans, ByteBufAllocator alloc) {
    return newBuffer(TelemetryEncoder::writeSpans, spans, alloc);
  }

  /**
   * Appends an {@code ExportTraceServiceRequest} holding {@code spans} to {@code out} (which stays
   * the caller's) and returns the number of bytes written.
   */
  public static int encodeSpans(Collection<SpanData> spans, ByteBuf out) {
    return append(TelemetryEncoder::writeSpans, spans, out);
  }

  /** An {@code ExportMetricsServiceRequest} holding {@code metrics}; the caller must release it. */
  public static ByteBuf encodeMetrics(Collection<MetricData> metrics, ByteBufAllocator alloc) {
    return newBuffer(TelemetryEncoder::writeMetrics, metrics, alloc);
  }

  /**
   * Appends an {@code ExportMetricsServiceRequest} holding {@code metrics} to {@code out} (which
   * stays the caller's) and returns the number of bytes written.
   */
  public static int encodeMetrics(Collection<MetricData> metrics, ByteBuf out) {
    return append(TelemetryEncoder::writeMetrics, metrics, out);
  }

  /** An {@code ExportLogsServiceRequest} holding {@code logs}; the caller must release it. */
  public static ByteBuf encodeLogs(Collection<LogRecordData> logs, ByteBufAllocator alloc) {
    return newBuffer(TelemetryEncoder::writeLogs, logs, alloc);
  }

  /**
   * Appends an {@code ExportLogsServiceRequest} holding {@code logs} to {@code out} (which stays
   * the caller's) and returns the number of bytes written.
   */
  public static int encodeLogs(Collection<LogRecordData> logs, ByteBuf out) {
    return append(TelemetryEncoder::writeLogs, logs, out);
  }

  /** The data points in {@code metrics}: what OTLP counts as items of a metrics request. */
  public static long countDataPoints(Collection<MetricData> metrics) {
    long n = 0;
    for (MetricData m : metrics) {
      n += m.getData().getPoints().size();
    }
    return n;
  }

  /** Encodes {@code items} with this thread's encoder into a new buffer the caller must release. */
  private static <T> ByteBuf newBuffer(
      BiConsumer<TelemetryEncoder, T> write, T items, ByteBufAllocator alloc) {
    TelemetryEncoder encoder = acquire();
    try {
      write.accept(encoder, items);
      return copyOut(encoder.out, alloc);
    } finally {
      release(encoder);
    }
  }

  /**
   * Encodes {@code items} with this thread's encoder onto the end of {@code out}; returns the bytes
   * written.
   */
  private static <T> int append(BiConsumer<TelemetryEncoder, T> write, T items, ByteBuf out) {
    TelemetryEncoder encoder = acquire();
    try {
      write.accept(encoder, items);
      return appendTo(encoder.out, out);
    } finally {
      release(encoder);
    }
  }

  private static TelemetryEncoder acquire() {
    TelemetryEncoder encoder = ENCODER.get();
    encoder.out.reset();
    return encoder;
  }

  private static void release(TelemetryEncoder encoder) {
    ProtoWriter w = encoder.out;
    if (w.depth() != 0
        || w.size() > MAX_RETAINED_WRITER_BYTES
        || w.array().length > MAX_RETAINED_WRITER_BYTES) {
      // Failed half-way (left messages open) or grew for one huge request: start afresh next time.
      ENCODER.remove();
    } else {
      w.reset();
    }
  }

  private static ByteBuf copyOut(ProtoWriter w, ByteBufAllocator alloc) {
    w.finish();
    int size = w.size();
    ByteBuf buf = alloc.buffer(size, size);
    try {
      buf.writeBytes(w.array(), 0, size);
      return buf;
    } catch (RuntimeException | Error e) {
      buf.release();
      throw e;
    }
  }

  private static int appendTo(ProtoWriter w, ByteBuf out) {
    w.finish();
    int size = w.size();
    out.writeBytes(w.array(), 0, size);
    return size;
  }
}
