package io.otlp4j.grpc;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A gRPC marshaller whose message is the encoded bytes themselves: {@code Export*ServiceResponse}s
 * both ways (the receiver writes them, the exporter reads them), never parsed into protobuf
 * objects. For small messages: {@link #parse(InputStream)} copies the whole message into one array.
 *
 * <p>Stateless and thread-safe; the arrays are neither copied on {@link #stream} nor kept.
 */
public final class ByteArrayMarshaller implements MethodDescriptor.Marshaller<byte[]> {

  /** The one instance. */
  public static final ByteArrayMarshaller INSTANCE = new ByteArrayMarshaller();

  private ByteArrayMarshaller() {}

  @Override
  public InputStream stream(byte[] value) {
    return new ByteArrayInputStream(value);
  }

  @Override
  public byte[] parse(InputStream stream) {
    try {
      return stream.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
