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
 * <p>Neither direction allocates more than the message: {@link #stream} hands grpc-java a {@link
 * Drainable} {@link KnownLength} stream, so its framer writes the array straight into the frame
 * buffer (a plain {@link ByteArrayInputStream} is copied through an 8 KiB scratch array per call);
 * {@link #parse} reads exactly the length grpc-java's {@link KnownLength} stream declares (where
 * {@link InputStream#readAllBytes()} starts with a buffer of several KiB), and an empty message
 * (the usual OTLP answer) is one shared empty array.
 *
 * <p>Stateless and thread-safe; the arrays are neither copied on {@link #stream} nor kept.
 */
public final class ByteArrayMarshaller implements MethodDescriptor.Marshaller<byte[]> {

  /** The one instance. */
  public static final ByteArrayMarshaller INSTANCE = new ByteArrayMarshaller();

  private static final byte[] EMPTY = new byte[0];

  private ByteArrayMarshaller() {}

  @Override
  public InputStream stream(byte[] value) {
    return new ArrayStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      if (stream instanceof KnownLength) { // grpc-java's uncompressed message: its exact length
        int length = stream.available();
        if (length == 0) {
          return EMPTY;
        }
        byte[] message = new byte[length];
        int read = stream.readNBytes(message, 0, length);
        if (read != length) {
          throw new IOException("gRPC message shorter than its length: " + read + " < " + length);
        }
        return message;
      }
      return stream.readAllBytes(); // decompressing: the length is not known up front
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A read-once stream over an array that grpc-java's framer drains with one bulk write. Not
   * thread-safe (grpc-java drives it from one thread).
   */
  static final class ArrayStream extends ByteArrayInputStream implements Drainable, KnownLength {
    ArrayStream(byte[] value) {
      super(value);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
