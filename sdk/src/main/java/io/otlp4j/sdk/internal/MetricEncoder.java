package io.otlp4j.sdk.internal;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.common.internal.DynamicPrimitiveLongList;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoubleExemplarData;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExemplarData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.HistogramData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongExemplarData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
import io.otlp4j.wire.ProtoWriter;
import java.util.Collection;
import java.util.List;

/**
 * The metrics part of {@link TelemetryEncoder}: one {@code Metric} and its data points (number,
 * histogram, exponential histogram, summary) and exemplars, field for field as the SDK's own
 * marshaler writes them. What it allocates is only the boxing the SDK's data types impose
 * (histogram counts and bounds are {@code List<Long>} and {@code List<Double>}).
 *
 * <p>Not thread-safe (one encoder per thread, see {@link OtlpMarshaler}).
 */
abstract class MetricEncoder extends AttributeEncoder {

  MetricEncoder(ProtoWriter out) {
    super(out);
  }

  // ================================================================ metrics

  final void writeMetric(MetricData metric) {
    ProtoWriter w = out;
    int dataField;
    switch (metric.getType()) {
      case LONG_GAUGE:
      case DOUBLE_GAUGE:
        dataField = 5;
        break;
      case LONG_SUM:
      case DOUBLE_SUM:
        dataField = 7;
        break;
      case HISTOGRAM:
        dataField = 9;
        break;
      case EXPONENTIAL_HISTOGRAM:
        dataField = 10;
        break;
      case SUMMARY:
        dataField = 11;
        break;
      default:
        return; // the SDK's marshaler skips a metric type it does not know
    }
    w.begin(SCOPE_ITEMS);
    string(1, metric.getName());
    string(2, metric.getDescription());
    string(3, metric.getUnit());
    w.begin(dataField);
    switch (metric.getType()) {
      case LONG_GAUGE:
      case DOUBLE_GAUGE:
        numberPoints(((GaugeData<?>) metric.getData()).getPoints());
        break;
      case LONG_SUM:
      case DOUBLE_SUM:
        SumData<?> sum = (SumData<?>) metric.getData();
        numberPoints(sum.getPoints());
        temporality(sum.getAggregationTemporality());
        if (sum.isMonotonic()) {
          w.bool(3, true);
        }
        break;
      case HISTOGRAM:
        HistogramData histogram = metric.getHistogramData();
        for (HistogramPointData point : histogram.getPoints()) {
          w.begin(1);
          histogramPoint(point);
          w.end();
        }
        temporality(histogram.getAggregationTemporality());
        break;
      case EXPONENTIAL_HISTOGRAM:
        ExponentialHistogramData exponential = metric.getExponentialHistogramData();
        for (ExponentialHistogramPointData point : exponential.getPoints()) {
          w.begin(1);
          exponentialHistogramPoint(point);
          w.end();
        }
        temporality(exponential.getAggregationTemporality());
        break;
      default: // SUMMARY
        for (SummaryPointData point : metric.getSummaryData().getPoints()) {
          w.begin(1);
          summaryPoint(point);
          w.end();
        }
        break;
    }
    w.end();
    w.end();
  }

  private void temporality(AggregationTemporality temporality) {
    out.uint32(2, temporality == AggregationTemporality.DELTA ? 1 : 2);
  }

  private void numberPoints(Collection<? extends PointData> points) {
    ProtoWriter w = out;
    for (PointData point : points) {
      w.begin(1);
      fixed64(2, point.getStartEpochNanos());
      fixed64(3, point.getEpochNanos());
      // Fields in number order (as_double 4, exemplars 5, as_int 6) so the bytes are canonical.
      if (point instanceof LongPointData) {
        exemplars(5, point.getExemplars());
        w.fixed64(6, ((LongPointData) point).getValue());
      } else {
        w.doubleField(4, ((DoublePointData) point).getValue());
        exemplars(5, point.getExemplars());
      }
      attributes(7, point.getAttributes());
      w.end();
    }
  }

  private void histogramPoint(HistogramPointData point) {
    ProtoWriter w = out;
    fixed64(2, point.getStartEpochNanos());
    fixed64(3, point.getEpochNanos());
    fixed64(4, point.getCount());
    w.doubleField(5, point.getSum());
    List<Long> counts = point.getCounts();
    int n = counts.size();
    if (n > 0) {
      w.tag(6, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(n * 8);
      for (int i = 0; i < n; i++) {
        w.rawFixed64(counts.get(i));
      }
    }
    List<Double> bounds = point.getBoundaries();
    n = bounds.size();
    if (n > 0) {
      w.tag(7, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(n * 8);
      for (int i = 0; i < n; i++) {
        w.rawFixed64(Double.doubleToRawLongBits(bounds.get(i)));
      }
    }
    exemplars(8, point.getExemplars());
    attributes(9, point.getAttributes());
    if (point.hasMin()) {
      w.doubleField(11, point.getMin());
    }
    if (point.hasMax()) {
      w.doubleField(12, point.getMax());
    }
  }

  private void exponentialHistogramPoint(ExponentialHistogramPointData point) {
    ProtoWriter w = out;
    attributes(1, point.getAttributes());
    fixed64(2, point.getStartEpochNanos());
    fixed64(3, point.getEpochNanos());
    fixed64(4, point.getCount());
    w.doubleField(5, point.getSum());
    if (point.getScale() != 0) {
      w.sint32(6, point.getScale());
    }
    fixed64(7, point.getZeroCount());
    buckets(8, point.getPositiveBuckets());
    buckets(9, point.getNegativeBuckets());
    exemplars(11, point.getExemplars());
    if (point.hasMin()) {
      w.doubleField(12, point.getMin());
    }
    if (point.hasMax()) {
      w.doubleField(13, point.getMax());
    }
  }

  private void buckets(int field, ExponentialHistogramBuckets buckets) {
    ProtoWriter w = out;
    w.begin(field);
    if (buckets.getOffset() != 0) {
      w.sint32(1, buckets.getOffset());
    }
    List<Long> counts = buckets.getBucketCounts();
    int n = counts.size();
    if (n > 0) {
      w.begin(2);
      if (counts instanceof DynamicPrimitiveLongList) {
        DynamicPrimitiveLongList primitive = (DynamicPrimitiveLongList) counts;
        for (int i = 0; i < n; i++) {
          w.rawVarint64(primitive.getLong(i));
        }
      } else {
        for (int i = 0; i < n; i++) {
          w.rawVarint64(counts.get(i));
        }
      }
      w.end();
    }
    w.end();
  }

  private void summaryPoint(SummaryPointData point) {
    ProtoWriter w = out;
    fixed64(2, point.getStartEpochNanos());
    fixed64(3, point.getEpochNanos());
    fixed64(4, point.getCount());
    doubleNonZero(5, point.getSum());
    List<ValueAtQuantile> values = point.getValues();
    for (int i = 0, n = values.size(); i < n; i++) {
      ValueAtQuantile value = values.get(i);
      w.begin(6);
      doubleNonZero(1, value.getQuantile());
      doubleNonZero(2, value.getValue());
      w.end();
    }
    attributes(7, point.getAttributes());
  }

  private void exemplars(int field, List<? extends ExemplarData> exemplars) {
    ProtoWriter w = out;
    for (int i = 0, n = exemplars.size(); i < n; i++) {
      ExemplarData exemplar = exemplars.get(i);
      w.begin(field);
      fixed64(2, exemplar.getEpochNanos());
      boolean isLong = exemplar instanceof LongExemplarData;
      if (!isLong) {
        w.doubleField(3, ((DoubleExemplarData) exemplar).getValue());
      }
      SpanContext context = exemplar.getSpanContext();
      if (context.isValid()) {
        spanId(4, context.getSpanId());
        traceId(5, context.getTraceId());
      }
      if (isLong) {
        w.fixed64(6, ((LongExemplarData) exemplar).getValue());
      }
      attributes(7, exemplar.getFilteredAttributes());
      w.end();
    }
  }
}
