package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
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
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The filter processor's {@code HasAttrKeyOnDatapoint} and {@code HasAttrOnDatapoint} (metric
 * context): a metric is dropped when one of its data points, of any data kind, has the attribute;
 * read back with the official classes.
 */
@ExtendWith(NettyLeakCheck.class)
class FilterDatapointFunctionsTest {

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setStringValue(v))
        .build();
  }

  /** One metric of each data kind; the second point of each has {@code attribute}. */
  private static List<Metric> metrics(String prefix, KeyValue attribute) {
    KeyValue plain = kv("host", "a");
    return List.of(
        Metric.newBuilder()
            .setName(prefix + "gauge")
            .setGauge(
                Gauge.newBuilder()
                    .addDataPoints(NumberDataPoint.newBuilder().addAttributes(plain))
                    .addDataPoints(NumberDataPoint.newBuilder().addAttributes(attribute)))
            .build(),
        Metric.newBuilder()
            .setName(prefix + "sum")
            .setSum(
                Sum.newBuilder()
                    .addDataPoints(NumberDataPoint.newBuilder().addAttributes(plain))
                    .addDataPoints(NumberDataPoint.newBuilder().addAttributes(attribute)))
            .build(),
        Metric.newBuilder()
            .setName(prefix + "histogram")
            .setHistogram(
                Histogram.newBuilder()
                    .addDataPoints(HistogramDataPoint.newBuilder().addAttributes(plain))
                    .addDataPoints(HistogramDataPoint.newBuilder().addAttributes(attribute)))
            .build(),
        Metric.newBuilder()
            .setName(prefix + "exp")
            .setExponentialHistogram(
                ExponentialHistogram.newBuilder()
                    .addDataPoints(ExponentialHistogramDataPoint.newBuilder().addAttributes(plain))
                    .addDataPoints(
                        ExponentialHistogramDataPoint.newBuilder().addAttributes(attribute)))
            .build(),
        Metric.newBuilder()
            .setName(prefix + "summary")
            .setSummary(
                Summary.newBuilder()
                    .addDataPoints(SummaryDataPoint.newBuilder().addAttributes(plain))
                    .addDataPoints(SummaryDataPoint.newBuilder().addAttributes(attribute)))
            .build());
  }

  private static ExportMetricsServiceRequest request() {
    ScopeMetrics.Builder scope = ScopeMetrics.newBuilder();
    scope.addAllMetrics(metrics("prod.", kv("env", "prod")));
    scope.addAllMetrics(metrics("dev.", kv("env", "dev")));
    scope.addAllMetrics(metrics("none.", kv("other", "prod")));
    // the attribute on the metric's metadata, not on a point, does not count
    scope.addMetrics(
        Metric.newBuilder()
            .setName("metadata")
            .addMetadata(kv("env", "prod"))
            .setGauge(Gauge.newBuilder().addDataPoints(NumberDataPoint.newBuilder())));
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(ResourceMetrics.newBuilder().addScopeMetrics(scope))
        .build();
  }

  private static List<String> kept(ProcessorHarness.Outcome o) throws Exception {
    return ExportMetricsServiceRequest.parseFrom(o.bytes())
        .getResourceMetrics(0)
        .getScopeMetrics(0)
        .getMetricsList()
        .stream()
        .map(Metric::getName)
        .toList();
  }

  private static List<String> names(String... prefixes) {
    List<String> out = new java.util.ArrayList<>();
    for (String p : prefixes) {
      for (String kind : List.of("gauge", "sum", "histogram", "exp", "summary")) {
        out.add(p + kind);
      }
    }
    return out;
  }

  @Test
  void hasAttrKeyOnDatapointDropsMetricsWithAPointThatHasTheKey() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "filter", "metrics:\n  metric:\n    - 'HasAttrKeyOnDatapoint(\"env\")'\n");
    List<String> expected = new java.util.ArrayList<>(names("none."));
    expected.add("metadata");
    assertThat(kept(h.run(Signal.METRICS, request()))).isEqualTo(expected);
  }

  @Test
  void hasAttrOnDatapointAlsoComparesTheValue() throws Exception {
    ProcessorHarness h =
        new ProcessorHarness(
            "filter",
            "metric_conditions:\n  - 'HasAttrOnDatapoint(\"env\", \"prod\") or metric.name == \"x\"'\n");
    List<String> expected = new java.util.ArrayList<>(names("dev.", "none."));
    expected.add("metadata");
    assertThat(kept(h.run(Signal.METRICS, request()))).isEqualTo(expected);
  }

  @Test
  void theFunctionsBelongToTheMetricContext() {
    assertThat(
            ProcessorHarness.errors(
                "filter",
                """
        metrics:
          datapoint: ['HasAttrKeyOnDatapoint("env")']
          metric: ['HasAttrOnDatapoint("env")', 'HasAttrKeyOnDatapoint(name)']
        """))
        .contains(
            "line 8: processors.filter.metrics.datapoint[0]: 'HasAttrKeyOnDatapoint' in condition"
                + " 'HasAttrKeyOnDatapoint(\"env\")' is only available in the metric context, not the"
                + " datapoint context",
            "line 9: processors.filter.metrics.metric[0]: expected ',' but found ')' in condition"
                + " 'HasAttrOnDatapoint(\"env\")'",
            "line 9: processors.filter.metrics.metric[1]: HasAttrKeyOnDatapoint takes string"
                + " arguments in condition 'HasAttrKeyOnDatapoint(name)'");
  }
}
