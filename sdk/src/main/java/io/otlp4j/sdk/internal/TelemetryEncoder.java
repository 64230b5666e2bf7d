package io.otlp4j.sdk.internal;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.Value;
import io.opentelemetry.api.common.ValueType;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.internal.W3CTraceContextEncoding;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.resources.internal.Entity;
import io.opentelemetry.sdk.resources.internal.EntityUtil;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import io.otlp4j.wire.ProtoWriter;
import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Writes the SDK's {@link SpanData}, {@link MetricData} and {@link LogRecordData} as OTLP {@code
 * Export*ServiceRequest} messages into a {@link ProtoWriter}, field by field, straight from the SDK
 * objects: no intermediate marshaler tree and no separate size pass. Containers (resource, scope,
 * span, event, metric, point) are opened with {@link ProtoWriter#begin(int)} and the writer closes
 * their lengths in one compaction pass; the small leaf messages that are most of a request (scalar
 * attributes, span status, string log bodies) are sized as they are written, ASCII text in one
 * pass, so they leave nothing to close.
 *
 * <h2>Equivalence with the SDK</h2>
 *
 * Field for field what the SDK's own {@code *RequestMarshaler}s (opentelemetry-exporter-otlp-common
 * 1.68) write: the same fields skipped when they hold their default, the same always-written oneof
 * members and optional fields, resources and scopes grouped by identity, flags with the
 * parent-is-remote bits, unpaired surrogates written as {@code '?'}. The only difference is order:
 * resources and scopes come in first-seen order here, where the SDK's identity map gives no order.
 *
 * <h2>Allocation</h2>
 *
 * The encoder is reused (one per thread, see {@link OtlpMarshaler}); it keeps its writer, its
 * grouping arrays, the encoded bytes of the last few resources and scopes (immutable in the SDK,
 * compared by identity), and walks attributes with itself as the {@link BiConsumer} so that no
 * lambda is allocated. Attribute keys are copied from the UTF-8 bytes the API caches in each key.
 * What is left is the boxing the SDK's own data types impose (histogram counts and bounds are
 * {@code List<Long>} and {@code List<Double>}) and the W3C string of a non-empty trace state
 * (cached for the last one seen).
 *
 * <p>Not thread-safe.
 */
final class TelemetryEncoder extends MetricEncoder {

  private static final int CONTEXT_HAS_IS_REMOTE_BIT = 0x100;
  private static final int CONTEXT_IS_REMOTE_BIT = 0x200;

  private static final int CACHE_SIZE = 4;

  private final ResourceScopeGroups groups = new ResourceScopeGroups();
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
    super(out);
  }

  // ================================================================ requests

  /**
   * Writes an {@code ExportTraceServiceRequest} holding {@code spans} after whatever the writer
   * holds.
   */
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

  /**
   * Writes an {@code ExportMetricsServiceRequest} holding {@code metrics} after whatever the writer
   * holds.
   */
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

  /**
   * Writes an {@code ExportLogsServiceRequest} holding {@code logs} after whatever the writer
   * holds.
   */
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
   * Writes the grouped items as {@code Resource*} / {@code Scope*} messages, one header per
   * resource and per scope. {@code signal} picks the item writer with a switch rather than a
   * callback, so the hot loop allocates nothing.
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
            case METRICS ->
                writeMetric((MetricData) g.item(i)); // opens its own item: it skips unknown types
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
    int statusLength =
        (descriptionLength == 0
                ? 0
                : 1 + ProtoWriter.varintSize(descriptionLength) + descriptionLength)
            + (code == 0 ? 0 : 2);
    w.tag(15, ProtoWriter.WIRETYPE_LENGTH_DELIMITED).rawVarint32(statusLength);
    if (descriptionLength != 0) {
      w.tag(2, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
          .rawVarint32(descriptionLength)
          .rawUtf8(description, descriptionLength);
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
}
