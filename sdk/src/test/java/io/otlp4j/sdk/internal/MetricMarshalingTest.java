package io.otlp4j.sdk.internal;

import static io.otlp4j.sdk.internal.SdkReference.assertMetricsMatch;
import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.common.internal.DynamicPrimitiveLongList;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoubleExemplarData;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongExemplarData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableDoubleExemplarData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableDoublePointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableExponentialHistogramData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableGaugeData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableHistogramData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableHistogramPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableLongExemplarData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableLongPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableMetricData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSumData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSummaryData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableSummaryPointData;
import io.opentelemetry.sdk.metrics.internal.data.ImmutableValueAtQuantile;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MetricMarshalingTest {
  private static final Resource RESOURCE = Fixtures.resource("metrics");
  private static final InstrumentationScopeInfo SCOPE = Fixtures.scope("meter");
  private static final Attributes POINT_ATTRIBUTES =
      Attributes.of(AttributeKey.stringKey("route"), "/a", AttributeKey.longKey("code"), 200L);
  private static final SpanContext SAMPLED =
      Fixtures.spanContext(true, false, TraceState.getDefault());

  static List<DoubleExemplarData> doubleExemplars() {
    return List.of(
        ImmutableDoubleExemplarData.create(
            Attributes.of(AttributeKey.stringKey("filtered"), "yes"), 5L, SAMPLED, 1.5),
        ImmutableDoubleExemplarData.create(
            Attributes.empty(), 0L, SpanContext.getInvalid(), Double.NaN),
        ImmutableDoubleExemplarData.create(Fixtures.everyAttributeType(), 7L, SAMPLED, -0.0));
  }

  static List<LongExemplarData> longExemplars() {
    return List.of(
        ImmutableLongExemplarData.create(
            Attributes.of(AttributeKey.stringKey("filtered"), "yes"), 5L, SAMPLED, 0L),
        ImmutableLongExemplarData.create(
            Attributes.empty(), 9L, SpanContext.getInvalid(), Long.MIN_VALUE));
  }

  static List<DoublePointData> doublePoints() {
    List<DoublePointData> points = new ArrayList<>();
    for (double d : Fixtures.AWKWARD_DOUBLES) {
      points.add(ImmutableDoublePointData.create(1L, 2L, POINT_ATTRIBUTES, d));
    }
    points.add(ImmutableDoublePointData.create(0L, 0L, Attributes.empty(), 3.0, doubleExemplars()));
    return points;
  }

  static List<LongPointData> longPoints() {
    List<LongPointData> points = new ArrayList<>();
    for (long l : Fixtures.AWKWARD_LONGS) {
      points.add(ImmutableLongPointData.create(1L, 2L, POINT_ATTRIBUTES, l));
    }
    points.add(ImmutableLongPointData.create(0L, 0L, Attributes.empty(), 3L, longExemplars()));
    return points;
  }

  @Test
  void emptyBatchIsAnEmptyRequest() {
    assertThat(SdkReference.oursMetrics(Collections.emptyList())).isEmpty();
  }

  @Test
  void gaugesMatch() {
    assertMetricsMatch(
        List.of(
            ImmutableMetricData.createDoubleGauge(
                RESOURCE,
                SCOPE,
                "g.double",
                "a gauge",
                "ms",
                ImmutableGaugeData.create(doublePoints())),
            ImmutableMetricData.createLongGauge(
                RESOURCE, SCOPE, "g.long", "", "", ImmutableGaugeData.create(longPoints())),
            ImmutableMetricData.createLongGauge(
                RESOURCE, SCOPE, "g.empty", "", "", ImmutableGaugeData.empty())));
  }

  @ParameterizedTest
  @EnumSource(AggregationTemporality.class)
  void sumsMatchForEveryTemporalityAndMonotonicity(AggregationTemporality temporality) {
    assertMetricsMatch(
        List.of(
            ImmutableMetricData.createDoubleSum(
                RESOURCE,
                SCOPE,
                "s.double",
                "d",
                "1",
                ImmutableSumData.create(true, temporality, doublePoints())),
            ImmutableMetricData.createDoubleSum(
                RESOURCE,
                SCOPE,
                "s.double.updown",
                "d",
                "1",
                ImmutableSumData.create(false, temporality, doublePoints())),
            ImmutableMetricData.createLongSum(
                RESOURCE,
                SCOPE,
                "s.long",
                "d",
                "By",
                ImmutableSumData.create(true, temporality, longPoints())),
            ImmutableMetricData.createLongSum(
                RESOURCE,
                SCOPE,
                "s.long.updown",
                "",
                "",
                ImmutableSumData.create(false, temporality, longPoints())),
            ImmutableMetricData.createLongSum(
                RESOURCE,
                SCOPE,
                "s.empty",
                "",
                "",
                ImmutableSumData.create(false, temporality, List.of()))));
  }

  @ParameterizedTest
  @EnumSource(AggregationTemporality.class)
  void histogramsMatch(AggregationTemporality temporality) {
    List<HistogramPointData> points =
        List.of(
            ImmutableHistogramPointData.create(
                1L,
                2L,
                POINT_ATTRIBUTES,
                12.5,
                true,
                -1.0,
                true,
                10.0,
                List.of(0.0, 5.0, 10.0),
                List.of(1L, 0L, 3L, 2L),
                doubleExemplars()),
            ImmutableHistogramPointData.create(
                1L, 2L, Attributes.empty(), 0.0, false, 0.0, false, 0.0, List.of(), List.of(0L)),
            ImmutableHistogramPointData.create(
                0L,
                0L,
                Attributes.empty(),
                Double.NaN,
                true,
                Double.NEGATIVE_INFINITY,
                true,
                Double.POSITIVE_INFINITY,
                List.of(-0.0),
                List.of(5L, 7L)),
            ImmutableHistogramPointData.create(
                3L,
                4L,
                Attributes.empty(),
                -0.0,
                true,
                0.0,
                false,
                0.0,
                List.of(1.0),
                List.of(0L, 0L)));
    assertMetricsMatch(
        List.of(
            ImmutableMetricData.createDoubleHistogram(
                RESOURCE,
                SCOPE,
                "h",
                "histogram",
                "s",
                ImmutableHistogramData.create(temporality, points)),
            ImmutableMetricData.createDoubleHistogram(
                RESOURCE,
                SCOPE,
                "h.empty",
                "",
                "",
                ImmutableHistogramData.create(temporality, List.of()))));
  }

  @ParameterizedTest
  @EnumSource(AggregationTemporality.class)
  void exponentialHistogramsMatch(AggregationTemporality temporality) {
    List<ExponentialHistogramPointData> points =
        List.of(
            ImmutableExponentialHistogramPointData.create(
                3,
                20.5,
                2L,
                true,
                0.5,
                true,
                9.0,
                ImmutableExponentialHistogramBuckets.create(
                    3, -4, List.of(1L, 0L, 300L, Long.MAX_VALUE)),
                ImmutableExponentialHistogramBuckets.create(3, 7, List.of(2L)),
                1L,
                2L,
                POINT_ATTRIBUTES,
                doubleExemplars()),
            ImmutableExponentialHistogramPointData.create(
                0,
                0.0,
                0L,
                false,
                0.0,
                false,
                0.0,
                ImmutableExponentialHistogramBuckets.create(0, 0, List.of()),
                ImmutableExponentialHistogramBuckets.create(0, 0, List.of()),
                0L,
                0L,
                Attributes.empty(),
                List.of()),
            ImmutableExponentialHistogramPointData.create(
                -10,
                Double.NaN,
                0L,
                true,
                Double.NEGATIVE_INFINITY,
                true,
                -0.0,
                ImmutableExponentialHistogramBuckets.create(
                    -10, Integer.MIN_VALUE, DynamicPrimitiveLongList.of(4L, 0L, 1L)),
                ImmutableExponentialHistogramBuckets.create(
                    -10, Integer.MAX_VALUE, DynamicPrimitiveLongList.of()),
                5L,
                6L,
                Attributes.empty(),
                List.of()));
    assertMetricsMatch(
        List.of(
            ImmutableMetricData.createExponentialHistogram(
                RESOURCE,
                SCOPE,
                "eh",
                "exp",
                "s",
                ImmutableExponentialHistogramData.create(temporality, points))));
  }

  @Test
  void summariesMatch() {
    List<SummaryPointData> points =
        List.of(
            ImmutableSummaryPointData.create(
                1L,
                2L,
                POINT_ATTRIBUTES,
                10L,
                55.5,
                List.of(
                    ImmutableValueAtQuantile.create(0.0, -3.0),
                    ImmutableValueAtQuantile.create(0.5, 4.0),
                    ImmutableValueAtQuantile.create(1.0, Double.NaN))),
            ImmutableSummaryPointData.create(0L, 0L, Attributes.empty(), 0L, 0.0, List.of()),
            ImmutableSummaryPointData.create(
                0L,
                0L,
                Attributes.empty(),
                0L,
                -0.0,
                List.of(ImmutableValueAtQuantile.create(-0.0, 0.0))),
            ImmutableSummaryPointData.create(
                3L, 4L, Attributes.empty(), 1L, Double.POSITIVE_INFINITY, List.of()));
    assertMetricsMatch(
        List.of(
            ImmutableMetricData.createDoubleSummary(
                RESOURCE, SCOPE, "sum", "summary", "ms", ImmutableSummaryData.create(points))));
  }

  @Test
  void awkwardNamesAndSeveralResourcesMatch() {
    List<MetricData> metrics = new ArrayList<>();
    Resource other = Fixtures.resource("other");
    for (String s : Fixtures.AWKWARD_STRINGS) {
      metrics.add(
          ImmutableMetricData.createLongGauge(
              metrics.size() % 2 == 0 ? RESOURCE : other,
              metrics.size() % 3 == 0 ? SCOPE : InstrumentationScopeInfo.create(s),
              s,
              s,
              s,
              ImmutableGaugeData.create(
                  List.of(
                      ImmutableLongPointData.create(
                          1L, 2L, Attributes.of(AttributeKey.stringKey(s), s), 1L)))));
    }
    assertMetricsMatch(metrics);
    assertThat(OtlpMarshaler.countDataPoints(metrics)).isEqualTo(metrics.size());
  }

  @Test
  @SuppressWarnings("try") // the scope only makes a span current
  void metricsFromARealMeterProviderMatch() {
    InMemoryMetricReader cumulative = InMemoryMetricReader.create();
    InMemoryMetricReader delta =
        InMemoryMetricReader.builder()
            .setAggregationTemporalitySelector(t -> AggregationTemporality.DELTA)
            .setMemoryMode(MemoryMode.REUSABLE_DATA)
            .build();
    SdkMeterProvider provider =
        SdkMeterProvider.builder()
            .setResource(Resource.getDefault().merge(RESOURCE))
            .setExemplarFilter(ExemplarFilter.alwaysOn())
            .registerView(
                InstrumentSelector.builder().setName("latency.exp").build(),
                View.builder()
                    .setAggregation(Aggregation.base2ExponentialBucketHistogram())
                    .build())
            .registerMetricReader(cumulative)
            .registerMetricReader(delta)
            .build();
    try {
      Meter meter = provider.get("io.otlp4j.test");
      Meter other =
          provider
              .meterBuilder("other")
              .setInstrumentationVersion("2.0")
              .setSchemaUrl("https://example.com/s")
              .build();
      LongCounter counter =
          meter
              .counterBuilder("requests")
              .setDescription("requests served")
              .setUnit("{request}")
              .build();
      DoubleHistogram latency = meter.histogramBuilder("latency").setUnit("ms").build();
      DoubleHistogram exponential = other.histogramBuilder("latency.exp").build();
      meter.upDownCounterBuilder("inflight").build().add(-3, POINT_ATTRIBUTES);
      meter.gaugeBuilder("temperature").buildWithCallback(m -> m.record(-12.5, POINT_ATTRIBUTES));
      other.gaugeBuilder("ratio").build().set(0.25);
      Span span = Span.wrap(SAMPLED);
      try (Scope ignored = span.makeCurrent()) {
        for (int i = 0; i < 50; i++) {
          Attributes attributes = Attributes.of(AttributeKey.stringKey("route"), "/r" + (i % 3));
          counter.add(i, attributes);
          latency.record(i * 1.5, attributes);
          exponential.record(i % 5 == 0 ? 0.0 : i * i * 0.01, attributes);
        }
      }
      Collection<MetricData> first = cumulative.collectAllMetrics();
      assertThat(first).hasSizeGreaterThanOrEqualTo(6);
      assertMetricsMatch(first);
      Collection<MetricData> deltas = delta.collectAllMetrics();
      assertMetricsMatch(deltas);
      ExportMetricsServiceRequest parsed = assertMetricsMatch(cumulative.collectAllMetrics());
      assertThat(parsed.getResourceMetricsCount()).isEqualTo(1);
    } finally {
      provider.close();
    }
  }
}
