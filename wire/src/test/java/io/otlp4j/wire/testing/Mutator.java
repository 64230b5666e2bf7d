package io.otlp4j.wire.testing;

import io.otlp4j.wire.ProtoWriter;
import io.otlp4j.wire.Signal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a valid encoded message, for robustness tests: whatever comes out, a decoder
 * must either accept it or refuse it with its documented exception, quickly and in bounded memory.
 *
 * <p>Each {@link #mutate(byte[])} applies one mutation (sometimes two or three stacked), chosen
 * from:
 *
 * <ul>
 *   <li>byte-level: bit flips, byte overwrites with "interesting" values (0x00, 0x7F, 0x80, 0xFF,
 *       …), truncation, insertion of random bytes, deletion of a range, duplication of a range;
 *   <li>protobuf-structure-aware (the input is scanned for fields, nested messages included): a
 *       length that lies (one more or less, doubled, zero, 0x7FFFFFFF, 0xFFFFFFFF, a 10-byte
 *       negative), an over-long varint (11 to 16 bytes) or a non-canonical padded one (still
 *       valid), a wrong wire type (0 to 7, groups and the invalid 6 and 7 included), field number
 *       zero, a field with a huge declared length and a few bytes of content, a field duplicated
 *       elsewhere, a field's content wrapped in 50 to 5,000 levels of AnyValue arrays (valid and
 *       deep where the field is an AnyValue, such as a KeyValue's value or a log body).
 * </ul>
 *
 * Structure-aware mutations fall back to byte-level ones when the input does not parse as protobuf
 * (a compressed payload, say). The input array is never modified.
 *
 * <p>{@link #deeplyNestedAnyValue(Signal, int)} builds a request whose one attribute nests AnyValue
 * arrays to any depth, beyond what recursive decoders survive.
 *
 * <p>Not thread-safe: one mutator per thread. The same seed and inputs always give the same
 * outputs.
 */
public final class Mutator {

  private static final byte[] INTERESTING = {
    0x00,
    0x01,
    0x07,
    0x08,
    0x0A,
    0x7F,
    (byte) 0x80,
    (byte) 0x81,
    (byte) 0xFE,
    (byte) 0xFF,
    0x12,
    0x22
  };

  private static final long[] LYING_LENGTHS = {
    0x7FFFFFFFL, 0xFFFFFFFFL, 0x80000000L, 0xFFFFFFF0L, -1L, Long.MAX_VALUE, 0x10000000L
  };

  private final SplittableRandom random;

  public Mutator(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** A mutated copy of {@code valid}; {@code valid} itself is left unchanged. */
  public byte[] mutate(byte[] valid) {
    int rounds = random.nextInt(10) < 8 ? 1 : 2 + random.nextInt(2);
    byte[] out = valid;
    for (int i = 0; i < rounds; i++) {
      out = mutateOnce(out);
    }
    return out == valid ? valid.clone() : out;
  }

  private byte[] mutateOnce(byte[] in) {
    int roll = random.nextInt(100);
    if (roll < 45 && in.length > 0) {
      byte[] out = structural(in, roll);
      if (out != null) {
        return out;
      }
    }
    return byteLevel(in);
  }

  // ---------------------------------------------------------------- byte level

  private byte[] byteLevel(byte[] in) {
    if (in.length == 0) {
      return randomBytes(1 + random.nextInt(16));
    }
    switch (random.nextInt(6)) {
      case 0:
        { // flip 1-4 bits
          byte[] out = in.clone();
          int flips = 1 + random.nextInt(4);
          for (int i = 0; i < flips; i++) {
            out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
          }
          return out;
        }
      case 1:
        { // overwrite 1-4 bytes
          byte[] out = in.clone();
          int n = 1 + random.nextInt(4);
          for (int i = 0; i < n; i++) {
            out[random.nextInt(out.length)] =
                random.nextBoolean()
                    ? INTERESTING[random.nextInt(INTERESTING.length)]
                    : (byte) random.nextInt(256);
          }
          return out;
        }
      case 2: // truncate
        return Arrays.copyOf(in, random.nextInt(in.length));
      case 3:
        { // insert random bytes
          byte[] insert = randomBytes(1 + random.nextInt(random.nextBoolean() ? 4 : 64));
          return splice(in, random.nextInt(in.length + 1), 0, insert);
        }
      case 4:
        { // delete a range
          int at = random.nextInt(in.length);
          int n = 1 + random.nextInt(Math.min(in.length - at, random.nextBoolean() ? 4 : 256));
          return splice(in, at, n, new byte[0]);
        }
      default:
        { // duplicate a range somewhere else
          int from = random.nextInt(in.length);
          int n = 1 + random.nextInt(Math.min(in.length - from, 128));
          return splice(
              in, random.nextInt(in.length + 1), 0, Arrays.copyOfRange(in, from, from + n));
        }
    }
  }

  // ---------------------------------------------------------------- structure aware

  /** One field found by {@link #scan}: positions in the whole input. */
  private static final class Field {
    final int tagPos;
    final int tagEnd;
    final int wireType;
    final int valuePos; // for wire type 2, where the length varint starts
    final int contentPos; // for wire type 2, where the content starts; else = valuePos
    final int end;
    final Field parent; // the length-delimited field whose content holds this one; null at the top

    Field(
        Field parent, int tagPos, int tagEnd, int wireType, int valuePos, int contentPos, int end) {
      this.parent = parent;
      this.tagPos = tagPos;
      this.tagEnd = tagEnd;
      this.wireType = wireType;
      this.valuePos = valuePos;
      this.contentPos = contentPos;
      this.end = end;
    }
  }

  private byte[] structural(byte[] in, int roll) {
    List<Field> fields = new ArrayList<>();
    scan(in, 0, in.length, 0, null, fields);
    if (fields.isEmpty()) {
      return null;
    }
    Field field = fields.get(random.nextInt(fields.size()));
    switch (roll % 8) {
      case 0:
      case 1:
        { // a length that lies
          Field len = pickLengthDelimited(fields);
          if (len == null) {
            return null;
          }
          long actual = (long) len.end - len.contentPos;
          long lie;
          switch (random.nextInt(6)) {
            case 0:
              lie = actual + 1;
              break;
            case 1:
              lie = Math.max(0, actual - 1);
              break;
            case 2:
              lie = actual * 2 + 7;
              break;
            case 3:
              lie = 0;
              break;
            default:
              lie = LYING_LENGTHS[random.nextInt(LYING_LENGTHS.length)];
              break;
          }
          return spliceIn(
              len.parent,
              in,
              len.valuePos,
              len.contentPos - len.valuePos,
              varint(lie),
              random.nextBoolean());
        }
      case 2:
        { // an over-long varint (invalid) or a padded one (valid, non-canonical)
          int start;
          int end;
          if (field.wireType == ProtoWriter.WIRETYPE_VARINT && random.nextBoolean()) {
            start = field.valuePos;
            end = field.end;
          } else if (field.wireType == ProtoWriter.WIRETYPE_LENGTH_DELIMITED
              && random.nextBoolean()) {
            start = field.valuePos;
            end = field.contentPos;
          } else {
            start = field.tagPos;
            end = field.tagEnd;
          }
          long value = readVarint(in, start);
          int width =
              random.nextInt(3) == 0
                  ? Math.min(10, end - start + 1 + random.nextInt(2)) // valid padding
                  : 11 + random.nextInt(6); // over-long: malformed
          return spliceIn(
              field.parent,
              in,
              start,
              end - start,
              paddedVarint(value, width),
              random.nextBoolean());
        }
      case 3:
        { // wrong wire type: 0-7, including groups and the invalid 6 and 7
          byte[] out = in.clone();
          int wireType = (field.wireType + 1 + random.nextInt(7)) & 7;
          out[field.tagPos] = (byte) ((out[field.tagPos] & ~7) | wireType);
          return out;
        }
      case 4:
        { // field number zero
          return spliceIn(
              field.parent,
              in,
              field.tagPos,
              field.tagEnd - field.tagPos,
              new byte[] {(byte) field.wireType},
              random.nextBoolean());
        }
      case 5:
        { // a field with a huge declared length and a few bytes of content
          long length =
              random.nextBoolean()
                  ? 0x7FFFFFF0L
                  : LYING_LENGTHS[random.nextInt(LYING_LENGTHS.length)];
          byte[] tag =
              varint(((1 + random.nextInt(15)) << 3) | ProtoWriter.WIRETYPE_LENGTH_DELIMITED);
          byte[] len = varint(length);
          byte[] insert = new byte[tag.length + len.length + 3];
          System.arraycopy(tag, 0, insert, 0, tag.length);
          System.arraycopy(len, 0, insert, tag.length, len.length);
          int at = random.nextBoolean() ? field.tagPos : field.end;
          return spliceIn(field.parent, in, at, 0, insert, random.nextBoolean());
        }
      case 6:
        { // deep nesting: a length-delimited field's content wrapped in AnyValue arrays, 50-5000
          // deep
          Field len = pickLengthDelimited(fields);
          if (len == null) {
            return null;
          }
          int depth = 50 + random.nextInt(random.nextBoolean() ? 200 : 5000);
          byte[] wrapped = nestedArrays(depth, Arrays.copyOfRange(in, len.contentPos, len.end));
          byte[] length = varint(wrapped.length);
          byte[] replacement = Arrays.copyOf(length, length.length + wrapped.length);
          System.arraycopy(wrapped, 0, replacement, length.length, wrapped.length);
          return spliceIn(len.parent, in, len.valuePos, len.end - len.valuePos, replacement, true);
        }
      default:
        { // a field duplicated at another field boundary
          Field other = fields.get(random.nextInt(fields.size()));
          int at = random.nextBoolean() ? other.tagPos : other.end;
          return spliceIn(
              other.parent,
              in,
              at,
              0,
              Arrays.copyOfRange(in, field.tagPos, field.end),
              random.nextBoolean());
        }
    }
  }

  private Field pickLengthDelimited(List<Field> fields) {
    for (int attempt = 0; attempt < 8; attempt++) {
      Field field = fields.get(random.nextInt(fields.size()));
      if (field.wireType == ProtoWriter.WIRETYPE_LENGTH_DELIMITED) {
        return field;
      }
    }
    for (Field field : fields) {
      if (field.wireType == ProtoWriter.WIRETYPE_LENGTH_DELIMITED) {
        return field;
      }
    }
    return null;
  }

  /**
   * Records the fields of the message in {@code b[pos, end)}, descending into length-delimited
   * fields whose content parses as a message; returns whether the whole range parsed.
   */
  private static boolean scan(
      byte[] b, int pos, int end, int depth, Field parent, List<Field> out) {
    while (pos < end) {
      int tagPos = pos;
      int tagEnd = varintEnd(b, pos, end);
      if (tagEnd < 0) {
        return false;
      }
      long tag = readVarint(b, pos);
      int wireType = (int) (tag & 7);
      if ((tag >>> 3) == 0 || (tag >>> 3) > 0x1FFFFFFF) {
        return false;
      }
      pos = tagEnd;
      switch (wireType) {
        case ProtoWriter.WIRETYPE_VARINT:
          {
            int valueEnd = varintEnd(b, pos, end);
            if (valueEnd < 0) {
              return false;
            }
            out.add(new Field(parent, tagPos, tagEnd, wireType, pos, pos, valueEnd));
            pos = valueEnd;
            break;
          }
        case ProtoWriter.WIRETYPE_FIXED64:
        case ProtoWriter.WIRETYPE_FIXED32:
          {
            int size = wireType == ProtoWriter.WIRETYPE_FIXED64 ? 8 : 4;
            if (end - pos < size) {
              return false;
            }
            out.add(new Field(parent, tagPos, tagEnd, wireType, pos, pos, pos + size));
            pos += size;
            break;
          }
        case ProtoWriter.WIRETYPE_LENGTH_DELIMITED:
          {
            int contentPos = varintEnd(b, pos, end);
            if (contentPos < 0) {
              return false;
            }
            long length = readVarint(b, pos);
            if (length < 0 || length > end - contentPos) {
              return false;
            }
            int contentEnd = contentPos + (int) length;
            Field field = new Field(parent, tagPos, tagEnd, wireType, pos, contentPos, contentEnd);
            out.add(field);
            if (depth < 64 && length > 0) {
              List<Field> nested = new ArrayList<>();
              if (scan(b, contentPos, contentEnd, depth + 1, field, nested)) {
                out.addAll(nested);
              }
            }
            pos = contentEnd;
            break;
          }
        default:
          return false;
      }
    }
    return pos == end;
  }

  /**
   * The position after the varint at {@code pos}, or -1 if it does not end within 10 bytes and
   * before {@code end}.
   */
  private static int varintEnd(byte[] b, int pos, int end) {
    for (int i = 0; i < 10 && pos + i < end; i++) {
      if (b[pos + i] >= 0) {
        return pos + i + 1;
      }
    }
    return -1;
  }

  /** The value of the varint at {@code pos}; only for one {@link #varintEnd} accepted. */
  private static long readVarint(byte[] b, int pos) {
    long value = 0;
    for (int i = 0; i < 10; i++) {
      byte x = b[pos + i];
      value |= (long) (x & 0x7F) << (7 * i);
      if (x >= 0) {
        break;
      }
    }
    return value;
  }

  private static byte[] varint(long value) {
    byte[] out = new byte[ProtoWriter.varintSize(value)];
    int i = 0;
    while ((value & ~0x7FL) != 0) {
      out[i++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out[i] = (byte) value;
    return out;
  }

  /** {@code value} as a varint stretched to {@code width} bytes with continuation bytes of zero. */
  private static byte[] paddedVarint(long value, int width) {
    byte[] canonical = varint(value);
    if (width <= canonical.length) {
      return canonical;
    }
    byte[] out = Arrays.copyOf(canonical, width);
    out[canonical.length - 1] |= (byte) 0x80;
    for (int i = canonical.length; i < width - 1; i++) {
      out[i] = (byte) 0x80;
    }
    out[width - 1] = 0x00;
    return out;
  }

  private byte[] randomBytes(int n) {
    byte[] out = new byte[n];
    for (int i = 0; i < n; i++) {
      out[i] = (byte) random.nextInt(256);
    }
    return out;
  }

  /**
   * Splices inside the content of {@code container} and, if {@code fixLengths}, rewrites the length
   * of {@code container} and of every field enclosing it, so that the damage stays local: the rest
   * of the message is still well-formed around it.
   */
  private static byte[] spliceIn(
      Field container, byte[] in, int at, int remove, byte[] insert, boolean fixLengths) {
    byte[] out = splice(in, at, remove, insert);
    if (!fixLengths) {
      return out;
    }
    long delta = (long) insert.length - remove;
    // Enclosing length prefixes all lie before the splice, and inner before outer ones lie later in
    // the
    // input, so fixing from the innermost outwards never moves one still to be fixed.
    for (Field f = container; f != null && delta != 0; f = f.parent) {
      long length = f.end - f.contentPos + delta;
      byte[] prefix = varint(length);
      int oldWidth = f.contentPos - f.valuePos;
      out = splice(out, f.valuePos, oldWidth, prefix);
      delta += prefix.length - oldWidth;
    }
    return out;
  }

  private static byte[] splice(byte[] in, int at, int remove, byte[] insert) {
    byte[] out = new byte[in.length - remove + insert.length];
    System.arraycopy(in, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(in, at + remove, out, at + insert.length, in.length - at - remove);
    return out;
  }

  // ---------------------------------------------------------------- deep nesting

  /**
   * A complete, well-formed export request of {@code signal} with one resource, one scope and one
   * item (span, gauge data point, or log record) whose one attribute {@code "deep"} holds an
   * AnyValue that nests {@code depth} arrays: {@code AnyValue{array_value: ArrayValue{values:
   * AnyValue{…{string_value: "leaf"}}}}}. Each level costs 4 to 12 bytes, so 10,000 levels are
   * about 40 KB. protobuf-java refuses it beyond its recursion limit (100 messages); a decoder must
   * refuse it cleanly or walk it without recursion.
   */
  public static byte[] deeplyNestedAnyValue(Signal signal, int depth) {
    if (depth < 0) {
      throw new IllegalArgumentException("depth must not be negative, was " + depth);
    }
    byte[] nested = nestedArrays(depth);
    ProtoWriter w = new ProtoWriter(nested.length + 256);
    w.begin(1); // Resource*
    w.begin(1); // resource
    w.begin(1).string(1, "service.name").begin(2).string(1, "deep-nesting").end().end();
    w.end();
    w.begin(2); // Scope*
    w.begin(1).string(1, "io.otlp4j.testing").end();
    w.begin(2); // the item
    long time = 1_732_000_000_000_000_000L;
    switch (signal) {
      case TRACES:
        w.bytes(1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
            .bytes(2, new byte[] {1, 2, 3, 4, 5, 6, 7, 8})
            .string(5, "deep")
            .uint32(6, 1)
            .fixed64(7, time)
            .fixed64(8, time + 1000);
        w.begin(9).string(1, "deep").bytes(2, nested).end();
        break;
      case METRICS:
        w.string(1, "deep.metric");
        w.begin(5); // gauge
        w.begin(1); // data point
        w.fixed64(3, time).fixed64(6, 42);
        w.begin(7).string(1, "deep").bytes(2, nested).end();
        w.end();
        w.end();
        break;
      case LOGS:
        w.fixed64(1, time).uint32(2, 9);
        w.begin(5).string(1, "deep").end(); // body
        w.begin(6).string(1, "deep").bytes(2, nested).end();
        break;
      default:
        throw new IllegalArgumentException("unknown signal " + signal);
    }
    w.end(); // item
    w.end(); // Scope*
    w.end(); // Resource*
    return w.toByteArray();
  }

  /** AnyValue nested {@code depth} arrays deep around a leaf {@code string_value: "leaf"}. */
  private static byte[] nestedArrays(int depth) {
    return nestedArrays(depth, new byte[] {0x0A, 4, 'l', 'e', 'a', 'f'});
  }

  /**
   * {@code depth} levels of {@code AnyValue{array_value: ArrayValue{values: …}}} around {@code
   * leaf} (the content of the innermost AnyValue), built without recursion: sizes inside out, bytes
   * outside in.
   */
  private static byte[] nestedArrays(int depth, byte[] leaf) {
    // anySize[i]: encoded size of the AnyValue content at level i (level depth is the leaf).
    int[] anySize = new int[depth + 1];
    int[] arraySize = new int[depth];
    anySize[depth] = leaf.length;
    for (int i = depth - 1; i >= 0; i--) {
      arraySize[i] = 1 + ProtoWriter.varintSize(anySize[i + 1]) + anySize[i + 1];
      anySize[i] = 1 + ProtoWriter.varintSize(arraySize[i]) + arraySize[i];
    }
    ProtoWriter w = new ProtoWriter(Math.max(16, anySize[0]));
    for (int i = 0; i < depth; i++) {
      w.tag(5, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
          .rawVarint32(arraySize[i]); // AnyValue.array_value
      w.tag(1, ProtoWriter.WIRETYPE_LENGTH_DELIMITED)
          .rawVarint32(anySize[i + 1]); // ArrayValue.values
    }
    w.raw(leaf, 0, leaf.length);
    return w.toByteArray();
  }
}
