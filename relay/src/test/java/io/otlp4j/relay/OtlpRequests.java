package io.otlp4j.relay;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogram;
import io.opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Histogram;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.metrics.v1.Sum;
import io.opentelemetry.proto.metrics.v1.Summary;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * OTLP requests built with the official classes, each item named so that a test can tell exactly
 * which items arrived and how often.
 */
final class OtlpRequests {
  private static final AtomicLong IDS = new AtomicLong(1);
  private static final Resource RESOURCE =
      Resource.newBuilder()
          .addAttributes(
              KeyValue.newBuilder()
                  .setKey("service.name")
                  .setValue(AnyValue.newBuilder().setStringValue("relay-test")))
          .build();
  private static final InstrumentationScope SCOPE =
      InstrumentationScope.newBuilder().setName("relay-test").setVersion("1.0").build();

  /**
   * The data points in one {@link #metricPoints} request: gauge 2, sum 3, histogram, exponential
   * histogram, summary 1 each.
   */
  static final int POINTS_PER_METRICS_REQUEST = 8;

  private OtlpRequests() {}

  /** {@code count} spans named {@code prefix-0} … {@code prefix-(count-1)}. */
  static ExportTraceServiceRequest spans(String prefix, int count) {
    return spans(prefix, count, 0);
  }

  /**
   * As {@link #spans(String, int)}, each span with a {@code padding} attribute of {@code
   * paddingBytes} characters.
   */
  static ExportTraceServiceRequest spans(String prefix, int count, int paddingBytes) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder().setScope(SCOPE);
    for (int i = 0; i < count; i++) {
      long id = IDS.getAndIncrement();
      Span.Builder span =
          Span.newBuilder()
              .setName(prefix + "-" + i)
              .setTraceId(
                  ByteString.copyFrom(ByteBuffer.allocate(16).putLong(0x5eed).putLong(id).array()))
              .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(id).array()))
              .setKind(Span.SpanKind.SPAN_KIND_SERVER)
              .setStartTimeUnixNano(1_700_000_000_000_000_000L + id)
              .setEndTimeUnixNano(1_700_000_000_000_500_000L + id)
              .addAttributes(
                  KeyValue.newBuilder().setKey("i").setValue(AnyValue.newBuilder().setIntValue(i)));
      if (paddingBytes > 0) {
        span.addAttributes(
            KeyValue.newBuilder()
                .setKey("padding")
                .setValue(AnyValue.newBuilder().setStringValue("p".repeat(paddingBytes))));
      }
      scope.addSpans(span);
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().setResource(RESOURCE).addScopeSpans(scope))
        .build();
  }

  /** {@code count} log records whose bodies are {@code prefix-0} … */
  static ExportLogsServiceRequest logs(String prefix, int count) {
    ScopeLogs.Builder scope = ScopeLogs.newBuilder().setScope(SCOPE);
    for (int i = 0; i < count; i++) {
      scope.addLogRecords(
          LogRecord.newBuilder()
              .setTimeUnixNano(1_700_000_000_000_000_000L + i)
              .setSeverityNumber(io.opentelemetry.proto.logs.v1.SeverityNumber.SEVERITY_NUMBER_INFO)
              .setBody(AnyValue.newBuilder().setStringValue(prefix + "-" + i)));
    }
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(ResourceLogs.newBuilder().setResource(RESOURCE).addScopeLogs(scope))
        .build();
  }

  /**
   * {@value #POINTS_PER_METRICS_REQUEST} data points over every metric type, in metrics named
   * {@code prefix.gauge}, {@code prefix.sum}, {@code prefix.histogram}, {@code
   * prefix.exp_histogram}, {@code prefix.summary}.
   */
  static ExportMetricsServiceRequest metricPoints(String prefix) {
    long t = 1_700_000_000_000_000_000L;
    List<Metric> metrics = new ArrayList<>();
    metrics.add(
        Metric.newBuilder()
            .setName(prefix + ".gauge")
            .setGauge(
                Gauge.newBuilder()
                    .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(t).setAsDouble(1.5))
                    .addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(t + 1).setAsInt(2)))
            .build());
    Sum.Builder sum =
        Sum.newBuilder()
            .setIsMonotonic(true)
            .setAggregationTemporality(
                io.opentelemetry.proto.metrics.v1.AggregationTemporality
                    .AGGREGATION_TEMPORALITY_CUMULATIVE);
    for (int i = 0; i < 3; i++) {
      sum.addDataPoints(
          NumberDataPoint.newBuilder().setStartTimeUnixNano(t).setTimeUnixNano(t + i).setAsInt(i));
    }
    metrics.add(Metric.newBuilder().setName(prefix + ".sum").setSum(sum).build());
    metrics.add(
        Metric.newBuilder()
            .setName(prefix + ".histogram")
            .setHistogram(
                Histogram.newBuilder()
                    .setAggregationTemporality(
                        io.opentelemetry.proto.metrics.v1.AggregationTemporality
                            .AGGREGATION_TEMPORALITY_DELTA)
                    .addDataPoints(
                        HistogramDataPoint.newBuilder()
                            .setTimeUnixNano(t)
                            .setCount(3)
                            .setSum(6)
                            .addExplicitBounds(1)
                            .addExplicitBounds(2)
                            .addBucketCounts(1)
                            .addBucketCounts(1)
                            .addBucketCounts(1)))
            .build());
    metrics.add(
        Metric.newBuilder()
            .setName(prefix + ".exp_histogram")
            .setExponentialHistogram(
                ExponentialHistogram.newBuilder()
                    .addDataPoints(
                        ExponentialHistogramDataPoint.newBuilder()
                            .setTimeUnixNano(t)
                            .setCount(2)
                            .setScale(1)
                            .setZeroCount(1)))
            .build());
    metrics.add(
        Metric.newBuilder()
            .setName(prefix + ".summary")
            .setSummary(
                Summary.newBuilder()
                    .addDataPoints(
                        SummaryDataPoint.newBuilder().setTimeUnixNano(t).setCount(4).setSum(10)))
            .build());
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(
            ResourceMetrics.newBuilder()
                .setResource(RESOURCE)
                .addScopeMetrics(ScopeMetrics.newBuilder().setScope(SCOPE).addAllMetrics(metrics)))
        .build();
  }

  /** The names of the spans in {@code request}. */
  static List<String> spanNames(ExportTraceServiceRequest request) {
    return request.getResourceSpansList().stream()
        .flatMap(rs -> rs.getScopeSpansList().stream())
        .flatMap(ss -> ss.getSpansList().stream())
        .map(Span::getName)
        .toList();
  }
}
