package io.otlp4j.wire;

/**
 * A minimal protobuf reader over a byte array, for the OTLP/JSON transcoder's protobuf to JSON
 * direction: tags, varints, fixed values, lengths and skipping, each bounds-checked against a limit
 * the caller gives, throwing {@link WireFormatException} with the offset of the bad byte.
 *
 * <p>Offsets in exceptions are relative to {@code base}, the array index where the caller's input
 * starts. The reader keeps one cursor, {@link #pos}, which callers save and restore freely (it is a
 * plain field, not a stream). Not thread-safe: one instance per call.
 */
final class ProtoReader {
  /** Nesting of groups (wire types 3/4, legacy) the reader skips before refusing the input. */
  static final int MAX_GROUP_DEPTH = 64;

  final byte[] buf;
  final int base;
  int pos;

  ProtoReader(byte[] buf, int base) {
    this.buf = buf;
    this.base = base;
    this.pos = base;
  }

  /**
   * Reads a tag; throws for field number 0 and for the wire types protobuf does not define. Like
   * protobuf-java, a varint tag longer than five bytes keeps its low 32 bits.
   */
  int readTag(int limit) {
    int start = pos;
    int tag = (int) readVarint64(limit);
    if ((tag >>> 3) == 0) {
      throw error(start, "invalid tag " + Integer.toUnsignedString(tag) + " (field number 0)");
    }
    int wireType = tag & 7;
    if (wireType > 5) {
      throw error(start, "invalid wire type " + wireType);
    }
    return tag;
  }

  long readVarint64(int limit) {
    int p = pos;
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= limit) {
        throw error(p, "varint runs past the end of the message");
      }
      byte b = buf[p++];
      result |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        pos = p;
        return result;
      }
    }
    throw error(pos, "varint longer than 10 bytes");
  }

  long readFixed64(int limit) {
    int p = pos;
    if (limit - p < 8) {
      throw error(p, "fixed64 runs past the end of the message");
    }
    pos = p + 8;
    return (buf[p] & 0xFFL)
        | (buf[p + 1] & 0xFFL) << 8
        | (buf[p + 2] & 0xFFL) << 16
        | (buf[p + 3] & 0xFFL) << 24
        | (buf[p + 4] & 0xFFL) << 32
        | (buf[p + 5] & 0xFFL) << 40
        | (buf[p + 6] & 0xFFL) << 48
        | (buf[p + 7] & 0xFFL) << 56;
  }

  int readFixed32(int limit) {
    int p = pos;
    if (limit - p < 4) {
      throw error(p, "fixed32 runs past the end of the message");
    }
    pos = p + 4;
    return (buf[p] & 0xFF)
        | (buf[p + 1] & 0xFF) << 8
        | (buf[p + 2] & 0xFF) << 16
        | (buf[p + 3] & 0xFF) << 24;
  }

  /**
   * Reads a length prefix and returns the end index of the content, which starts at {@link #pos}.
   */
  int readLengthDelimited(int limit) {
    int start = pos;
    int length = (int) readVarint64(limit); // the low 32 bits, as protobuf-java reads a length
    if (length < 0 || length > limit - pos) {
      throw error(
          start,
          "length "
              + length
              + " runs past the end of the message ("
              + (limit - pos)
              + " bytes left)");
    }
    return pos + length;
  }

  /** Skips the value of a field whose tag was just read. */
  void skipValue(int tag, int limit) {
    switch (tag & 7) {
      case ProtoWriter.WIRETYPE_VARINT:
        readVarint64(limit);
        break;
      case ProtoWriter.WIRETYPE_FIXED64:
        readFixed64(limit);
        break;
      case ProtoWriter.WIRETYPE_LENGTH_DELIMITED:
        pos = readLengthDelimited(limit);
        break;
      case ProtoWriter.WIRETYPE_FIXED32:
        readFixed32(limit);
        break;
      case 3:
        skipGroup(tag >>> 3, limit);
        break;
      default: // 4: an end-group tag with no group open
        throw error(pos, "unexpected end-group tag for field " + (tag >>> 3));
    }
  }

  /** Skips a (legacy) group iteratively up to its matching end-group tag. */
  private void skipGroup(int field, int limit) {
    int[] open = new int[MAX_GROUP_DEPTH];
    int depth = 0;
    open[depth++] = field;
    while (depth > 0) {
      int tagStart = pos;
      int tag = readTag(limit);
      int wireType = tag & 7;
      if (wireType == 3) {
        if (depth == MAX_GROUP_DEPTH) {
          throw error(tagStart, "groups nested deeper than " + MAX_GROUP_DEPTH);
        }
        open[depth++] = tag >>> 3;
      } else if (wireType == 4) {
        if (open[--depth] != tag >>> 3) {
          throw error(
              tagStart, "end-group tag for field " + (tag >>> 3) + " closes group " + open[depth]);
        }
      } else {
        skipValue(tag, limit);
      }
    }
  }

  WireFormatException error(int at, String reason) {
    return new WireFormatException(at - base, reason);
  }
}
