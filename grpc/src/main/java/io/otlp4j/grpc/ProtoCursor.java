package io.otlp4j.grpc;

/**
 * A bounds-checked protobuf cursor over {@code buf[pos, end)}, for the few small messages the gRPC
 * glue and the exporter read by hand ({@code google.rpc.Status}, {@code RetryInfo}, the export
 * responses' {@code partial_success}); throws {@link IllegalStateException} when malformed. Not
 * thread-safe: one cursor per read.
 */
public final class ProtoCursor {
  private final byte[] buf;
  private final int end;
  private int pos;

  /** A cursor over {@code buf[pos, end)}. */
  public ProtoCursor(byte[] buf, int pos, int end) {
    if (pos < 0 || end > buf.length || pos > end) {
      throw new IllegalStateException("length out of range");
    }
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** The position of the next byte to read. */
  public int pos() {
    return pos;
  }

  /** Whether bytes are left before the end. */
  public boolean hasMore() {
    return pos < end;
  }

  /** The next field's tag (field number and wire type). */
  public int tag() {
    long t = varint();
    if (t <= 0 || t > Integer.MAX_VALUE) {
      throw new IllegalStateException("bad tag");
    }
    return (int) t;
  }

  /** The next varint. */
  public long varint() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw new IllegalStateException("truncated varint");
      }
      byte b = buf[pos++];
      result |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return result;
      }
    }
    throw new IllegalStateException("varint too long");
  }

  /** The next length prefix, checked against the bytes left. */
  public int length() {
    long len = varint();
    if (len < 0 || len > end - pos) {
      throw new IllegalStateException("length out of range");
    }
    return (int) len;
  }

  /** Skips the value of a field with {@code tag}. */
  public void skip(int tag) {
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        advance(8);
        break;
      case 2:
        advance(length());
        break;
      case 5:
        advance(4);
        break;
      default:
        throw new IllegalStateException("unsupported wire type " + (tag & 7));
    }
  }

  /** Moves {@code n} bytes on. */
  public void advance(int n) {
    if (n > end - pos) {
      throw new IllegalStateException("truncated field");
    }
    pos += n;
  }
}
