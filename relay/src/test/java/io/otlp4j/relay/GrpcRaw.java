package io.otlp4j.relay;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Compressor;
import io.grpc.CompressorRegistry;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/**
 * gRPC calls with bytes no official client sends: arbitrary request bodies, unknown methods, huge
 * messages.
 */
final class GrpcRaw {
  private GrpcRaw() {}

  static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
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
      };

  /** A request of so many zero bytes, produced as they are sent (never held in memory at once). */
  static final MethodDescriptor.Marshaller<Long> ZEROS =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Long length) {
          return new Zeros(length);
        }

        @Override
        public Long parse(InputStream stream) {
          throw new UnsupportedOperationException();
        }
      };

  /** Sends {@code bytes} as the request of {@code signal}'s Export method. */
  static byte[] export(Channel channel, Signal signal, byte[] bytes) {
    return call(
        channel,
        MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"),
        bytes,
        null);
  }

  static byte[] call(Channel channel, String fullMethodName, byte[] bytes, String compression) {
    MethodDescriptor<byte[], byte[]> method =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(fullMethodName)
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();
    return ClientCalls.blockingUnaryCall(channel, method, options(compression), bytes);
  }

  /** Sends {@code length} zero bytes as the request of {@code signal}'s Export method. */
  static byte[] exportZeros(Channel channel, Signal signal, long length, String compression) {
    MethodDescriptor<Long, byte[]> method =
        MethodDescriptor.<Long, byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(
                MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
            .setRequestMarshaller(ZEROS)
            .setResponseMarshaller(BYTES)
            .build();
    return ClientCalls.blockingUnaryCall(channel, method, options(compression), length);
  }

  /**
   * A channel option set whose {@code gzip} compressor sends the caller's bytes as they are: the
   * caller passes bytes that are gzip already (a compression bomb made once, cheaply), and the
   * server sees an ordinary gzip-compressed gRPC message.
   */
  static final CompressorRegistry PRECOMPRESSED_GZIP = CompressorRegistry.newEmptyInstance();

  static {
    PRECOMPRESSED_GZIP.register(
        new Compressor() {
          @Override
          public String getMessageEncoding() {
            return "gzip";
          }

          @Override
          public OutputStream compress(OutputStream os) {
            return os;
          }
        });
  }

  private static CallOptions options(String compression) {
    CallOptions o = CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
    return compression == null ? o : o.withCompression(compression);
  }

  private static final class Zeros extends InputStream implements KnownLength {
    private long left;

    Zeros(long length) {
      left = length;
    }

    @Override
    public int read() {
      if (left == 0) {
        return -1;
      }
      left--;
      return 0;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (left == 0) {
        return -1;
      }
      int n = (int) Math.min(len, left);
      java.util.Arrays.fill(b, off, off + n, (byte) 0);
      left -= n;
      return n;
    }

    @Override
    public int available() {
      return (int) Math.min(Integer.MAX_VALUE, left);
    }
  }
}
