package io.otlp4j.sdk.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.exporter.internal.marshal.Marshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LowAllocationLogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.LowAllocationMetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.MetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.traces.LowAllocationTraceRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The reference: the OpenTelemetry SDK's own OTLP marshalers (both the object-tree one and the
 * low-allocation one), parsed with the official opentelemetry-proto classes, compared with what
 * {@link OtlpMarshaler} writes for the same data.
 *
 * <p>The SDK groups resources and scopes in an identity map, which gives them no defined order, so
 * both sides are compared with their resource and scope lists sorted by their encoded bytes; the
 * order of spans, metrics and log records inside a scope is compared as it is.
 */
final class SdkReference {
  private static final Comparator<ByteString> BYTES =
      ByteString.unsignedLexicographicalComparator();

  private SdkReference() {}

  // ---------------------------------------------------------------- traces

  /** Asserts that otlp4j's encoding of {@code spans} equals the SDK's; returns otlp4j's, parsed. */
  static ExportTraceServiceRequest assertSpansMatch(Collection<SpanData> spans) {
    byte[] ours = oursSpans(spans);
    ExportTraceServiceRequest parsed = parse(ours, ExportTraceServiceRequest::parseFrom);
    ExportTraceServiceRequest sdk =
        parse(write(TraceRequestMarshaler.create(spans)), ExportTraceServiceRequest::parseFrom);
    LowAllocationTraceRequestMarshaler low = new LowAllocationTraceRequestMarshaler();
    low.initialize(spans);
    ExportTraceServiceRequest sdkLow = parse(write(low), ExportTraceServiceRequest::parseFrom);
    assertThat(normalize(parsed)).isEqualTo(normalize(sdk));
    assertThat(normalize(parsed)).isEqualTo(normalize(sdkLow));
    assertThat(ours.length).as("encoded size").isEqualTo(sdk.getSerializedSize());
    assertThat(ours).as("canonical encoding").isEqualTo(parsed.toByteArray());
    return parsed;
  }

  static byte[] oursSpans(Collection<SpanData> spans) {
    ByteBuf buf = OtlpMarshaler.encodeSpans(spans, PooledByteBufAllocator.DEFAULT);
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  static ExportTraceServiceRequest normalize(ExportTraceServiceRequest request) {
    List<ResourceSpans> resources = new ArrayList<>();
    for (ResourceSpans r : request.getResourceSpansList()) {
      List<ScopeSpans> scopes = new ArrayList<>(r.getScopeSpansList());
      scopes.sort(Comparator.comparing(ScopeSpans::toByteString, BYTES));
      resources.add(r.toBuilder().clearScopeSpans().addAllScopeSpans(scopes).build());
    }
    resources.sort(Comparator.comparing(ResourceSpans::toByteString, BYTES));
    return ExportTraceServiceRequest.newBuilder().addAllResourceSpans(resources).build();
  }

  // ---------------------------------------------------------------- metrics

  static ExportMetricsServiceRequest assertMetricsMatch(Collection<MetricData> metrics) {
    byte[] ours = oursMetrics(metrics);
    ExportMetricsServiceRequest parsed = parse(ours, ExportMetricsServiceRequest::parseFrom);
    ExportMetricsServiceRequest sdk =
        parse(
            write(MetricsRequestMarshaler.create(metrics)), ExportMetricsServiceRequest::parseFrom);
    LowAllocationMetricsRequestMarshaler low = new LowAllocationMetricsRequestMarshaler();
    low.initialize(metrics);
    ExportMetricsServiceRequest sdkLow = parse(write(low), ExportMetricsServiceRequest::parseFrom);
    assertThat(normalize(parsed)).isEqualTo(normalize(sdk));
    assertThat(normalize(parsed)).isEqualTo(normalize(sdkLow));
    assertThat(ours.length).as("encoded size").isEqualTo(sdk.getSerializedSize());
    assertThat(ours).as("canonical encoding").isEqualTo(parsed.toByteArray());
    return parsed;
  }

  static byte[] oursMetrics(Collection<MetricData> metrics) {
    ByteBuf buf = OtlpMarshaler.encodeMetrics(metrics, PooledByteBufAllocator.DEFAULT);
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  static ExportMetricsServiceRequest normalize(ExportMetricsServiceRequest request) {
    List<ResourceMetrics> resources = new ArrayList<>();
    for (ResourceMetrics r : request.getResourceMetricsList()) {
      List<ScopeMetrics> scopes = new ArrayList<>(r.getScopeMetricsList());
      scopes.sort(Comparator.comparing(ScopeMetrics::toByteString, BYTES));
      resources.add(r.toBuilder().clearScopeMetrics().addAllScopeMetrics(scopes).build());
    }
    resources.sort(Comparator.comparing(ResourceMetrics::toByteString, BYTES));
    return ExportMetricsServiceRequest.newBuilder().addAllResourceMetrics(resources).build();
  }

  // ---------------------------------------------------------------- logs

  static ExportLogsServiceRequest assertLogsMatch(Collection<LogRecordData> logs) {
    byte[] ours = oursLogs(logs);
    ExportLogsServiceRequest parsed = parse(ours, ExportLogsServiceRequest::parseFrom);
    ExportLogsServiceRequest sdk =
        parse(write(LogsRequestMarshaler.create(logs)), ExportLogsServiceRequest::parseFrom);
    LowAllocationLogsRequestMarshaler low = new LowAllocationLogsRequestMarshaler();
    low.initialize(logs);
    ExportLogsServiceRequest sdkLow = parse(write(low), ExportLogsServiceRequest::parseFrom);
    assertThat(normalize(parsed)).isEqualTo(normalize(sdk));
    assertThat(normalize(parsed)).isEqualTo(normalize(sdkLow));
    assertThat(ours.length).as("encoded size").isEqualTo(sdk.getSerializedSize());
    assertThat(ours).as("canonical encoding").isEqualTo(parsed.toByteArray());
    return parsed;
  }

  static byte[] oursLogs(Collection<LogRecordData> logs) {
    ByteBuf buf = OtlpMarshaler.encodeLogs(logs, PooledByteBufAllocator.DEFAULT);
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  static ExportLogsServiceRequest normalize(ExportLogsServiceRequest request) {
    List<ResourceLogs> resources = new ArrayList<>();
    for (ResourceLogs r : request.getResourceLogsList()) {
      List<ScopeLogs> scopes = new ArrayList<>(r.getScopeLogsList());
      scopes.sort(Comparator.comparing(ScopeLogs::toByteString, BYTES));
      resources.add(r.toBuilder().clearScopeLogs().addAllScopeLogs(scopes).build());
    }
    resources.sort(Comparator.comparing(ResourceLogs::toByteString, BYTES));
    return ExportLogsServiceRequest.newBuilder().addAllResourceLogs(resources).build();
  }

  // ---------------------------------------------------------------- helpers

  static byte[] write(Marshaler marshaler) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(marshaler.getBinarySerializedSize());
    try {
      marshaler.writeBinaryTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  interface Parser<T> {
    T parse(byte[] bytes) throws InvalidProtocolBufferException;
  }

  static <T> T parse(byte[] bytes, Parser<T> parser) {
    try {
      return parser.parse(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not a valid message", e);
    }
  }
}
