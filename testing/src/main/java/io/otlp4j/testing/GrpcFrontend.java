package io.otlp4j.testing;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import io.grpc.Codec;
import io.grpc.DecompressorRegistry;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The OTLP/gRPC side of {@link MockOtlpServer}: a real grpc-java Netty server with the three {@code
 * Export} methods as byte passthroughs (so the server keeps the exact bytes and decodes them with
 * the official classes itself). It accepts gzip and zstd. Accepted connections are tracked, so a
 * scripted {@link Answer#dropConnection()} can close the one a call came on.
 */
final class GrpcFrontend {
  private static final int MAX_MESSAGE = 256 * 1024 * 1024;

  private final MockOtlpServer core;
  private final SslContext tls;
  private final Set<Channel> connections = ConcurrentHashMap.newKeySet();
  private Server server;
  private EventLoopGroup boss;
  private EventLoopGroup workers;

  GrpcFrontend(MockOtlpServer core, SslContext tls) {
    this.core = core;
    this.tls = tls;
  }

  /** Binds 127.0.0.1:{@code port} (0: any free port) and returns the port. */
  int start(int port) throws IOException {
    boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    workers = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .channelFactory(() -> new TrackingServerChannel(connections))
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .decompressorRegistry(DecompressorRegistry.getDefaultInstance().with(new Zstd(), true))
            .maxInboundMessageSize(MAX_MESSAGE);
    if (tls != null) {
      builder.sslContext(tls);
    }
    for (Signal signal : Signal.values()) {
      MethodDescriptor<byte[], byte[]> method =
          MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(
                  MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
              .setRequestMarshaller(BYTES)
              .setResponseMarshaller(BYTES)
              .build();
      builder.addService(
          ServerServiceDefinition.builder(signal.grpcService())
              .addMethod(method, new Handler(signal))
              .build());
    }
    try {
      server = builder.build().start();
    } catch (IOException | RuntimeException e) {
      try {
        shutdownGroups();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      throw e;
    }
    return server.getPort();
  }

  /** Stops: calls in flight are cancelled, connections closed, new ones refused. */
  void stop() throws InterruptedException {
    if (server != null) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
      server = null;
    }
    shutdownGroups();
  }

  private void shutdownGroups() throws InterruptedException {
    for (EventLoopGroup g : new EventLoopGroup[] {boss, workers}) {
      if (g != null) {
        g.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
      }
    }
    boss = null;
    workers = null;
  }

  private final class Handler implements ServerCallHandler<byte[], byte[]> {
    private final Signal signal;

    Handler(Signal signal) {
      this.signal = signal;
    }

    @Override
    public ServerCall.Listener<byte[]> startCall(
        ServerCall<byte[], byte[]> call, Metadata headers) {
      call.request(2);
      return new ServerCall.Listener<>() {
        private byte[] message;

        @Override
        public void onMessage(byte[] m) {
          message = m;
        }

        @Override
        public void onHalfClose() {
          if (message == null) {
            call.close(Status.INTERNAL.withDescription("no request message"), new Metadata());
            return;
          }
          SocketAddress peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
          Message decoded = null;
          String error = null;
          try {
            decoded = OfficialDecoding.parseProtobuf(signal, message);
          } catch (IllegalArgumentException e) {
            error = String.valueOf(e.getCause());
          }
          core.arrived(
              Transport.GRPC,
              signal,
              headersOf(headers),
              message,
              decoded,
              error,
              peer instanceof InetSocketAddress a ? a : null,
              new GrpcExchange(signal, call, peer));
        }
      };
    }
  }

  private final class GrpcExchange implements Exchange {
    private final Signal signal;
    private final ServerCall<byte[], byte[]> call;
    private final SocketAddress peer;

    GrpcExchange(Signal signal, ServerCall<byte[], byte[]> call, SocketAddress peer) {
      this.signal = signal;
      this.call = call;
      this.peer = peer;
    }

    @Override
    public boolean isCancelled() {
      return call.isCancelled();
    }

    @Override
    public void respond(Answer answer, RecordedRequest request) {
      if (request.message() == null) {
        call.close(Status.INVALID_ARGUMENT.withDescription(request.decodeError()), new Metadata());
        return;
      }
      if (answer.grpcCode == Status.Code.OK) {
        call.sendHeaders(new Metadata());
        call.sendMessage(successResponse(signal, answer));
        call.close(Status.OK, new Metadata());
        return;
      }
      String description = answer.message.isEmpty() ? null : answer.message;
      if (answer.retryDelay == null) {
        call.close(Status.fromCode(answer.grpcCode).withDescription(description), new Metadata());
        return;
      }
      com.google.rpc.Status.Builder details =
          com.google.rpc.Status.newBuilder()
              .setCode(answer.grpcCode.value())
              .addDetails(
                  Any.pack(
                      RetryInfo.newBuilder()
                          .setRetryDelay(
                              com.google.protobuf.Duration.newBuilder()
                                  .setSeconds(answer.retryDelay.getSeconds())
                                  .setNanos(answer.retryDelay.getNano()))
                          .build()));
      if (description != null) {
        details.setMessage(description);
      }
      com.google.rpc.Status status = details.build();
      io.grpc.StatusRuntimeException e = StatusProto.toStatusRuntimeException(status);
      call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
    }

    @Override
    public void dropConnection() {
      for (Channel c : connections) {
        if (c.remoteAddress() != null && c.remoteAddress().equals(peer)) {
          // Below the HTTP/2 handler, whose close() would wait for the streams in flight (a
          // GOAWAY).
          ChannelHandlerContext first = c.pipeline().firstContext();
          if (first != null) {
            first.close();
          } else {
            c.close();
          }
        }
      }
    }
  }

  /** The Export response of {@code signal}: empty, or with {@code partial_success}. */
  static byte[] successResponse(Signal signal, Answer answer) {
    if (answer.rejected < 0) {
      return new byte[0];
    }
    return switch (signal) {
      case TRACES ->
          ExportTraceServiceResponse.newBuilder()
              .setPartialSuccess(
                  ExportTracePartialSuccess.newBuilder()
                      .setRejectedSpans(answer.rejected)
                      .setErrorMessage(answer.message))
              .build()
              .toByteArray();
      case METRICS ->
          ExportMetricsServiceResponse.newBuilder()
              .setPartialSuccess(
                  ExportMetricsPartialSuccess.newBuilder()
                      .setRejectedDataPoints(answer.rejected)
                      .setErrorMessage(answer.message))
              .build()
              .toByteArray();
      case LOGS ->
          ExportLogsServiceResponse.newBuilder()
              .setPartialSuccess(
                  ExportLogsPartialSuccess.newBuilder()
                      .setRejectedLogRecords(answer.rejected)
                      .setErrorMessage(answer.message))
              .build()
              .toByteArray();
    };
  }

  private static Map<String, List<String>> headersOf(Metadata metadata) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String key : metadata.keys()) {
      List<String> values = new ArrayList<>();
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        Iterable<byte[]> all =
            metadata.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
        if (all != null) {
          all.forEach(v -> values.add(Base64.getEncoder().encodeToString(v)));
        }
      } else {
        Iterable<String> all =
            metadata.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        if (all != null) {
          all.forEach(values::add);
        }
      }
      out.put(key.toLowerCase(Locale.ROOT), List.copyOf(values));
    }
    return Map.copyOf(out);
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
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

  /** Records every accepted connection until it closes. */
  static final class TrackingServerChannel extends NioServerSocketChannel {
    private final Set<Channel> connections;

    TrackingServerChannel(Set<Channel> connections) {
      this.connections = connections;
    }

    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int before = buf.size();
      int read = super.doReadMessages(buf);
      for (int i = before; i < buf.size(); i++) {
        if (buf.get(i) instanceof Channel child) {
          connections.add(child);
          child.closeFuture().addListener(f -> connections.remove(child));
        }
      }
      return read;
    }
  }

  /** zstd for the server side, independent of the code under test. */
  static final class Zstd implements Codec {
    @Override
    public String getMessageEncoding() {
      return "zstd";
    }

    @Override
    public OutputStream compress(OutputStream os) {
      try {
        return new ZstdOutputStream(os);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public InputStream decompress(InputStream is) {
      try {
        return new ZstdInputStream(is);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
