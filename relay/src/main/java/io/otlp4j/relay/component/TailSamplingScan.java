package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.WireFormatException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One pass over an encoded {@code ExportTraceServiceRequest} that groups its spans by trace without
 * decoding them: for each trace within each {@code ResourceSpans}, a {@link Group} with the byte
 * ranges of the resource's fields, the scopes' fields and the spans (adjacent spans merged into one
 * range), plus what the policies need (span count, start/end times, status codes seen, the
 * attribute policies' match bits).
 *
 * <p>Offsets are relative to the request's reader index, so they hold for a copy of the request
 * that starts at index 0. The request is read with absolute gets only; the scan keeps no reference
 * to it. One thread, one request.
 */
final class TailSamplingScan {
  private final TailSamplingPolicy.Attribute[] attributes;
  private final boolean keepTimes;
  private ByteBuf buf;
  private int base;
  private int pos;
  final List<Group> groups = new ArrayList<>();
  private final List<int[]> rsFields = new ArrayList<>();
  private final List<List<int[]>> scopeFields = new ArrayList<>();
  private final Map<Long, Group> byTrace = new HashMap<>();
  private Group lastGroup;
  // the span being read
  private long hi;
  private long lo;
  private long start;
  private long end;
  private int status;
  private long spanBits;
  // the element (resource or span) whose attributes are being read
  private long elementBits;
  private long elementSeen;
  // the AnyValue being read
  private int valueType;
  private int valueOff;
  private int valueLen;
  private long valueNumber;

  TailSamplingScan(TailSamplingPolicy.Attribute[] attributes, boolean keepTimes) {
    this.attributes = attributes;
    this.keepTimes = keepTimes;
  }

  /** The spans of one trace in one {@code ResourceSpans}. */
  static final class Group {
    final long hi;
    final long lo;
    final int rs;
    int spans;
    int statusMask;
    long matched;
    long minStart;
    long maxEnd;
    long[] times; // start, end of each span in order (latency policies only)
    // (scope index, first range, range count) per scope, and (offset, length) ranges
    int[] scopes = new int[6];
    int scopeCount;
    int[] ranges = new int[8];
    int rangeInts;

    Group(long hi, long lo, int rs, boolean keepTimes) {
      this.hi = hi;
      this.lo = lo;
      this.rs = rs;
      this.times = keepTimes ? new long[8] : null;
    }

    void add(int scope, int off, int len, long start, long end) {
      if (scopeCount == 0 || scopes[(scopeCount - 1) * 3] != scope) {
        if ((scopeCount + 1) * 3 > scopes.length) {
          scopes = Arrays.copyOf(scopes, scopes.length * 2);
        }
        scopes[scopeCount * 3] = scope;
        scopes[scopeCount * 3 + 1] = rangeInts;
        scopes[scopeCount * 3 + 2] = 0;
        scopeCount++;
      }
      int s = (scopeCount - 1) * 3;
      if (scopes[s + 2] > 0 && ranges[rangeInts - 2] + ranges[rangeInts - 1] == off) {
        ranges[rangeInts - 1] += len; // adjacent to the previous span of the trace: one range
      } else {
        if (rangeInts + 2 > ranges.length) {
          ranges = Arrays.copyOf(ranges, ranges.length * 2);
        }
        ranges[rangeInts++] = off;
        ranges[rangeInts++] = len;
        scopes[s + 2]++;
      }
      if (times != null) {
        if (spans * 2 + 2 > times.length) {
          times = Arrays.copyOf(times, times.length * 2);
        }
        times[spans * 2] = start;
        times[spans * 2 + 1] = end;
      }
      if (spans == 0) {
        minStart = start;
        maxEnd = end;
      } else {
        minStart = Math.min(minStart, start);
        maxEnd = Math.max(maxEnd, end);
      }
      spans++;
    }
  }

  /**
   * Scans {@code request} (not retained, not released).
   *
   * @throws WireFormatException when the request is malformed
   */
  void scan(ByteBuf request) {
    buf = request;
    base = request.readerIndex();
    int limit = request.writerIndex();
    pos = base;
    try {
      while (pos < limit) {
        int tag = tag(limit);
        if (tag == (1 << 3 | 2)) {
          int len = length(limit);
          int end = pos + len;
          resourceSpans(pos, end); // moves pos (to end)
          pos = end;
        } else {
          skip(tag, limit);
        }
      }
    } finally {
      buf = null;
    }
  }

  /**
   * The layout of {@code g} for {@link #encodedSize} and {@link #write}: {@code [rsRanges, (off,
   * len)..., scopes, {scopeRanges, (off, len)..., spanRanges, (off, len)...}...]}.
   */
  int[] layout(Group g) {
    int[] rsf = rsFields.get(g.rs);
    List<int[]> scopes = scopeFields.get(g.rs);
    int n = 1 + rsf.length + 1;
    for (int i = 0; i < g.scopeCount; i++) {
      n += 1 + scopes.get(g.scopes[i * 3]).length + 1 + g.scopes[i * 3 + 2] * 2;
    }
    int[] out = new int[n];
    int p = 0;
    out[p++] = rsf.length / 2;
    System.arraycopy(rsf, 0, out, p, rsf.length);
    p += rsf.length;
    out[p++] = g.scopeCount;
    for (int i = 0; i < g.scopeCount; i++) {
      int[] sf = scopes.get(g.scopes[i * 3]);
      out[p++] = sf.length / 2;
      System.arraycopy(sf, 0, out, p, sf.length);
      p += sf.length;
      int count = g.scopes[i * 3 + 2];
      out[p++] = count;
      System.arraycopy(g.ranges, g.scopes[i * 3 + 1], out, p, count * 2);
      p += count * 2;
    }
    return out;
  }

  /** The size of the {@code resource_spans} field (tag included) that {@code layout} encodes. */
  static int encodedSize(int[] layout) {
    int rs = rsContentSize(layout);
    return 1 + varintSize(rs) + rs;
  }

  /** The number of {@code ScopeSpans} in {@code layout}. */
  static int scopeCount(int[] layout) {
    return layout[1 + layout[0] * 2];
  }

  private static int rsContentSize(int[] layout) {
    int p = 0;
    int size = 0;
    int n = layout[p++];
    for (int i = 0; i < n; i++, p += 2) {
      size += layout[p + 1];
    }
    int scopes = layout[p++];
    for (int s = 0; s < scopes; s++) {
      int scope = 0;
      for (int k = 0; k < 2; k++) {
        int m = layout[p++];
        for (int i = 0; i < m; i++, p += 2) {
          scope += layout[p + 1];
        }
      }
      size += 1 + varintSize(scope) + scope;
    }
    return size;
  }

  /**
   * Writes the {@code resource_spans} field that {@code layout} describes, its bytes taken from
   * {@code source} (offsets from index 0), to {@code out}. Neither buffer changes owner.
   */
  static void write(int[] layout, ByteBuf source, ByteBuf out) {
    out.writeByte(1 << 3 | 2);
    writeVarint(out, rsContentSize(layout));
    int p = 0;
    int n = layout[p++];
    for (int i = 0; i < n; i++, p += 2) {
      out.writeBytes(source, layout[p], layout[p + 1]);
    }
    int scopes = layout[p++];
    for (int s = 0; s < scopes; s++) {
      int q = p;
      int scope = 0;
      for (int k = 0; k < 2; k++) {
        int m = layout[q++];
        for (int i = 0; i < m; i++, q += 2) {
          scope += layout[q + 1];
        }
      }
      out.writeByte(2 << 3 | 2);
      writeVarint(out, scope);
      for (int k = 0; k < 2; k++) {
        int m = layout[p++];
        for (int i = 0; i < m; i++, p += 2) {
          out.writeBytes(source, layout[p], layout[p + 1]);
        }
      }
    }
  }

  static int varintSize(int v) {
    return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
  }

  private static void writeVarint(ByteBuf out, int v) {
    while ((v & ~0x7F) != 0) {
      out.writeByte((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.writeByte(v);
  }

  // ------------------------------------------------------------------------------------ reading

  private void resourceSpans(int from, int limit) {
    int rs = rsFields.size();
    List<int[]> scopes = new ArrayList<>();
    int[] fields = new int[4];
    int nFields = 0;
    long resourceBits = 0;
    int groupsBefore = groups.size();
    byTrace.clear();
    lastGroup = null;
    pos = from;
    while (pos < limit) {
      int fieldStart = pos;
      int tag = tag(limit);
      if (tag == (2 << 3 | 2)) {
        int len = length(limit);
        int end = pos + len;
        scopeSpans(pos, end, rs, scopes);
        pos = end;
        continue;
      }
      if (tag == (1 << 3 | 2)) {
        int len = length(limit);
        int end = pos + len;
        resourceBits |= attributesOf(pos, end, 1, false);
        pos = end;
      } else {
        skip(tag, limit);
      }
      if (nFields + 2 > fields.length) {
        fields = Arrays.copyOf(fields, fields.length * 2);
      }
      fields[nFields++] = fieldStart - base;
      fields[nFields++] = pos - fieldStart;
    }
    rsFields.add(Arrays.copyOf(fields, nFields));
    scopeFields.add(scopes);
    if (resourceBits != 0) {
      for (int i = groupsBefore; i < groups.size(); i++) {
        groups.get(i).matched |= resourceBits;
      }
    }
  }

  private void scopeSpans(int from, int limit, int rs, List<int[]> scopes) {
    int scope = scopes.size();
    scopes.add(null); // its fields, known at the end
    int[] fields = new int[4];
    int nFields = 0;
    pos = from;
    while (pos < limit) {
      int fieldStart = pos;
      int tag = tag(limit);
      if (tag == (2 << 3 | 2)) {
        int len = length(limit);
        int stop = pos + len;
        span(pos, stop);
        pos = stop;
        Group g = group(rs);
        g.add(scope, fieldStart - base, stop - fieldStart, start, this.end);
        g.statusMask |= status < 3 ? 1 << status : 0;
        g.matched |= spanBits;
        continue;
      }
      skip(tag, limit);
      if (nFields + 2 > fields.length) {
        fields = Arrays.copyOf(fields, fields.length * 2);
      }
      fields[nFields++] = fieldStart - base;
      fields[nFields++] = pos - fieldStart;
    }
    scopes.set(scope, Arrays.copyOf(fields, nFields));
  }

  private Group group(int rs) {
    Group g = lastGroup;
    if (g != null && g.hi == hi && g.lo == lo) {
      return g;
    }
    Long key = hi * 31 + lo;
    g = byTrace.get(key);
    while (g != null && (g.hi != hi || g.lo != lo)) {
      key = key + 1; // a collision of the folded key: probe the next one
      g = byTrace.get(key);
    }
    if (g == null) {
      g = new Group(hi, lo, rs, keepTimes);
      byTrace.put(key, g);
      groups.add(g);
    }
    lastGroup = g;
    return g;
  }

  private void span(int from, int limit) {
    hi = 0;
    lo = 0;
    start = 0;
    end = 0;
    status = 0;
    spanBits = 0;
    elementBits = 0;
    elementSeen = 0;
    pos = from;
    while (pos < limit) {
      int tag = tag(limit);
      switch (tag) {
        case 1 << 3 | 2 -> {
          int len = length(limit);
          if (len == 16) {
            hi = buf.getLong(pos);
            lo = buf.getLong(pos + 8);
          } else if (len == 0) {
            hi = 0;
            lo = 0;
          } else {
            throw new WireFormatException(pos - base, "a span's trace_id must be 16 bytes");
          }
          pos += len;
        }
        case 7 << 3 | 1 -> {
          start = fixed64(limit);
        }
        case 8 << 3 | 1 -> {
          end = fixed64(limit);
        }
        case 9 << 3 | 2 -> {
          int len = length(limit);
          int e = pos + len;
          keyValue(pos, e, true);
          pos = e;
        }
        case 15 << 3 | 2 -> {
          int len = length(limit);
          int e = pos + len;
          while (pos < e) {
            int t = tag(e);
            if (t == (3 << 3)) {
              status = (int) varint(e);
            } else {
              skip(t, e);
            }
          }
        }
        default -> skip(tag, limit);
      }
    }
    spanBits = elementBits;
  }

  /** The match bits of the attributes in a Resource (field {@code field} holds them). */
  private long attributesOf(int from, int limit, int field, boolean onSpan) {
    elementBits = 0;
    elementSeen = 0;
    pos = from;
    while (pos < limit) {
      int tag = tag(limit);
      if (tag == (field << 3 | 2)) {
        int len = length(limit);
        int e = pos + len;
        keyValue(pos, e, onSpan);
        pos = e;
      } else {
        skip(tag, limit);
      }
    }
    return elementBits;
  }

  /**
   * One KeyValue: sets {@link #elementBits} for the attribute policies whose key it is (the first
   * occurrence of a key counts, as pdata's {@code Get}; {@link #elementSeen} marks the keys seen)
   * and whose value matches. Leaves {@code pos} anywhere.
   */
  private void keyValue(int from, int limit, boolean onSpan) {
    if (attributes.length == 0) {
      return;
    }
    int keyOff = -1;
    int keyLen = 0;
    int valOff = -1;
    int valEnd = -1;
    pos = from;
    while (pos < limit) {
      int tag = tag(limit);
      if (tag == (1 << 3 | 2)) {
        keyLen = length(limit);
        keyOff = pos;
        pos += keyLen;
      } else if (tag == (2 << 3 | 2)) {
        int len = length(limit);
        valOff = pos;
        valEnd = pos + len;
        pos = valEnd;
      } else {
        skip(tag, limit);
      }
    }
    boolean valueRead = false;
    for (int i = 0; i < attributes.length; i++) {
      TailSamplingPolicy.Attribute a = attributes[i];
      long bit = a.bit;
      byte[] key = a.matcher.key;
      if ((elementSeen & bit) != 0
          || key.length != (keyOff < 0 ? 0 : keyLen)
          || (keyOff >= 0 && !TailSamplingMatcher.equalBytes(buf, keyOff, key))) {
        continue;
      }
      elementSeen |= bit;
      if (!valueRead) {
        anyValue(valOff, valEnd);
        valueRead = true;
      }
      if (a.matcher.matches(buf, valueType, valueOff, valueLen, valueNumber, onSpan)) {
        elementBits |= bit;
      }
    }
  }

  private void anyValue(int from, int limit) {
    valueType = TailSamplingMatcher.EMPTY;
    valueOff = 0;
    valueLen = 0;
    valueNumber = 0;
    if (from < 0) {
      return;
    }
    pos = from;
    while (pos < limit) {
      int tag = tag(limit);
      int field = tag >>> 3;
      if (field == 1 && (tag & 7) == 2) {
        valueType = TailSamplingMatcher.STRING;
        valueLen = length(limit);
        valueOff = pos;
        pos += valueLen;
      } else if ((field == 2 || field == 3) && (tag & 7) == 0) {
        valueType = field;
        valueNumber = varint(limit);
      } else if (field >= 1 && field <= 7) {
        valueType = field; // another type: reads as "", 0 or false
        skip(tag, limit);
      } else {
        skip(tag, limit);
      }
    }
  }

  // --------------------------------------------------------------------------- protobuf basics

  private int tag(int limit) {
    long t = varint(limit);
    if ((t >>> 3) == 0 || (t & 7) > 5 || t > 0xFFFFFFFFL) {
      throw new WireFormatException(pos - base, "invalid tag " + t);
    }
    return (int) t;
  }

  private long varint(int limit) {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= limit) {
        throw new WireFormatException(pos - base, "varint runs past the end of its message");
      }
      byte b = buf.getByte(pos++);
      result |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw new WireFormatException(pos - base, "varint longer than 10 bytes");
  }

  private int length(int limit) {
    long len = varint(limit);
    if (len < 0 || len > limit - pos) {
      throw new WireFormatException(pos - base, "length " + len + " runs past its message");
    }
    return (int) len;
  }

  private long fixed64(int limit) {
    if (limit - pos < 8) {
      throw new WireFormatException(pos - base, "fixed64 runs past its message");
    }
    long v = buf.getLongLE(pos);
    pos += 8;
    return v;
  }

  private void skip(int tag, int limit) {
    switch (tag & 7) {
      case 0 -> varint(limit);
      case 1 -> fixed(8, limit);
      case 2 -> {
        int len = length(limit);
        pos += len;
      }
      case 5 -> fixed(4, limit);
      default -> throw new WireFormatException(pos - base, "unsupported wire type " + (tag & 7));
    }
  }

  private void fixed(int n, int limit) {
    if (limit - pos < n) {
      throw new WireFormatException(pos - base, "fixed value runs past its message");
    }
    pos += n;
  }
}
