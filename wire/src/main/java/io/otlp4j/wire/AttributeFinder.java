package io.otlp4j.wire;

/**
 * {@link ElementView#attribute}'s search for an attribute by key, over unchecked reads ({@link
 * ByteAccess}) of the bytes protobuf writers produce. The checked search (through {@code
 * ByteBuffer.get}, whose index and liveness checks were half of the {@code filter} processor's time
 * in {@code ProcessorBenchmark.filter_processor}) stays as the fallback.
 *
 * <h2>Safety and exactness</h2>
 *
 * The search is optimistic: it reads only fields of the usual forms (one- or two-byte tags and
 * lengths, varints of at most ten bytes, {@code KeyValue}s as {@link WireReader#simpleKey} reads
 * them), and never at or past a bound it has checked (the end of the segment, or of the field, that
 * the byte belongs to; segments lie within the request, as the editor checked when it found them).
 * On anything else, malformed bytes included, it gives up ({@link #UNUSUAL}) and the caller reads
 * the element again with every check, and reports what is wrong. It reads the same fields in the
 * same order as the checked search, so where it answers, both answer the same. {@code
 * ElementViewTest} and {@code RequestEditorTest} compare it with protobuf-java over every layout a
 * protobuf reader accepts ({@code FieldScrambler}); {@code RequestEditorRobustnessTest} feeds it
 * mutated requests, also with checked array reads only, where an out-of-bounds read fails.
 *
 * <p>Stateless; all methods static and thread-safe.
 */
final class AttributeFinder {
  /** No attribute has the key. */
  static final long ABSENT = -1;

  /** A layout this search does not read: search again with the checked reads. */
  static final long UNUSUAL = -2;

  private AttributeFinder() {}

  /**
   * The first attribute (field {@code attributeField}, length-delimited) named {@code key} in the
   * segments {@code [segments[2i], segments[2i + 1])} of the bytes at {@code (o, off + index)}:
   * {@code (keyStart << 32) | keyValueEnd}, or {@link #ABSENT}, or {@link #UNUSUAL}.
   */
  static long find(
      Object o, long off, int[] segments, int segmentCount, int attributeField, byte[] key) {
    if (attributeField >= 16) {
      return UNUSUAL;
    }
    int tag = (attributeField << 3) | 2;
    for (int s = 0; s < segmentCount; s++) {
      int p = segments[2 * s];
      int end = segments[2 * s + 1];
      while (p < end) {
        int t = ByteAccess.get(o, off + p);
        if (t >= 0) {
          p++;
        } else {
          if (p + 1 >= end) {
            return UNUSUAL;
          }
          int t2 = ByteAccess.get(o, off + p + 1);
          if (t2 < 0) {
            return UNUSUAL;
          }
          t = (t & 0x7F) | (t2 << 7);
          p += 2;
        }
        if ((t >>> 3) == 0) {
          return UNUSUAL;
        }
        switch (t & 7) {
          case WireReader.VARINT -> {
            int limit = Math.min(end, p + 10);
            while (p < limit && ByteAccess.get(o, off + p) < 0) {
              p++;
            }
            if (p == limit) {
              return UNUSUAL;
            }
            p++;
          }
          case WireReader.FIXED64 -> p += 8;
          case WireReader.FIXED32 -> p += 4;
          case WireReader.LENGTH_DELIMITED -> {
            if (p >= end) {
              return UNUSUAL;
            }
            int length = ByteAccess.get(o, off + p);
            if (length >= 0) {
              p++;
            } else {
              if (p + 1 >= end) {
                return UNUSUAL;
              }
              int y = ByteAccess.get(o, off + p + 1);
              if (y < 0) {
                return UNUSUAL;
              }
              length = (length & 0x7F) | (y << 7);
              p += 2;
            }
            int contentStart = p;
            p += length;
            if (p > end) {
              return UNUSUAL;
            }
            if (t == tag) {
              int keyLength = simpleKeyLength(o, off, contentStart, p);
              if (keyLength < 0) {
                return UNUSUAL;
              }
              if (keyLength == key.length && keyEquals(o, off, contentStart + 2, key)) {
                return ((long) (contentStart + 2) << 32) | p;
              }
            }
          }
          default -> {
            return UNUSUAL;
          }
        }
        if (p > end) {
          return UNUSUAL;
        }
      }
    }
    return ABSENT;
  }

  /**
   * {@link WireReader#simpleKey} over unchecked reads of the {@code KeyValue} {@code [start, end)}:
   * the length of its key (which starts at {@code start + 2}), or -1 for another layout.
   */
  private static int simpleKeyLength(Object o, long off, int start, int end) {
    if (end - start < 2 || ByteAccess.get(o, off + start) != 0x0A) {
      return -1;
    }
    int length = ByteAccess.get(o, off + start + 1);
    int keyEnd = start + 2 + length;
    if (length < 0 || keyEnd > end) {
      return -1;
    }
    if (keyEnd < end) {
      if (end - keyEnd < 2 || ByteAccess.get(o, off + keyEnd) != 0x12) {
        return -1;
      }
      int x = ByteAccess.get(o, off + keyEnd + 1);
      int valueEnd;
      if (x >= 0) {
        valueEnd = keyEnd + 2 + x;
      } else {
        if (end - keyEnd < 3) {
          return -1;
        }
        int y = ByteAccess.get(o, off + keyEnd + 2);
        if (y < 0) {
          return -1;
        }
        valueEnd = keyEnd + 3 + ((x & 0x7F) | (y << 7));
      }
      if (valueEnd != end) {
        return -1;
      }
    }
    return length;
  }

  /** Whether the {@code key.length} bytes at {@code p} (checked to lie in the field) are key's. */
  private static boolean keyEquals(Object o, long off, int p, byte[] key) {
    for (int i = 0; i < key.length; i++) {
      if (ByteAccess.get(o, off + p + i) != key[i]) {
        return false;
      }
    }
    return true;
  }
}
