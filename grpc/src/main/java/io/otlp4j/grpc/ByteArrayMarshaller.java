package io.otlp4j.grpc;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller whose message is the encoded bytes themselves: {@code Export*ServiceResponse}s
 * both ways (the receiver writes them, the exporter reads them), never parsed into protobuf
 * objects. For small messages: {@link #parse(InputStream)} copies the whole message into one array.
 *
 * <p>Stateless and thread-safe; the arrays are neither copied on {@link #stream} nor kept.
 *
 * <p>{@link #stream} returns a {@link Drainable}: grpc-java's framer then writes the array in one
 * call, where for a plain {@code InputStream} it copies through a new 8 KiB buffer (Guava's {@code
 * ByteStreams.copy}) for every message: the receiver's answer to every request, 8 KiB of garbage
 * each.
 */
public final class ByteArrayMarshaller implements MethodDescriptor.Marshaller<byte[]> {

  /** The one instance. */
  public static final ByteArrayMarshaller INSTANCE = new ByteArrayMarshaller();

  private ByteArrayMarshaller() {}

  @Override
  public InputStream stream(byte[] value) {
    return new DrainableBytes(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An array's bytes that grpc-java's framer drains in one write. */
  private static final class DrainableBytes extends ByteArrayInputStream
      implements Drainable, KnownLength {
    DrainableBytes(byte[] bytes) {
      super(bytes);
    }

    @Override
    public synchronized int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
