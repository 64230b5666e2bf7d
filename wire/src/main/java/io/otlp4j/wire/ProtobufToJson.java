package io.otlp4j.wire;

import static io.otlp4j.wire.OtlpJsonSchema.BOOL;
import static io.otlp4j.wire.OtlpJsonSchema.BYTES;
import static io.otlp4j.wire.OtlpJsonSchema.DOUBLE;
import static io.otlp4j.wire.OtlpJsonSchema.ENUM;
import static io.otlp4j.wire.OtlpJsonSchema.FIXED32;
import static io.otlp4j.wire.OtlpJsonSchema.FIXED64;
import static io.otlp4j.wire.OtlpJsonSchema.HEX_ID;
import static io.otlp4j.wire.OtlpJsonSchema.INT32;
import static io.otlp4j.wire.OtlpJsonSchema.INT64;
import static io.otlp4j.wire.OtlpJsonSchema.MAX_FIELD_NUMBER;
import static io.otlp4j.wire.OtlpJsonSchema.MESSAGE;
import static io.otlp4j.wire.OtlpJsonSchema.SFIXED64;
import static io.otlp4j.wire.OtlpJsonSchema.SINT32;
import static io.otlp4j.wire.OtlpJsonSchema.STRING;
import static io.otlp4j.wire.OtlpJsonSchema.UINT32;
import static io.otlp4j.wire.OtlpJsonSchema.UINT64;

import io.otlp4j.wire.OtlpJsonSchema.Field;
import io.otlp4j.wire.OtlpJsonSchema.MessageType;
import java.io.IOException;
import java.util.Arrays;

/**
 * One protobuf to OTLP/JSON transcoding: walks the encoded request with a {@link ProtoReader} and
 * writes JSON straight into a {@link JsonOutput}'s byte array, with no object tree and no JSON
 * generator in between.
 *
 * <h2>Protobuf semantics without a parse</h2>
 *
 * Each message is read in two passes over its direct fields (nested content is skipped by length,
 * so the passes cost one step per field, not per byte). The first validates the structure and
 * records, per field number, the last occurrence and whether there are several; the second writes
 * JSON in wire order, and from the records it applies what a protobuf parser would: a singular
 * field that occurs more than once takes its last value; of a oneof, the member set last wins; a
 * singular message that occurs more than once is the merge of its occurrences (their concatenation,
 * copied once: only non-canonical input pays for it); the elements of a repeated field, even when
 * interleaved with other fields or mixing packed and unpacked encodings, become one JSON array at
 * the first occurrence. Known field numbers with an unexpected wire type are unknown fields, as in
 * protobuf-java, and unknown fields are dropped (JSON has no form for them).
 *
 * <p>Strings are validated as UTF-8 (proto3 requires it; the official classes refuse invalid UTF-8)
 * and escaped in the same pass over their bytes, with no {@code String} in between; numbers and ids
 * are formatted straight into the output. Not thread-safe: one instance per call.
 */
final class ProtobufToJson {
  private static final int FRAME = MAX_FIELD_NUMBER + 1;

  /**
   * The nesting level from which messages are tried in one pass: the items (a span, a metric, a log
   * record) and what they hold. Above it (the request, resource and scope lists: few fields each)
   * two passes cost little, and the output an attempt holds back to take it back is at most one
   * item's JSON, not a whole resource's.
   */
  static final int ONE_PASS_FROM_FRAME = 3;

  private JsonOutput g;
  private JsonOutput discard;
  private ProtoReader r;

  /** While a message is tried in one pass (see {@link #writeMessage}). */
  private boolean inCanonicalAttempt;

  /** While a message is written again in two passes, with everything nested in it. */
  private boolean twoPasses;

  /**
   * Per nesting level, per field number: where its last occurrence starts (valid where the field's
   * bit is seen).
   */
  private int[] last = new int[FRAME * 12];

  ProtobufToJson(JsonOutput out, byte[] buf, int offset) {
    this.g = out;
    this.r = new ProtoReader(buf, offset);
  }

  void writeRequest(MessageType request, int start, int end) throws IOException {
    writeMessage(request, start, end, 0);
  }

  // ---------------------------------------------------------------- messages

  /**
   * Writes the message encoded in {@code [start, end)}; {@code frame} is its nesting level (the
   * request is 0). Each item and what it holds is first tried in one pass ({@link
   * #writeCanonical}); if it turns out not to be canonical, or not to be valid, what that pass
   * wrote is taken back and the message is written again in two passes ({@link #writeInTwoPasses}),
   * which decide every case (and every error) as they always did.
   */
  private void writeMessage(MessageType type, int start, int end, int frame) throws IOException {
    if (twoPasses || frame < ONE_PASS_FROM_FRAME) {
      writeInTwoPasses(type, start, end, frame);
      return;
    }
    if (inCanonicalAttempt) {
      writeCanonical(type, start, end, frame);
      return;
    }
    JsonOutput.Mark mark = g.mark();
    inCanonicalAttempt = true;
    try {
      writeCanonical(type, start, end, frame);
      g.release(mark);
      return;
    } catch (NotCanonical | WireFormatException e) {
      g.rewind(mark);
    } finally {
      inCanonicalAttempt = false;
    }
    twoPasses = true;
    try {
      writeInTwoPasses(type, start, end, frame);
    } finally {
      twoPasses = false;
    }
  }

  /**
   * The message in one pass, in wire order, for canonical input (what every protobuf encoder
   * writes): each singular field at most once, at most one oneof member, the elements of each
   * repeated field one after another. Throws {@link NotCanonical} at the first sign of anything
   * else; then the caller takes back the output and writes the message in two passes. Half the tag
   * reads and skips of two passes, which were a third of the transcoding's time.
   */
  private void writeCanonical(MessageType type, int start, int end, int frame) throws IOException {
    ProtoReader r = this.r;
    r.pos = start;
    long seen = 0;
    boolean oneofSeen = false;
    g.startObject();
    while (r.pos < end) {
      int tagStart = r.pos;
      int tag = r.readTag(end);
      Field f = type.field(tag >>> 3);
      if (f == null || !f.accepts(tag & 7)) {
        r.skipValue(tag, end);
        continue;
      }
      if ((seen & f.bit) != 0) {
        throw NotCanonical.INSTANCE; // a field again, or a repeated field's elements interleaved
      }
      seen |= f.bit;
      if (f.oneof >= 0) {
        if (oneofSeen) {
          throw NotCanonical.INSTANCE;
        }
        oneofSeen = true;
      }
      if (f.repeated) {
        writeRepeated(f, tagStart, end, frame, true);
      } else if (f.kind == MESSAGE) {
        int contentEnd = r.readLengthDelimited(end);
        checkNesting(frame, tagStart);
        g.key(f.jsonKey);
        writeCanonical(f.message, r.pos, contentEnd, frame + 1);
        r.pos = contentEnd;
      } else {
        writeSingleScalar(f, tag & 7, end);
      }
    }
    g.endObject();
  }

  /** Thrown by {@link #writeCanonical} for input it leaves to the two passes. */
  private static final class NotCanonical extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final NotCanonical INSTANCE = new NotCanonical();

    private NotCanonical() {
      super("not canonical", null, false, false);
    }
  }

  /** The message in two passes over its fields: any input, canonical or not. */
  private void writeInTwoPasses(MessageType type, int start, int end, int frame)
      throws IOException {
    int base = frame * FRAME;
    if (base + FRAME > last.length) {
      last = Arrays.copyOf(last, last.length * 2);
    }

    // Pass 1: validate this level's structure; record the last occurrence of each known field, and
    // which fields occur (seen) and which more than once (multiple), as bits: no per-message
    // clearing
    // of arrays (last[] is only read where its field's bit is seen).
    ProtoReader r = this.r;
    r.pos = start;
    int oneofTags = 0;
    long seen = 0;
    long multiple = 0;
    while (r.pos < end) {
      int tagStart = r.pos;
      int tag = r.readTag(end);
      r.skipValue(tag, end);
      Field f = type.field(tag >>> 3);
      if (f != null && f.accepts(tag & 7)) {
        last[base + f.number] = tagStart;
        multiple |= seen & f.bit;
        seen |= f.bit;
        if (f.oneof >= 0) {
          oneofTags++;
        }
      }
    }
    // With at most one occurrence of any oneof member (every canonical AnyValue, data point...), no
    // member can be superseded by another: the per-field search of winsOneof is skipped.
    boolean oneofContest = oneofTags > 1;

    // Pass 2: write.
    g.startObject();
    long written = 0;
    r.pos = start;
    while (r.pos < end) {
      int tagStart = r.pos;
      int tag = r.readTag(end);
      Field f = type.field(tag >>> 3);
      if (f == null || !f.accepts(tag & 7)) {
        r.skipValue(tag, end);
        continue;
      }
      if (f.repeated) {
        r.skipValue(tag, end);
        int next = r.pos;
        if ((written & f.bit) == 0) {
          written |= f.bit;
          writeRepeated(f, tagStart, end, frame, false);
        }
        r.pos = next;
        continue;
      }
      if (last[base + f.number] != tagStart
          || (oneofContest && !winsOneof(f, tagStart, base, seen))) {
        validateSuperseded(f, tag, end, frame);
        continue;
      }
      if (f.kind == MESSAGE) {
        int contentEnd = r.readLengthDelimited(end);
        checkNesting(frame, tagStart);
        g.key(f.jsonKey);
        if ((multiple & f.bit) == 0) {
          writeMessage(f.message, r.pos, contentEnd, frame + 1);
        } else {
          writeMerged(f, type, start, end, base, seen, frame);
        }
        r.pos = contentEnd;
      } else {
        writeSingleScalar(f, tag & 7, end);
      }
    }
    g.endObject();
  }

  /**
   * An occurrence that a later one replaces is not written, but protobuf-java parses it all the
   * same and refuses the whole input if it is malformed: its strings are checked for UTF-8 and its
   * messages walked (into a generator that discards), so that refusals match. Only non-canonical
   * input has such occurrences.
   */
  private void validateSuperseded(Field f, int tag, int end, int frame) throws IOException {
    if (f.kind != STRING && f.kind != MESSAGE) {
      r.skipValue(tag, end);
      return;
    }
    int tagStart = r.pos;
    int contentEnd = r.readLengthDelimited(end);
    int contentStart = r.pos;
    if (f.kind == STRING) {
      int bad = invalidUtf8At(r.buf, contentStart, contentEnd);
      if (bad >= 0) {
        throw r.error(bad, f.describe() + " is not valid UTF-8");
      }
    } else {
      checkNesting(frame, tagStart);
      JsonOutput real = g;
      if (discard == null) {
        discard = new JsonOutput(256);
      }
      g = discard;
      try {
        writeMessage(f.message, contentStart, contentEnd, frame + 1);
      } finally {
        g = real;
        discard.reset();
      }
    }
    r.pos = contentEnd;
  }

  /**
   * Refuses a message nested in the one at level {@code frame} beyond the limit protobuf-java has
   * too.
   */
  private void checkNesting(int frame, int at) {
    if (frame >= OtlpJson.MAX_NESTING_DEPTH) {
      throw r.error(at, "messages nested deeper than " + OtlpJson.MAX_NESTING_DEPTH + " levels");
    }
  }

  /**
   * Whether no other member of f's oneof occurs after {@code at}; {@code seen}: the fields that
   * occur.
   */
  private boolean winsOneof(Field f, int at, int base, long seen) {
    if (f.oneof < 0) {
      return true;
    }
    for (Field member : f.owner.oneofs.get(f.oneof)) {
      if (member != f && (seen & member.bit) != 0 && last[base + member.number] > at) {
        return false;
      }
    }
    return true;
  }

  /**
   * Writes a singular message field that occurs more than once: the merge of the occurrences after
   * the last occurrence of another member of its oneof, which is the message their concatenated
   * contents encode. Offsets in errors inside it are relative to that concatenation.
   */
  private void writeMerged(
      Field f, MessageType type, int start, int end, int base, long seen, int frame)
      throws IOException {
    int after = -1;
    if (f.oneof >= 0) {
      for (Field member : type.oneofs.get(f.oneof)) {
        if (member != f && (seen & member.bit) != 0) {
          after = Math.max(after, last[base + member.number]);
        }
      }
    }
    ProtoReader outer = r;
    byte[] merged = new byte[end - start];
    int length = 0;
    outer.pos = start;
    while (outer.pos < end) {
      int tagStart = outer.pos;
      int tag = outer.readTag(end);
      if (tag >>> 3 == f.number
          && (tag & 7) == ProtoWriter.WIRETYPE_LENGTH_DELIMITED
          && tagStart > after) {
        int contentEnd = outer.readLengthDelimited(end);
        System.arraycopy(outer.buf, outer.pos, merged, length, contentEnd - outer.pos);
        length += contentEnd - outer.pos;
        outer.pos = contentEnd;
      } else {
        outer.skipValue(tag, end);
      }
    }
    r = new ProtoReader(merged, 0);
    try {
      writeMessage(f.message, 0, length, frame + 1);
    } finally {
      r = outer;
    }
  }

  /**
   * Writes the elements of repeated field {@code f} from its occurrence at {@code from} as one
   * array: every later occurrence up to {@code end}, or with {@code run} only those that follow one
   * another (then the cursor is left at the first tag after them).
   */
  private void writeRepeated(Field f, int from, int end, int frame, boolean run)
      throws IOException {
    ProtoReader r = this.r;
    boolean open = false;
    if (!f.packable()) {
      g.key(f.jsonKey);
      g.startArray();
      open = true;
    }
    r.pos = from;
    while (r.pos < end) {
      int tagStart = r.pos;
      int tag = r.readTag(end);
      int wireType = tag & 7;
      if (tag >>> 3 != f.number || !f.accepts(wireType)) {
        if (run) {
          r.pos = tagStart;
          break;
        }
        r.skipValue(tag, end);
        continue;
      }
      if (f.kind == MESSAGE) {
        int contentEnd = r.readLengthDelimited(end);
        checkNesting(frame, tagStart);
        writeMessage(f.message, r.pos, contentEnd, frame + 1);
        r.pos = contentEnd;
      } else if (f.kind == STRING) {
        int contentEnd = r.readLengthDelimited(end);
        writeUtf8(f, r.pos, contentEnd);
        r.pos = contentEnd;
      } else {
        if (!open) {
          g.key(f.jsonKey);
          g.startArray();
          open = true;
        }
        if (wireType == ProtoWriter.WIRETYPE_LENGTH_DELIMITED) {
          int contentEnd = r.readLengthDelimited(end);
          while (r.pos < contentEnd) {
            writeScalarValue(f, contentEnd);
          }
        } else {
          writeScalarValue(f, end);
        }
      }
    }
    if (open) {
      g.endArray();
    }
  }

  // ---------------------------------------------------------------- scalars

  /**
   * A singular scalar field whose tag was just read; proto3 defaults are left out unless it has
   * presence.
   */
  private void writeSingleScalar(Field f, int wireType, int end) throws IOException {
    ProtoReader r = this.r;
    if (wireType == ProtoWriter.WIRETYPE_LENGTH_DELIMITED) {
      int contentEnd = r.readLengthDelimited(end);
      int start = r.pos;
      r.pos = contentEnd;
      int length = contentEnd - start;
      if (length == 0 && !f.presence) {
        return;
      }
      switch (f.kind) {
        case STRING:
          g.key(f.jsonKey);
          writeUtf8(f, start, contentEnd);
          return;
        case HEX_ID:
          if (length != f.idLength) {
            throw r.error(
                start, f.describe() + " has " + length + " bytes; OTLP ids have " + f.idLength);
          }
          g.key(f.jsonKey);
          g.hex(r.buf, start, length);
          return;
        case BYTES:
          g.key(f.jsonKey);
          g.base64(r.buf, start, length);
          return;
        default:
          throw new AssertionError("kind " + f.kind);
      }
    }
    int valueStart = r.pos;
    long bits;
    switch (wireType) {
      case ProtoWriter.WIRETYPE_VARINT:
        bits = r.readVarint64(end);
        if (f.kind != INT64 && f.kind != UINT64 && f.kind != BOOL) {
          int low32 =
              (int) bits; // 32-bit fields take the low bits, sign-extended, as protobuf-java does
          bits = low32;
        }
        break;
      case ProtoWriter.WIRETYPE_FIXED64:
        bits = r.readFixed64(end);
        break;
      default:
        bits = r.readFixed32(end);
        break;
    }
    if (bits == 0 && !f.presence) {
      return;
    }
    g.key(f.jsonKey);
    r.pos = valueStart;
    writeScalarValue(f, end);
  }

  /** Reads one value of a numeric or bool field at the cursor and writes it as a JSON value. */
  private void writeScalarValue(Field f, int limit) throws IOException {
    ProtoReader r = this.r;
    switch (f.kind) {
      case BOOL:
        g.bool(r.readVarint64(limit) != 0);
        return;
      case INT32:
      case ENUM:
        g.number((int) r.readVarint64(limit));
        return;
      case UINT32:
        g.number(((int) r.readVarint64(limit)) & 0xFFFF_FFFFL);
        return;
      case SINT32:
        {
          int v = (int) r.readVarint64(limit);
          g.number((v >>> 1) ^ -(v & 1));
          return;
        }
      case FIXED32:
        g.number(r.readFixed32(limit) & 0xFFFF_FFFFL);
        return;
      case INT64:
        g.decimalString(r.readVarint64(limit), false);
        return;
      case UINT64:
        g.decimalString(r.readVarint64(limit), true);
        return;
      case FIXED64:
        g.decimalString(r.readFixed64(limit), true);
        return;
      case SFIXED64:
        g.decimalString(r.readFixed64(limit), false);
        return;
      case DOUBLE:
        {
          double d = Double.longBitsToDouble(r.readFixed64(limit));
          if (Double.isFinite(d)) {
            g.number(d);
          } else {
            g.ascii(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity", true);
          }
          return;
        }
      default:
        throw new AssertionError("kind " + f.kind);
    }
  }

  private void writeUtf8(Field f, int start, int end) throws IOException {
    int bad = g.utf8String(r.buf, start, end);
    if (bad >= 0) {
      throw r.error(bad, f.describe() + " is not valid UTF-8");
    }
  }

  /**
   * The index of the first byte of an invalid UTF-8 sequence in {@code b[from, to)}, or -1. Invalid
   * means what protobuf-java's {@code Utf8.isValidUtf8} refuses: overlong forms, surrogates, code
   * points above U+10FFFF, truncated sequences.
   */
  static int invalidUtf8At(byte[] b, int from, int to) {
    int i = from;
    while (i < to) {
      int c = b[i];
      if (c >= 0) {
        i++;
        continue;
      }
      c &= 0xFF;
      if (c < 0xC2) {
        return i;
      }
      if (c < 0xE0) {
        if (i + 1 >= to || (b[i + 1] & 0xC0) != 0x80) {
          return i;
        }
        i += 2;
      } else if (c < 0xF0) {
        if (i + 2 >= to) {
          return i;
        }
        int c1 = b[i + 1] & 0xFF;
        if ((c1 & 0xC0) != 0x80
            || (b[i + 2] & 0xC0) != 0x80
            || (c == 0xE0 && c1 < 0xA0) // overlong
            || (c == 0xED && c1 >= 0xA0)) { // surrogate
          return i;
        }
        i += 3;
      } else if (c < 0xF5) {
        if (i + 3 >= to) {
          return i;
        }
        int c1 = b[i + 1] & 0xFF;
        if ((c1 & 0xC0) != 0x80
            || (b[i + 2] & 0xC0) != 0x80
            || (b[i + 3] & 0xC0) != 0x80
            || (c == 0xF0 && c1 < 0x90) // overlong
            || (c == 0xF4 && c1 >= 0x90)) { // above U+10FFFF
          return i;
        }
        i += 4;
      } else {
        return i;
      }
    }
    return -1;
  }
}
