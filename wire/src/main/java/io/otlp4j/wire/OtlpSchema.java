package io.otlp4j.wire;

/**
 * The OTLP message types (opentelemetry-proto 1.11) as a table the walker interprets: for each
 * message type and field number, what kind of field it is and, for message fields, the type of the
 * nested message. Field numbers not in the table are unknown fields.
 *
 * <p>The table is two flat arrays indexed by {@code type * FIELDS + fieldNumber}, so a lookup is
 * one array load and the walker's loop stays small and branch-predictable.
 */
final class OtlpSchema {
  /** Highest field number any OTLP message uses, plus one. */
  static final int FIELDS = 17;

  // ---- field kinds
  static final byte UNKNOWN = 0;
  static final byte VARINT = 1;
  static final byte FIXED64 = 2;
  static final byte FIXED32 = 3;
  static final byte STRING = 4;
  static final byte BYTES = 5;
  static final byte MESSAGE = 6;

  /**
   * repeated fixed64 / double: unpacked (wire type 1) or packed (wire type 2, length a multiple of
   * 8).
   */
  static final byte REPEATED_FIXED64 = 7;

  /** repeated uint64: unpacked (wire type 0) or packed (wire type 2, a run of whole varints). */
  static final byte REPEATED_VARINT = 8;

  /** bytes trace_id of a span or log record, reported to the visitor. */
  static final byte TRACE_ID = 9;

  static final byte RESOURCE_ENTRY = 10;
  static final byte RESOURCE = 11;
  static final byte SCOPE_ENTRY = 12;
  static final byte SCOPE = 13;
  static final byte ITEM = 14;

  /** One of Metric's data oneof members (gauge, sum, histogram, exponential_histogram, summary). */
  static final byte METRIC_DATA = 15;

  static final byte DATA_POINT = 16;

  // ---- message types
  static final int TRACES_REQUEST = 0;
  static final int METRICS_REQUEST = 1;
  static final int LOGS_REQUEST = 2;
  static final int RESOURCE_SPANS = 3;
  static final int RESOURCE_METRICS = 4;
  static final int RESOURCE_LOGS = 5;
  static final int SCOPE_SPANS = 6;
  static final int SCOPE_METRICS = 7;
  static final int SCOPE_LOGS = 8;
  static final int T_RESOURCE = 9;
  static final int T_SCOPE = 10;
  static final int ENTITY_REF = 11;
  static final int KEY_VALUE = 12;
  static final int ANY_VALUE = 13;
  static final int ARRAY_VALUE = 14;
  static final int KEY_VALUE_LIST = 15;
  static final int SPAN = 16;
  static final int EVENT = 17;
  static final int LINK = 18;
  static final int STATUS = 19;
  static final int METRIC = 20;
  static final int GAUGE = 21;
  static final int SUM = 22;
  static final int HISTOGRAM = 23;
  static final int EXPONENTIAL_HISTOGRAM = 24;
  static final int SUMMARY = 25;
  static final int NUMBER_DATA_POINT = 26;
  static final int HISTOGRAM_DATA_POINT = 27;
  static final int EXPONENTIAL_HISTOGRAM_DATA_POINT = 28;
  static final int BUCKETS = 29;
  static final int SUMMARY_DATA_POINT = 30;
  static final int VALUE_AT_QUANTILE = 31;
  static final int EXEMPLAR = 32;
  static final int LOG_RECORD = 33;
  static final int TYPES = 34;

  static final byte[] KIND = new byte[TYPES * FIELDS];
  static final byte[] CHILD = new byte[TYPES * FIELDS];

  /** Field numbers shared by all three signals' request shape. */
  static final int REQUEST_RESOURCES = 1;

  static final int ENTRY_HEADER_MESSAGE = 1;
  static final int ENTRY_CHILDREN = 2;
  static final int METRIC_DATA_POINTS = 1;

  private OtlpSchema() {}

  static int requestType(Signal signal) {
    switch (signal) {
      case TRACES:
        return TRACES_REQUEST;
      case METRICS:
        return METRICS_REQUEST;
      default:
        return LOGS_REQUEST;
    }
  }

  /** Whether {@code field} is one of Metric's data oneof members. */
  static boolean isMetricData(int field) {
    return field == 5 || field == 7 || field == 9 || field == 10 || field == 11;
  }

  private static void f(int type, int field, byte kind) {
    KIND[type * FIELDS + field] = kind;
  }

  private static void m(int type, int field, byte kind, int child) {
    KIND[type * FIELDS + field] = kind;
    CHILD[type * FIELDS + field] = (byte) child;
  }

  private static void m(int type, int field, int child) {
    m(type, field, MESSAGE, child);
  }

  static {
    m(TRACES_REQUEST, 1, RESOURCE_ENTRY, RESOURCE_SPANS);
    m(METRICS_REQUEST, 1, RESOURCE_ENTRY, RESOURCE_METRICS);
    m(LOGS_REQUEST, 1, RESOURCE_ENTRY, RESOURCE_LOGS);

    int[][] levels = {
      {RESOURCE_SPANS, SCOPE_SPANS, SPAN},
      {RESOURCE_METRICS, SCOPE_METRICS, METRIC},
      {RESOURCE_LOGS, SCOPE_LOGS, LOG_RECORD}
    };
    for (int[] level : levels) {
      m(level[0], 1, RESOURCE, T_RESOURCE);
      m(level[0], 2, SCOPE_ENTRY, level[1]);
      f(level[0], 3, STRING);
      m(level[1], 1, SCOPE, T_SCOPE);
      m(level[1], 2, ITEM, level[2]);
      f(level[1], 3, STRING);
    }

    // common.proto, resource.proto
    m(T_RESOURCE, 1, KEY_VALUE);
    f(T_RESOURCE, 2, VARINT);
    m(T_RESOURCE, 3, ENTITY_REF);
    f(T_SCOPE, 1, STRING);
    f(T_SCOPE, 2, STRING);
    m(T_SCOPE, 3, KEY_VALUE);
    f(T_SCOPE, 4, VARINT);
    for (int i = 1; i <= 4; i++) {
      f(ENTITY_REF, i, STRING);
    }
    f(KEY_VALUE, 1, STRING);
    m(KEY_VALUE, 2, ANY_VALUE);
    f(KEY_VALUE, 3, VARINT);
    f(ANY_VALUE, 1, STRING);
    f(ANY_VALUE, 2, VARINT);
    f(ANY_VALUE, 3, VARINT);
    f(ANY_VALUE, 4, FIXED64);
    m(ANY_VALUE, 5, ARRAY_VALUE);
    m(ANY_VALUE, 6, KEY_VALUE_LIST);
    f(ANY_VALUE, 7, BYTES);
    f(ANY_VALUE, 8, VARINT);
    m(ARRAY_VALUE, 1, ANY_VALUE);
    m(KEY_VALUE_LIST, 1, KEY_VALUE);

    // trace.proto
    f(SPAN, 1, TRACE_ID);
    f(SPAN, 2, BYTES);
    f(SPAN, 3, STRING);
    f(SPAN, 4, BYTES);
    f(SPAN, 5, STRING);
    f(SPAN, 6, VARINT);
    f(SPAN, 7, FIXED64);
    f(SPAN, 8, FIXED64);
    m(SPAN, 9, KEY_VALUE);
    f(SPAN, 10, VARINT);
    m(SPAN, 11, EVENT);
    f(SPAN, 12, VARINT);
    m(SPAN, 13, LINK);
    f(SPAN, 14, VARINT);
    m(SPAN, 15, STATUS);
    f(SPAN, 16, FIXED32);
    f(EVENT, 1, FIXED64);
    f(EVENT, 2, STRING);
    m(EVENT, 3, KEY_VALUE);
    f(EVENT, 4, VARINT);
    f(LINK, 1, BYTES);
    f(LINK, 2, BYTES);
    f(LINK, 3, STRING);
    m(LINK, 4, KEY_VALUE);
    f(LINK, 5, VARINT);
    f(LINK, 6, FIXED32);
    f(STATUS, 2, STRING);
    f(STATUS, 3, VARINT);

    // metrics.proto
    f(METRIC, 1, STRING);
    f(METRIC, 2, STRING);
    f(METRIC, 3, STRING);
    m(METRIC, 5, METRIC_DATA, GAUGE);
    m(METRIC, 7, METRIC_DATA, SUM);
    m(METRIC, 9, METRIC_DATA, HISTOGRAM);
    m(METRIC, 10, METRIC_DATA, EXPONENTIAL_HISTOGRAM);
    m(METRIC, 11, METRIC_DATA, SUMMARY);
    m(METRIC, 12, KEY_VALUE);
    m(GAUGE, 1, DATA_POINT, NUMBER_DATA_POINT);
    m(SUM, 1, DATA_POINT, NUMBER_DATA_POINT);
    f(SUM, 2, VARINT);
    f(SUM, 3, VARINT);
    m(HISTOGRAM, 1, DATA_POINT, HISTOGRAM_DATA_POINT);
    f(HISTOGRAM, 2, VARINT);
    m(EXPONENTIAL_HISTOGRAM, 1, DATA_POINT, EXPONENTIAL_HISTOGRAM_DATA_POINT);
    f(EXPONENTIAL_HISTOGRAM, 2, VARINT);
    m(SUMMARY, 1, DATA_POINT, SUMMARY_DATA_POINT);

    m(NUMBER_DATA_POINT, 7, KEY_VALUE);
    f(NUMBER_DATA_POINT, 2, FIXED64);
    f(NUMBER_DATA_POINT, 3, FIXED64);
    f(NUMBER_DATA_POINT, 4, FIXED64);
    f(NUMBER_DATA_POINT, 6, FIXED64);
    m(NUMBER_DATA_POINT, 5, EXEMPLAR);
    f(NUMBER_DATA_POINT, 8, VARINT);

    m(HISTOGRAM_DATA_POINT, 9, KEY_VALUE);
    for (int i = 2; i <= 5; i++) {
      f(HISTOGRAM_DATA_POINT, i, FIXED64);
    }
    f(HISTOGRAM_DATA_POINT, 6, REPEATED_FIXED64);
    f(HISTOGRAM_DATA_POINT, 7, REPEATED_FIXED64);
    m(HISTOGRAM_DATA_POINT, 8, EXEMPLAR);
    f(HISTOGRAM_DATA_POINT, 10, VARINT);
    f(HISTOGRAM_DATA_POINT, 11, FIXED64);
    f(HISTOGRAM_DATA_POINT, 12, FIXED64);

    m(EXPONENTIAL_HISTOGRAM_DATA_POINT, 1, KEY_VALUE);
    for (int i = 2; i <= 5; i++) {
      f(EXPONENTIAL_HISTOGRAM_DATA_POINT, i, FIXED64);
    }
    f(EXPONENTIAL_HISTOGRAM_DATA_POINT, 6, VARINT);
    f(EXPONENTIAL_HISTOGRAM_DATA_POINT, 7, FIXED64);
    m(EXPONENTIAL_HISTOGRAM_DATA_POINT, 8, BUCKETS);
    m(EXPONENTIAL_HISTOGRAM_DATA_POINT, 9, BUCKETS);
    f(EXPONENTIAL_HISTOGRAM_DATA_POINT, 10, VARINT);
    m(EXPONENTIAL_HISTOGRAM_DATA_POINT, 11, EXEMPLAR);
    f(EXPONENTIAL_HISTOGRAM_DATA_POINT, 12, FIXED64);
    f(EXPONENTIAL_HISTOGRAM_DATA_POINT, 13, FIXED64);
    f(EXPONENTIAL_HISTOGRAM_DATA_POINT, 14, FIXED64);
    f(BUCKETS, 1, VARINT);
    f(BUCKETS, 2, REPEATED_VARINT);

    m(SUMMARY_DATA_POINT, 7, KEY_VALUE);
    for (int i = 2; i <= 5; i++) {
      f(SUMMARY_DATA_POINT, i, FIXED64);
    }
    m(SUMMARY_DATA_POINT, 6, VALUE_AT_QUANTILE);
    f(SUMMARY_DATA_POINT, 8, VARINT);
    f(VALUE_AT_QUANTILE, 1, FIXED64);
    f(VALUE_AT_QUANTILE, 2, FIXED64);

    m(EXEMPLAR, 7, KEY_VALUE);
    f(EXEMPLAR, 2, FIXED64);
    f(EXEMPLAR, 3, FIXED64);
    f(EXEMPLAR, 6, FIXED64);
    f(EXEMPLAR, 4, BYTES);
    f(EXEMPLAR, 5, BYTES);

    // logs.proto
    f(LOG_RECORD, 1, FIXED64);
    f(LOG_RECORD, 11, FIXED64);
    f(LOG_RECORD, 2, VARINT);
    f(LOG_RECORD, 3, STRING);
    m(LOG_RECORD, 5, ANY_VALUE);
    m(LOG_RECORD, 6, KEY_VALUE);
    f(LOG_RECORD, 7, VARINT);
    f(LOG_RECORD, 8, FIXED32);
    f(LOG_RECORD, 9, TRACE_ID);
    f(LOG_RECORD, 10, BYTES);
    f(LOG_RECORD, 12, STRING);
  }
}
