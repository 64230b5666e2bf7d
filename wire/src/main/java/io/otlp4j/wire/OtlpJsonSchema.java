package io.otlp4j.wire;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The OTLP message schema (opentelemetry-proto 1.11) as the JSON transcoder needs it: for each
 * message its fields with number, kind, JSON names, presence and oneof group. Built once, immutable
 * after class initialisation, shared by every thread.
 *
 * <p>One table drives both directions of {@link OtlpJson}, so a field cannot be known to one
 * direction and missing from the other. Profiles-only fields of the common messages ({@code
 * key_strindex}, {@code string_value_strindex}) are included, as the official classes have them.
 */
final class OtlpJsonSchema {

  // Field kinds. Ints rather than an enum so the transcoders' switches compile to table jumps.
  static final int STRING = 0;
  static final int BYTES = 1; // base64 in JSON
  static final int HEX_ID = 2; // trace / span ids: hex in JSON
  static final int BOOL = 3;
  static final int INT32 = 4;
  static final int ENUM = 5;
  static final int UINT32 = 6;
  static final int SINT32 = 7;
  static final int FIXED32 = 8;
  static final int INT64 = 9;
  static final int UINT64 = 10;
  static final int FIXED64 = 11;
  static final int SFIXED64 = 12;
  static final int DOUBLE = 13;
  static final int MESSAGE = 14;

  /** Field numbers of OTLP messages stay below this; larger numbers are unknown fields. */
  static final int MAX_FIELD_NUMBER = 31;

  static final class EnumType {
    final String name;
    final Map<String, Integer> numbersByName = new HashMap<>();

    EnumType(String name, String... valueNames) {
      this.name = name;
      for (int i = 0; i < valueNames.length; i++) {
        numbersByName.put(valueNames[i], i);
      }
    }
  }

  static final class Field {
    final MessageType owner;
    final int number;
    final String protoName;
    final String jsonName;

    /** {@code "jsonName":} in ASCII, as the transcoder writes the key. */
    final byte[] jsonKey;

    final int kind;
    final boolean repeated;

    /** Written even when it holds the default value: oneof members and proto3 {@code optional}. */
    final boolean presence;

    /** The oneof group's index within the message, or -1. */
    final int oneof;

    final long bit;
    final int wireType;

    /** For HEX_ID: the required length in bytes (16 for a trace id, 8 for a span id). */
    final int idLength;

    final EnumType enumType;
    final MessageType message;

    Field(
        MessageType owner,
        int number,
        String protoName,
        int kind,
        boolean repeated,
        boolean presence,
        int oneof,
        int idLength,
        EnumType enumType,
        MessageType message,
        int index) {
      this.owner = owner;
      this.number = number;
      this.protoName = protoName;
      this.jsonName = lowerCamel(protoName);
      this.jsonKey = ('"' + jsonName + "\":").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      this.kind = kind;
      this.repeated = repeated;
      this.presence = presence;
      this.oneof = oneof;
      this.bit = 1L << index;
      this.wireType = wireTypeOf(kind);
      this.idLength = idLength;
      this.enumType = enumType;
      this.message = message;
    }

    /** True for the numeric repeated kinds that protobuf packs. */
    boolean packable() {
      return kind != STRING && kind != BYTES && kind != HEX_ID && kind != MESSAGE;
    }

    /**
     * Whether a field with this number and {@code wireType} on the wire is this field (else:
     * unknown).
     */
    boolean accepts(int wireType) {
      return wireType == this.wireType
          || (repeated && wireType == ProtoWriter.WIRETYPE_LENGTH_DELIMITED && packable());
    }

    String describe() {
      return owner.name + "." + jsonName;
    }
  }

  static final class MessageType {
    final String name;
    Field[] byNumber = new Field[0];
    final List<Field> fields = new ArrayList<>();
    final Map<String, Field> byName = new HashMap<>();

    /** The members of each oneof group, by group index. */
    final List<Field[]> oneofs = new ArrayList<>();

    MessageType(String name) {
      this.name = name;
    }

    Field field(int number) {
      return number < byNumber.length ? byNumber[number] : null;
    }

    Field field(String jsonOrProtoName) {
      return byName.get(jsonOrProtoName);
    }

    // ---- definition DSL, used only while the class initialises

    MessageType scalar(int number, String protoName, int kind) {
      return add(number, protoName, kind, false, false, -1, 0, null, null);
    }

    MessageType optional(int number, String protoName, int kind) {
      return add(number, protoName, kind, false, true, -1, 0, null, null);
    }

    MessageType repeated(int number, String protoName, int kind) {
      return add(number, protoName, kind, true, false, -1, 0, null, null);
    }

    MessageType id(int number, String protoName, int length) {
      return add(number, protoName, HEX_ID, false, false, -1, length, null, null);
    }

    MessageType enumField(int number, String protoName, EnumType type) {
      return add(number, protoName, ENUM, false, false, -1, 0, type, null);
    }

    MessageType message(int number, String protoName, MessageType type) {
      // A singular message field has presence: an empty message is written as {}.
      return add(number, protoName, MESSAGE, false, true, -1, 0, null, type);
    }

    MessageType repeatedMessage(int number, String protoName, MessageType type) {
      return add(number, protoName, MESSAGE, true, false, -1, 0, null, type);
    }

    /** Starts a oneof group; its members follow with {@link #member} / {@link #memberMessage}. */
    MessageType oneof() {
      oneofs.add(new Field[0]);
      return this;
    }

    MessageType member(int number, String protoName, int kind) {
      return add(number, protoName, kind, false, true, oneofs.size() - 1, 0, null, null);
    }

    MessageType memberMessage(int number, String protoName, MessageType type) {
      return add(number, protoName, MESSAGE, false, true, oneofs.size() - 1, 0, null, type);
    }

    private MessageType add(
        int number,
        String protoName,
        int kind,
        boolean repeated,
        boolean presence,
        int oneof,
        int idLength,
        EnumType enumType,
        MessageType message) {
      if (number > MAX_FIELD_NUMBER || fields.size() >= 64) {
        throw new IllegalStateException("schema limits exceeded by " + name + "." + protoName);
      }
      Field f =
          new Field(
              this,
              number,
              protoName,
              kind,
              repeated,
              presence,
              oneof,
              idLength,
              enumType,
              message,
              fields.size());
      fields.add(f);
      if (number >= byNumber.length) {
        Field[] grown = new Field[number + 1];
        System.arraycopy(byNumber, 0, grown, 0, byNumber.length);
        byNumber = grown;
      }
      byNumber[number] = f;
      byName.put(f.jsonName, f);
      byName.put(protoName, f);
      if (oneof >= 0) {
        Field[] members = oneofs.get(oneof);
        Field[] grown = new Field[members.length + 1];
        System.arraycopy(members, 0, grown, 0, members.length);
        grown[members.length] = f;
        oneofs.set(oneof, grown);
      }
      return this;
    }
  }

  // ---------------------------------------------------------------- enums

  static final EnumType SPAN_KIND =
      new EnumType(
          "SpanKind",
          "SPAN_KIND_UNSPECIFIED",
          "SPAN_KIND_INTERNAL",
          "SPAN_KIND_SERVER",
          "SPAN_KIND_CLIENT",
          "SPAN_KIND_PRODUCER",
          "SPAN_KIND_CONSUMER");
  static final EnumType STATUS_CODE =
      new EnumType("StatusCode", "STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR");
  static final EnumType AGGREGATION_TEMPORALITY =
      new EnumType(
          "AggregationTemporality",
          "AGGREGATION_TEMPORALITY_UNSPECIFIED",
          "AGGREGATION_TEMPORALITY_DELTA",
          "AGGREGATION_TEMPORALITY_CUMULATIVE");
  static final EnumType SEVERITY_NUMBER =
      new EnumType(
          "SeverityNumber",
          "SEVERITY_NUMBER_UNSPECIFIED",
          "SEVERITY_NUMBER_TRACE",
          "SEVERITY_NUMBER_TRACE2",
          "SEVERITY_NUMBER_TRACE3",
          "SEVERITY_NUMBER_TRACE4",
          "SEVERITY_NUMBER_DEBUG",
          "SEVERITY_NUMBER_DEBUG2",
          "SEVERITY_NUMBER_DEBUG3",
          "SEVERITY_NUMBER_DEBUG4",
          "SEVERITY_NUMBER_INFO",
          "SEVERITY_NUMBER_INFO2",
          "SEVERITY_NUMBER_INFO3",
          "SEVERITY_NUMBER_INFO4",
          "SEVERITY_NUMBER_WARN",
          "SEVERITY_NUMBER_WARN2",
          "SEVERITY_NUMBER_WARN3",
          "SEVERITY_NUMBER_WARN4",
          "SEVERITY_NUMBER_ERROR",
          "SEVERITY_NUMBER_ERROR2",
          "SEVERITY_NUMBER_ERROR3",
          "SEVERITY_NUMBER_ERROR4",
          "SEVERITY_NUMBER_FATAL",
          "SEVERITY_NUMBER_FATAL2",
          "SEVERITY_NUMBER_FATAL3",
          "SEVERITY_NUMBER_FATAL4");

  // ---------------------------------------------------------------- common, resource

  static final MessageType ANY_VALUE = new MessageType("AnyValue");
  static final MessageType ARRAY_VALUE = new MessageType("ArrayValue");
  static final MessageType KEY_VALUE_LIST = new MessageType("KeyValueList");
  static final MessageType KEY_VALUE = new MessageType("KeyValue");
  static final MessageType SCOPE = new MessageType("InstrumentationScope");
  static final MessageType ENTITY_REF = new MessageType("EntityRef");
  static final MessageType RESOURCE = new MessageType("Resource");

  // ---------------------------------------------------------------- traces

  static final MessageType TRACES_REQUEST = new MessageType("ExportTraceServiceRequest");
  static final MessageType RESOURCE_SPANS = new MessageType("ResourceSpans");
  static final MessageType SCOPE_SPANS = new MessageType("ScopeSpans");
  static final MessageType SPAN = new MessageType("Span");
  static final MessageType SPAN_EVENT = new MessageType("Span.Event");
  static final MessageType SPAN_LINK = new MessageType("Span.Link");
  static final MessageType STATUS = new MessageType("Status");

  // ---------------------------------------------------------------- metrics

  static final MessageType METRICS_REQUEST = new MessageType("ExportMetricsServiceRequest");
  static final MessageType RESOURCE_METRICS = new MessageType("ResourceMetrics");
  static final MessageType SCOPE_METRICS = new MessageType("ScopeMetrics");
  static final MessageType METRIC = new MessageType("Metric");
  static final MessageType GAUGE = new MessageType("Gauge");
  static final MessageType SUM = new MessageType("Sum");
  static final MessageType HISTOGRAM = new MessageType("Histogram");
  static final MessageType EXPONENTIAL_HISTOGRAM = new MessageType("ExponentialHistogram");
  static final MessageType SUMMARY = new MessageType("Summary");
  static final MessageType NUMBER_DATA_POINT = new MessageType("NumberDataPoint");
  static final MessageType HISTOGRAM_DATA_POINT = new MessageType("HistogramDataPoint");
  static final MessageType EXPONENTIAL_HISTOGRAM_DATA_POINT =
      new MessageType("ExponentialHistogramDataPoint");
  static final MessageType BUCKETS = new MessageType("ExponentialHistogramDataPoint.Buckets");
  static final MessageType SUMMARY_DATA_POINT = new MessageType("SummaryDataPoint");
  static final MessageType VALUE_AT_QUANTILE = new MessageType("SummaryDataPoint.ValueAtQuantile");
  static final MessageType EXEMPLAR = new MessageType("Exemplar");

  // ---------------------------------------------------------------- logs

  static final MessageType LOGS_REQUEST = new MessageType("ExportLogsServiceRequest");
  static final MessageType RESOURCE_LOGS = new MessageType("ResourceLogs");
  static final MessageType SCOPE_LOGS = new MessageType("ScopeLogs");
  static final MessageType LOG_RECORD = new MessageType("LogRecord");

  static {
    ANY_VALUE
        .oneof()
        .member(1, "string_value", STRING)
        .member(2, "bool_value", BOOL)
        .member(3, "int_value", INT64)
        .member(4, "double_value", DOUBLE)
        .memberMessage(5, "array_value", ARRAY_VALUE)
        .memberMessage(6, "kvlist_value", KEY_VALUE_LIST)
        .member(7, "bytes_value", BYTES)
        .member(8, "string_value_strindex", INT32);
    ARRAY_VALUE.repeatedMessage(1, "values", ANY_VALUE);
    KEY_VALUE_LIST.repeatedMessage(1, "values", KEY_VALUE);
    KEY_VALUE
        .scalar(1, "key", STRING)
        .message(2, "value", ANY_VALUE)
        .scalar(3, "key_strindex", INT32);
    SCOPE
        .scalar(1, "name", STRING)
        .scalar(2, "version", STRING)
        .repeatedMessage(3, "attributes", KEY_VALUE)
        .scalar(4, "dropped_attributes_count", UINT32);
    ENTITY_REF
        .scalar(1, "schema_url", STRING)
        .scalar(2, "type", STRING)
        .repeated(3, "id_keys", STRING)
        .repeated(4, "description_keys", STRING);
    RESOURCE
        .repeatedMessage(1, "attributes", KEY_VALUE)
        .scalar(2, "dropped_attributes_count", UINT32)
        .repeatedMessage(3, "entity_refs", ENTITY_REF);

    TRACES_REQUEST.repeatedMessage(1, "resource_spans", RESOURCE_SPANS);
    RESOURCE_SPANS
        .message(1, "resource", RESOURCE)
        .repeatedMessage(2, "scope_spans", SCOPE_SPANS)
        .scalar(3, "schema_url", STRING);
    SCOPE_SPANS
        .message(1, "scope", SCOPE)
        .repeatedMessage(2, "spans", SPAN)
        .scalar(3, "schema_url", STRING);
    SPAN.id(1, "trace_id", 16)
        .id(2, "span_id", 8)
        .scalar(3, "trace_state", STRING)
        .id(4, "parent_span_id", 8)
        .scalar(16, "flags", FIXED32)
        .scalar(5, "name", STRING)
        .enumField(6, "kind", SPAN_KIND)
        .scalar(7, "start_time_unix_nano", FIXED64)
        .scalar(8, "end_time_unix_nano", FIXED64)
        .repeatedMessage(9, "attributes", KEY_VALUE)
        .scalar(10, "dropped_attributes_count", UINT32)
        .repeatedMessage(11, "events", SPAN_EVENT)
        .scalar(12, "dropped_events_count", UINT32)
        .repeatedMessage(13, "links", SPAN_LINK)
        .scalar(14, "dropped_links_count", UINT32)
        .message(15, "status", STATUS);
    SPAN_EVENT
        .scalar(1, "time_unix_nano", FIXED64)
        .scalar(2, "name", STRING)
        .repeatedMessage(3, "attributes", KEY_VALUE)
        .scalar(4, "dropped_attributes_count", UINT32);
    SPAN_LINK
        .id(1, "trace_id", 16)
        .id(2, "span_id", 8)
        .scalar(3, "trace_state", STRING)
        .repeatedMessage(4, "attributes", KEY_VALUE)
        .scalar(5, "dropped_attributes_count", UINT32)
        .scalar(6, "flags", FIXED32);
    STATUS.scalar(2, "message", STRING).enumField(3, "code", STATUS_CODE);

    METRICS_REQUEST.repeatedMessage(1, "resource_metrics", RESOURCE_METRICS);
    RESOURCE_METRICS
        .message(1, "resource", RESOURCE)
        .repeatedMessage(2, "scope_metrics", SCOPE_METRICS)
        .scalar(3, "schema_url", STRING);
    SCOPE_METRICS
        .message(1, "scope", SCOPE)
        .repeatedMessage(2, "metrics", METRIC)
        .scalar(3, "schema_url", STRING);
    METRIC
        .scalar(1, "name", STRING)
        .scalar(2, "description", STRING)
        .scalar(3, "unit", STRING)
        .oneof()
        .memberMessage(5, "gauge", GAUGE)
        .memberMessage(7, "sum", SUM)
        .memberMessage(9, "histogram", HISTOGRAM)
        .memberMessage(10, "exponential_histogram", EXPONENTIAL_HISTOGRAM)
        .memberMessage(11, "summary", SUMMARY)
        .repeatedMessage(12, "metadata", KEY_VALUE);
    GAUGE.repeatedMessage(1, "data_points", NUMBER_DATA_POINT);
    SUM.repeatedMessage(1, "data_points", NUMBER_DATA_POINT)
        .enumField(2, "aggregation_temporality", AGGREGATION_TEMPORALITY)
        .scalar(3, "is_monotonic", BOOL);
    HISTOGRAM
        .repeatedMessage(1, "data_points", HISTOGRAM_DATA_POINT)
        .enumField(2, "aggregation_temporality", AGGREGATION_TEMPORALITY);
    EXPONENTIAL_HISTOGRAM
        .repeatedMessage(1, "data_points", EXPONENTIAL_HISTOGRAM_DATA_POINT)
        .enumField(2, "aggregation_temporality", AGGREGATION_TEMPORALITY);
    SUMMARY.repeatedMessage(1, "data_points", SUMMARY_DATA_POINT);
    NUMBER_DATA_POINT
        .repeatedMessage(7, "attributes", KEY_VALUE)
        .scalar(2, "start_time_unix_nano", FIXED64)
        .scalar(3, "time_unix_nano", FIXED64)
        .oneof()
        .member(4, "as_double", DOUBLE)
        .member(6, "as_int", SFIXED64)
        .repeatedMessage(5, "exemplars", EXEMPLAR)
        .scalar(8, "flags", UINT32);
    HISTOGRAM_DATA_POINT
        .repeatedMessage(9, "attributes", KEY_VALUE)
        .scalar(2, "start_time_unix_nano", FIXED64)
        .scalar(3, "time_unix_nano", FIXED64)
        .scalar(4, "count", FIXED64)
        .optional(5, "sum", DOUBLE)
        .repeated(6, "bucket_counts", FIXED64)
        .repeated(7, "explicit_bounds", DOUBLE)
        .repeatedMessage(8, "exemplars", EXEMPLAR)
        .scalar(10, "flags", UINT32)
        .optional(11, "min", DOUBLE)
        .optional(12, "max", DOUBLE);
    EXPONENTIAL_HISTOGRAM_DATA_POINT
        .repeatedMessage(1, "attributes", KEY_VALUE)
        .scalar(2, "start_time_unix_nano", FIXED64)
        .scalar(3, "time_unix_nano", FIXED64)
        .scalar(4, "count", FIXED64)
        .optional(5, "sum", DOUBLE)
        .scalar(6, "scale", SINT32)
        .scalar(7, "zero_count", FIXED64)
        .message(8, "positive", BUCKETS)
        .message(9, "negative", BUCKETS)
        .scalar(10, "flags", UINT32)
        .repeatedMessage(11, "exemplars", EXEMPLAR)
        .optional(12, "min", DOUBLE)
        .optional(13, "max", DOUBLE)
        .scalar(14, "zero_threshold", DOUBLE);
    BUCKETS.scalar(1, "offset", SINT32).repeated(2, "bucket_counts", UINT64);
    SUMMARY_DATA_POINT
        .repeatedMessage(7, "attributes", KEY_VALUE)
        .scalar(2, "start_time_unix_nano", FIXED64)
        .scalar(3, "time_unix_nano", FIXED64)
        .scalar(4, "count", FIXED64)
        .scalar(5, "sum", DOUBLE)
        .repeatedMessage(6, "quantile_values", VALUE_AT_QUANTILE)
        .scalar(8, "flags", UINT32);
    VALUE_AT_QUANTILE.scalar(1, "quantile", DOUBLE).scalar(2, "value", DOUBLE);
    EXEMPLAR
        .repeatedMessage(7, "filtered_attributes", KEY_VALUE)
        .scalar(2, "time_unix_nano", FIXED64)
        .oneof()
        .member(3, "as_double", DOUBLE)
        .member(6, "as_int", SFIXED64)
        .id(4, "span_id", 8)
        .id(5, "trace_id", 16);

    LOGS_REQUEST.repeatedMessage(1, "resource_logs", RESOURCE_LOGS);
    RESOURCE_LOGS
        .message(1, "resource", RESOURCE)
        .repeatedMessage(2, "scope_logs", SCOPE_LOGS)
        .scalar(3, "schema_url", STRING);
    SCOPE_LOGS
        .message(1, "scope", SCOPE)
        .repeatedMessage(2, "log_records", LOG_RECORD)
        .scalar(3, "schema_url", STRING);
    LOG_RECORD
        .scalar(1, "time_unix_nano", FIXED64)
        .scalar(11, "observed_time_unix_nano", FIXED64)
        .enumField(2, "severity_number", SEVERITY_NUMBER)
        .scalar(3, "severity_text", STRING)
        .message(5, "body", ANY_VALUE)
        .repeatedMessage(6, "attributes", KEY_VALUE)
        .scalar(7, "dropped_attributes_count", UINT32)
        .scalar(8, "flags", FIXED32)
        .id(9, "trace_id", 16)
        .id(10, "span_id", 8)
        .scalar(12, "event_name", STRING);
  }

  private OtlpJsonSchema() {}

  /**
   * The export request message of {@code signal}: field 1 is its repeated {@code Resource*}
   * message.
   */
  static MessageType request(Signal signal) {
    switch (signal) {
      case TRACES:
        return TRACES_REQUEST;
      case METRICS:
        return METRICS_REQUEST;
      case LOGS:
        return LOGS_REQUEST;
      default:
        throw new IllegalArgumentException("unknown signal " + signal);
    }
  }

  /** protobuf's JSON name: underscores dropped, the letter after each capitalised. */
  static String lowerCamel(String protoName) {
    StringBuilder sb = new StringBuilder(protoName.length());
    boolean upper = false;
    for (int i = 0; i < protoName.length(); i++) {
      char c = protoName.charAt(i);
      if (c == '_') {
        upper = true;
      } else {
        sb.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return sb.toString();
  }

  static int wireTypeOf(int kind) {
    switch (kind) {
      case STRING:
      case BYTES:
      case HEX_ID:
      case MESSAGE:
        return ProtoWriter.WIRETYPE_LENGTH_DELIMITED;
      case FIXED32:
        return ProtoWriter.WIRETYPE_FIXED32;
      case FIXED64:
      case SFIXED64:
      case DOUBLE:
        return ProtoWriter.WIRETYPE_FIXED64;
      default:
        return ProtoWriter.WIRETYPE_VARINT;
    }
  }
}
