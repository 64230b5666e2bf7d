package io.otlp4j.wire.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.EntityRef;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.Exemplar;
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
import io.opentelemetry.proto.trace.v1.Status;
import io.otlp4j.wire.Signal;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A seeded random generator of official opentelemetry-proto export requests that, over a few
 * hundred messages, sets every field of every message type reachable from the three request types,
 * every oneof case (and the unset case), and every enum value; {@code OtlpGeneratorCoverageTest}
 * proves it.
 *
 * <h2>What comes out</h2>
 *
 * Small requests by default (0–3 resources, 0–3 scopes each, 0–5 items each, attributes nested up
 * to {@link #MAX_ANY_VALUE_DEPTH} levels) with edge values mixed in: empty strings, non-ASCII and
 * 4-byte UTF-8, JSON-hostile characters, NaN / ±Infinity / -0.0, negative and extreme integers,
 * unsigned 64-bit times and 32-bit counts at their maximum, unrecognised enum numbers, absent
 * resources and scopes, empty AnyValues, arrays and kvlists, and (rarely) the profiles-only {@code
 * key_strindex} and {@code string_value_strindex} fields, which receivers of other signals must
 * tolerate. Trace ids are 16 bytes and span ids 8 bytes, or absent. Only well-formed UTF-8 is
 * generated (no unpaired surrogates), so every message survives a protobuf and an OTLP/JSON round
 * trip unchanged.
 *
 * <p>With {@link #withUnknownFields(boolean) unknown fields} enabled, random unknown fields
 * (varint, fixed32, fixed64 and length-delimited, numbered 1000 and above) are attached to
 * requests, {@code Resource*}, {@code Scope*}, resources, scopes, items, events, links, data
 * points, exemplars, key-values and AnyValues. {@link #withoutUnknownFields(Message)} strips them
 * again, for comparisons after a JSON round trip.
 *
 * <p>{@link #realisticTraces(int)}, {@link #realisticMetrics(int)} and {@link #realisticLogs(int)}
 * build deterministic, production-like payloads for benchmarks.
 *
 * <p>Not thread-safe: one generator per thread. The same seed always gives the same sequence.
 */
public final class OtlpGenerator {

  /** The deepest nesting of AnyValue arrays and kvlists in generated attributes and bodies. */
  public static final int MAX_ANY_VALUE_DEPTH = 4;

  private static final String[] EDGE_STRINGS = {
    "",
    "a",
    "héllo wörld",
    "日本語のテキスト",
    "😀 emoji 🚀",
    "𝄞 four-byte 𐍈",
    "tab\tnewline\nquote\"backslash\\",
    "control \u0000\u0001\u001f\u007f",
    "</script><!-- \u2028\u2029",
    "Ünïcödé Ω≈ç√∫",
    " leading and trailing ",
    "a much longer string value that goes on for a while to exercise longer length prefixes"
        + " in the encoding, repeated: 0123456789abcdefghijklmnopqrstuvwxyz",
  };

  private static final String[] KEYS = {
    "service.name",
    "http.request.method",
    "http.response.status_code",
    "url.path",
    "server.address",
    "db.system",
    "messaging.system",
    "user.id",
    "thread.name",
    "code.function",
    "exception.type",
    "k8s.pod.name",
    "net.peer.port",
    "rpc.grpc.status_code",
  };

  private static final String[] WORDS = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "GET",
    "POST",
    "/api/v1/orders",
    "checkout",
    "redis",
    "postgresql",
    "kafka",
    "worker-1",
    "eu-west-1",
    "OK",
  };

  private static final long[] EDGE_LONGS = {
    0L,
    1L,
    -1L,
    Long.MIN_VALUE,
    Long.MAX_VALUE,
    Integer.MIN_VALUE,
    Integer.MAX_VALUE,
    0xFFFFFFFFL,
    127L,
    128L,
    -128L,
    1L << 53,
    (1L << 53) + 1,
  };

  private static final double[] EDGE_DOUBLES = {
    0.0,
    -0.0,
    1.0,
    -1.5,
    Double.NaN,
    Double.POSITIVE_INFINITY,
    Double.NEGATIVE_INFINITY,
    Double.MIN_VALUE,
    Double.MAX_VALUE,
    -Double.MAX_VALUE,
    1e-300,
    123456.789,
    0.1,
  };

  private static final String[] TRACE_STATES = {
    "rojo=00f067aa0ba902b7", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "vendor@tenant=x", "a=b",
  };

  private final SplittableRandom random;
  private boolean unknownFields;

  /** A generator whose output is a function of {@code seed} alone. */
  public OtlpGenerator(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /**
   * Whether to attach random unknown fields at every level (default false); returns this generator.
   */
  public OtlpGenerator withUnknownFields(boolean enabled) {
    this.unknownFields = enabled;
    return this;
  }

  /** A random request of the given signal. */
  public Message request(Signal signal) {
    switch (signal) {
      case TRACES:
        return traces();
      case METRICS:
        return metrics();
      case LOGS:
        return logs();
      default:
        throw new IllegalArgumentException("unknown signal " + signal);
    }
  }

  // ================================================================ traces

  /** A random trace export request. */
  public ExportTraceServiceRequest traces() {
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    int resources = resourceCount();
    for (int r = 0; r < resources; r++) {
      ResourceSpans.Builder rs = ResourceSpans.newBuilder();
      if (chance(90)) {
        rs.setResource(resource());
      }
      int scopes = scopeCount();
      for (int s = 0; s < scopes; s++) {
        ScopeSpans.Builder ss = ScopeSpans.newBuilder();
        if (chance(90)) {
          ss.setScope(scope());
        }
        int items = itemCount();
        for (int i = 0; i < items; i++) {
          ss.addSpans(span());
        }
        if (chance(40)) {
          ss.setSchemaUrl(schemaUrl());
        }
        unknown(ss);
        rs.addScopeSpans(ss);
      }
      if (chance(40)) {
        rs.setSchemaUrl(schemaUrl());
      }
      unknown(rs);
      request.addResourceSpans(rs);
    }
    unknown(request);
    return request.build();
  }

  private Span span() {
    Span.Builder span = Span.newBuilder();
    if (chance(95)) {
      span.setTraceId(bytes(16));
    }
    if (chance(95)) {
      span.setSpanId(bytes(8));
    }
    if (chance(30)) {
      span.setTraceState(pick(TRACE_STATES));
    }
    if (chance(60)) {
      span.setParentSpanId(bytes(8));
    }
    span.setFlags(flags());
    if (chance(95)) {
      span.setName(chance(70) ? pick(WORDS) : string());
    }
    span.setKindValue(enumValue(Span.SpanKind.getDescriptor().getValues().size()));
    span.setStartTimeUnixNano(timeNanos());
    span.setEndTimeUnixNano(timeNanos());
    span.addAllAttributes(attributes(0));
    if (chance(20)) {
      span.setDroppedAttributesCount(uint32());
    }
    int events = between(0, chance(70) ? 0 : 3);
    for (int e = 0; e < events; e++) {
      Span.Event.Builder event =
          Span.Event.newBuilder()
              .setTimeUnixNano(timeNanos())
              .setName(chance(80) ? "exception" : string())
              .addAllAttributes(attributes(0));
      if (chance(20)) {
        event.setDroppedAttributesCount(uint32());
      }
      unknown(event);
      span.addEvents(event);
    }
    if (chance(20)) {
      span.setDroppedEventsCount(uint32());
    }
    int links = between(0, chance(70) ? 0 : 3);
    for (int l = 0; l < links; l++) {
      Span.Link.Builder link = Span.Link.newBuilder().setTraceId(bytes(16)).setSpanId(bytes(8));
      if (chance(50)) {
        link.setTraceState(pick(TRACE_STATES));
      }
      link.addAllAttributes(attributes(0));
      if (chance(20)) {
        link.setDroppedAttributesCount(uint32());
      }
      link.setFlags(flags());
      unknown(link);
      span.addLinks(link);
    }
    if (chance(20)) {
      span.setDroppedLinksCount(uint32());
    }
    if (chance(80)) {
      Status.Builder status =
          Status.newBuilder()
              .setCodeValue(enumValue(Status.StatusCode.getDescriptor().getValues().size()));
      if (chance(40)) {
        status.setMessage(string());
      }
      unknown(status);
      span.setStatus(status);
    }
    unknown(span);
    return span.build();
  }

  private int flags() {
    switch (random.nextInt(8)) {
      case 0:
        return 0;
      case 1:
        return 0x01;
      case 2:
        return 0x101; // context has is-remote, not remote
      case 3:
        return 0x301; // context has is-remote, remote
      case 4:
        return 0x300;
      case 5:
        return 0xFFFFFFFF;
      case 6:
        return random.nextInt();
      default:
        return 0x100;
    }
  }

  // ================================================================ metrics

  /** A random metrics export request. */
  public ExportMetricsServiceRequest metrics() {
    ExportMetricsServiceRequest.Builder request = ExportMetricsServiceRequest.newBuilder();
    int resources = resourceCount();
    for (int r = 0; r < resources; r++) {
      ResourceMetrics.Builder rm = ResourceMetrics.newBuilder();
      if (chance(90)) {
        rm.setResource(resource());
      }
      int scopes = scopeCount();
      for (int s = 0; s < scopes; s++) {
        ScopeMetrics.Builder sm = ScopeMetrics.newBuilder();
        if (chance(90)) {
          sm.setScope(scope());
        }
        int items = itemCount();
        for (int i = 0; i < items; i++) {
          sm.addMetrics(metric());
        }
        if (chance(40)) {
          sm.setSchemaUrl(schemaUrl());
        }
        unknown(sm);
        rm.addScopeMetrics(sm);
      }
      if (chance(40)) {
        rm.setSchemaUrl(schemaUrl());
      }
      unknown(rm);
      request.addResourceMetrics(rm);
    }
    unknown(request);
    return request.build();
  }

  private Metric metric() {
    Metric.Builder metric = Metric.newBuilder();
    if (chance(95)) {
      metric.setName(chance(70) ? "http.server.request.duration" : string());
    }
    if (chance(40)) {
      metric.setDescription(string());
    }
    if (chance(50)) {
      metric.setUnit(chance(50) ? "ms" : string());
    }
    switch (random.nextInt(21)) {
      case 0: // no data at all: a valid message that receivers must not choke on
        break;
      case 1:
      case 2:
      case 3:
      case 4:
        {
          Gauge.Builder gauge = Gauge.newBuilder();
          int n = between(0, 3);
          for (int i = 0; i < n; i++) {
            gauge.addDataPoints(numberDataPoint());
          }
          unknown(gauge);
          metric.setGauge(gauge);
          break;
        }
      case 5:
      case 6:
      case 7:
      case 8:
        {
          Sum.Builder sum =
              Sum.newBuilder()
                  .setAggregationTemporalityValue(
                      enumValue(AggregationTemporality.getDescriptor().getValues().size()))
                  .setIsMonotonic(random.nextBoolean());
          int n = between(0, 3);
          for (int i = 0; i < n; i++) {
            sum.addDataPoints(numberDataPoint());
          }
          unknown(sum);
          metric.setSum(sum);
          break;
        }
      case 9:
      case 10:
      case 11:
      case 12:
        {
          Histogram.Builder histogram =
              Histogram.newBuilder()
                  .setAggregationTemporalityValue(
                      enumValue(AggregationTemporality.getDescriptor().getValues().size()));
          int n = between(0, 3);
          for (int i = 0; i < n; i++) {
            histogram.addDataPoints(histogramDataPoint());
          }
          unknown(histogram);
          metric.setHistogram(histogram);
          break;
        }
      case 13:
      case 14:
      case 15:
      case 16:
        {
          ExponentialHistogram.Builder histogram =
              ExponentialHistogram.newBuilder()
                  .setAggregationTemporalityValue(
                      enumValue(AggregationTemporality.getDescriptor().getValues().size()));
          int n = between(0, 3);
          for (int i = 0; i < n; i++) {
            histogram.addDataPoints(exponentialHistogramDataPoint());
          }
          unknown(histogram);
          metric.setExponentialHistogram(histogram);
          break;
        }
      default:
        {
          Summary.Builder summary = Summary.newBuilder();
          int n = between(0, 3);
          for (int i = 0; i < n; i++) {
            summary.addDataPoints(summaryDataPoint());
          }
          unknown(summary);
          metric.setSummary(summary);
          break;
        }
    }
    if (chance(20)) {
      metric.addAllMetadata(attributes(0));
    }
    unknown(metric);
    return metric.build();
  }

  private NumberDataPoint numberDataPoint() {
    NumberDataPoint.Builder point =
        NumberDataPoint.newBuilder().addAllAttributes(attributes(0)).setTimeUnixNano(timeNanos());
    if (chance(80)) {
      point.setStartTimeUnixNano(timeNanos());
    }
    int value = random.nextInt(20);
    if (value < 9) {
      point.setAsDouble(doubleValue());
    } else if (value < 19) {
      point.setAsInt(longValue());
    } // else: no value (allowed with the no-recorded-value flag)
    int exemplars = between(0, chance(70) ? 0 : 2);
    for (int i = 0; i < exemplars; i++) {
      point.addExemplars(exemplar());
    }
    point.setFlags(dataPointFlags());
    unknown(point);
    return point.build();
  }

  private HistogramDataPoint histogramDataPoint() {
    HistogramDataPoint.Builder point =
        HistogramDataPoint.newBuilder()
            .addAllAttributes(attributes(0))
            .setTimeUnixNano(timeNanos())
            .setCount(chance(10) ? -1L : random.nextLong(0, 1_000_000));
    if (chance(80)) {
      point.setStartTimeUnixNano(timeNanos());
    }
    if (chance(70)) {
      point.setSum(doubleValue());
    }
    int bounds = between(0, 6);
    double bound = chance(30) ? Double.NEGATIVE_INFINITY : -10.0;
    for (int i = 0; i < bounds; i++) {
      bound =
          (i == 0 && bound == Double.NEGATIVE_INFINITY) ? bound : bound + random.nextDouble() * 100;
      point.addExplicitBounds(bound);
    }
    int buckets = bounds == 0 ? between(0, 1) : bounds + 1;
    for (int i = 0; i < buckets; i++) {
      point.addBucketCounts(chance(5) ? -1L : random.nextLong(0, 10_000));
    }
    int exemplars = between(0, chance(70) ? 0 : 2);
    for (int i = 0; i < exemplars; i++) {
      point.addExemplars(exemplar());
    }
    point.setFlags(dataPointFlags());
    if (chance(60)) {
      point.setMin(doubleValue());
    }
    if (chance(60)) {
      point.setMax(doubleValue());
    }
    unknown(point);
    return point.build();
  }

  private ExponentialHistogramDataPoint exponentialHistogramDataPoint() {
    ExponentialHistogramDataPoint.Builder point =
        ExponentialHistogramDataPoint.newBuilder()
            .addAllAttributes(attributes(0))
            .setTimeUnixNano(timeNanos())
            .setCount(random.nextLong(0, 1_000_000))
            .setScale(
                chance(10)
                    ? pick(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -10, 20})
                    : between(-10, 20))
            .setZeroCount(chance(50) ? 0 : random.nextLong(0, 1000));
    if (chance(80)) {
      point.setStartTimeUnixNano(timeNanos());
    }
    if (chance(70)) {
      point.setSum(doubleValue());
    }
    if (chance(80)) {
      point.setPositive(buckets());
    }
    if (chance(60)) {
      point.setNegative(buckets());
    }
    point.setFlags(dataPointFlags());
    int exemplars = between(0, chance(70) ? 0 : 2);
    for (int i = 0; i < exemplars; i++) {
      point.addExemplars(exemplar());
    }
    if (chance(60)) {
      point.setMin(doubleValue());
    }
    if (chance(60)) {
      point.setMax(doubleValue());
    }
    if (chance(40)) {
      point.setZeroThreshold(chance(70) ? 1e-9 : doubleValue());
    }
    unknown(point);
    return point.build();
  }

  private ExponentialHistogramDataPoint.Buckets buckets() {
    ExponentialHistogramDataPoint.Buckets.Builder buckets =
        ExponentialHistogramDataPoint.Buckets.newBuilder()
            .setOffset(
                chance(10)
                    ? pick(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -1})
                    : between(-50, 50));
    int n = between(0, 6);
    for (int i = 0; i < n; i++) {
      buckets.addBucketCounts(chance(5) ? -1L : random.nextLong(0, 100_000));
    }
    unknown(buckets);
    return buckets.build();
  }

  private SummaryDataPoint summaryDataPoint() {
    SummaryDataPoint.Builder point =
        SummaryDataPoint.newBuilder()
            .addAllAttributes(attributes(0))
            .setTimeUnixNano(timeNanos())
            .setCount(random.nextLong(0, 1_000_000))
            .setSum(doubleValue());
    if (chance(80)) {
      point.setStartTimeUnixNano(timeNanos());
    }
    double[] quantiles = {0.0, 0.5, 0.9, 0.99, 1.0};
    int n = between(0, quantiles.length);
    for (int i = 0; i < n; i++) {
      SummaryDataPoint.ValueAtQuantile.Builder q =
          SummaryDataPoint.ValueAtQuantile.newBuilder()
              .setQuantile(quantiles[i])
              .setValue(chance(90) ? random.nextDouble() * 1000 : doubleValue());
      unknown(q);
      point.addQuantileValues(q);
    }
    point.setFlags(dataPointFlags());
    unknown(point);
    return point.build();
  }

  private Exemplar exemplar() {
    Exemplar.Builder exemplar =
        Exemplar.newBuilder().addAllFilteredAttributes(attributes(0)).setTimeUnixNano(timeNanos());
    int value = random.nextInt(10);
    if (value < 4) {
      exemplar.setAsDouble(doubleValue());
    } else if (value < 9) {
      exemplar.setAsInt(longValue());
    }
    if (chance(70)) {
      exemplar.setSpanId(bytes(8));
    }
    if (chance(70)) {
      exemplar.setTraceId(bytes(16));
    }
    unknown(exemplar);
    return exemplar.build();
  }

  private int dataPointFlags() {
    int roll = random.nextInt(10);
    return roll < 6 ? 0 : roll < 9 ? 1 : random.nextInt();
  }

  // ================================================================ logs

  /** A random logs export request. */
  public ExportLogsServiceRequest logs() {
    ExportLogsServiceRequest.Builder request = ExportLogsServiceRequest.newBuilder();
    int resources = resourceCount();
    for (int r = 0; r < resources; r++) {
      ResourceLogs.Builder rl = ResourceLogs.newBuilder();
      if (chance(90)) {
        rl.setResource(resource());
      }
      int scopes = scopeCount();
      for (int s = 0; s < scopes; s++) {
        ScopeLogs.Builder sl = ScopeLogs.newBuilder();
        if (chance(90)) {
          sl.setScope(scope());
        }
        int items = itemCount();
        for (int i = 0; i < items; i++) {
          sl.addLogRecords(logRecord());
        }
        if (chance(40)) {
          sl.setSchemaUrl(schemaUrl());
        }
        unknown(sl);
        rl.addScopeLogs(sl);
      }
      if (chance(40)) {
        rl.setSchemaUrl(schemaUrl());
      }
      unknown(rl);
      request.addResourceLogs(rl);
    }
    unknown(request);
    return request.build();
  }

  private LogRecord logRecord() {
    LogRecord.Builder log = LogRecord.newBuilder();
    if (chance(80)) {
      log.setTimeUnixNano(timeNanos());
    }
    if (chance(80)) {
      log.setObservedTimeUnixNano(timeNanos());
    }
    log.setSeverityNumberValue(enumValue(SeverityNumber.getDescriptor().getValues().size()));
    if (chance(60)) {
      log.setSeverityText(
          chance(70) ? pick(new String[] {"INFO", "WARN", "ERROR", "DEBUG"}) : string());
    }
    if (chance(85)) {
      log.setBody(anyValue(0));
    }
    log.addAllAttributes(attributes(0));
    if (chance(20)) {
      log.setDroppedAttributesCount(uint32());
    }
    int roll = random.nextInt(10);
    log.setFlags(roll < 4 ? 0 : roll < 9 ? 1 : random.nextInt());
    if (chance(50)) {
      log.setTraceId(bytes(16));
    }
    if (chance(50)) {
      log.setSpanId(bytes(8));
    }
    if (chance(30)) {
      log.setEventName(chance(60) ? "browser.page_view" : string());
    }
    unknown(log);
    return log.build();
  }

  // ================================================================ common

  private Resource resource() {
    Resource.Builder resource = Resource.newBuilder().addAllAttributes(attributes(0));
    if (chance(20)) {
      resource.setDroppedAttributesCount(uint32());
    }
    if (chance(30)) {
      int n = between(1, 2);
      for (int i = 0; i < n; i++) {
        EntityRef.Builder ref =
            EntityRef.newBuilder()
                .setType(chance(70) ? "service" : string())
                .addIdKeys("service.name");
        if (chance(50)) {
          ref.setSchemaUrl(schemaUrl());
        }
        if (chance(40)) {
          ref.addIdKeys("service.namespace");
        }
        int descriptions = between(0, 2);
        for (int d = 0; d < descriptions; d++) {
          ref.addDescriptionKeys(pick(KEYS));
        }
        unknown(ref);
        resource.addEntityRefs(ref);
      }
    }
    unknown(resource);
    return resource.build();
  }

  private InstrumentationScope scope() {
    InstrumentationScope.Builder scope = InstrumentationScope.newBuilder();
    if (chance(90)) {
      scope.setName(chance(70) ? "io.opentelemetry.example" : string());
    }
    if (chance(60)) {
      scope.setVersion(chance(70) ? "1.2.3" : string());
    }
    if (chance(30)) {
      scope.addAllAttributes(attributes(0));
    }
    if (chance(15)) {
      scope.setDroppedAttributesCount(uint32());
    }
    unknown(scope);
    return scope.build();
  }

  private java.util.List<KeyValue> attributes(int depth) {
    int n = between(0, chance(30) ? 0 : 4);
    java.util.List<KeyValue> list = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      list.add(keyValue(depth));
    }
    return list;
  }

  private KeyValue keyValue(int depth) {
    KeyValue.Builder kv = KeyValue.newBuilder();
    if (chance(2)) {
      // Profiles-only: the key is an index into a dictionary; other signals must tolerate it.
      kv.setKeyStrindex(chance(50) ? between(1, 1000) : -1);
    } else {
      kv.setKey(chance(75) ? pick(KEYS) : string());
    }
    if (chance(96)) {
      kv.setValue(anyValue(depth));
    }
    unknown(kv);
    return kv.build();
  }

  private AnyValue anyValue(int depth) {
    AnyValue.Builder value = AnyValue.newBuilder();
    boolean canNest = depth < MAX_ANY_VALUE_DEPTH;
    int roll = random.nextInt(canNest ? 100 : 78);
    if (roll < 25) {
      value.setStringValue(string());
    } else if (roll < 35) {
      value.setBoolValue(random.nextBoolean());
    } else if (roll < 50) {
      value.setIntValue(longValue());
    } else if (roll < 60) {
      value.setDoubleValue(doubleValue());
    } else if (roll < 68) {
      value.setBytesValue(bytes(between(0, 20)));
    } else if (roll < 72) {
      // empty: no case set
    } else if (roll < 74) {
      value.setStringValueStrindex(chance(50) ? between(0, 1000) : -7);
    } else if (roll < 78) {
      value.setStringValue("");
    } else if (roll < 89) {
      ArrayValue.Builder array = ArrayValue.newBuilder();
      int n = between(0, 3);
      for (int i = 0; i < n; i++) {
        array.addValues(anyValue(depth + 1));
      }
      unknown(array);
      value.setArrayValue(array);
    } else {
      KeyValueList.Builder list = KeyValueList.newBuilder();
      int n = between(0, 3);
      for (int i = 0; i < n; i++) {
        list.addValues(keyValue(depth + 1));
      }
      unknown(list);
      value.setKvlistValue(list);
    }
    unknown(value);
    return value.build();
  }

  // ================================================================ values

  private int resourceCount() {
    return chance(2) ? 0 : between(1, 3);
  }

  private int scopeCount() {
    return chance(5) ? 0 : between(1, 3);
  }

  private int itemCount() {
    return between(0, 5);
  }

  private boolean chance(int percent) {
    return random.nextInt(100) < percent;
  }

  private int between(int min, int maxInclusive) {
    return min + random.nextInt(maxInclusive - min + 1);
  }

  private <T> T pick(T[] values) {
    return values[random.nextInt(values.length)];
  }

  private int pick(int[] values) {
    return values[random.nextInt(values.length)];
  }

  /**
   * An enum number: usually a defined one (0 .. count-1), sometimes one this proto version does not
   * know.
   */
  private int enumValue(int count) {
    return chance(3) ? between(count, count + 100) : random.nextInt(count);
  }

  private String string() {
    int roll = random.nextInt(10);
    if (roll < 4) {
      return pick(EDGE_STRINGS);
    }
    if (roll < 7) {
      return pick(WORDS);
    }
    StringBuilder s = new StringBuilder();
    int n = between(1, 24);
    for (int i = 0; i < n; i++) {
      int kind = random.nextInt(10);
      if (kind < 6) {
        s.append((char) between('a', 'z'));
      } else if (kind < 7) {
        s.append((char) between(0x80, 0x7FF));
      } else if (kind < 8) {
        s.append((char) between(0x800, 0xD7FF));
      } else if (kind < 9) {
        s.appendCodePoint(between(0x10000, 0x10FFFF));
      } else {
        s.append((char) between(0x20, 0x7E));
      }
    }
    return s.toString();
  }

  private String schemaUrl() {
    return chance(80) ? "https://opentelemetry.io/schemas/1.26.0" : string();
  }

  private ByteString bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    if (n > 0 && chance(3)) {
      java.util.Arrays.fill(b, (byte) 0); // an all-zero (invalid) id
    }
    return ByteString.copyFrom(b);
  }

  private long longValue() {
    return chance(30)
        ? EDGE_LONGS[random.nextInt(EDGE_LONGS.length)]
        : random.nextLong() >> random.nextInt(64);
  }

  private double doubleValue() {
    return chance(30)
        ? EDGE_DOUBLES[random.nextInt(EDGE_DOUBLES.length)]
        : (random.nextDouble() - 0.3) * 1e6;
  }

  /** Unsigned 64-bit nanoseconds: mostly recent, sometimes 0 or the unsigned maximum (-1L). */
  private long timeNanos() {
    int roll = random.nextInt(20);
    if (roll == 0) {
      return 0L;
    }
    if (roll == 1) {
      return -1L;
    }
    return 1_700_000_000_000_000_000L + random.nextLong(0, 100_000_000_000_000_000L);
  }

  /** Unsigned 32-bit counts: mostly small, sometimes the unsigned maximum. */
  private int uint32() {
    int roll = random.nextInt(10);
    return roll == 0 ? -1 : roll == 1 ? Integer.MAX_VALUE : between(1, 1000);
  }

  // ================================================================ unknown fields

  private void unknown(Message.Builder builder) {
    if (!unknownFields || !chance(25)) {
      return;
    }
    UnknownFieldSet.Builder set = UnknownFieldSet.newBuilder();
    int n = between(1, 3);
    for (int i = 0; i < n; i++) {
      int number = chance(90) ? between(1000, 1999) : between(100_000, 536_870_911);
      UnknownFieldSet.Field.Builder field = UnknownFieldSet.Field.newBuilder();
      switch (random.nextInt(4)) {
        case 0:
          field.addVarint(longValue());
          break;
        case 1:
          field.addFixed32(random.nextInt());
          break;
        case 2:
          field.addFixed64(random.nextLong());
          break;
        default:
          field.addLengthDelimited(bytes(between(0, 12)));
          break;
      }
      set.mergeField(number, field.build());
    }
    builder.setUnknownFields(set.build());
  }

  /**
   * A copy of {@code message} with every unknown field removed at every depth, for comparing a
   * message with what a transcoding that drops unknown fields (OTLP/JSON) gives back.
   */
  @SuppressWarnings("unchecked")
  public static <M extends Message> M withoutUnknownFields(M message) {
    Message.Builder builder = message.toBuilder();
    stripUnknownFields(builder);
    return (M) builder.build();
  }

  private static void stripUnknownFields(Message.Builder builder) {
    builder.setUnknownFields(UnknownFieldSet.getDefaultInstance());
    for (Map.Entry<FieldDescriptor, Object> entry : builder.getAllFields().entrySet()) {
      FieldDescriptor field = entry.getKey();
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (field.isRepeated()) {
        int n = builder.getRepeatedFieldCount(field);
        for (int i = 0; i < n; i++) {
          builder.setRepeatedField(
              field, i, withoutUnknownFields((Message) builder.getRepeatedField(field, i)));
        }
      } else {
        builder.setField(field, withoutUnknownFields((Message) entry.getValue()));
      }
    }
  }

  // ================================================================ realistic shapes

  /**
   * A production-like trace request, the same for the same {@code spans}: one resource with eight
   * typical attributes, one instrumentation scope, and {@code spans} HTTP-server-like spans (eight
   * trace ids' worth of parent/child spans, nine or ten attributes of mixed kinds, status, and an
   * exception event on every tenth span), about 300–500 encoded bytes per span.
   */
  public static ExportTraceServiceRequest realisticTraces(int spans) {
    SplittableRandom random = new SplittableRandom(0x7_2ACE5L);
    ScopeSpans.Builder scope =
        ScopeSpans.newBuilder()
            .setScope(realisticScope())
            .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0");
    long base = 1_732_000_000_000_000_000L;
    ByteString traceId = ByteString.EMPTY;
    ByteString rootSpanId = ByteString.EMPTY;
    String[] routes = {
      "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/users/{id}", "/health", "/api/v1/search"
    };
    String[] methods = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
    for (int i = 0; i < spans; i++) {
      boolean root = i % 8 == 0;
      if (root) {
        traceId = randomBytes(random, 16);
      }
      ByteString spanId = randomBytes(random, 8);
      String route = routes[random.nextInt(routes.length)];
      String method = methods[random.nextInt(methods.length)];
      int status = random.nextInt(20) == 0 ? 500 : 200;
      long start = base + i * 1_000_000L + random.nextLong(0, 1_000_000L);
      Span.Builder span =
          Span.newBuilder()
              .setTraceId(traceId)
              .setSpanId(spanId)
              .setFlags(root ? 0x101 : 0x301)
              .setName(root ? method + " " + route : "SELECT orders")
              .setKind(root ? Span.SpanKind.SPAN_KIND_SERVER : Span.SpanKind.SPAN_KIND_CLIENT)
              .setStartTimeUnixNano(start)
              .setEndTimeUnixNano(start + random.nextLong(100_000L, 50_000_000L));
      if (!root) {
        span.setParentSpanId(rootSpanId);
        span.addAttributes(stringAttribute("db.system", "postgresql"))
            .addAttributes(stringAttribute("db.namespace", "orders"))
            .addAttributes(stringAttribute("db.operation.name", "SELECT"))
            .addAttributes(
                stringAttribute(
                    "db.query.text",
                    "SELECT id, customer_id, total, status FROM orders WHERE id = ? LIMIT 1"))
            .addAttributes(stringAttribute("server.address", "orders-db.internal"))
            .addAttributes(intAttribute("server.port", 5432))
            .addAttributes(intAttribute("db.response.returned_rows", random.nextInt(100)))
            .addAttributes(doubleAttribute("app.query.cost", random.nextDouble() * 100))
            .addAttributes(boolAttribute("app.cache.hit", random.nextBoolean()));
      } else {
        rootSpanId = spanId;
        span.addAttributes(stringAttribute("http.request.method", method))
            .addAttributes(stringAttribute("http.route", route))
            .addAttributes(
                stringAttribute(
                    "url.path", route.replace("{id}", Integer.toString(random.nextInt(100_000)))))
            .addAttributes(stringAttribute("url.scheme", "https"))
            .addAttributes(intAttribute("http.response.status_code", status))
            .addAttributes(stringAttribute("server.address", "checkout.example.com"))
            .addAttributes(intAttribute("server.port", 443))
            .addAttributes(
                stringAttribute(
                    "client.address", "10.0." + random.nextInt(256) + "." + random.nextInt(256)))
            .addAttributes(
                stringAttribute(
                    "user_agent.original",
                    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"))
            .addAttributes(
                doubleAttribute(
                    "app.cart.total", Math.round(random.nextDouble() * 50_000) / 100.0));
      }
      if (status == 500 && root) {
        span.setStatus(
            Status.newBuilder()
                .setCode(Status.StatusCode.STATUS_CODE_ERROR)
                .setMessage("Internal Server Error"));
      } else {
        span.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_UNSET));
      }
      if (i % 10 == 9) {
        span.addEvents(
            Span.Event.newBuilder()
                .setTimeUnixNano(start + 50_000)
                .setName("exception")
                .addAttributes(
                    stringAttribute("exception.type", "java.sql.SQLTransientConnectionException"))
                .addAttributes(
                    stringAttribute(
                        "exception.message", "Connection is not available, request timed out")));
      }
      scope.addSpans(span);
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(realisticResource())
                .addScopeSpans(scope)
                .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0"))
        .build();
  }

  /**
   * A production-like metrics request, the same for the same {@code points}: one resource, one
   * scope, and metrics of ten data points each (a monotonic cumulative sum, an explicit-bucket
   * histogram with fifteen bounds, a gauge, in turn) until {@code points} data points are written,
   * each point carrying three attributes.
   */
  public static ExportMetricsServiceRequest realisticMetrics(int points) {
    SplittableRandom random = new SplittableRandom(0x3E7_1C5L);
    ScopeMetrics.Builder scope = ScopeMetrics.newBuilder().setScope(realisticScope());
    long start = 1_732_000_000_000_000_000L;
    long now = start + 60_000_000_000L;
    double[] bounds = {0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000};
    String[] routes = {
      "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/users/{id}", "/health", "/api/v1/search"
    };
    int written = 0;
    int metricIndex = 0;
    while (written < points) {
      int n = Math.min(10, points - written);
      Metric.Builder metric = Metric.newBuilder();
      switch (metricIndex % 3) {
        case 0:
          {
            Sum.Builder sum =
                Sum.newBuilder()
                    .setAggregationTemporality(
                        AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE)
                    .setIsMonotonic(true);
            for (int i = 0; i < n; i++) {
              sum.addDataPoints(
                  NumberDataPoint.newBuilder()
                      .addAllAttributes(pointAttributes(routes, i))
                      .setStartTimeUnixNano(start)
                      .setTimeUnixNano(now)
                      .setAsInt(random.nextLong(0, 1_000_000)));
            }
            metric
                .setName("http.server.request.count." + metricIndex)
                .setUnit("{request}")
                .setDescription("Number of HTTP server requests.")
                .setSum(sum);
            break;
          }
        case 1:
          {
            Histogram.Builder histogram =
                Histogram.newBuilder()
                    .setAggregationTemporality(
                        AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE);
            for (int i = 0; i < n; i++) {
              HistogramDataPoint.Builder point =
                  HistogramDataPoint.newBuilder()
                      .addAllAttributes(pointAttributes(routes, i))
                      .setStartTimeUnixNano(start)
                      .setTimeUnixNano(now);
              long count = 0;
              for (int b = 0; b <= bounds.length; b++) {
                long c = random.nextLong(0, 500);
                count += c;
                point.addBucketCounts(c);
              }
              for (double bound : bounds) {
                point.addExplicitBounds(bound);
              }
              point.setCount(count).setSum(count * 42.5).setMin(0.3).setMax(9000.0);
              histogram.addDataPoints(point);
            }
            metric
                .setName("http.server.request.duration." + metricIndex)
                .setUnit("ms")
                .setDescription("Duration of HTTP server requests.")
                .setHistogram(histogram);
            break;
          }
        default:
          {
            Gauge.Builder gauge = Gauge.newBuilder();
            for (int i = 0; i < n; i++) {
              gauge.addDataPoints(
                  NumberDataPoint.newBuilder()
                      .addAllAttributes(pointAttributes(routes, i))
                      .setTimeUnixNano(now)
                      .setAsDouble(random.nextDouble() * 1e9));
            }
            metric
                .setName("jvm.memory.used." + metricIndex)
                .setUnit("By")
                .setDescription("Measure of memory used.")
                .setGauge(gauge);
            break;
          }
      }
      scope.addMetrics(metric);
      written += n;
      metricIndex++;
    }
    return ExportMetricsServiceRequest.newBuilder()
        .addResourceMetrics(
            ResourceMetrics.newBuilder()
                .setResource(realisticResource())
                .addScopeMetrics(scope)
                .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0"))
        .build();
  }

  private static java.util.List<KeyValue> pointAttributes(String[] routes, int i) {
    return java.util.List.of(
        stringAttribute("http.request.method", i % 3 == 0 ? "POST" : "GET"),
        stringAttribute("http.route", routes[i % routes.length]),
        intAttribute("http.response.status_code", i % 7 == 0 ? 500 : 200));
  }

  /**
   * A production-like logs request, the same for the same {@code records}: one resource, one scope,
   * and {@code records} log records with times, severity, an 80-odd character message body, five
   * attributes, and (for most) trace context.
   */
  public static ExportLogsServiceRequest realisticLogs(int records) {
    SplittableRandom random = new SplittableRandom(0x10_65L);
    ScopeLogs.Builder scope = ScopeLogs.newBuilder().setScope(realisticScope());
    long base = 1_732_000_000_000_000_000L;
    String[] messages = {
      "Order %d placed by customer %d, total %d.%02d EUR, 3 items, payment authorised",
      "Cache miss for key cart:%d (customer %d); loading from database took %d.%02d ms",
      "Request to inventory service for sku %d failed for customer %d after %d.%02d s, retrying",
    };
    for (int i = 0; i < records; i++) {
      int kind = random.nextInt(10);
      SeverityNumber severity =
          kind < 7
              ? SeverityNumber.SEVERITY_NUMBER_INFO
              : kind < 9
                  ? SeverityNumber.SEVERITY_NUMBER_WARN
                  : SeverityNumber.SEVERITY_NUMBER_ERROR;
      long time = base + i * 1_000_000L;
      LogRecord.Builder log =
          LogRecord.newBuilder()
              .setTimeUnixNano(time)
              .setObservedTimeUnixNano(time + random.nextLong(1_000, 1_000_000))
              .setSeverityNumber(severity)
              .setSeverityText(
                  severity == SeverityNumber.SEVERITY_NUMBER_INFO
                      ? "INFO"
                      : severity == SeverityNumber.SEVERITY_NUMBER_WARN ? "WARN" : "ERROR")
              .setBody(
                  AnyValue.newBuilder()
                      .setStringValue(
                          String.format(
                              java.util.Locale.ROOT,
                              messages[random.nextInt(messages.length)],
                              random.nextInt(1_000_000),
                              random.nextInt(100_000),
                              random.nextInt(1000),
                              random.nextInt(100))))
              .addAttributes(
                  stringAttribute("thread.name", "http-nio-8080-exec-" + random.nextInt(1, 20)))
              .addAttributes(intAttribute("thread.id", random.nextInt(20, 200)))
              .addAttributes(stringAttribute("code.namespace", "com.example.checkout.OrderService"))
              .addAttributes(stringAttribute("code.function", "placeOrder"))
              .addAttributes(intAttribute("code.lineno", random.nextInt(1, 500)));
      if (random.nextInt(10) < 8) {
        log.setTraceId(randomBytes(random, 16)).setSpanId(randomBytes(random, 8)).setFlags(1);
      }
      scope.addLogRecords(log);
    }
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(
            ResourceLogs.newBuilder()
                .setResource(realisticResource())
                .addScopeLogs(scope)
                .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0"))
        .build();
  }

  private static Resource realisticResource() {
    return Resource.newBuilder()
        .addAttributes(stringAttribute("service.name", "checkout"))
        .addAttributes(stringAttribute("service.namespace", "shop"))
        .addAttributes(stringAttribute("service.version", "2.14.1"))
        .addAttributes(
            stringAttribute("service.instance.id", "8c4f6a1e-3b2d-4e5f-9a7b-1c2d3e4f5a6b"))
        .addAttributes(stringAttribute("deployment.environment.name", "production"))
        .addAttributes(stringAttribute("host.name", "ip-10-0-12-34.eu-west-1.compute.internal"))
        .addAttributes(stringAttribute("telemetry.sdk.language", "java"))
        .addAttributes(intAttribute("process.pid", 4242))
        .build();
  }

  private static InstrumentationScope realisticScope() {
    return InstrumentationScope.newBuilder()
        .setName("io.opentelemetry.spring-webmvc-6.0")
        .setVersion("2.10.0-alpha")
        .build();
  }

  private static ByteString randomBytes(SplittableRandom random, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    return ByteString.copyFrom(b);
  }

  private static KeyValue stringAttribute(String key, String value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setStringValue(value))
        .build();
  }

  private static KeyValue intAttribute(String key, long value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setIntValue(value))
        .build();
  }

  private static KeyValue doubleAttribute(String key, double value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setDoubleValue(value))
        .build();
  }

  private static KeyValue boolAttribute(String key, boolean value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setBoolValue(value))
        .build();
  }
}
