package io.otlp4j.exporter;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import io.grpc.Codec;
import io.grpc.DecompressorRegistry;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real grpc-java OTLP server on 127.0.0.1, built on opentelemetry-proto's service stubs (so requests
 * are decoded by the official classes), with a script of replies for fault tests: each call takes the
 * next scripted {@link Reply}, or answers OK when the script is empty. Delayed replies are scheduled,
 * never slept.
 */
final class GrpcTestServer implements AutoCloseable {

  /** What the server does with one call. */
  static final class Reply {
    final Status status;
    final Duration retryDelay;
    final long rejected;
    final String message;
    final Duration delay;

    private Reply(Status status, Duration retryDelay, long rejected, String message, Duration delay) {
      this.status = status;
      this.retryDelay = retryDelay;
      this.rejected = rejected;
      this.message = message;
      this.delay = delay;
    }

    static Reply ok() {
      return new Reply(Status.OK, null, 0, "", Duration.ZERO);
    }

    static Reply partial(long rejected, String message) {
      return new Reply(Status.OK, null, rejected, message, Duration.ZERO);
    }

    static Reply status(Status status) {
      return new Reply(status, null, 0, "", Duration.ZERO);
    }

    static Reply statusWithRetryInfo(Status status, Duration retryDelay) {
      return new Reply(status, retryDelay, 0, "", Duration.ZERO);
    }

    Reply after(Duration d) {
      return new Reply(status, retryDelay, rejected, message, d);
    }
  }

  /** A request the server received, decoded, with the reply it got. */
  static final class Received {
    final Signal signal;
    final Message request;
    final Status.Code answered;
    final Metadata headers;

    Received(Signal signal, Message request, Status.Code answered, Metadata headers) {
      this.signal = signal;
      this.request = request;
      this.answered = answered;
      this.headers = headers;
    }
  }

  final ConcurrentLinkedDeque<Reply> script = new ConcurrentLinkedDeque<>();
  final List<Received> received = new CopyOnWriteArrayList<>();
  final AtomicInteger calls = new AtomicInteger();
  /** The client addresses calls came from: one per connection. */
  final java.util.Set<java.net.SocketAddress> peers = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Server server;
  private final ScheduledExecutorService delays = Executors.newSingleThreadScheduledExecutor();
  private static final io.grpc.Context.Key<Metadata> HEADERS = io.grpc.Context.key("headers");

  private GrpcTestServer(int port, SslContext ssl) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .decompressorRegistry(DecompressorRegistry.getDefaultInstance().with(new TestZstd(), true))
        .maxInboundMessageSize(64 * 1024 * 1024);
    if (ssl != null) {
      builder.sslContext(ssl);
    }
    ServerInterceptor captureHeaders = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        java.net.SocketAddress peer = call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (peer != null) {
          peers.add(peer);
        }
        return io.grpc.Contexts.interceptCall(io.grpc.Context.current().withValue(HEADERS, headers), call, headers, next);
      }
    };
    builder.addService(ServerInterceptors.intercept(new TraceServiceGrpc.TraceServiceImplBase() {
      @Override
      public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
        handle(Signal.TRACES, request, out, (r) -> ExportTraceServiceResponse.newBuilder()
            .setPartialSuccess(ExportTracePartialSuccess.newBuilder().setRejectedSpans(r.rejected)
                .setErrorMessage(r.message)).build());
      }
    }, captureHeaders));
    builder.addService(ServerInterceptors.intercept(new MetricsServiceGrpc.MetricsServiceImplBase() {
      @Override
      public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> out) {
        handle(Signal.METRICS, request, out, (r) -> ExportMetricsServiceResponse.newBuilder()
            .setPartialSuccess(ExportMetricsPartialSuccess.newBuilder().setRejectedDataPoints(r.rejected)
                .setErrorMessage(r.message)).build());
      }
    }, captureHeaders));
    builder.addService(ServerInterceptors.intercept(new LogsServiceGrpc.LogsServiceImplBase() {
      @Override
      public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> out) {
        handle(Signal.LOGS, request, out, (r) -> ExportLogsServiceResponse.newBuilder()
            .setPartialSuccess(ExportLogsPartialSuccess.newBuilder().setRejectedLogRecords(r.rejected)
                .setErrorMessage(r.message)).build());
      }
    }, captureHeaders));
    server = builder.build().start();
  }

  static GrpcTestServer start() throws IOException {
    return new GrpcTestServer(0, null);
  }

  static GrpcTestServer start(int port, SslContext ssl) throws IOException {
    return new GrpcTestServer(port, ssl);
  }

  int port() {
    return server.getPort();
  }

  String endpoint() {
    return "http://127.0.0.1:" + port();
  }

  /** Requests the server answered OK. */
  long acceptedCount() {
    return received.stream().filter(r -> r.answered == Status.Code.OK).count();
  }

  private <R> void handle(Signal signal, Message request, StreamObserver<R> out,
      java.util.function.Function<Reply, R> response) {
    calls.incrementAndGet();
    Reply reply = script.poll();
    Reply r = reply == null ? Reply.ok() : reply;
    Metadata headers = HEADERS.get();
    Runnable answer = () -> {
      received.add(new Received(signal, request, r.status.getCode(), headers));
      if (r.status.isOk()) {
        out.onNext(response.apply(r));
        out.onCompleted();
      } else if (r.retryDelay != null) {
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
            .setCode(r.status.getCode().value())
            .setMessage("try later")
            .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
                .setSeconds(r.retryDelay.getSeconds()).setNanos(r.retryDelay.getNano())).build()))
            .build();
        out.onError(StatusProto.toStatusRuntimeException(status));
      } else {
        out.onError(r.status.asRuntimeException());
      }
    };
    if (r.delay.isZero()) {
      answer.run();
    } else {
      delays.schedule(answer, r.delay.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    delays.shutdownNow();
  }

  /** zstd for the server side, independent of the exporter's codec. */
  static final class TestZstd implements Codec {
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
