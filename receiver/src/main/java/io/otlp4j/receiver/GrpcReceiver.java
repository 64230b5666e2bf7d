package io.otlp4j.receiver;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyServerBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.internal.DebugThreshold;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.grpc.ZstdCodec;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The OTLP/gRPC receiver: the three OTLP services ({@code TraceService}, {@code MetricsService},
 * {@code LogsService}, method {@code Export}) on grpc-java's Netty server, with byte-passthrough
 * marshallers: a request reaches the {@link ReceiverSink} as the bytes the client sent (after
 * gRPC's own gzip or zstd decompression), never parsed into protobuf objects.
 *
 * <p>Each request is bounded by {@link Builder#maxMessageBytes(int)} (also after decompression:
 * grpc-java enforces it on the decompressed stream), admitted before its bytes are buffered ({@link
 * GrpcAdmission}: at most {@link Builder#maxConcurrentCalls(int)} calls across all connections, and
 * each message reserved in the {@link MemoryBudget} as grpc-java reads it off the wire, whole once
 * it outgrows 64 KiB; refused at once with {@code RESOURCE_EXHAUSTED} and {@code RetryInfo} when
 * either is exhausted), walked ({@code INVALID_ARGUMENT} naming the offset and reason when
 * malformed), and handed to the sink. Answers: see {@link Outcome}; a bad or missing bearer token
 * is {@code UNAUTHENTICATED}.
 *
 * <p><b>Lifecycle:</b> {@link #start()} once, then {@link #shutdown(Duration)} once.
 * <b>Thread-safety:</b> thread-safe; immutable configuration. <b>Buffer ownership:</b> each
 * request's buffer is created here and passed, with ownership, to the sink.
 */
public final class GrpcReceiver {
  private static final System.Logger LOG = System.getLogger(GrpcReceiver.class.getName());

  /** The default bind address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** The OTLP/gRPC port. */
  public static final int DEFAULT_PORT = 4317;

  /** The largest request accepted, compressed or decompressed: the Collector's default, 4 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  /** Concurrent calls per HTTP/2 connection. */
  public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 256;

  /**
   * Concurrent calls across all connections; more are refused at once with {@code
   * RESOURCE_EXHAUSTED}.
   */
  public static final int DEFAULT_MAX_CONCURRENT_CALLS = 1024;

  /**
   * The HTTP/2 flow-control window of each stream and connection, fixed (no auto-tuning) so that
   * the bytes a client can push before the receiver reads them stay bounded: see {@link
   * GrpcAdmission}.
   */
  public static final int FLOW_CONTROL_WINDOW = 1024 * 1024;

  /** The memory budget of a receiver that is given none. */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 512L * 1024 * 1024;

  /** The delay suggested to a client the memory budget refuses. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  /** The {@code receiver} label of the metrics. */
  public static final String DEFAULT_NAME = "otlp";

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Builder config;
  private final MemoryBudget budget;
  private final RequestDispatch dispatch;
  private final OtlpWalker walker = OtlpWalker.create();
  private final Server server;
  private final InFlight inFlight = new InFlight();
  private final GrpcAdmission admission;
  private final GrpcInbound.Marshaller requests;
  private final ConnectionLimit connectionLimit;

  /** How long the event loops wait for late tasks (answers) before they stop. */
  private static final long QUIET_PERIOD_MILLIS = 200;

  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;

  private GrpcReceiver(Builder b) {
    this.config = b.copy();
    this.budget =
        b.budget != null ? b.budget : MemoryBudget.builder(DEFAULT_MEMORY_LIMIT_BYTES).build();
    MetricsRegistry registry = b.metrics != null ? b.metrics : MetricsRegistry.create();
    this.dispatch =
        new RequestDispatch(b.sink, new ReceiverMetrics(registry, b.name, "grpc", inFlight::count));
    this.admission =
        new GrpcAdmission(
            budget, b.maxMessageBytes, b.maxConcurrentCalls, b.retryAfter, dispatch.metrics());
    this.requests =
        new GrpcInbound.Marshaller(
            budget, b.allocator != null ? b.allocator : ByteBufAllocator.DEFAULT);
    this.connectionLimit =
        new ConnectionLimit(
            b.connectionPolicy.maxConnections(),
            registry,
            b.name,
            "grpc",
            controlFrameGuard(b.connectionPolicy, registry, b.name));
    // Own event loops: grpc-java takes a custom server channel only with its groups.
    this.bossGroup =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("otlp-grpc-accept", true), NioIoHandler.newFactory());
    this.workerGroup =
        new MultiThreadIoEventLoopGroup(
            0, new DefaultThreadFactory("otlp-grpc", true), NioIoHandler.newFactory());
    NettyServerBuilder nb =
        NettyServerBuilder.forAddress(new InetSocketAddress(b.host, b.port))
            .channelFactory(connectionLimit.channelFactory())
            .bossEventLoopGroup(bossGroup)
            .workerEventLoopGroup(workerGroup)
            .maxInboundMessageSize(b.maxMessageBytes)
            .maxConcurrentCallsPerConnection(b.maxConcurrentStreams)
            .flowControlWindow(FLOW_CONTROL_WINDOW)
            .addStreamTracerFactory(admission.tracerFactory())
            .compressorRegistry(ZstdCodec.compressors())
            .decompressorRegistry(ZstdCodec.decompressors());
    b.connectionPolicy.applyTo(nb);
    if (b.streamObserver != null) {
      nb.addStreamTracerFactory(b.streamObserver);
    }
    if (b.allocator != null) {
      nb.withChildOption(ChannelOption.ALLOCATOR, b.allocator);
    }
    if (b.tls != null) {
      nb.sslContext(sslContext(b.tls));
    }
    BearerAuth auth = b.bearerToken != null ? BearerAuth.of(b.bearerToken) : BearerAuth.none();
    for (Signal signal : Signal.values()) {
      ServerServiceDefinition service = service(signal);
      nb.addService(
          auth.enabled()
              ? ServerInterceptors.intercept(service, new AuthInterceptor(auth))
              : service);
    }
    this.server = nb.build();
  }

  /**
   * Each connection's {@link Http2ControlFrameGuard}, or null when the policy limits neither frames
   * of no call nor unanswered resets.
   */
  private static Supplier<ChannelHandler> controlFrameGuard(
      GrpcConnectionPolicy policy, MetricsRegistry registry, String name) {
    if (policy.maxControlFrames() == 0 && policy.maxUnansweredResets() == 0) {
      return null;
    }
    MetricsRegistry.Counter floods =
        registry.counter(
            Http2ControlFrameGuard.FLOODS_METRIC,
            Http2ControlFrameGuard.FLOODS_HELP,
            "receiver",
            name);
    MetricsRegistry.Counter resetFloods =
        registry.counter(
            Http2ControlFrameGuard.RESET_FLOODS_METRIC,
            Http2ControlFrameGuard.RESET_FLOODS_HELP,
            "receiver",
            name);
    int max = policy.maxControlFrames();
    long window = policy.controlFramesWindow().toNanos();
    int resets = policy.maxUnansweredResets();
    return () ->
        new Http2ControlFrameGuard(max, window, resets, System::nanoTime, floods, resetFloods);
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
      bossGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      workerGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new UncheckedIOException(
          "cannot bind OTLP/gRPC receiver to " + config.host + ":" + config.port, e);
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

  /** TCP connections open now. */
  public int openConnections() {
    return connectionLimit.open();
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
    // A quiet period, not none: an answer the pipeline gives just after the server terminated is
    // still written (to a closed channel, which releases its frame); a loop that stopped at once
    // would drop the write task and leak the frame's buffer.
    bossGroup
        .shutdownGracefully(QUIET_PERIOD_MILLIS, 2000, TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(5, TimeUnit.SECONDS);
    workerGroup
        .shutdownGracefully(QUIET_PERIOD_MILLIS, 2000, TimeUnit.MILLISECONDS)
        .awaitUninterruptibly(5, TimeUnit.SECONDS);
    return clean;
  }

  private ServerServiceDefinition service(Signal signal) {
    MethodDescriptor<GrpcInbound, byte[]> method =
        MethodDescriptor.<GrpcInbound, byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(
                MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
            .setRequestMarshaller(requests)
            .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
            .build();
    return ServerServiceDefinition.builder(signal.grpcService())
        .addMethod(method, (call, headers) -> startCall(signal, call))
        .build();
  }

  /**
   * Admits a call or refuses it before any of its message is read: a call over the server-wide
   * bound is answered {@code RESOURCE_EXHAUSTED} at once, without asking grpc-java for its message.
   */
  private ServerCall.Listener<GrpcInbound> startCall(
      Signal signal, ServerCall<GrpcInbound, byte[]> call) {
    GrpcAdmission.Call admitted = GrpcAdmission.CALL.get();
    if (admitted == null) {
      throw new IllegalStateException("the admission tracer is not installed on this server");
    }
    if (!admission.beginCall()) {
      admitted.claimAnswer();
      dispatch.metrics().request(RequestResult.TOO_MANY_CALLS);
      admission.refuse(call, admission.tooManyCallsMessage());
      return new ServerCall.Listener<>() {};
    }
    admitted.attach(call);
    call.request(1);
    return new UnaryListener(signal, call, admitted, SLOW_ANSWER_NANOS > 0 ? System.nanoTime() : 0);
  }

  /**
   * One unary call: its one message, then the half-close that starts the export. Serialized by
   * grpc-java.
   */
  private final class UnaryListener extends ServerCall.Listener<GrpcInbound> {
    private final Signal signal;
    private final ServerCall<GrpcInbound, byte[]> call;
    private final GrpcAdmission.Call admitted;
    private GrpcInbound inbound;
    private boolean handedOver;
    private boolean finished;
    private final long startedNanos;

    UnaryListener(
        Signal signal,
        ServerCall<GrpcInbound, byte[]> call,
        GrpcAdmission.Call admitted,
        long startedNanos) {
      this.signal = signal;
      this.call = call;
      this.admitted = admitted;
      this.startedNanos = startedNanos;
    }

    @Override
    public void onMessage(GrpcInbound message) {
      if (inbound != null) {
        message.release(); // a second message on a unary call: grpc-java fails the call
        return;
      }
      inbound = message;
    }

    @Override
    public void onHalfClose() {
      if (inbound == null) {
        if (admitted.claimAnswer()) {
          dispatch.metrics().request(RequestResult.MALFORMED);
          GrpcAnswers.close(
              call,
              Status.INVALID_ARGUMENT,
              OtlpResponses.CODE_INVALID_ARGUMENT,
              "no request message",
              null);
        }
        return;
      }
      handedOver = true;
      export(signal, inbound, call, admitted, startedNanos);
    }

    @Override
    public void onCancel() {
      finish();
    }

    @Override
    public void onComplete() {
      finish();
    }

    private void finish() {
      if (finished) {
        return;
      }
      finished = true;
      if (inbound != null && !handedOver) {
        inbound.release();
      }
      admitted.releaseWire();
      admission.endCall();
    }
  }

  /**
   * A debugging aid, off unless the system property {@code otlp4j.debug.slowAnswerMillis} names a
   * threshold in milliseconds: a call answered later than that after its headers arrived is logged
   * (INFO), with the part before its request was handed to the sink (the message's transfer, the
   * executor, the walk) and the sink's part (the pipeline and what the ack mode waits for).
   */
  private static final long SLOW_ANSWER_NANOS =
      DebugThreshold.nanos("otlp4j.debug.slowAnswerMillis");

  private static void traceSlowAnswer(long startedNanos, long dispatchedNanos) {
    long now = System.nanoTime();
    if (now - startedNanos >= SLOW_ANSWER_NANOS) {
      LOG.log(
          System.Logger.Level.INFO,
          String.format(
              java.util.Locale.ROOT,
              "slow gRPC answer: %.2f ms from the call's headers = to the sink %.2f + the sink's"
                  + " answer %.2f",
              (now - startedNanos) / 1e6,
              (dispatchedNanos - startedNanos) / 1e6,
              (now - dispatchedNanos) / 1e6));
    }
  }

  /** Answers a call's request; takes ownership of {@code inbound}'s reservation. */
  private void export(
      Signal signal,
      GrpcInbound inbound,
      ServerCall<GrpcInbound, byte[]> call,
      GrpcAdmission.Call admitted,
      long startedNanos) {
    ReceiverMetrics metrics = dispatch.metrics();
    if (inbound.refused()) {
      if (admitted.claimAnswer()) { // else the tracer refused it and answered already
        metrics.request(RequestResult.MEMORY_LIMITED);
        admission.refuse(call, admission.memoryLimitedMessage());
      }
      return;
    }
    if (inbound.error != null) {
      Status status = inbound.error.getStatus();
      metrics.request(
          status.getCode() == Status.Code.RESOURCE_EXHAUSTED
              ? RequestResult.TOO_LARGE
              : RequestResult.MALFORMED);
      if (admitted.claimAnswer()) {
        GrpcAnswers.close(
            call, status, status.getCode().value(), String.valueOf(status.getDescription()), null);
      }
      return;
    }
    ByteBuf request = inbound.bytes();
    BudgetReservation reservation = inbound.reservation;
    WalkSummary summary;
    try {
      FaultInjection.check(FaultInjection.Stage.RECEIVE);
      FaultInjection.check(FaultInjection.Stage.WALK);
      summary = walker.walk(signal, request);
    } catch (WireFormatException e) {
      inbound.release();
      metrics.request(RequestResult.MALFORMED);
      if (admitted.claimAnswer()) {
        GrpcAnswers.close(
            call,
            Status.INVALID_ARGUMENT,
            OtlpResponses.CODE_INVALID_ARGUMENT,
            "malformed " + signal.id() + " request: " + e.getMessage(),
            null);
      }
      return;
    } catch (Throwable e) {
      // Our own failure (a bug, out of memory): thrown on to grpc-java it would answer UNKNOWN,
      // which a client does not retry, and the buffer and reservation would never come back.
      inbound.release();
      LOG.log(
          System.Logger.Level.WARNING,
          "OTLP/gRPC request failed unexpectedly; answering retryable",
          e);
      metrics.request(RequestResult.REFUSED_RETRYABLE);
      if (admitted.claimAnswer()) {
        GrpcAnswers.close(
            call, Status.UNAVAILABLE, OtlpResponses.CODE_UNAVAILABLE, "internal error: " + e, null);
      }
      return;
    }
    inFlight.begin();
    long dispatchedNanos = startedNanos != 0 ? System.nanoTime() : 0;
    // the request's buffer (grpc-java's own, or a pooled copy: see GrpcInbound) goes to the sink
    // with ownership
    dispatch
        .dispatch(signal, inbound.takeBytes(), summary, reservation)
        .thenAccept(
            outcome -> {
              try {
                if (admitted.claimAnswer()) {
                  GrpcAnswers.answer(outcome, call);
                }
                if (startedNanos != 0) {
                  traceSlowAnswer(startedNanos, dispatchedNanos);
                }
              } finally {
                inFlight.end();
              }
            });
  }

  private static SslContext sslContext(ReceiverTls tls) {
    try {
      SslContextBuilder b =
          GrpcSslContexts.configure(
              SslContextBuilder.forServer(
                  tls.certificateChain().toFile(), tls.privateKey().toFile()));
      if (tls.clientCa().isPresent()) {
        b.trustManager(tls.clientCa().get().toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot load TLS material " + tls + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses calls whose {@code authorization} metadata does not carry the configured bearer token.
   */
  private final class AuthInterceptor implements ServerInterceptor {
    private final BearerAuth auth;

    AuthInterceptor(BearerAuth auth) {
      this.auth = auth;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      if (auth.permits(headers.get(AUTHORIZATION))) {
        return next.startCall(call, headers);
      }
      dispatch.metrics().request(RequestResult.UNAUTHENTICATED);
      call.close(
          Status.UNAUTHENTICATED.withDescription("missing or invalid bearer token"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
  }

  @Override
  public String toString() {
    return "GrpcReceiver{"
        + config.host
        + ":"
        + config.port
        + (config.tls != null ? ", tls" : "")
        + (config.bearerToken != null ? ", bearer auth" : "")
        + "}";
  }

  /** Configures a {@link GrpcReceiver}. Not thread-safe; the built receiver keeps a copy. */
  public static final class Builder {
    private final ReceiverSink sink;
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
    private int maxConcurrentStreams = DEFAULT_MAX_CONCURRENT_STREAMS;
    private int maxConcurrentCalls = DEFAULT_MAX_CONCURRENT_CALLS;
    private MemoryBudget budget;
    private MetricsRegistry metrics;
    private String name = DEFAULT_NAME;
    private ReceiverTls tls;
    private String bearerToken;
    private Duration retryAfter = DEFAULT_RETRY_AFTER;
    private ServerStreamTracer.Factory streamObserver;
    private ByteBufAllocator allocator;
    private GrpcConnectionPolicy connectionPolicy = GrpcConnectionPolicy.defaults();

    private Builder(ReceiverSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** The address to bind (default {@value GrpcReceiver#DEFAULT_HOST}). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /**
     * The port (default {@value GrpcReceiver#DEFAULT_PORT}; 0 picks a free one, see {@link
     * GrpcReceiver#address()}).
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * The largest request, compressed or not (default {@value
     * GrpcReceiver#DEFAULT_MAX_MESSAGE_BYTES}).
     */
    public Builder maxMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxMessageBytes must be positive, was " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /**
     * Concurrent calls per connection (default {@value
     * GrpcReceiver#DEFAULT_MAX_CONCURRENT_STREAMS}).
     */
    public Builder maxConcurrentStreams(int streams) {
      if (streams <= 0) {
        throw new IllegalArgumentException("maxConcurrentStreams must be positive, was " + streams);
      }
      this.maxConcurrentStreams = streams;
      return this;
    }

    /**
     * Concurrent calls across all connections (default {@value
     * GrpcReceiver#DEFAULT_MAX_CONCURRENT_CALLS}); a call over the bound is answered {@code
     * RESOURCE_EXHAUSTED} with {@code RetryInfo} before any of its message is read.
     */
    public Builder maxConcurrentCalls(int calls) {
      if (calls <= 0) {
        throw new IllegalArgumentException("maxConcurrentCalls must be positive, was " + calls);
      }
      this.maxConcurrentCalls = calls;
      return this;
    }

    /**
     * The shared budget requests are reserved in (default: one of {@value
     * GrpcReceiver#DEFAULT_MEMORY_LIMIT_BYTES} bytes).
     */
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
        throw new IllegalArgumentException(
            "retryAfter must be a non-negative duration, was " + delay);
      }
      this.retryAfter = delay;
      return this;
    }

    /**
     * Keepalive, idle, age, handshake and HTTP/2 limits of each connection, and the bound on open
     * connections (default {@link GrpcConnectionPolicy#defaults()}).
     */
    public Builder connectionPolicy(GrpcConnectionPolicy policy) {
      this.connectionPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * For tests: a tracer that observes every stream beside the receiver's own (what grpc-java
     * read).
     */
    Builder observeStreams(ServerStreamTracer.Factory observer) {
      this.streamObserver = Objects.requireNonNull(observer, "observer");
      return this;
    }

    /**
     * For tests: the allocator of the connections' buffers (what grpc-java reads into) and of the
     * requests' copies, so that a test can see every buffer come back.
     */
    Builder allocator(ByteBufAllocator allocator) {
      this.allocator = Objects.requireNonNull(allocator, "allocator");
      return this;
    }

    private Builder copy() {
      Builder c = new Builder(sink);
      c.host = host;
      c.port = port;
      c.maxMessageBytes = maxMessageBytes;
      c.maxConcurrentStreams = maxConcurrentStreams;
      c.maxConcurrentCalls = maxConcurrentCalls;
      c.budget = budget;
      c.metrics = metrics;
      c.name = name;
      c.tls = tls;
      c.bearerToken = bearerToken;
      c.retryAfter = retryAfter;
      c.streamObserver = streamObserver;
      c.allocator = allocator;
      c.connectionPolicy = connectionPolicy;
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
