package io.otlp4j.wire;

import static io.otlp4j.wire.MemoryReader.byteAt;
import static io.otlp4j.wire.MemoryReader.bytesEqual;
import static io.otlp4j.wire.MemoryReader.checkUtf8;
import static io.otlp4j.wire.MemoryReader.error;
import static io.otlp4j.wire.MemoryReader.readLength;
import static io.otlp4j.wire.MemoryReader.readTag;
import static io.otlp4j.wire.MemoryReader.skipValue;
import static io.otlp4j.wire.MemoryReader.skipVarint;
import static io.otlp4j.wire.OtlpSchema.ARRAY_VALUE;
import static io.otlp4j.wire.OtlpSchema.CHILD;
import static io.otlp4j.wire.OtlpSchema.DATA_POINT;
import static io.otlp4j.wire.OtlpSchema.FIELDS;
import static io.otlp4j.wire.OtlpSchema.ITEM;
import static io.otlp4j.wire.OtlpSchema.KEY_VALUE;
import static io.otlp4j.wire.OtlpSchema.KEY_VALUE_LIST;
import static io.otlp4j.wire.OtlpSchema.KIND;
import static io.otlp4j.wire.OtlpSchema.MESSAGE;
import static io.otlp4j.wire.OtlpSchema.METRIC_DATA;
import static io.otlp4j.wire.OtlpSchema.REPEATED_FIXED64;
import static io.otlp4j.wire.OtlpSchema.REPEATED_VARINT;
import static io.otlp4j.wire.OtlpSchema.RESOURCE;
import static io.otlp4j.wire.OtlpSchema.RESOURCE_ENTRY;
import static io.otlp4j.wire.OtlpSchema.SCOPE;
import static io.otlp4j.wire.OtlpSchema.SCOPE_ENTRY;
import static io.otlp4j.wire.OtlpSchema.STRING;
import static io.otlp4j.wire.OtlpSchema.TRACE_ID;
import static io.otlp4j.wire.OtlpSchema.UNKNOWN;
import static io.otlp4j.wire.WireReader.LENGTH_DELIMITED;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Validates and counts an encoded OTLP export request ({@code ExportTraceServiceRequest}, {@code
 * ExportMetricsServiceRequest} or {@code ExportLogsServiceRequest}) in place, without building
 * objects, and reports its structure to an {@link OtlpVisitor}.
 *
 * <h2>What is checked</h2>
 *
 * The full wire structure of every message OTLP defines, recursively: every tag (field number 0 is
 * refused; wire types 0, 1, 2 and 5 are accepted, groups (3, 4) and 6, 7 refused), varints of at
 * most ten bytes, every length within its enclosing message, packed repeated fields made of whole
 * elements ({@code HistogramDataPoint.bucket_counts} and {@code explicit_bounds}, {@code
 * Buckets.bucket_counts}; the unpacked form is accepted too, as protobuf does), proto3 {@code
 * string} fields valid UTF-8, and messages nested at most {@link #DEFAULT_MAX_DEPTH} deep (the
 * request itself is depth 0, a Resource* depth 1). Unknown fields are skipped with their structure
 * checked but their content not interpreted. A known field that arrives with another wire type than
 * its declared one is an unknown field, as in protobuf-java.
 *
 * <p>The property this buys: <em>if the walker accepts the bytes, protobuf-java's {@code
 * Export*ServiceRequest.parseFrom} accepts them too</em> ({@code RobustnessTest} checks it on over
 * 100,000 mutated requests). The walker is never more lenient; it is stricter only where
 * protobuf-java is lenient: unknown groups (parsed by protobuf-java, refused here), varint tags or
 * lengths carrying bits above 32 (truncated by protobuf-java), and some varints of more than ten
 * bytes that protobuf-java's fast path lets through. A relay that concatenates many clients'
 * requests into one upstream batch relies on this: a request that the upstream would reject is
 * refused here, on its own, instead of costing every client in the batch its data.
 *
 * <h2>Cost</h2>
 *
 * One pass over the bytes, read in place from a heap array or from direct memory through one code
 * path ({@link ByteAccess}: unchecked reads where every bound was already proven against the
 * enclosing message's end); ASCII in strings is checked eight bytes per step; a KeyValue and its
 * AnyValue (attributes, most of every request's messages) are walked in one frame. The walk
 * allocates one {@link WalkSummary} per call and a small holder for the input's address, whatever
 * the request's size (measured with {@code -prof gc}). No boxing, no per-field objects, no lambdas.
 * {@code WalkerBenchmark} measures it against {@code parseFrom} and a plain copy of the same bytes.
 *
 * <h2>Errors</h2>
 *
 * Malformed input throws {@link WireFormatException} whose offset is relative to the first byte of
 * the input. The walker never reads outside the input's readable bytes.
 *
 * <p>Immutable and thread-safe; build once and share.
 */
public final class OtlpWalker {
  /** The default limit on message nesting, below protobuf-java's 100. */
  public static final int DEFAULT_MAX_DEPTH = 64;

  /**
   * The highest nesting limit allowed: protobuf-java's own, so that walker-accepted input always
   * parses.
   */
  public static final int MAX_DEPTH_LIMIT = 100;

  private static final OtlpWalker DEFAULT = builder().build();

  /** KeyValue.key and KeyValue.value, length-delimited. */
  private static final int KEY_TAG = (1 << 3) | LENGTH_DELIMITED;

  private static final int VALUE_TAG = (2 << 3) | LENGTH_DELIMITED;

  /** AnyValue.string_value, array_value and kvlist_value, length-delimited. */
  private static final int STRING_VALUE_TAG = (1 << 3) | LENGTH_DELIMITED;

  /** AnyValue.bool_value and int_value (varints) and double_value (fixed64). */
  private static final int BOOL_VALUE_TAG = (2 << 3) | WireReader.VARINT;

  private static final int INT_VALUE_TAG = (3 << 3) | WireReader.VARINT;
  private static final int DOUBLE_VALUE_TAG = (4 << 3) | WireReader.FIXED64;

  private static final int ARRAY_VALUE_TAG = (5 << 3) | LENGTH_DELIMITED;
  private static final int KVLIST_VALUE_TAG = (6 << 3) | LENGTH_DELIMITED;

  private final int maxDepth;
  private final byte[] attributeKey;

  private OtlpWalker(Builder builder) {
    this.maxDepth = builder.maxDepth;
    this.attributeKey = builder.attributeKey;
  }

  /**
   * The walker with default settings: nesting limit {@value #DEFAULT_MAX_DEPTH}, no attribute
   * lookup.
   */
  public static OtlpWalker create() {
    return DEFAULT;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this walker's settings. */
  public Builder toBuilder() {
    Builder builder = new Builder();
    builder.maxDepth = maxDepth;
    builder.attributeKey = attributeKey;
    return builder;
  }

  /** The configured nesting limit. */
  public int maxDepth() {
    return maxDepth;
  }

  /**
   * Validates and counts the readable bytes of {@code request}.
   *
   * <p>Buffer ownership: the buffer is only read; its indexes and reference count are untouched and
   * the caller keeps ownership. A heap buffer's array and a direct buffer's memory are read in
   * place; a composite buffer of several components is copied into one temporary array first (a
   * cost proportional to its size).
   *
   * @throws WireFormatException when the bytes are not a valid request of {@code signal}
   */
  public WalkSummary walk(Signal signal, ByteBuf request) {
    return walk(signal, request, OtlpVisitor.NONE);
  }

  /** As {@link #walk(Signal, ByteBuf)}, reporting the request's structure to {@code visitor}. */
  public WalkSummary walk(Signal signal, ByteBuf request, OtlpVisitor visitor) {
    return walk(signal, ByteAccess.of(request), request.readableBytes(), visitor);
  }

  /**
   * Validates and counts the remaining bytes of {@code request} (between its position and limit),
   * reporting to {@code visitor}; the buffer's position and limit are not changed. A read-only heap
   * buffer is copied first.
   */
  public WalkSummary walk(Signal signal, ByteBuffer request, OtlpVisitor visitor) {
    return walk(signal, ByteAccess.of(request), request.remaining(), visitor);
  }

  /**
   * Validates and counts {@code request[offset, offset + length)}, reporting to {@code visitor}.
   *
   * @throws IndexOutOfBoundsException if the range is not inside {@code request}
   */
  public WalkSummary walk(
      Signal signal, byte[] request, int offset, int length, OtlpVisitor visitor) {
    Objects.checkFromIndexSize(offset, length, request.length);
    return walk(signal, ByteAccess.of(request, offset), length, visitor);
  }

  /** Validates and counts the whole of {@code request}. */
  public WalkSummary walk(Signal signal, byte[] request) {
    return walk(signal, ByteAccess.of(request, 0), request.length, OtlpVisitor.NONE);
  }

  private WalkSummary walk(Signal signal, ByteAccess.Input input, int length, OtlpVisitor visitor) {
    Objects.requireNonNull(visitor, "visitor");
    WalkSummary summary = new WalkSummary(signal, length);
    message(
        input.base(),
        input.offset(),
        visitor,
        summary,
        OtlpSchema.requestType(signal),
        0,
        length,
        0);
    return summary;
  }

  /**
   * Walks the message of {@code type} in {@code [p, end)} of the input at {@code (o, off)} (see
   * {@link ByteAccess}); returns the number of data points directly in it (non-zero only for a
   * metric data message: Gauge, Sum, ...). Every read is below {@code end}, which is at most the
   * enclosing message's end: the bound behind the unchecked reads.
   */
  private int message(
      Object o, long off, OtlpVisitor v, WalkSummary s, int type, int p, int end, int depth) {
    if (depth > maxDepth) {
      throw error(p, "messages nested deeper than " + maxDepth);
    }
    final int row = type * FIELDS;
    int points = 0;
    int liveData = 0;
    long livePoints = 0;
    boolean attributeSeen = false;
    while (p < end) {
      int tagPos = p;
      // One-byte tags (fields 1..15) inline: a byte of 8..127 is a complete tag with a non-zero
      // field.
      int tag = byteAt(o, off, p);
      if (tag >= 8) {
        p++;
      } else {
        long r = readTag(o, off, p, end);
        p = pos(r);
        tag = value(r);
      }
      int wireType = tag & 7;
      if (wireType != LENGTH_DELIMITED) {
        // Scalars of every kind, and known fields with another wire type than declared (unknown
        // fields, as in protobuf-java); unpacked repeated scalars are plain scalars too.
        p = skipScalar(o, off, wireType, tagPos, p, end);
        continue;
      }
      int field = tag >>> 3;
      // One-byte lengths (0..127) inline; longer or out-of-range ones take the checked path.
      int start;
      int stop;
      int length = p < end ? byteAt(o, off, p) : -1;
      if (length >= 0 && length < end - p) {
        start = p + 1;
        stop = start + length;
      } else {
        long lr = readLength(o, off, p, end);
        start = pos(lr);
        stop = start + value(lr);
      }
      int kind = field < FIELDS ? KIND[row + field] : UNKNOWN;
      switch (kind) {
        case STRING:
          checkUtf8(o, off, start, stop, field);
          break;
        case MESSAGE:
          {
            int child = CHILD[row + field];
            if (child != KEY_VALUE) {
              message(o, off, v, s, child, start, stop, depth + 1);
              break;
            }
            // A KeyValue, walked here rather than by a call: attributes are the most frequent
            // message of every signal, and a call per attribute cost more than its bytes (C2 does
            // not inline a separate method into this big recursive one). Exactly the checks of
            // message(KEY_VALUE): key (1) a string, value (2) an AnyValue (see anyValue); every
            // other field, and a known one with another wire type, skipped with its structure
            // checked.
            if (depth + 1 > maxDepth) {
              throw error(start, "messages nested deeper than " + maxDepth);
            }
            // The usual KeyValue, a key then a value, both of one-byte length, the value ending
            // the KeyValue, in straight-line code: exactly the reads and checks the loop below
            // makes for it, without its per-field branches. Every other shape takes the loop.
            if (stop - start >= 4 && byteAt(o, off, start) == KEY_TAG) {
              int keyLength = byteAt(o, off, start + 1);
              int valueTagAt = start + 2 + keyLength;
              if (keyLength >= 0
                  && valueTagAt + 2 <= stop
                  && byteAt(o, off, valueTagAt) == VALUE_TAG
                  && byteAt(o, off, valueTagAt + 1) == stop - valueTagAt - 2) {
                checkUtf8(o, off, start + 2, valueTagAt, 1);
                if (!scalarOrShortString(o, off, valueTagAt + 2, stop, depth)) {
                  anyValue(o, off, v, s, valueTagAt + 2, stop, depth + 2);
                }
                break;
              }
            }
            for (int q = start; q < stop; ) {
              int kvTagPos = q;
              int kvTag = byteAt(o, off, q);
              if (kvTag >= 8) {
                q++;
              } else {
                long r = readTag(o, off, q, stop);
                q = pos(r);
                kvTag = value(r);
              }
              if ((kvTag & 7) != LENGTH_DELIMITED) {
                q = skipScalar(o, off, kvTag & 7, kvTagPos, q, stop);
                continue;
              }
              int kvStart;
              int kvStop;
              int kvLength = q < stop ? byteAt(o, off, q) : -1;
              if (kvLength >= 0 && kvLength < stop - q) {
                kvStart = q + 1;
                kvStop = kvStart + kvLength;
              } else {
                long lr = readLength(o, off, q, stop);
                kvStart = pos(lr);
                kvStop = kvStart + value(lr);
              }
              if (kvTag == KEY_TAG) {
                checkUtf8(o, off, kvStart, kvStop, 1);
              } else if (kvTag == VALUE_TAG
                  && !scalarOrShortString(o, off, kvStart, kvStop, depth)) {
                anyValue(o, off, v, s, kvStart, kvStop, depth + 2);
              }
              q = kvStop;
            }
            break;
          }
        case TRACE_ID:
          v.traceId(start, stop);
          break;
        case REPEATED_FIXED64:
          if (((stop - start) & 7) != 0) {
            throw error(
                p,
                "packed fixed64 field "
                    + field
                    + " has length "
                    + (stop - start)
                    + ", not a multiple of 8");
          }
          break;
        case REPEATED_VARINT:
          for (int q = start; q < stop; ) {
            q = skipVarint(o, off, q, stop);
          }
          break;
        case RESOURCE_ENTRY:
          s.resources++;
          v.resource(start, stop);
          message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
          break;
        case RESOURCE:
          v.resourceMessage(start, stop);
          message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
          if (attributeKey != null && !attributeSeen) {
            attributeSeen = findAttribute(o, off, start, stop, v);
          }
          break;
        case SCOPE_ENTRY:
          s.scopes++;
          v.scope(start, stop);
          message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
          break;
        case SCOPE:
          v.scopeMessage(start, stop);
          message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
          break;
        case ITEM:
          s.topItems++;
          v.item(start, stop);
          message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
          break;
        case METRIC_DATA:
          {
            // A oneof: a member replaces a different earlier member, and merges with an equal one.
            int n = message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
            if (field == liveData) {
              livePoints += n;
            } else {
              liveData = field;
              livePoints = n;
            }
            break;
          }
        case DATA_POINT:
          points++;
          v.dataPoint(start, stop);
          message(o, off, v, s, CHILD[row + field], start, stop, depth + 1);
          break;
        default:
          // bytes, unknown fields, and scalars sent length-delimited (unknown): content not
          // interpreted.
          break;
      }
      p = stop;
    }
    s.dataPoints += livePoints;
    return points;
  }

  /**
   * An AnyValue in {@code [p, end)} at {@code depth}: exactly the checks of {@code
   * message(ANY_VALUE)}: its string (1) UTF-8, its array (5) and kvlist (6) walked by {@link
   * #message}, every other field skipped with its structure checked.
   */
  private void anyValue(
      Object o, long off, OtlpVisitor v, WalkSummary s, int p, int end, int depth) {
    if (depth > maxDepth) {
      throw error(p, "messages nested deeper than " + maxDepth);
    }
    while (p < end) {
      int tagPos = p;
      int tag = byteAt(o, off, p);
      if (tag >= 8) {
        p++;
      } else {
        long r = readTag(o, off, p, end);
        p = pos(r);
        tag = value(r);
      }
      if ((tag & 7) != LENGTH_DELIMITED) {
        p = skipScalar(o, off, tag & 7, tagPos, p, end);
        continue;
      }
      int start;
      int stop;
      int length = p < end ? byteAt(o, off, p) : -1;
      if (length >= 0 && length < end - p) {
        start = p + 1;
        stop = start + length;
      } else {
        long lr = readLength(o, off, p, end);
        start = pos(lr);
        stop = start + value(lr);
      }
      if (tag == STRING_VALUE_TAG) {
        checkUtf8(o, off, start, stop, 1);
      } else if (tag == ARRAY_VALUE_TAG) {
        message(o, off, v, s, ARRAY_VALUE, start, stop, depth + 1);
      } else if (tag == KVLIST_VALUE_TAG) {
        message(o, off, v, s, KEY_VALUE_LIST, start, stop, depth + 1);
      }
      p = stop;
    }
  }

  /**
   * The AnyValue of most attributes, checked without {@link #anyValue}'s loop: exactly one field, a
   * string of one-byte length (checked as UTF-8), a double, or an int or bool whose varint ends the
   * value. Returns false, having thrown nothing, for every other shape (anyValue then walks it from
   * the start); throws exactly what anyValue would for a malformed string or varint of that one
   * shape. The AnyValue is at {@code depth + 2}, so the depth limit is checked here too.
   */
  private boolean scalarOrShortString(Object o, long off, int start, int stop, int depth) {
    int n = stop - start;
    if (n < 2 || depth + 2 > maxDepth) {
      return false;
    }
    int tag = byteAt(o, off, start);
    if (tag == STRING_VALUE_TAG) {
      // A length byte equal to n - 2 (>= 0) is a one-byte length whose content ends the value.
      if (byteAt(o, off, start + 1) != n - 2) {
        return false;
      }
      checkUtf8(o, off, start + 2, stop, 1);
      return true;
    }
    if (tag == DOUBLE_VALUE_TAG) {
      return n == 9;
    }
    if (tag == INT_VALUE_TAG || tag == BOOL_VALUE_TAG) {
      return skipVarint(o, off, start + 1, stop) == stop;
    }
    return false;
  }

  /** Skips a field that is not length-delimited; the common one-byte varint and fixed64 inline. */
  private static int skipScalar(Object o, long off, int wireType, int tagPos, int p, int end) {
    if (wireType == WireReader.FIXED64 && end - p >= 8) {
      return p + 8;
    }
    if (wireType == WireReader.VARINT && p < end && byteAt(o, off, p) >= 0) {
      return p + 1;
    }
    return skipValue(o, off, wireType, tagPos, p, end);
  }

  private static int pos(long packed) {
    return (int) (packed >>> 32);
  }

  private static int value(long packed) {
    return (int) packed;
  }

  /**
   * Looks for the configured attribute key in a (valid) Resource message; reports its string value.
   * Returns whether an attribute with the key was found (the first one decides).
   */
  private boolean findAttribute(Object o, long off, int p, int end, OtlpVisitor v) {
    while (p < end) {
      long r = readTag(o, off, p, end);
      int tagPos = p;
      p = pos(r);
      int tag = value(r);
      if (tag != ((1 << 3) | LENGTH_DELIMITED)) {
        p = skipValue(o, off, tag & 7, tagPos, p, end);
        continue;
      }
      long lr = readLength(o, off, p, end);
      int start = pos(lr);
      int stop = start + value(lr);
      p = stop;
      // KeyValue: key (1) and value (2) may each repeat; the last key wins, values merge.
      boolean keyMatches = false;
      int valueCase = 0;
      int valueStart = 0;
      int valueEnd = 0;
      int q = start;
      while (q < stop) {
        long kr = readTag(o, off, q, stop);
        int kvTagPos = q;
        q = pos(kr);
        int kvTag = value(kr);
        if ((kvTag & 7) != LENGTH_DELIMITED) {
          q = skipValue(o, off, kvTag & 7, kvTagPos, q, stop);
          continue;
        }
        long klr = readLength(o, off, q, stop);
        int fieldStart = pos(klr);
        int fieldEnd = fieldStart + value(klr);
        q = fieldEnd;
        if (kvTag >>> 3 == 1) {
          keyMatches = bytesEqual(o, off, fieldStart, fieldEnd - fieldStart, attributeKey);
        } else if (kvTag >>> 3 == 2) {
          // AnyValue: the last oneof member set wins.
          int a = fieldStart;
          while (a < fieldEnd) {
            long ar = readTag(o, off, a, fieldEnd);
            int anyTagPos = a;
            a = pos(ar);
            int anyTag = value(ar);
            int anyField = anyTag >>> 3;
            int anyWire = anyTag & 7;
            int next = skipValue(o, off, anyWire, anyTagPos, a, fieldEnd);
            if (anyField >= 1 && anyField <= 8 && anyWire == expectedAnyValueWireType(anyField)) {
              valueCase = anyField;
              if (anyField == 1) {
                long slr = readLength(o, off, a, fieldEnd);
                valueStart = pos(slr);
                valueEnd = valueStart + value(slr);
              }
            }
            a = next;
          }
        }
      }
      if (keyMatches) {
        if (valueCase == 1) {
          v.resourceAttribute(valueStart, valueEnd);
        }
        return true;
      }
    }
    return false;
  }

  private static int expectedAnyValueWireType(int field) {
    switch (field) {
      case 2:
      case 3:
      case 8:
        return WireReader.VARINT;
      case 4:
        return WireReader.FIXED64;
      default:
        return LENGTH_DELIMITED;
    }
  }

  /** Configures an {@link OtlpWalker}. Not thread-safe; the walker it builds is. */
  public static final class Builder {
    private int maxDepth = DEFAULT_MAX_DEPTH;
    private byte[] attributeKey;

    private Builder() {}

    /**
     * The deepest message nesting accepted, the request being depth 0 (default {@value
     * #DEFAULT_MAX_DEPTH}); at most {@value #MAX_DEPTH_LIMIT}, protobuf-java's own limit.
     */
    public Builder maxDepth(int maxDepth) {
      if (maxDepth < 3 || maxDepth > MAX_DEPTH_LIMIT) {
        throw new IllegalArgumentException(
            "maxDepth must be between 3 and " + MAX_DEPTH_LIMIT + ", was " + maxDepth);
      }
      this.maxDepth = maxDepth;
      return this;
    }

    /**
     * The resource attribute (for example {@code service.name}) whose string value is reported
     * through {@link OtlpVisitor#resourceAttribute(int, int)} for every Resource*; {@code null} for
     * none (the default).
     */
    public Builder resourceAttributeKey(String key) {
      if (key != null && key.isEmpty()) {
        throw new IllegalArgumentException("resource attribute key must not be empty");
      }
      this.attributeKey = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    public OtlpWalker build() {
      return new OtlpWalker(this);
    }
  }
}
