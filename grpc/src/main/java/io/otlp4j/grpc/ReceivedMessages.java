package io.otlp4j.grpc;

import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Takes a received gRPC message out of grpc-java's buffers without a heap copy, for a marshaller's
 * {@code parse}: grpc-java hands an uncompressed message over as a stream over the Netty buffers
 * its HTTP/2 DATA frames arrived in ({@link KnownLength}, {@link HasByteBuffer}), which are copied
 * once, buffer by buffer (off-heap to off-heap, no intermediate array), into one buffer of exactly
 * the message's length from the caller's (pooled) allocator; grpc-java frees its frames when {@code
 * parse} returns. Nothing is allocated on the Java heap for the message's bytes (the former {@code
 * readNBytes} into a new, zeroed {@code byte[]} was most of a relay's allocation), and what is held
 * is exactly what the caller reserved.
 *
 * <p><b>Why not {@link io.grpc.Detachable}.</b> Detaching the stream would hand on grpc-java's own
 * buffers with no copy at all, but each is a retained slice of the connection's read buffer: a
 * message held downstream (in a batch, for up to the batch timeout) pins the whole read buffer, of
 * which it may be a small part (in {@code GrpcZeroCopyTest} a 2,110-byte message pinned 4,096
 * bytes; Netty's read buffers grow to 64 KiB under load), and that memory escapes the memory
 * budget. A message of several frames would still need a copy for contiguous bytes. One copy of
 * exactly the reserved size keeps the budget exact.
 *
 * <p>A stream that offers none of this (a decompressing stream: gzip and zstd messages) is not
 * taken: {@link #take} returns null and the caller reads it as any {@link InputStream}.
 *
 * <p><b>Buffer ownership:</b> the returned buffer belongs to the caller, who must release it once.
 *
 * <p>Stateless and thread-safe.
 */
public final class ReceivedMessages {

  private ReceivedMessages() {}

  /**
   * True when {@link #take} can take {@code stream}'s bytes without reading it as a stream: an
   * uncompressed message of known length whose buffers grpc-java exposes.
   */
  public static boolean takeable(InputStream stream) {
    return stream instanceof KnownLength
        && stream instanceof HasByteBuffer
        && ((HasByteBuffer) stream).byteBufferSupported();
  }

  /**
   * Copies the whole of {@code stream}'s message into one direct buffer of {@code allocator}; null,
   * having read nothing, when the stream is not {@link #takeable}. The length ({@code
   * stream.available()}) should have been reserved by the caller before the call: the buffer holds
   * exactly that.
   *
   * <p>Buffer ownership: the caller owns the returned buffer and must release it.
   *
   * @throws IOException from the stream
   */
  public static ByteBuf take(InputStream stream, ByteBufAllocator allocator) throws IOException {
    if (!takeable(stream)) {
      return null;
    }
    int length = stream.available();
    if (length == 0) {
      return Unpooled.EMPTY_BUFFER;
    }
    ByteBuf copy = allocator.directBuffer(length, length);
    try {
      while (copy.isWritable()) {
        ByteBuffer next = ((HasByteBuffer) stream).getByteBuffer();
        int n = next == null ? 0 : Math.min(next.remaining(), copy.writableBytes());
        if (n == 0) {
          throw new IOException(
              "grpc-java's stream ended after "
                  + copy.readableBytes()
                  + " of the "
                  + length
                  + " bytes it declared");
        }
        next.limit(next.position() + n); // a view of grpc-java's buffer: moving it moves nothing
        copy.writeBytes(next);
        long skipped = stream.skip(n);
        if (skipped != n) {
          throw new IOException("grpc-java's stream skipped " + skipped + " of " + n + " bytes");
        }
      }
      return copy;
    } catch (IOException | RuntimeException | Error e) {
      copy.release();
      throw e;
    }
  }
}
