package io.otlp4j.grpc;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The sending side's gRPC marshaller that passes an encoded OTLP request through as it came: the
 * "message" is the {@link ByteBuf} itself, streamed to grpc-java's framer with {@link Drainable}
 * (one bulk write into the transport's buffers, no intermediate array, no protobuf parse or
 * re-encode) and {@link KnownLength} (so the frame length is written up front, without buffering
 * the message).
 *
 * <p><b>Buffer ownership:</b> {@link #stream(ByteBuf)} neither retains nor releases the buffer; it
 * reads a duplicate, so the caller's indexes do not move. The caller must keep its reference until
 * the call has closed (grpc-java may drain the stream later, once the transport is ready). {@link
 * #parse(InputStream)} is not supported: a receiver reads requests with its own admission-aware
 * marshaller, and answers are read with {@link ByteArrayMarshaller}.
 *
 * <p>Stateless and thread-safe.
 */
public final class ByteBufMarshaller implements MethodDescriptor.Marshaller<ByteBuf> {

  /** The one instance. */
  public static final ByteBufMarshaller INSTANCE = new ByteBufMarshaller();

  private ByteBufMarshaller() {}

  @Override
  public InputStream stream(ByteBuf value) {
    return new PayloadStream(value.duplicate());
  }

  @Override
  public ByteBuf parse(InputStream stream) {
    throw new UnsupportedOperationException("ByteBufMarshaller only sends");
  }

  /**
   * A read-once stream over a buffer's readable bytes. Not thread-safe (grpc-java drives it from
   * one thread).
   */
  static final class PayloadStream extends InputStream implements Drainable, KnownLength {
    private final ByteBuf buf;

    PayloadStream(ByteBuf buf) {
      this.buf = buf;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = buf.readableBytes();
      if (n > 0) {
        buf.readBytes(target, n);
      }
      return n;
    }

    @Override
    public int available() {
      return buf.readableBytes();
    }

    @Override
    public int read() {
      return buf.isReadable() ? buf.readUnsignedByte() : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      int n = Math.min(len, buf.readableBytes());
      if (n == 0) {
        return len == 0 ? 0 : -1;
      }
      buf.readBytes(b, off, n);
      return n;
    }
  }
}
