package io.otlp4j.sdk.internal;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributeType;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.KeyValue;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.common.ValueType;
import io.opentelemetry.api.internal.InternalAttributeKeyImpl;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.internal.W3CTraceContextEncoding;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.internal.DynamicPrimitiveLongList;
import io.opentelemetry.sdk.logs.data.LogRecordData;
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
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.resources.internal.Entity;
import io.opentelemetry.sdk.resources.internal.EntityUtil;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.otlp4j.wire.ProtoWriter;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Writes the SDK's {@link SpanData}, {@link MetricData} and {@link LogRecordData} as OTLP
 * {@code Export*ServiceRequest} messages into a {@link ProtoWriter}, field by field, straight from the
 * SDK objects: no intermediate marshaler tree and no separate size pass. Containers (resource, scope,
 * span, event, metric, point) are opened with {@link ProtoWriter#begin(int)} and the writer closes
 * their lengths in one compaction pass; the small leaf messages that are most of a request (scalar
 * attributes, span status, string log bodies) are sized as they are written, ASCII text in one pass,
 * so they leave nothing to close.
 *
 * <h2>Equivalence with the SDK</h2>
 * Field for field what the SDK's own {@code *RequestMarshaler}s (opentelemetry-exporter-otlp-common
 * 1.68) write: the same fields skipped when they hold their default, the same always-written oneof
 * members and optional fields, resources and scopes grouped by identity, flags with the
 * parent-is-remote bits, unpaired surrogates written as {@code '?'}. The only difference is order:
 * resources and scopes come in first-seen order here, where the SDK's identity map gives no order.
 *
 * <h2>Allocation</h2>
 * The encoder is reused (one per thread, see {@link OtlpMarshaler}); it keeps its writer, its grouping
 * arrays, the encoded bytes of the last few resources and scopes (immutable in the SDK, compared by
 * identity), and walks attributes with itself as the {@link BiConsumer} so that no lambda is
 * allocated. Attribute keys are copied from the UTF-8 bytes the API caches in each key. What is left is
 * the boxing the SDK's own data types impose (histogram counts and bounds are {@code List<Long>} and
 * {@code List<Double>}) and the W3C string of a non-empty trace state (cached for the last one seen).
 *
 * <p>Not thread-safe.
 */
final class TelemetryEncoder implements BiConsumer<AttributeKey<?>, Object> {
  // ExportXServiceRequest.resource_x, ResourceX.{resource, scope_x, schema_url}, ScopeX.{scope, items, schema_url}
  private static final int REQUEST_RESOURCE = 1;
  private static final int RESOURCE_RESOURCE = 1;
  private static final int RESOURCE_SCOPES = 2;
  private static final int RESOURCE_SCHEMA_URL = 3;
  private static final int SCOPE_SCOPE = 1;
  private static final int SCOPE_ITEMS = 2;
  private static final int SCOPE_SCHEMA_URL = 3;

  private static final int KEY_VALUE_KEY = 1;
  private static final int KEY_VALUE_VALUE = 2;
  private static final int ANY_STRING = 1;
  private static final int ANY_BOOL = 2;
  private static final int ANY_INT = 3;
  private static final int ANY_DOUBLE = 4;
  private static final int ANY_ARRAY = 5;
  private static final int ANY_KVLIST = 6;
  private static final int ANY_BYTES = 7;
  private static final int LIST_VALUES = 1;

  private static final int CONTEXT_HAS_IS_REMOTE_BIT = 0x100;
  private static final int CONTEXT_IS_REMOTE_BIT = 0x200;

  private static final int CACHE_SIZE = 4;

  private static final byte[] HEX_VALUES = new byte[128];

  static {
    java.util.Arrays.fill(HEX_VALUES, (byte) 0);
    for (int i = 0; i < 10; i++) {
      HEX_VALUES['0' + i] = (byte) i;
    }
    for (int i = 0; i < 6; i++) {
      HEX_VALUES['a' + i] = (byte) (10 + i);
      HEX_VALUES['A' + i] = (byte) (10 + i);
    }
  }

  final ProtoWriter out;
  private final ResourceScopeGroups groups = new ResourceScopeGroups();
  private final byte[] idScratch = new byte[16];

  // Field number of the KeyValue being written by accept(); set around Attributes.forEach.
  private int attributeField;

  // Identity caches of encoded headers (whole field: tag, length, content).
  private final Object[] resourceKeys = new Object[CACHE_SIZE];
  private final byte[][] resourceBytes = new byte[CACHE_SIZE][];
  private int resourceNext;
  private final Object[] scopeKeys = new Object[CACHE_SIZE];
  private final byte[][] scopeBytes = new byte[CACHE_SIZE][];
  private int scopeNext;

  private TraceState lastTraceState;
  private String lastTraceStateW3c;

  TelemetryEncoder() {
    this(new ProtoWriter(64 * 1024));
  }

  TelemetryEncoder(ProtoWriter out) {
    this.out = out;
  }

  // ================================================================ requests

  /** Writes an {@code ExportTraceServiceRequest} holding {@code spans} after whatever the writer holds. */
  void writeSpans(Collection<SpanData> spans) {
    ResourceScopeGroups g = groups;
    try {
      for (SpanData span : spans) {
        g.add(span.getResource(), span.getInstrumentationScopeInfo(), span);
      }
      writeGroups(SPANS);
    } finally {
      g.clear();
    }
  }

  /** Writes an {@code ExportMetricsServiceRequest} holding {@code metrics} after whatever the writer holds. */
  void writeMetrics(Collection<MetricData> metrics) {
    ResourceScopeGroups g = groups;
    try {
      for (MetricData metric : metrics) {
        g.add(metric.getResource(), metric.getInstrumentationScopeInfo(), metric);
      }
      writeGroups(METRICS);
    } finally {
      g.clear();
    }
  }

  /** Writes an {@code ExportLogsServiceRequest} holding {@code logs} after whatever the writer holds. */
  void writeLogs(Collection<LogRecordData> logs) {
    ResourceScopeGroups g = groups;
    try {
      for (LogRecordData log : logs) {
        g.add(log.getResource(), log.getInstrumentationScopeInfo(), log);
      }
      writeGroups(LOGS);
    } finally {
      g.clear();
    }
  }

  private static final int SPANS = 0;
  private static final int METRICS = 1;
  private static final int LOGS = 2;

  /**
   * Writes the grouped items as {@code Resource*} / {@code Scope*} messages, one header per resource
   * and per scope. {@code signal} picks the item writer with a switch rather than a callback, so the
   * hot loop allocates nothing.
   */
  private void writeGroups(int signal) {
    ResourceScopeGroups g = groups;
    g.seal();
    for (int r = 0; r < g.resourceCount(); r++) {
      Resource resource = g.resource(r);
      out.begin(REQUEST_RESOURCE);
      writeResourceHeader(resource);
      for (int s = g.firstGroup(r); s >= 0; s = g.nextGroup(s)) {
        InstrumentationScopeInfo scope = g.scope(s);
        out.begin(RESOURCE_SCOPES);
        writeScopeHeader(scope);
        for (int i = g.groupStart(s), end = g.groupEnd(s); i < end; i++) {
          switch (signal) {
            case SPANS -> {
              out.begin(SCOPE_ITEMS);
              writeSpan((SpanData) g.item(i));
              out.end();
            }
            case METRICS -> writeMetric((MetricData) g.item(i)); // opens its own item: it skips unknown types
            default -> {
              out.begin(SCOPE_ITEMS);
              writeLog((LogRecordData) g.item(i));
              out.end();
            }
          }
        }
        string(SCOPE_SCHEMA_URL, scope.getSchemaUrl());
        out.end();
      }
      string(RESOURCE_SCHEMA_URL, resource.getSchemaUrl());
      out.end();
    }
  }

  // ================================================================ resource and scope

  private void writeResourceHeader(Resource resource) {
    for (int i = 0; i < CACHE_SIZE; i++) {
      if (resourceKeys[i] == resource) {
        byte[] b = resourceBytes[i];
        out.raw(b, 0, b.length);
        return;
      }
    }
    byte[] encoded = encodeResource(resource);
    int slot = resourceNext;
    resourceNext = (slot + 1) % CACHE_SIZE;
    resourceKeys[slot] = resource;
    resourceBytes[slot] = encoded;
    out.raw(encoded, 0, encoded.length);
  }

  private static byte[] encodeResource(Resource resource) {
    TelemetryEncoder e = new TelemetryEncoder(new ProtoWriter(256));
    ProtoWriter w = e.out;
    w.begin(RESOURCE_RESOURCE);
    e.attributes(1, resource.getAttributes());
    for (Entity entity : EntityUtil.getEntities(resource)) {
      w.begin(3);
      e.string(1, entity.getSchemaUrl());
      e.string(2, entity.getType());
      entity.getId().forEach((k, v) -> e.string(3, k.getKey()));
      entity.getDescription().forEach((k, v) -> e.string(4, k.getKey()));
      w.end();
    }
    w.end();
    return w.toByteArray();
  }

  private void writeScopeHeader(InstrumentationScopeInfo scope) {
    for (int i = 0; i < CACHE_SIZE; i++) {
      if (scopeKeys[i] == scope) {
        byte[] b = scopeBytes[i];
        out.raw(b, 0, b.length);
        return;
      }
    }
    TelemetryEncoder e = new TelemetryEncoder(new ProtoWriter(128));
    ProtoWriter w = e.out;
    w.begin(SCOPE_SCOPE);
    e.string(1, scope.getName());
    e.string(2, scope.getVersion());
    e.attributes(3, scope.getAttributes());
    w.end();
    byte[] encoded = w.toByteArray();
    int slot = scopeNext;
    scopeNext = (slot + 1) % CACHE_SIZE;
    scopeKeys[slot] = scope;
    scopeBytes[slot] = encoded;
    out.raw(encoded, 0, encoded.length);
  }

  /** Drops the cached headers so that no resource or scope is kept alive by an idle encoder. */
  void forgetCachedHeaders() {
    java.util.Arrays.fill(resourceKeys, null);
    java.util.Arrays.fill(resourceBytes, null);
    java.util.Arrays.fill(scopeKeys, null);
    java.util.Arrays.fill(scopeBytes, null);
    lastTraceState = null;
    lastTraceStateW3c = null;
  }

  // ================================================================ spans

  private void writeSpan(SpanData span) {
    ProtoWriter w = out;
    SpanContext context = span.getSpanContext();
    traceId(1, context.getTraceId());
    spanId(2, context.getSpanId());
    traceState(3, context.getTraceState());
    SpanContext parent = span.getParentSpanContext();
    if (parent.isValid()) {
      spanId(4, parent.getSpanId());
    }
    string(5, span.getName());
    int kind = spanKind(span.getKind());
    if (kind != 0) {
      w.uint32(6, kind);
    }
    fixed64(7, span.getStartEpochNanos());
    fixed64(8, span.getEndEpochNanos());
    Attributes attributes = span.getAttributes();
    attributes(9, attributes);
    uint32(10, span.getTotalAttributeCount() - attributes.size());
    List<EventData> events = span.getEvents();
    for (int i = 0, n = events.size(); i < n; i++) {
      EventData event = events.get(i);
      w.begin(11);
      fixed64(1, event.getEpochNanos());
      string(2, event.getName());
      Attributes eventAttributes = event.getAttributes();
      attributes(3, eventAttributes);
      uint32(4, event.getTotalAttributeCount() - eventAttributes.size());
      w.end();
    }
    uint32(12, span.getTotalRecordedEvents() - events.size());
    List<LinkData> links = span.getLinks();
    for (int i = 0, n = links.size(); i < n; i++) {
      LinkData link = links.get(i);
      SpanContext linked = link.getSpanContext();
      w.begin(13);
      traceId(1, linked.getTraceId());
      spanId(2, linked.getSpanId());
      traceState(3, linked.getTraceState());
      Attributes linkAttributes = link.getAttributes();
      attributes(4, linkAttributes);
      uint32(5, link.getTotalAttributeCount() - linkAttributes.size());
      w.fixed32(6, flagsWithRemoteBits(linked.getTraceFlags().asByte(), linked.isRemote()));
      w.end();
    }
    uint32(14, span.getTotalRecordedLinks() - links.size());
    // Status: sized up front (message, code) instead of opened as a nested message.
    StatusData status = span.getStatus();
    String description = status.getDescription();
    int descriptionLength = description == null ? 0 : ProtoWriter.utf8Length(description);
    int code = statusCode(status.getStatusCode());
    int statusLength = (descriptionLength == 0 ? 0 : 1 + ProtoWriter.varintSize(descriptionLength) + descriptionLength) + (code == 0 ? 0 : 2);
    w.tag(15, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(statusLength);
    if (descriptionLength != 0) {
      w.tag(2, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(descriptionLength).rawUtf8(description, descriptionLength);
    }
    if (code != 0) {
      w.uint32(3, code);
    }
    w.fixed32(16, flagsWithRemoteBits(context.getTraceFlags().asByte(), parent.isRemote()));
  }

  private static int flagsWithRemoteBits(byte traceFlags, boolean remote) {
    int flags = (traceFlags & 0xff) | CONTEXT_HAS_IS_REMOTE_BIT;
    return remote ? flags | CONTEXT_IS_REMOTE_BIT : flags;
  }

  private static int statusCode(io.opentelemetry.api.trace.StatusCode code) {
    switch (code) {
      case OK:
        return 1;
      case ERROR:
        return 2;
      default:
        return 0;
    }
  }

  private static int spanKind(io.opentelemetry.api.trace.SpanKind kind) {
    switch (kind) {
      case INTERNAL:
        return 1;
      case SERVER:
        return 2;
      case CLIENT:
        return 3;
      case PRODUCER:
        return 4;
      case CONSUMER:
        return 5;
      default:
        return 0;
    }
  }

  private void traceState(int field, TraceState traceState) {
    if (traceState.isEmpty()) {
      return;
    }
    String w3c;
    if (traceState == lastTraceState) {
      w3c = lastTraceStateW3c;
    } else {
      w3c = W3CTraceContextEncoding.encodeTraceState(traceState);
      lastTraceState = traceState;
      lastTraceStateW3c = w3c;
    }
    string(field, w3c);
  }

  // ================================================================ metrics

  private void writeMetric(MetricData metric) {
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

  // ================================================================ logs

  private void writeLog(LogRecordData log) {
    ProtoWriter w = out;
    fixed64(1, log.getTimestampEpochNanos());
    Severity severity = log.getSeverity();
    if (severity != null && severity.getSeverityNumber() != 0) {
      w.uint32(2, severity.getSeverityNumber());
    }
    string(3, log.getSeverityText());
    Value<?> body = log.getBodyValue();
    if (body != null) {
      if (body.getType() == ValueType.STRING) {
        stringInMessage(5, ANY_STRING, (String) body.getValue());
      } else {
        w.begin(5);
        anyValueContent(body);
        w.end();
      }
    }
    Attributes attributes = log.getAttributes();
    attributes(6, attributes);
    uint32(7, log.getTotalAttributeCount() - attributes.size());
    SpanContext context = log.getSpanContext();
    byte flags = context.getTraceFlags().asByte();
    if (flags != 0) {
      w.fixed32(8, flags & 0xff);
    }
    String traceId = context.getTraceId();
    if (!isAllZeros(traceId)) {
      traceId(9, traceId);
    }
    String spanId = context.getSpanId();
    if (!isAllZeros(spanId)) {
      spanId(10, spanId);
    }
    fixed64(11, log.getObservedTimestampEpochNanos());
    string(12, log.getEventName());
  }

  private static boolean isAllZeros(String hex) {
    for (int i = 0, n = hex.length(); i < n; i++) {
      if (hex.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  // ================================================================ attributes and values

  private void attributes(int field, Attributes attributes) {
    if (attributes.isEmpty()) {
      return;
    }
    int saved = attributeField;
    attributeField = field;
    attributes.forEach(this);
    attributeField = saved;
  }

  /**
   * One attribute as a {@code KeyValue}: the callback of {@link Attributes#forEach}. A scalar value's
   * {@code KeyValue} and {@code AnyValue} are sized up front and their headers written directly, so
   * the writer has no nested lengths to close for them (the most common messages of a request);
   * arrays and complex values are opened as nested messages.
   */
  @Override
  public void accept(AttributeKey<?> key, Object value) {
    ProtoWriter w = out;
    String name = key.getKey();
    byte[] keyUtf8 = null;
    int keyLength = 0;
    if (!name.isEmpty()) {
      if (key instanceof InternalAttributeKeyImpl) {
        keyUtf8 = ((InternalAttributeKeyImpl<?>) key).getKeyUtf8();
        keyLength = keyUtf8.length;
      } else {
        keyLength = ProtoWriter.utf8Length(name);
      }
    }
    AttributeType type = key.getType();
    if (type == AttributeType.STRING) {
      String text = (String) value;
      // One pass for ASCII text: sized as if ASCII, rewritten exactly only when it is not.
      int mark = w.size();
      stringAttribute(name, keyUtf8, keyLength, text.length());
      if (w.rawAscii(text)) {
        return;
      }
      w.truncate(mark);
      int utf8Length = ProtoWriter.utf8Length(text);
      stringAttribute(name, keyUtf8, keyLength, utf8Length);
      w.rawUtf8(text, utf8Length);
      return;
    }
    int anyLength;
    switch (type) {
      case BOOLEAN:
        anyLength = 2;
        break;
      case LONG:
        anyLength = 1 + ProtoWriter.varintSize((long) (Long) value);
        break;
      case DOUBLE:
        anyLength = 9;
        break;
      default:
        w.begin(attributeField);
        key(name, keyUtf8, keyLength);
        w.begin(KEY_VALUE_VALUE);
        attributeValue(type, value);
        w.end();
        w.end();
        return;
    }
    int keyField = name.isEmpty() ? 0 : 1 + ProtoWriter.varintSize(keyLength) + keyLength;
    w.tag(attributeField, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
        .rawVarint32(keyField + 1 + ProtoWriter.varintSize(anyLength) + anyLength);
    key(name, keyUtf8, keyLength);
    w.tag(KEY_VALUE_VALUE, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(anyLength);
    switch (type) {
      case BOOLEAN:
        w.bool(ANY_BOOL, (Boolean) value);
        break;
      case LONG:
        w.int64(ANY_INT, (Long) value);
        break;
      default:
        w.doubleField(ANY_DOUBLE, (Double) value);
        break;
    }
  }

  /** A string attribute's headers up to its text, for text of {@code utf8Length} bytes. */
  private void stringAttribute(String name, byte[] keyUtf8, int keyLength, int utf8Length) {
    int anyLength = 1 + ProtoWriter.varintSize(utf8Length) + utf8Length;
    int keyField = name.isEmpty() ? 0 : 1 + ProtoWriter.varintSize(keyLength) + keyLength;
    ProtoWriter w = out;
    w.tag(attributeField, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
        .rawVarint32(keyField + 1 + ProtoWriter.varintSize(anyLength) + anyLength);
    key(name, keyUtf8, keyLength);
    w.tag(KEY_VALUE_VALUE, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(anyLength);
    w.tag(ANY_STRING, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(utf8Length);
  }

  /** The key field of a {@code KeyValue}: the API's cached UTF-8 bytes where it has them; none if empty. */
  private void key(String name, byte[] keyUtf8, int keyLength) {
    if (name.isEmpty()) {
      return;
    }
    ProtoWriter w = out;
    w.tag(KEY_VALUE_KEY, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(keyLength);
    if (keyUtf8 != null) {
      w.raw(keyUtf8, 0, keyLength);
    } else {
      w.rawUtf8(name, keyLength);
    }
  }

  private void attributeValue(AttributeType type, Object value) {
    ProtoWriter w = out;
    switch (type) {
      case STRING:
        w.string(ANY_STRING, (String) value);
        break;
      case BOOLEAN:
        w.bool(ANY_BOOL, (Boolean) value);
        break;
      case LONG:
        w.int64(ANY_INT, (Long) value);
        break;
      case DOUBLE:
        w.doubleField(ANY_DOUBLE, (Double) value);
        break;
      case STRING_ARRAY:
      case BOOLEAN_ARRAY:
      case LONG_ARRAY:
      case DOUBLE_ARRAY:
        w.begin(ANY_ARRAY);
        List<?> list = (List<?>) value;
        for (int i = 0, n = list.size(); i < n; i++) {
          w.begin(LIST_VALUES);
          Object element = list.get(i);
          switch (type) {
            case STRING_ARRAY:
              w.string(ANY_STRING, (String) element);
              break;
            case BOOLEAN_ARRAY:
              w.bool(ANY_BOOL, (Boolean) element);
              break;
            case LONG_ARRAY:
              w.int64(ANY_INT, (Long) element);
              break;
            default:
              w.doubleField(ANY_DOUBLE, (Double) element);
              break;
          }
          w.end();
        }
        w.end();
        break;
      case VALUE:
        anyValueContent((Value<?>) value);
        break;
      default:
        throw new IllegalArgumentException("Unsupported attribute type " + type);
    }
  }

  /** The fields of an {@code AnyValue} holding {@code value} (the caller opened the message). */
  @SuppressWarnings("unchecked")
  private void anyValueContent(Value<?> value) {
    ProtoWriter w = out;
    switch (value.getType()) {
      case STRING:
        w.string(ANY_STRING, (String) value.getValue());
        break;
      case BOOLEAN:
        w.bool(ANY_BOOL, (Boolean) value.getValue());
        break;
      case LONG:
        w.int64(ANY_INT, (Long) value.getValue());
        break;
      case DOUBLE:
        w.doubleField(ANY_DOUBLE, (Double) value.getValue());
        break;
      case ARRAY:
        w.begin(ANY_ARRAY);
        List<Value<?>> values = (List<Value<?>>) value.getValue();
        for (int i = 0, n = values.size(); i < n; i++) {
          w.begin(LIST_VALUES);
          anyValueContent(values.get(i));
          w.end();
        }
        w.end();
        break;
      case KEY_VALUE_LIST:
        w.begin(ANY_KVLIST);
        List<KeyValue> entries = (List<KeyValue>) value.getValue();
        for (int i = 0, n = entries.size(); i < n; i++) {
          KeyValue entry = entries.get(i);
          w.begin(LIST_VALUES);
          string(KEY_VALUE_KEY, entry.getKey());
          w.begin(KEY_VALUE_VALUE);
          anyValueContent(entry.getValue());
          w.end();
          w.end();
        }
        w.end();
        break;
      case BYTES:
        w.bytes(ANY_BYTES, (ByteBuffer) value.getValue());
        break;
      default: // EMPTY: an AnyValue with no value set
        break;
    }
  }

  // ================================================================ scalars (proto3 defaults skipped)

  /**
   * A message in {@code field} holding only {@code text} in its field {@code inner} (an AnyValue with a
   * string, say), sized up front; one pass for ASCII text.
   */
  private void stringInMessage(int field, int inner, String text) {
    ProtoWriter w = out;
    int mark = w.size();
    int n = text.length();
    w.tag(field, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(1 + ProtoWriter.varintSize(n) + n);
    w.tag(inner, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(n);
    if (w.rawAscii(text)) {
      return;
    }
    w.truncate(mark);
    int length = ProtoWriter.utf8Length(text);
    w.tag(field, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(1 + ProtoWriter.varintSize(length) + length);
    w.tag(inner, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(length).rawUtf8(text, length);
  }

  private void string(int field, String value) {
    if (value != null && !value.isEmpty()) {
      out.string(field, value);
    }
  }

  private void fixed64(int field, long value) {
    if (value != 0) {
      out.fixed64(field, value);
    }
  }

  private void uint32(int field, int value) {
    if (value != 0) {
      out.uint32(field, value);
    }
  }

  /** A double skipped when it equals zero (-0.0 included), as the SDK's serializer does. */
  private void doubleNonZero(int field, double value) {
    if (value != 0D) {
      out.doubleField(field, value);
    }
  }

  private void traceId(int field, String hex) {
    hexBytes(field, hex, 16);
  }

  private void spanId(int field, String hex) {
    hexBytes(field, hex, 8);
  }

  private void hexBytes(int field, String hex, int length) {
    if (hex == null) {
      return;
    }
    byte[] b = idScratch;
    byte[] values = HEX_VALUES;
    for (int i = 0; i < length; i++) {
      char hi = hex.charAt(2 * i);
      char lo = hex.charAt(2 * i + 1);
      b[i] = (byte) ((values[hi & 0x7f] << 4) | values[lo & 0x7f]);
    }
    out.bytes(field, b, 0, length);
  }
}
