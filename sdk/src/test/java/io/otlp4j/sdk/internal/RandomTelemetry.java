package io.otlp4j.sdk.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.internal.DynamicPrimitiveLongList;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.DoubleExemplarData;
import io.opentelemetry.sdk.metrics.data.DoublePointData;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramBuckets;
import io.opentelemetry.sdk.metrics.data.ExponentialHistogramPointData;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongExemplarData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.SummaryPointData;
import io.opentelemetry.sdk.metrics.data.ValueAtQuantile;
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
import io.opentelemetry.sdk.testing.logs.TestLogRecordData;
import io.opentelemetry.sdk.testing.trace.TestSpanData;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * A seeded generator of bounded random telemetry for the SDK's data types: every field, every kind
 * and type, with awkward strings and numbers mixed in. The same seed gives the same data.
 */
final class RandomTelemetry {
  private static final AggregationTemporality[] TEMPORALITIES = AggregationTemporality.values();
  private static final SpanKind[] KINDS = SpanKind.values();
  private static final StatusCode[] CODES = StatusCode.values();
  private static final Severity[] SEVERITIES = Severity.values();

  private final SplittableRandom random;
  private final List<Resource> resources = new ArrayList<>();
  private final List<InstrumentationScopeInfo> scopes = new ArrayList<>();
  private final List<TraceState> traceStates = new ArrayList<>();

  RandomTelemetry(long seed) {
    random = new SplittableRandom(seed);
    for (int i = 0; i < 3; i++) {
      resources.add(
          Resource.create(attributes(0, false), i == 0 ? null : "https://example.com/r" + i));
      scopes.add(
          InstrumentationScopeInfo.builder(string())
              .setVersion(random.nextBoolean() ? null : string())
              .setSchemaUrl(random.nextBoolean() ? null : string())
              .setAttributes(attributes(0))
              .build());
    }
    resources.add(Resource.empty());
    scopes.add(InstrumentationScopeInfo.empty());
    traceStates.add(TraceState.getDefault());
    traceStates.add(TraceState.builder().put("a", "1").build());
    traceStates.add(
        TraceState.builder().put("congo", "t61rcWkgMzE").put("rojo", "00f067aa0ba902b7").build());
  }

  // ---------------------------------------------------------------- spans

  List<SpanData> spans(int max) {
    List<SpanData> out = new ArrayList<>();
    for (int i = random.nextInt(max + 1); i > 0; i--) {
      out.add(span());
    }
    return out;
  }

  SpanData span() {
    Attributes attributes = attributes(0);
    List<EventData> events = new ArrayList<>();
    for (int i = random.nextInt(4); i > 0; i--) {
      Attributes a = attributes(0);
      events.add(EventData.create(timestamp(), string(), a, a.size() + random.nextInt(3)));
    }
    List<LinkData> links = new ArrayList<>();
    for (int i = random.nextInt(3); i > 0; i--) {
      Attributes a = attributes(0);
      links.add(LinkData.create(spanContext(), a, a.size() + random.nextInt(3)));
    }
    return TestSpanData.builder()
        .setSpanContext(spanContext())
        .setParentSpanContext(random.nextInt(3) == 0 ? SpanContext.getInvalid() : spanContext())
        .setResource(pick(resources))
        .setInstrumentationScopeInfo(pick(scopes))
        .setName(string())
        .setKind(KINDS[random.nextInt(KINDS.length)])
        .setStartEpochNanos(timestamp())
        .setEndEpochNanos(timestamp())
        .setAttributes(attributes)
        .setTotalAttributeCount(attributes.size() + random.nextInt(3))
        .setEvents(events)
        .setTotalRecordedEvents(events.size() + random.nextInt(3))
        .setLinks(links)
        .setTotalRecordedLinks(links.size() + random.nextInt(3))
        .setStatus(
            StatusData.create(
                CODES[random.nextInt(CODES.length)], random.nextBoolean() ? "" : string()))
        .setHasEnded(true)
        .build();
  }

  // ---------------------------------------------------------------- metrics

  List<MetricData> metrics(int max) {
    List<MetricData> out = new ArrayList<>();
    for (int i = random.nextInt(max + 1); i > 0; i--) {
      out.add(metric());
    }
    return out;
  }

  MetricData metric() {
    Resource resource = pick(resources);
    InstrumentationScopeInfo scope = pick(scopes);
    String name = string();
    String description = string();
    String unit = string();
    AggregationTemporality temporality = TEMPORALITIES[random.nextInt(TEMPORALITIES.length)];
    int points = random.nextInt(4);
    switch (random.nextInt(7)) {
      case 0:
        return ImmutableMetricData.createDoubleGauge(
            resource,
            scope,
            name,
            description,
            unit,
            ImmutableGaugeData.create(doublePoints(points)));
      case 1:
        return ImmutableMetricData.createLongGauge(
            resource,
            scope,
            name,
            description,
            unit,
            ImmutableGaugeData.create(longPoints(points)));
      case 2:
        return ImmutableMetricData.createDoubleSum(
            resource,
            scope,
            name,
            description,
            unit,
            ImmutableSumData.create(random.nextBoolean(), temporality, doublePoints(points)));
      case 3:
        return ImmutableMetricData.createLongSum(
            resource,
            scope,
            name,
            description,
            unit,
            ImmutableSumData.create(random.nextBoolean(), temporality, longPoints(points)));
      case 4:
        List<HistogramPointData> histogram = new ArrayList<>();
        for (int i = 0; i < points; i++) {
          histogram.add(histogramPoint());
        }
        return ImmutableMetricData.createDoubleHistogram(
            resource,
            scope,
            name,
            description,
            unit,
            ImmutableHistogramData.create(temporality, histogram));
      case 5:
        List<ExponentialHistogramPointData> exponential = new ArrayList<>();
        for (int i = 0; i < points; i++) {
          exponential.add(exponentialPoint());
        }
        return ImmutableMetricData.createExponentialHistogram(
            resource,
            scope,
            name,
            description,
            unit,
            ImmutableExponentialHistogramData.create(temporality, exponential));
      default:
        List<SummaryPointData> summary = new ArrayList<>();
        for (int i = 0; i < points; i++) {
          List<ValueAtQuantile> quantiles = new ArrayList<>();
          for (int q = random.nextInt(4); q > 0; q--) {
            quantiles.add(ImmutableValueAtQuantile.create(awkwardDouble(), awkwardDouble()));
          }
          summary.add(
              ImmutableSummaryPointData.create(
                  timestamp(),
                  timestamp(),
                  attributes(0),
                  random.nextLong(),
                  awkwardDouble(),
                  quantiles));
        }
        return ImmutableMetricData.createDoubleSummary(
            resource, scope, name, description, unit, ImmutableSummaryData.create(summary));
    }
  }

  private List<DoublePointData> doublePoints(int n) {
    List<DoublePointData> points = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      points.add(
          ImmutableDoublePointData.create(
              timestamp(), timestamp(), attributes(0), awkwardDouble(), doubleExemplars()));
    }
    return points;
  }

  private List<LongPointData> longPoints(int n) {
    List<LongPointData> points = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<LongExemplarData> exemplars = new ArrayList<>();
      for (int e = random.nextInt(3); e > 0; e--) {
        exemplars.add(
            ImmutableLongExemplarData.create(
                attributes(0), timestamp(), exemplarContext(), awkwardLong()));
      }
      points.add(
          ImmutableLongPointData.create(
              timestamp(), timestamp(), attributes(0), awkwardLong(), exemplars));
    }
    return points;
  }

  private List<DoubleExemplarData> doubleExemplars() {
    List<DoubleExemplarData> exemplars = new ArrayList<>();
    for (int e = random.nextInt(3); e > 0; e--) {
      exemplars.add(
          ImmutableDoubleExemplarData.create(
              attributes(0), timestamp(), exemplarContext(), awkwardDouble()));
    }
    return exemplars;
  }

  private HistogramPointData histogramPoint() {
    int bounds = random.nextInt(5);
    List<Double> boundaries = new ArrayList<>();
    double b = random.nextInt(3) == 0 ? -100 : 0;
    for (int i = 0; i < bounds; i++) {
      b += 0.5 + random.nextInt(100);
      boundaries.add(b);
    }
    List<Long> counts = new ArrayList<>();
    for (int i = 0; i <= bounds; i++) {
      counts.add((long) random.nextInt(1000));
    }
    return ImmutableHistogramPointData.create(
        timestamp(),
        timestamp(),
        attributes(0),
        awkwardDouble(),
        random.nextBoolean(),
        awkwardDouble(),
        random.nextBoolean(),
        awkwardDouble(),
        boundaries,
        counts,
        doubleExemplars());
  }

  private ExponentialHistogramPointData exponentialPoint() {
    int scale = random.nextInt(-10, 21);
    return ImmutableExponentialHistogramPointData.create(
        scale,
        awkwardDouble(),
        random.nextLong(0, Long.MAX_VALUE),
        random.nextBoolean(),
        awkwardDouble(),
        random.nextBoolean(),
        awkwardDouble(),
        buckets(scale),
        buckets(scale),
        timestamp(),
        timestamp(),
        attributes(0),
        doubleExemplars());
  }

  private ExponentialHistogramBuckets buckets(int scale) {
    int n = random.nextInt(6);
    long[] counts = new long[n];
    for (int i = 0; i < n; i++) {
      counts[i] = random.nextInt(4) == 0 ? random.nextLong(0, Long.MAX_VALUE) : random.nextInt(200);
    }
    int offset = random.nextInt(4) == 0 ? random.nextInt() : random.nextInt(-50, 50);
    List<Long> list;
    if (random.nextBoolean()) {
      list = DynamicPrimitiveLongList.of(counts);
    } else {
      list = new ArrayList<>();
      for (long c : counts) {
        list.add(c);
      }
    }
    return ImmutableExponentialHistogramBuckets.create(scale, offset, list);
  }

  // ---------------------------------------------------------------- logs

  List<LogRecordData> logs(int max) {
    List<LogRecordData> out = new ArrayList<>();
    for (int i = random.nextInt(max + 1); i > 0; i--) {
      out.add(log());
    }
    return out;
  }

  LogRecordData log() {
    Attributes attributes = attributes(0);
    TestLogRecordData.Builder b =
        TestLogRecordData.builder()
            .setResource(pick(resources))
            .setInstrumentationScopeInfo(pick(scopes))
            .setTimestamp(timestamp(), TimeUnit.NANOSECONDS)
            .setObservedTimestamp(timestamp(), TimeUnit.NANOSECONDS)
            .setSpanContext(random.nextInt(3) == 0 ? SpanContext.getInvalid() : spanContext())
            .setSeverity(SEVERITIES[random.nextInt(SEVERITIES.length)])
            .setAttributes(attributes)
            .setTotalAttributeCount(attributes.size() + random.nextInt(3));
    if (random.nextBoolean()) {
      b.setSeverityText(string());
    }
    if (random.nextBoolean()) {
      b.setEventName(string());
    }
    if (random.nextInt(5) != 0) {
      b.setBodyValue(value(0));
    } else {
      b.setBodyValue(null);
    }
    return b.build();
  }

  // ---------------------------------------------------------------- building blocks

  Attributes attributes(int depth) {
    return attributes(depth, true);
  }

  /** Random attributes; resources take only printable ASCII keys, other places any string. */
  Attributes attributes(int depth, boolean anyKey) {
    AttributesBuilder b = Attributes.builder();
    for (int i = random.nextInt(7); i > 0; i--) {
      String key = anyKey && random.nextInt(8) == 0 ? string() : "key." + random.nextInt(20);
      switch (random.nextInt(9)) {
        case 0:
          b.put(AttributeKey.stringKey(key), string());
          break;
        case 1:
          b.put(AttributeKey.booleanKey(key), random.nextBoolean());
          break;
        case 2:
          b.put(AttributeKey.longKey(key), awkwardLong());
          break;
        case 3:
          b.put(AttributeKey.doubleKey(key), awkwardDouble());
          break;
        case 4:
          List<String> strings = new ArrayList<>();
          for (int n = random.nextInt(4); n > 0; n--) {
            strings.add(string());
          }
          b.put(AttributeKey.stringArrayKey(key), strings);
          break;
        case 5:
          List<Boolean> bools = new ArrayList<>();
          for (int n = random.nextInt(4); n > 0; n--) {
            bools.add(random.nextBoolean());
          }
          b.put(AttributeKey.booleanArrayKey(key), bools);
          break;
        case 6:
          List<Long> longs = new ArrayList<>();
          for (int n = random.nextInt(4); n > 0; n--) {
            longs.add(awkwardLong());
          }
          b.put(AttributeKey.longArrayKey(key), longs);
          break;
        case 7:
          List<Double> doubles = new ArrayList<>();
          for (int n = random.nextInt(4); n > 0; n--) {
            doubles.add(awkwardDouble());
          }
          b.put(AttributeKey.doubleArrayKey(key), doubles);
          break;
        default:
          b.put(AttributeKey.valueKey(key), value(depth + 1));
          break;
      }
    }
    return b.build();
  }

  Value<?> value(int depth) {
    int kinds = depth >= 3 ? 6 : 8;
    switch (random.nextInt(kinds)) {
      case 0:
        return Value.of(string());
      case 1:
        return Value.of(random.nextBoolean());
      case 2:
        return Value.of(awkwardLong());
      case 3:
        return Value.of(awkwardDouble());
      case 4:
        byte[] bytes = new byte[random.nextInt(10)];
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] = (byte) random.nextInt(256);
        }
        return Value.of(bytes);
      case 5:
        return Value.empty();
      case 6:
        List<Value<?>> values = new ArrayList<>();
        for (int n = random.nextInt(4); n > 0; n--) {
          values.add(value(depth + 1));
        }
        return Value.of(values);
      default:
        List<KeyValue> entries = new ArrayList<>();
        for (int n = random.nextInt(4); n > 0; n--) {
          entries.add(KeyValue.of(string(), value(depth + 1)));
        }
        return Value.of(entries.toArray(new KeyValue[0]));
    }
  }

  String string() {
    switch (random.nextInt(4)) {
      case 0:
        return pick(Fixtures.AWKWARD_STRINGS);
      case 1:
        return "";
      case 2:
        StringBuilder ascii = new StringBuilder();
        for (int n = random.nextInt(30); n > 0; n--) {
          ascii.append((char) random.nextInt(0x20, 0x7f));
        }
        return ascii.toString();
      default:
        StringBuilder any = new StringBuilder();
        for (int n = random.nextInt(12); n > 0; n--) {
          int kind = random.nextInt(5);
          if (kind == 0) {
            any.appendCodePoint(random.nextInt(0x10000, 0x110000));
          } else if (kind == 1) {
            any.append((char) random.nextInt(0xD800, 0xE000)); // a lone surrogate
          } else {
            any.append((char) random.nextInt(0, 0xD800));
          }
        }
        return any.toString();
    }
  }

  SpanContext spanContext() {
    String traceId = hex(16);
    String spanId = hex(8);
    TraceFlags flags = random.nextBoolean() ? TraceFlags.getSampled() : TraceFlags.getDefault();
    TraceState state = pick(traceStates);
    return random.nextBoolean()
        ? SpanContext.createFromRemoteParent(traceId, spanId, flags, state)
        : SpanContext.create(traceId, spanId, flags, state);
  }

  private SpanContext exemplarContext() {
    return random.nextBoolean() ? SpanContext.getInvalid() : spanContext();
  }

  private String hex(int bytes) {
    StringBuilder sb = new StringBuilder(bytes * 2);
    for (int i = 0; i < bytes; i++) {
      int b = random.nextInt(256);
      sb.append(Character.forDigit(b >> 4, 16)).append(Character.forDigit(b & 15, 16));
    }
    String s = sb.toString();
    return s.chars().allMatch(c -> c == '0') ? hex(bytes) : s;
  }

  long timestamp() {
    int kind = random.nextInt(4);
    return kind == 0
        ? 0
        : kind == 1
            ? random.nextLong()
            : 1_700_000_000_000_000_000L + random.nextInt(1_000_000_000);
  }

  long awkwardLong() {
    return random.nextBoolean()
        ? Fixtures.AWKWARD_LONGS[random.nextInt(Fixtures.AWKWARD_LONGS.length)]
        : random.nextLong();
  }

  double awkwardDouble() {
    return random.nextBoolean()
        ? Fixtures.AWKWARD_DOUBLES[random.nextInt(Fixtures.AWKWARD_DOUBLES.length)]
        : (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-10, 20));
  }

  private <T> T pick(List<T> list) {
    return list.get(random.nextInt(list.size()));
  }
}
