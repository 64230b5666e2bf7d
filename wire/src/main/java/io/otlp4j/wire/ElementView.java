package io.otlp4j.wire;

import static io.otlp4j.wire.OtlpSchema.FIELDS;
import static io.otlp4j.wire.OtlpSchema.KIND;
import static io.otlp4j.wire.WireReader.pos;
import static io.otlp4j.wire.WireReader.readLength;
import static io.otlp4j.wire.WireReader.readTag;
import static io.otlp4j.wire.WireReader.skipValue;
import static io.otlp4j.wire.WireReader.value;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A read-only cursor over one element of an encoded OTLP request, which {@link RequestEditor} moves
 * from element to element and hands to the {@link EditPolicy}: a resource, a scope, a span, a span
 * event, a span link, a metric, a data point (of any kind) or a log record. Its accessors read the
 * fields straight from the request's bytes, without allocating: strings come back as {@link
 * TextView}s, values as {@link ValueView}s, both reused. The first scalar accessor indexes the
 * element's fields in one pass.
 *
 * <p>Every accessor may be called on any kind; a field the kind does not have reads as absent
 * (empty text, 0). Where a field arrived more than once, the last one counts, as in protobuf; where
 * a resource or scope message arrived more than once in its {@code Resource*} / {@code Scope*}, the
 * view covers all of them, merged as protobuf merges them.
 *
 * <p>{@link #parent()} is the enclosing element, positioned at it while its children are visited: a
 * span's, metric's or log record's scope, a scope's resource, an event's or link's span, a data
 * point's metric.
 *
 * <p>A view, and whatever it returns, is valid only during the callback it is passed to. Not
 * thread-safe. Malformed bytes inside the element (possible only when the editor does not validate
 * first) throw {@link WireFormatException}.
 */
public final class ElementView {
  /** What an element is. */
  public enum Kind {
    RESOURCE,
    SCOPE,
    SPAN,
    SPAN_EVENT,
    SPAN_LINK,
    METRIC,
    DATA_POINT,
    LOG_RECORD
  }

  /**
   * A metric's data kind (the member of its {@code data} oneof), and so the kind of its data
   * points.
   */
  public enum MetricType {
    NONE,
    GAUGE,
    SUM,
    HISTOGRAM,
    EXPONENTIAL_HISTOGRAM,
    SUMMARY
  }

  private static final int[] METRIC_DATA_FIELDS = {5, 7, 9, 10, 11};

  ByteBuffer b;
  int base;
  Kind kind;

  /**
   * {@code b}'s bytes for unchecked reads ({@link ByteAccess}: index {@code p} of {@code b} at
   * {@code memOffset + p}), or null when they cannot be read that way; set per edit by the editor.
   */
  private ByteAccess.Input memory;

  /** The buffer {@link #memory} reads; it is used only while the view is on that buffer. */
  private ByteBuffer memoryOf;

  /** The OtlpSchema message type. */
  private int type;

  int attributeField;
  private final ElementView parent;
  private MetricType metricType = MetricType.NONE;
  int[] segments = new int[2];
  int segmentCount;

  /**
   * A {@code Resource*} / {@code Scope*} whose resource / scope occurrences are not looked for yet,
   * or -1.
   */
  private int entryStart = -1;

  private int entryEnd;
  private boolean indexed;
  private final int[] valueAt = new int[FIELDS];
  private final AttributeList attributes = new AttributeList();
  private boolean attributesLoaded;
  private final TextView name = new TextView();
  private final TextView version = new TextView();
  private final TextView severityText = new TextView();
  private final ValueView attribute = new ValueView();
  private final ValueView body = new ValueView();
  private final TextView probe = new TextView();
  private final TextView traceState = new TextView();

  /** A span's new {@code trace_state} ({@link #replaceTraceState}), or null. */
  private byte[] traceStateReplacement;

  private int traceStateReplacementLength = -1;

  ElementView(ElementView parent) {
    this.parent = parent;
  }

  /** Points the view at a new element with no segments yet. */
  void reset(ByteBuffer b, int base, Kind kind, int type, int attributeField) {
    this.b = b;
    this.base = base;
    this.kind = kind;
    this.type = type;
    this.attributeField = attributeField;
    this.segmentCount = 0;
    this.entryStart = -1;
    this.indexed = false;
    this.traceStateReplacement = null;
    this.traceStateReplacementLength = -1;
    if (attributesLoaded) {
      attributes.reset();
      attributesLoaded = false;
    }
  }

  /**
   * {@code b}'s bytes for unchecked reads (see {@link #memory}), or null; kept across resets, used
   * only while the view is on {@code b}.
   */
  void memory(ByteBuffer b, ByteAccess.Input memory) {
    this.memoryOf = b;
    this.memory = memory;
  }

  void addSegment(int start, int end) {
    if (2 * segmentCount + 2 > segments.length) {
      segments = Arrays.copyOf(segments, segments.length * 2);
    }
    segments[2 * segmentCount] = start;
    segments[2 * segmentCount + 1] = end;
    segmentCount++;
  }

  /**
   * Points a resource or scope view at the {@code Resource*} / {@code Scope*} whose content is
   * {@code [start, end)}: its segments, the occurrences of field 1, are found when first needed.
   */
  void entry(int start, int end) {
    entryStart = start;
    entryEnd = end;
  }

  private void resolve() {
    if (entryStart < 0) {
      return;
    }
    int p = entryStart;
    int end = entryEnd;
    entryStart = -1;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int t = value(r);
      int valueStart = p;
      p = skipValue(b, t & 7, fieldStart, p, end, base);
      if (t == ((1 << 3) | 2)) {
        addSegment(pos(readLength(b, valueStart, end, base)), p);
      }
    }
  }

  void metricType(MetricType type) {
    this.metricType = type;
  }

  /** Whether the policy replaced a span's {@code trace_state}. */
  boolean traceStateReplaced() {
    return traceStateReplacementLength >= 0;
  }

  byte[] traceStateReplacement() {
    return traceStateReplacement;
  }

  int traceStateReplacementLength() {
    return traceStateReplacementLength;
  }

  /** Whether the policy changed the attribute list. */
  boolean attributesModified() {
    return attributesLoaded && attributes.isModified();
  }

  AttributeList loadedAttributes() {
    return attributes;
  }

  public Kind kind() {
    return kind;
  }

  /** The enclosing element (see the class comment); null for a resource. */
  public ElementView parent() {
    return parent;
  }

  /** Whether a resource or scope message was present (always true for the other kinds). */
  public boolean isPresent() {
    resolve();
    return segmentCount > 0;
  }

  /**
   * The attributes as an editable list (a resource's, scope's, span's, event's, link's, data
   * point's or log record's attributes; a metric's {@code metadata}). Changing the list replaces
   * the element's attributes in the edited request; a list that is only read changes nothing.
   */
  public AttributeList attributes() {
    if (!attributesLoaded) {
      resolve();
      attributes.load(b, base, segments, segmentCount, attributeField);
      attributesLoaded = true;
    }
    return attributes;
  }

  /**
   * The value of the first attribute (as the element arrived) named {@code keyUtf8}; {@link
   * ValueView.Type#ABSENT} if none.
   */
  public ValueView attribute(byte[] keyUtf8) {
    return attribute(keyUtf8, attribute);
  }

  /** As {@link #attribute(byte[])}, into a view the caller owns. */
  public ValueView attribute(byte[] keyUtf8, ValueView into) {
    resolve();
    if (memory != null && onMemory()) {
      long found =
          AttributeFinder.find(
              memory.base(), memory.offset(), segments, segmentCount, attributeField, keyUtf8);
      if (found == AttributeFinder.ABSENT) {
        return into.absent();
      }
      if (found >= 0) { // else an unusual layout: read again with every check below
        int keyEnd = pos(found) + keyUtf8.length;
        int kvEnd = value(found);
        return into.set(b, WireReader.simpleValueStart(b, keyEnd, kvEnd), kvEnd, base);
      }
    }
    int tag = (attributeField << 3) | 2;
    for (int s = 0; s < segmentCount; s++) {
      int p = segments[2 * s];
      int end = segments[2 * s + 1];
      while (p < end) {
        int fieldStart = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int t = value(r);
        int valueStart = p;
        p = skipValue(b, t & 7, fieldStart, p, end, base);
        if (t == tag) {
          int kv = pos(readLength(b, valueStart, end, base));
          // The usual layout (key, then value) is read in a few bytes, the key compared by length
          // first; any other goes through the field loop.
          long key = WireReader.simpleKey(b, kv, p);
          if (key >= 0) {
            int keyStart = pos(key);
            int keyLength = value(key);
            if (keyLength == keyUtf8.length
                && WireReader.bytesEqual(b, keyStart, keyLength, keyUtf8)) {
              return into.set(b, WireReader.simpleValueStart(b, keyStart + keyLength, p), p, base);
            }
          } else if (keyValueMatches(kv, p, keyUtf8, into)) {
            return into;
          }
        }
      }
    }
    return into.absent();
  }

  /** Whether {@link #memory} is {@code b}'s (identity: the same buffer, not equal content). */
  @SuppressWarnings("ReferenceEquality")
  private boolean onMemory() {
    return memoryOf == b;
  }

  /**
   * Whether the KeyValue {@code [start, end)} has the key; if so {@code into} is set to its value.
   */
  private boolean keyValueMatches(int start, int end, byte[] key, ValueView into) {
    probe.absent();
    int valueStart = -1;
    int valueEnd = -1;
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int t = value(r);
      int vs = p;
      p = skipValue(b, t & 7, fieldStart, p, end, base);
      if (t == ((1 << 3) | 2)) {
        long lr = readLength(b, vs, end, base);
        probe.set(b, pos(lr), value(lr));
      } else if (t == ((2 << 3) | 2)) {
        long lr = readLength(b, vs, end, base);
        valueStart = pos(lr);
        valueEnd = p;
      }
    }
    if (!probe.contentEquals(key)) {
      return false;
    }
    if (valueStart < 0) {
      into.set(b, end, end, base);
    } else {
      into.set(b, valueStart, valueEnd, base);
    }
    return true;
  }

  /**
   * Whether any data point of a metric has an attribute named {@code keyUtf8} (the Collector
   * filter's {@code HasAttrKeyOnDatapoint}) and, when {@code stringValueUtf8} is not null, that
   * attribute's value is that string ({@code HasAttrOnDatapoint}); false for other kinds. Only the
   * metric's data member that protobuf keeps (the last one to arrive) counts. Reads the points
   * where they lie and allocates nothing.
   */
  public boolean anyDataPointHasAttribute(byte[] keyUtf8, byte[] stringValueUtf8) {
    if (kind != Kind.METRIC) {
      return false;
    }
    index();
    int last = -1;
    int dataField = 0;
    for (int f : METRIC_DATA_FIELDS) {
      if (valueAt[f] > last) {
        last = valueAt[f];
        dataField = f;
      }
    }
    if (dataField == 0) {
      return false;
    }
    int containerTag = (dataField << 3) | 2;
    int pointAttributeTag = ((dataField == 9 ? 9 : dataField == 10 ? 1 : 7) << 3) | 2;
    for (int s = 0; s < segmentCount; s++) {
      int p = segments[2 * s];
      int end = segments[2 * s + 1];
      while (p < end) {
        int fieldStart = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int t = value(r);
        int valueStart = p;
        p = skipValue(b, t & 7, fieldStart, p, end, base);
        if (t == containerTag
            && pointsHaveAttribute(
                pos(readLength(b, valueStart, end, base)),
                p,
                pointAttributeTag,
                keyUtf8,
                stringValueUtf8)) {
          return true;
        }
      }
    }
    return false;
  }

  /** The data points in the container {@code [start, end)}: whether one has the attribute. */
  private boolean pointsHaveAttribute(
      int start, int end, int attributeTag, byte[] key, byte[] stringValue) {
    int p = start;
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int t = value(r);
      int valueStart = p;
      p = skipValue(b, t & 7, fieldStart, p, end, base);
      if (t != ((1 << 3) | 2)) {
        continue;
      }
      int q = pos(readLength(b, valueStart, p, base));
      int pointEnd = p;
      while (q < pointEnd) {
        int fs = q;
        long rr = readTag(b, q, pointEnd, base);
        q = pos(rr);
        int tt = value(rr);
        int vs = q;
        q = skipValue(b, tt & 7, fs, q, pointEnd, base);
        if (tt == attributeTag
            && keyValueMatches(pos(readLength(b, vs, pointEnd, base)), q, key, attribute)
            && (stringValue == null
                || (attribute.type() == ValueView.Type.STRING
                    && attribute.stringValue().contentEquals(stringValue)))) {
          return true;
        }
      }
    }
    return false;
  }

  /** A scope's, span's, event's or metric's name; a log record's {@code event_name}. */
  public TextView name() {
    return switch (kind) {
      case SCOPE, METRIC -> string(1, name);
      case SPAN -> string(5, name);
      case SPAN_EVENT -> string(2, name);
      case LOG_RECORD -> string(12, name);
      default -> name.absent();
    };
  }

  /** A span's W3C {@code trace_state} as it arrived (absent for other kinds). */
  public TextView traceState() {
    return kind == Kind.SPAN ? string(3, traceState) : traceState.absent();
  }

  /**
   * Replaces a span's {@code trace_state} in the edited request with the UTF-8 bytes {@code utf8[0,
   * length)}: every {@code trace_state} field the span arrived with is left out, and one with the
   * new value takes the place of the first (or comes last when there was none); an empty value is
   * left out altogether, as protobuf leaves out an empty string. The editor copies the bytes when
   * the policy's callback returns, before it visits the next element, so the caller may reuse the
   * array afterwards: replacing allocates nothing. The last call for a span counts.
   *
   * @throws IllegalStateException when the element is not a span
   * @throws IndexOutOfBoundsException when {@code length} is outside {@code utf8}
   */
  public void replaceTraceState(byte[] utf8, int length) {
    if (kind != Kind.SPAN) {
      throw new IllegalStateException("only a span has a trace_state, not a " + kind);
    }
    if (length < 0 || length > utf8.length) {
      throw new IndexOutOfBoundsException("length " + length + " of " + utf8.length);
    }
    traceStateReplacement = utf8;
    traceStateReplacementLength = length;
  }

  /** A scope's version. */
  public TextView version() {
    return kind == Kind.SCOPE ? string(2, version) : version.absent();
  }

  /** A span's kind (the {@code SpanKind} number), else 0. */
  public int spanKind() {
    return kind == Kind.SPAN ? (int) varint(6) : 0;
  }

  /** A span's status code (the {@code Status.StatusCode} number), else 0. */
  public int statusCode() {
    if (kind != Kind.SPAN) {
      return 0;
    }
    int code = 0;
    int p = segments[0];
    int end = segments[1];
    while (p < end) {
      int fieldStart = p;
      long r = readTag(b, p, end, base);
      p = pos(r);
      int t = value(r);
      int valueStart = p;
      p = skipValue(b, t & 7, fieldStart, p, end, base);
      if (t == ((15 << 3) | 2)) { // Status messages merge: the last code in any of them wins
        long lr = readLength(b, valueStart, end, base);
        int q = pos(lr);
        while (q < p) {
          int fs = q;
          long rr = readTag(b, q, p, base);
          q = pos(rr);
          int tt = value(rr);
          int vs = q;
          q = skipValue(b, tt & 7, fs, q, p, base);
          if (tt == (3 << 3)) {
            code = (int) ValueView.readVarint64(b, vs);
          }
        }
      }
    }
    return code;
  }

  /** A span's or data point's start time, else 0. */
  public long startTimeUnixNano() {
    return switch (kind) {
      case SPAN -> fixed64(7);
      case DATA_POINT -> fixed64(2);
      default -> 0;
    };
  }

  /** A span's end time, else 0. */
  public long endTimeUnixNano() {
    return kind == Kind.SPAN ? fixed64(8) : 0;
  }

  /** An event's, data point's or log record's time, else 0. */
  public long timeUnixNano() {
    return switch (kind) {
      case SPAN_EVENT, LOG_RECORD -> fixed64(1);
      case DATA_POINT -> fixed64(3);
      default -> 0;
    };
  }

  /** A log record's observed time, else 0. */
  public long observedTimeUnixNano() {
    return kind == Kind.LOG_RECORD ? fixed64(11) : 0;
  }

  /** A log record's severity number, else 0. */
  public int severityNumber() {
    return kind == Kind.LOG_RECORD ? (int) varint(2) : 0;
  }

  /** A log record's severity text. */
  public TextView severityText() {
    return kind == Kind.LOG_RECORD ? string(3, severityText) : severityText.absent();
  }

  /** A log record's body; {@link ValueView.Type#ABSENT} if it has none. */
  public ValueView body() {
    if (kind != Kind.LOG_RECORD) {
      return body.absent();
    }
    int at = at(5);
    if (at < 0) {
      return body.absent();
    }
    long lr = readLength(b, at, b.limit(), base);
    return body.set(b, pos(lr), pos(lr) + value(lr), base);
  }

  /** Whether a span, link or log record has a 16-byte trace id. */
  public boolean hasTraceId() {
    return traceIdAt() >= 0;
  }

  /** The first 8 bytes of the trace id, big-endian (0 without one). */
  public long traceIdHigh() {
    int p = traceIdAt();
    return p < 0 ? 0 : bigEndian(p);
  }

  /** The last 8 bytes of the trace id, big-endian (0 without one). */
  public long traceIdLow() {
    int p = traceIdAt();
    return p < 0 ? 0 : bigEndian(p + 8);
  }

  /** A metric's type, or a data point's (its metric's); {@link MetricType#NONE} for others. */
  public MetricType metricType() {
    if (kind == Kind.DATA_POINT) {
      return metricType;
    }
    if (kind != Kind.METRIC) {
      return MetricType.NONE;
    }
    index();
    // The oneof: the member that arrived last wins.
    int last = -1;
    int field = 0;
    for (int f : METRIC_DATA_FIELDS) {
      if (valueAt[f] > last) {
        last = valueAt[f];
        field = f;
      }
    }
    return metricTypeOf(field);
  }

  static MetricType metricTypeOf(int field) {
    return switch (field) {
      case 5 -> MetricType.GAUGE;
      case 7 -> MetricType.SUM;
      case 9 -> MetricType.HISTOGRAM;
      case 10 -> MetricType.EXPONENTIAL_HISTOGRAM;
      case 11 -> MetricType.SUMMARY;
      default -> MetricType.NONE;
    };
  }

  private int traceIdAt() {
    int field =
        switch (kind) {
          case SPAN, SPAN_LINK -> 1;
          case LOG_RECORD -> 9;
          default -> 0;
        };
    if (field == 0) {
      return -1;
    }
    int at = at(field);
    if (at < 0) {
      return -1;
    }
    long lr = readLength(b, at, b.limit(), base);
    return value(lr) == 16 ? pos(lr) : -1;
  }

  private long bigEndian(int p) {
    long x = b.getLong(p);
    return b.order() == java.nio.ByteOrder.BIG_ENDIAN ? x : Long.reverseBytes(x);
  }

  private TextView string(int field, TextView into) {
    int at = at(field);
    if (at < 0) {
      return into.absent();
    }
    long lr = readLength(b, at, b.limit(), base);
    return into.set(b, pos(lr), value(lr));
  }

  private long fixed64(int field) {
    int at = at(field);
    return at < 0 ? 0 : ValueView.fixed64(b, at);
  }

  private long varint(int field) {
    int at = at(field);
    return at < 0 ? 0 : ValueView.readVarint64(b, at);
  }

  /**
   * Where the value (after the tag) of the last occurrence of {@code field} with its declared wire
   * type is, or -1.
   */
  private int at(int field) {
    index();
    return valueAt[field];
  }

  private void index() {
    if (indexed) {
      return;
    }
    resolve();
    Arrays.fill(valueAt, -1);
    for (int s = 0; s < segmentCount; s++) {
      int p = segments[2 * s];
      int end = segments[2 * s + 1];
      while (p < end) {
        int fieldStart = p;
        long r = readTag(b, p, end, base);
        p = pos(r);
        int t = value(r);
        int valueStart = p;
        p = skipValue(b, t & 7, fieldStart, p, end, base);
        int field = t >>> 3;
        if (field < FIELDS && (t & 7) == wireType(KIND[type * FIELDS + field])) {
          valueAt[field] = valueStart;
        }
      }
    }
    indexed = true;
  }

  private static int wireType(byte kind) {
    return switch (kind) {
      case OtlpSchema.VARINT -> WireReader.VARINT;
      case OtlpSchema.FIXED64 -> WireReader.FIXED64;
      case OtlpSchema.FIXED32 -> WireReader.FIXED32;
      case OtlpSchema.UNKNOWN, OtlpSchema.REPEATED_FIXED64, OtlpSchema.REPEATED_VARINT -> -1;
      default -> WireReader.LENGTH_DELIMITED;
    };
  }

  @Override
  public String toString() {
    return "ElementView[" + kind + "]";
  }
}
