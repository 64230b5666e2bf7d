package io.otlp4j.receiver;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.Unpooled;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.grpc.RpcStatus;
import io.otlp4j.grpc.ZstdCodec;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The OTLP/gRPC receiver: the three OTLP services ({@code TraceService}, {@code MetricsService},
 * {@code LogsService}, method {@code Export}) on grpc-java's Netty server, with byte-passthrough
 * marshallers: a request reaches the {@link ReceiverSink} as the bytes the client sent (after gRPC's
 * own gzip or zstd decompression), never parsed into protobuf objects.
 *
 * <p>Each request is bounded by {@link Builder#maxMessageBytes(int)} (also after decompression: grpc-java
 * enforces it on the decompressed stream), reserved in the {@link MemoryBudget} (refused at once with
 * {@code RESOURCE_EXHAUSTED} and {@code RetryInfo} when it does not fit), walked ({@code
 * INVALID_ARGUMENT} naming the offset and reason when malformed), and handed to the sink. Answers: see
 * {@link ReceiveOutcome}; a bad or missing bearer token is {@code UNAUTHENTICATED}.
 *
 * <p><b>Lifecycle:</b> {@link #start()} once, then {@link #shutdown(Duration)} once. <b>Thread-safety:</b>
 * thread-safe; immutable configuration. <b>Buffer ownership:</b> each request's buffer is created
 * here and passed, with ownership, to the sink.
 */
public final class GrpcReceiver {

  /** The default bind address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";
  /** The OTLP/gRPC port. */
  public static final int DEFAULT_PORT = 4317;
  /** The largest request accepted, compressed or decompressed (the Collector's default is 4 MiB; OTLP batches get big). */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
  /** Concurrent calls per HTTP/2 connection. */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 256;
  /** The memory budget of a receiver that is given none. */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 512L * 1024 * 1024;
  /** The delay suggested to a client the memory budget refuses. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);
  /** The {@code receiver} label of the metrics. */
  public static final String DEFAULT_NAME = "otlp";

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * A request as read off the wire: its bytes, or the error grpc-java raised while reading them (a
   * message that decompresses past the size limit). Carrying the error to the handler lets it answer
   * {@code RESOURCE_EXHAUSTED} itself; thrown from the marshaller it would reach the client as {@code
   * UNKNOWN}.
   */
  private static final class Inbound {
    final byte[] bytes;
    final StatusRuntimeException error;

    Inbound(byte[] bytes, StatusRuntimeException error) {
      this.bytes = bytes;
      this.error = error;
    }
  }

  private static final MethodDescriptor.Marshaller<Inbound> REQUEST = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(Inbound value) {
      return new ByteArrayInputStream(value.bytes);
    }

    @Override
    public Inbound parse(InputStream stream) {
      try {
        // grpc-java has already framed (and bounded) the message; this is the one copy out of its buffers.
        return new Inbound(stream.readAllBytes(), null);
      } catch (StatusRuntimeException e) {
        return new Inbound(null, e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };

  private final Builder config;
  private final MemoryBudget budget;
  private final RequestDispatch dispatch;
  private final OtlpWalker walker = OtlpWalker.create();
  private final Server server;
  private final InFlight inFlight = new InFlight();

  private GrpcReceiver(Builder b) {
    this.config = b.copy();
    this.budget = b.budget != null ? b.budget : MemoryBudget.builder(DEFAULT_MEMORY_LIMIT_BYTES).build();
    MetricsRegistry registry = b.metrics != null ? b.metrics : MetricsRegistry.create();
    this.dispatch = new RequestDispatch(b.sink, new ReceiverMetrics(registry, b.name, "grpc", inFlight::count));
    NettyServerBuilder nb = NettyServerBuilder.forAddress(new InetSocketAddress(b.host, b.port))
        .maxInboundMessageSize(b.maxMessageBytes)
        .maxConcurrentCallsPerConnection(b.maxConcurrentStreams)
        .compressorRegistry(ZstdCodec.compressors())
        .decompressorRegistry(ZstdCodec.decompressors());
    if (b.tls != null) {
      nb.sslContext(sslContext(b.tls));
    }
    BearerAuth auth = b.bearerToken != null ? BearerAuth.of(b.bearerToken) : BearerAuth.none();
    for (Signal signal : Signal.values()) {
      ServerServiceDefinition service = service(signal);
      nb.addService(auth.enabled() ? ServerInterceptors.intercept(service, new AuthInterceptor(auth)) : service);
    }
    this.server = nb.build();
  }

  /** A builder for a receiver that hands requests to {@code sink}. */
  public static Builder builder(ReceiverSink sink) {
    return new Builder(sink);
  }

  /**
   * Binds and starts serving.
   *
   * @throws UncheckedIOException when the address cannot be bound
   * @throws IllegalStateException when already started
   */
  public GrpcReceiver start() {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind OTLP/gRPC receiver to " + config.host + ":" + config.port, e);
    }
    return this;
  }

  /** The address the server is bound to (with the actual port when configured with port 0). */
  public InetSocketAddress address() {
    for (SocketAddress a : server.getListenSockets()) {
      if (a instanceof InetSocketAddress) {
        return (InetSocketAddress) a;
      }
    }
    throw new IllegalStateException("not started");
  }

  /** The budget requests are reserved in (the configured one, or this receiver's own). */
  public MemoryBudget memoryBudget() {
    return budget;
  }

  /** Requests started and not yet answered. */
  public int inFlightRequests() {
    return inFlight.count();
  }

  /**
   * Stops accepting connections and calls, lets calls in flight finish until {@code deadline}, then
   * cancels what is left. Blocks until done.
   *
   * @return true if every call in flight finished before the deadline
   */
  public boolean shutdown(Duration deadline) {
    server.shutdown();
    inFlight.drain();
    boolean clean;
    try {
      clean = server.awaitTermination(deadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      clean = false;
    }
    if (!clean) {
      server.shutdownNow();
      try {
        server.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return clean;
  }

  private ServerServiceDefinition service(Signal signal) {
    MethodDescriptor<Inbound, byte[]> method = MethodDescriptor.<Inbound, byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
        .setRequestMarshaller(REQUEST)
        .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
        .build();
    return ServerServiceDefinition.builder(signal.grpcService())
        .addMethod(method, ServerCalls.asyncUnaryCall((request, observer) -> export(signal, request, observer)))
        .build();
  }

  private void export(Signal signal, Inbound inbound, StreamObserver<byte[]> observer) {
    // A client that gives up must not make onNext throw: the answer is then simply dropped.
    ((ServerCallStreamObserver<byte[]>) observer).setOnCancelHandler(() -> { });
    ReceiverMetrics metrics = dispatch.metrics();
    if (inbound.error != null) {
      Status status = inbound.error.getStatus();
      metrics.request(status.getCode() == Status.Code.RESOURCE_EXHAUSTED
          ? RequestResult.TOO_LARGE : RequestResult.MALFORMED);
      String message = String.valueOf(status.getDescription());
      observer.onError(error(status, status.getCode().value(), message, null));
      return;
    }
    byte[] request = inbound.bytes;
    BudgetReservation reservation = new BudgetReservation(budget);
    if (!reservation.resize(request.length)) {
      metrics.request(RequestResult.MEMORY_LIMITED);
      observer.onError(error(Status.RESOURCE_EXHAUSTED, OtlpResponses.CODE_RESOURCE_EXHAUSTED,
          "memory limit reached: " + budget.usedBytes() + " of " + budget.limitBytes() + " bytes in use; retry later",
          config.retryAfter));
      return;
    }
    WalkSummary summary;
    try {
      summary = walker.walk(signal, request);
    } catch (WireFormatException e) {
      reservation.release();
      metrics.request(RequestResult.MALFORMED);
      observer.onError(error(Status.INVALID_ARGUMENT, OtlpResponses.CODE_INVALID_ARGUMENT,
          "malformed " + signal.id() + " request: " + e.getMessage(), null));
      return;
    }
    inFlight.begin();
    // Unpooled heap wrapper: no copy; releasing it is still required by the sink contract.
    dispatch.dispatch(signal, Unpooled.wrappedBuffer(request), summary, reservation).thenAccept(outcome -> {
      try {
        answer(outcome, observer);
      } finally {
        inFlight.end();
      }
    });
  }

  private static void answer(ReceiveOutcome outcome, StreamObserver<byte[]> observer) {
    try {
      switch (outcome.kind()) {
        case ACCEPTED:
        case PARTIALLY_ACCEPTED:
          observer.onNext(OtlpResponses.exportResponse(outcome));
          observer.onCompleted();
          break;
        case RETRYABLE:
          observer.onError(outcome.isOverload()
              ? error(Status.RESOURCE_EXHAUSTED, OtlpResponses.CODE_RESOURCE_EXHAUSTED, outcome.message(),
                  outcome.retryAfter())
              : error(Status.UNAVAILABLE, OtlpResponses.CODE_UNAVAILABLE, outcome.message(), outcome.retryAfter()));
          break;
        default:
          observer.onError(error(Status.INVALID_ARGUMENT, OtlpResponses.CODE_INVALID_ARGUMENT, outcome.message(),
              null));
          break;
      }
    } catch (RuntimeException e) {
      // the call was cancelled or closed meanwhile: nobody is left to answer
    }
  }

  private static RuntimeException error(Status status, int code, String message, Duration retryDelay) {
    return status.withDescription(message).asRuntimeException(RpcStatus.trailers(code, message, retryDelay));
  }

  private static SslContext sslContext(ReceiverTls tls) {
    try {
      SslContextBuilder b = GrpcSslContexts.configure(
          SslContextBuilder.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile()));
      if (tls.clientCa().isPresent()) {
        b.trustManager(tls.clientCa().get().toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot load TLS material " + tls + ": " + e.getMessage(), e);
    }
  }

  /** Refuses calls whose {@code authorization} metadata does not carry the configured bearer token. */
  private final class AuthInterceptor implements ServerInterceptor {
    private final BearerAuth auth;

    AuthInterceptor(BearerAuth auth) {
      this.auth = auth;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      if (auth.permits(headers.get(AUTHORIZATION))) {
        return next.startCall(call, headers);
      }
      dispatch.metrics().request(RequestResult.UNAUTHENTICATED);
      call.close(Status.UNAUTHENTICATED.withDescription("missing or invalid bearer token"), new Metadata());
      return new ServerCall.Listener<>() { };
    }
  }

  @Override
  public String toString() {
    return "GrpcReceiver{" + config.host + ":" + config.port + (config.tls != null ? ", tls" : "")
        + (config.bearerToken != null ? ", bearer auth" : "") + "}";
  }

  /** Configures a {@link GrpcReceiver}. Not thread-safe; the built receiver keeps a copy. */
  public static final class Builder {
    private final ReceiverSink sink;
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
    private int maxConcurrentStreams = DEFAULT_MAX_CONCURRENT_STREAMS;
    private MemoryBudget budget;
    private MetricsRegistry metrics;
    private String name = DEFAULT_NAME;
    private ReceiverTls tls;
    private String bearerToken;
    private Duration retryAfter = DEFAULT_RETRY_AFTER;

    private Builder(ReceiverSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** The address to bind (default {@value GrpcReceiver#DEFAULT_HOST}). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The port (default {@value GrpcReceiver#DEFAULT_PORT}; 0 picks a free one, see {@link GrpcReceiver#address()}). */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /** The largest request, compressed or not (default {@value GrpcReceiver#DEFAULT_MAX_MESSAGE_BYTES}). */
    public Builder maxMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxMessageBytes must be positive, was " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /** Concurrent calls per connection (default {@value GrpcReceiver#DEFAULT_MAX_CONCURRENT_STREAMS}). */
    public Builder maxConcurrentStreams(int streams) {
      if (streams <= 0) {
        throw new IllegalArgumentException("maxConcurrentStreams must be positive, was " + streams);
      }
      this.maxConcurrentStreams = streams;
      return this;
    }

    /** The shared budget requests are reserved in (default: one of {@value GrpcReceiver#DEFAULT_MEMORY_LIMIT_BYTES} bytes). */
    public Builder memoryBudget(MemoryBudget budget) {
      this.budget = Objects.requireNonNull(budget, "budget");
      return this;
    }

    /** The registry for the receiver's metrics (default: a private one). */
    public Builder metrics(MetricsRegistry registry) {
      this.metrics = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The {@code receiver} label of the metrics (default {@value GrpcReceiver#DEFAULT_NAME}). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Serves TLS (or mutual TLS, see {@link ReceiverTls#requireClientCertificates}). */
    public Builder tls(ReceiverTls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** Requires {@code authorization: Bearer <token>} metadata; the token is never logged. */
    public Builder bearerToken(String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("bearerToken must not be empty");
      }
      this.bearerToken = token;
      return this;
    }

    /** The delay suggested in {@code RetryInfo} when the memory budget refuses (default 1 s). */
    public Builder retryAfter(Duration delay) {
      if (delay == null || delay.isNegative()) {
        throw new IllegalArgumentException("retryAfter must be a non-negative duration, was " + delay);
      }
      this.retryAfter = delay;
      return this;
    }

    private Builder copy() {
      Builder c = new Builder(sink);
      c.host = host;
      c.port = port;
      c.maxMessageBytes = maxMessageBytes;
      c.maxConcurrentStreams = maxConcurrentStreams;
      c.budget = budget;
      c.metrics = metrics;
      c.name = name;
      c.tls = tls;
      c.bearerToken = bearerToken;
      c.retryAfter = retryAfter;
      return c;
    }

    /**
     * Builds the receiver (not yet started).
     *
     * @throws IllegalArgumentException when the TLS material cannot be loaded
     */
    public GrpcReceiver build() {
      return new GrpcReceiver(this);
    }
  }
}
