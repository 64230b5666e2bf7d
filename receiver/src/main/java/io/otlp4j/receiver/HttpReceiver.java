package io.otlp4j.receiver;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The OTLP/HTTP receiver on Netty (HTTP/1.1, keep-alive): {@code POST /v1/traces}, {@code
 * /v1/metrics} and {@code /v1/logs} with {@code application/x-protobuf} or {@code application/json}
 * bodies on the same port, {@code Content-Encoding} gzip or zstd, answered in the request's content
 * type.
 *
 * <p>Answers: 200 (with {@code partial_success} when the sink rejected some items); 400 for
 * malformed data (a {@code google.rpc.Status} whose message names the offset and the reason); 401
 * for a bad or missing bearer token; 404 for another path; 405 (with {@code Allow: POST}) for
 * another method; 413 when the body is larger than {@link Builder#maxRequestBytes(int)} (checked
 * against {@code Content-Length} before reading, while reading a chunked body, and while
 * decompressing); 415 for another content type or encoding; 429 with {@code Retry-After} when the
 * {@link MemoryBudget} has no room; 503 with {@code Retry-After} when the sink refuses retryably or
 * the receiver is shutting down.
 *
 * <p><b>Memory:</b> a body's bytes are reserved in the budget before they are read (all at once on
 * the declared length, chunk by chunk for a chunked body) and stay reserved until the sink's stage
 * completes; a connection reads no further request while one is being handled, so each connection
 * holds at most one request. When the budget refuses, the 429 is sent at once, before the rest of
 * the body: the body is then read and dropped as it arrives (HTTP/1.1 frames the connection by it,
 * and a server that closes while the client still writes makes the client's TCP stack discard the
 * answer with a reset), and the connection is reused after it, or closed when it runs past the size
 * limit.
 *
 * <p><b>Lifecycle:</b> {@link #start()} once, then {@link #shutdown(Duration)} once.
 * <b>Thread-safety:</b> thread-safe; immutable configuration. <b>Buffer ownership:</b> body buffers
 * are allocated here and the decoded request is passed, with ownership, to the sink; everything
 * else is released here.
 */
public final class HttpReceiver {

  /** The default bind address: loopback only. */
  public static final String DEFAULT_HOST = "127.0.0.1";

  /** The OTLP/HTTP port. */
  public static final int DEFAULT_PORT = 4318;

  /**
   * The largest body accepted, compressed and again after decompression: the Collector's {@code
   * confighttp} default ({@code max_request_body_size}), 20 MiB.
   */
  public static final int DEFAULT_MAX_REQUEST_BYTES = 20 * 1024 * 1024;

  /** The memory budget of a receiver that is given none. */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 512L * 1024 * 1024;

  /** The delay suggested in {@code Retry-After} when the memory budget refuses. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  /** A connection idle this long (not waiting for the sink) is closed. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);

  /**
   * The time from a request's first byte to the end of its headers before the connection is closed
   * (the Collector's {@code confighttp} {@code read_header_timeout} default, 1 minute).
   */
  public static final Duration DEFAULT_READ_HEADER_TIMEOUT = Duration.ofMinutes(1);

  /**
   * The time from a request's first byte to the end of its body before the connection is closed:
   * zero, none (the Collector's {@code read_timeout} default); a slow body is then bounded by the
   * idle timeout between its bytes, the memory budget and {@link #DEFAULT_MAX_CONNECTIONS}.
   */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ZERO;

  /** The time a client has to finish the TLS handshake (Netty's {@code SslHandler} default). */
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Open connections; one more is closed as soon as it is accepted (see {@link
   * Builder#maxConnections(int)}).
   */
  public static final int DEFAULT_MAX_CONNECTIONS = 4096;

  /** Event-loop threads; 0 lets Netty choose (twice the cores). */
  public static final int DEFAULT_IO_THREADS = 0;

  /** The {@code receiver} label of the metrics. */
  public static final String DEFAULT_NAME = "otlp";

  private final Builder config;
  private final Shared shared;
  private final SslContext sslContext;
  private final ConnectionLimit connectionLimit;
  private EventLoopGroup group;
  private Channel serverChannel;
  private boolean stopped;
  private final ChannelGroup connections =
      new DefaultChannelGroup("otlp-http", GlobalEventExecutor.INSTANCE);

  /** What every connection's handler shares. Immutable apart from the thread-safe counters. */
  static final class Shared {
    final RequestDispatch dispatch;
    final MemoryBudget budget;
    final OtlpWalker walker = OtlpWalker.create();
    final BearerAuth auth;
    final int maxRequestBytes;
    final Duration retryAfter;
    final InFlight inFlight;

    /** The URL path of each signal; read-only. */
    final Map<String, Signal> paths;

    Shared(
        InFlight inFlight,
        RequestDispatch dispatch,
        MemoryBudget budget,
        BearerAuth auth,
        int maxRequestBytes,
        Duration retryAfter,
        Map<String, Signal> paths) {
      this.inFlight = inFlight;
      this.paths = paths;
      this.dispatch = dispatch;
      this.budget = budget;
      this.auth = auth;
      this.maxRequestBytes = maxRequestBytes;
      this.retryAfter = retryAfter;
    }
  }

  private HttpReceiver(Builder b) {
    this.config = b.copy();
    MemoryBudget budget =
        b.budget != null ? b.budget : MemoryBudget.builder(DEFAULT_MEMORY_LIMIT_BYTES).build();
    MetricsRegistry registry = b.metrics != null ? b.metrics : MetricsRegistry.create();
    InFlight inFlight = new InFlight();
    this.shared =
        new Shared(
            inFlight,
            new RequestDispatch(
                b.sink, new ReceiverMetrics(registry, b.name, "http", inFlight::count)),
            budget,
            b.bearerToken != null ? BearerAuth.of(b.bearerToken) : BearerAuth.none(),
            b.maxRequestBytes,
            b.retryAfter,
            b.pathsBySignal());
    this.sslContext = b.tls != null ? sslContext(b.tls) : null;
    this.connectionLimit = new ConnectionLimit(b.maxConnections, registry, b.name, "http");
  }

  /** A builder for a receiver that hands requests to {@code sink}. */
  public static Builder builder(ReceiverSink sink) {
    return new Builder(sink);
  }

  /**
   * Binds and starts serving.
   *
   * @throws IllegalStateException when already started or the address cannot be bound
   */
  public synchronized HttpReceiver start() {
    if (group != null) {
      throw new IllegalStateException("already started");
    }
    group = new MultiThreadIoEventLoopGroup(config.ioThreads, NioIoHandler.newFactory());
    long idleMillis = config.idleTimeout.toMillis();
    long handshakeMillis = config.handshakeTimeout.toMillis();
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channelFactory(connectionLimit.channelFactory())
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    connections.add(ch);
                    ChannelPipeline p = ch.pipeline();
                    if (sslContext != null) {
                      SslHandler tls = sslContext.newHandler(ch.alloc());
                      tls.setHandshakeTimeoutMillis(handshakeMillis);
                      p.addLast("tls", tls);
                    }
                    p.addLast(
                        "idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
                    p.addLast(
                        "http", new TimedHttpCodec(config.readHeaderTimeout, config.readTimeout));
                    p.addLast("otlp", new OtlpHttpHandler(shared));
                  }
                });
    try {
      serverChannel =
          bootstrap
              .bind(new InetSocketAddress(config.host, config.port))
              .syncUninterruptibly()
              .channel();
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new IllegalStateException(
          "cannot bind OTLP/HTTP receiver to " + config.host + ":" + config.port, e);
    }
    return this;
  }

  /** The address the server is bound to (with the actual port when configured with port 0). */
  public InetSocketAddress address() {
    Channel ch = serverChannel;
    if (ch == null) {
      throw new IllegalStateException("not started");
    }
    return (InetSocketAddress) ch.localAddress();
  }

  /** The budget requests are reserved in (the configured one, or this receiver's own). */
  public MemoryBudget memoryBudget() {
    return shared.budget;
  }

  /** TCP connections open now. */
  public int openConnections() {
    return connectionLimit.open();
  }

  /** Requests started (body being read or in the sink) and not yet answered. */
  public int inFlightRequests() {
    return shared.inFlight.count();
  }

  /**
   * Stops accepting connections, answers new requests on open connections with 503 and closes them,
   * lets requests in flight finish until {@code deadline}, then closes every connection. Blocks
   * until done. Later calls return true at once.
   *
   * @return true if every request in flight was answered before the deadline
   */
  public synchronized boolean shutdown(Duration deadline) {
    if (group == null || stopped) {
      return true;
    }
    stopped = true;
    serverChannel.close().syncUninterruptibly();
    boolean clean = true;
    try {
      shared.inFlight.drain().get(deadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      clean = false;
    } catch (ExecutionException e) {
      clean = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      clean = false;
    }
    connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    return clean;
  }

  private static SslContext sslContext(ReceiverTls tls) {
    try {
      SslContextBuilder b =
          SslContextBuilder.forServer(tls.certificateChain().toFile(), tls.privateKey().toFile());
      if (tls.clientCa().isPresent()) {
        b.trustManager(tls.clientCa().get().toFile()).clientAuth(ClientAuth.REQUIRE);
      }
      return b.build();
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "cannot load TLS material " + tls + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "HttpReceiver{"
        + config.host
        + ":"
        + config.port
        + (config.tls != null ? ", tls" : "")
        + (config.bearerToken != null ? ", bearer auth" : "")
        + "}";
  }

  /** Configures an {@link HttpReceiver}. Not thread-safe; the built receiver keeps a copy. */
  public static final class Builder {
    private final ReceiverSink sink;
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private MemoryBudget budget;
    private MetricsRegistry metrics;
    private String name = DEFAULT_NAME;
    private ReceiverTls tls;
    private String bearerToken;
    private Duration retryAfter = DEFAULT_RETRY_AFTER;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private int ioThreads = DEFAULT_IO_THREADS;
    private Duration readHeaderTimeout = DEFAULT_READ_HEADER_TIMEOUT;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private final Map<Signal, String> paths = new EnumMap<>(Signal.class);

    private Builder(ReceiverSink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** The address to bind (default {@value HttpReceiver#DEFAULT_HOST}). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /**
     * The port (default {@value HttpReceiver#DEFAULT_PORT}; 0 picks a free one, see {@link
     * HttpReceiver#address()}).
     */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * The largest body, compressed and decompressed (default {@value
     * HttpReceiver#DEFAULT_MAX_REQUEST_BYTES}).
     */
    public Builder maxRequestBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxRequestBytes must be positive, was " + bytes);
      }
      this.maxRequestBytes = bytes;
      return this;
    }

    /**
     * The shared budget bodies are reserved in (default: one of {@value
     * HttpReceiver#DEFAULT_MEMORY_LIMIT_BYTES} bytes).
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

    /** The {@code receiver} label of the metrics (default {@value HttpReceiver#DEFAULT_NAME}). */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Serves HTTPS (or mutual TLS, see {@link ReceiverTls#requireClientCertificates}). */
    public Builder tls(ReceiverTls tls) {
      this.tls = Objects.requireNonNull(tls, "tls");
      return this;
    }

    /** Requires {@code Authorization: Bearer <token>}; the token is never logged. */
    public Builder bearerToken(String token) {
      if (token == null || token.isBlank()) {
        throw new IllegalArgumentException("bearerToken must not be empty");
      }
      this.bearerToken = token;
      return this;
    }

    /** The delay suggested in {@code Retry-After} when the memory budget refuses (default 1 s). */
    public Builder retryAfter(Duration delay) {
      if (delay == null || delay.isNegative()) {
        throw new IllegalArgumentException(
            "retryAfter must be a non-negative duration, was " + delay);
      }
      this.retryAfter = delay;
      return this;
    }

    /**
     * Closes connections idle this long (default 60 s); a connection waiting for the sink is not
     * idle.
     */
    public Builder idleTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("idleTimeout must be positive, was " + timeout);
      }
      this.idleTimeout = timeout;
      return this;
    }

    /**
     * The Collector's {@code read_header_timeout}: the time from a request's first byte to the end
     * of its headers (default 1 minute; zero: none). Past it the connection is closed without an
     * answer, as Go's server does: this is what ends a slowloris client, whose trickle of bytes
     * keeps the idle timeout from running out.
     */
    public Builder readHeaderTimeout(Duration timeout) {
      this.readHeaderTimeout = nonNegative(timeout, "readHeaderTimeout");
      return this;
    }

    /**
     * The Collector's {@code read_timeout}: the time from a request's first byte to the end of its
     * body (default zero: none). Past it the connection is closed without an answer and what the
     * request held is released.
     */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = nonNegative(timeout, "readTimeout");
      return this;
    }

    /** The time a client has to finish the TLS handshake (default 10 s). */
    public Builder handshakeTimeout(Duration timeout) {
      if (timeout == null || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("handshakeTimeout must be positive, was " + timeout);
      }
      this.handshakeTimeout = timeout;
      return this;
    }

    /**
     * Open TCP connections (default {@value HttpReceiver#DEFAULT_MAX_CONNECTIONS}); one accepted
     * while that many are open is closed at once and counted in {@code
     * otlp4j_receiver_refused_connections_total}. Connections already open carry on.
     */
    public Builder maxConnections(int connections) {
      if (connections <= 0) {
        throw new IllegalArgumentException("maxConnections must be positive, was " + connections);
      }
      this.maxConnections = connections;
      return this;
    }

    private static Duration nonNegative(Duration d, String name) {
      if (d == null || d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative, was " + d);
      }
      return d;
    }

    /** Event-loop threads (default 0: Netty's choice). */
    public Builder ioThreads(int threads) {
      if (threads < 0) {
        throw new IllegalArgumentException("ioThreads must not be negative, was " + threads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * The URL path {@code signal} is served at (default {@link Signal#httpPath()}, {@code
     * /v1/traces} etc.), as the Collector's {@code traces_url_path}. Another path answers 404.
     *
     * @throws IllegalArgumentException when {@code path} does not start with {@code /} or has a
     *     query
     */
    public Builder path(Signal signal, String path) {
      Objects.requireNonNull(signal, "signal");
      if (path == null
          || !path.startsWith("/")
          || path.indexOf('?') >= 0
          || path.indexOf('#') >= 0) {
        throw new IllegalArgumentException("path must start with / and have no query, was " + path);
      }
      paths.put(signal, path);
      return this;
    }

    /** Each signal's path, checked to be distinct. */
    private Map<String, Signal> pathsBySignal() {
      Map<String, Signal> bySignal = new HashMap<>();
      for (Signal signal : Signal.values()) {
        Signal previous = bySignal.put(paths.getOrDefault(signal, signal.httpPath()), signal);
        if (previous != null) {
          throw new IllegalArgumentException(
              previous.id()
                  + " and "
                  + signal.id()
                  + " share the path "
                  + paths.getOrDefault(signal, signal.httpPath()));
        }
      }
      return Map.copyOf(bySignal);
    }

    private Builder copy() {
      Builder c = new Builder(sink);
      c.paths.putAll(paths);
      c.host = host;
      c.port = port;
      c.maxRequestBytes = maxRequestBytes;
      c.budget = budget;
      c.metrics = metrics;
      c.name = name;
      c.tls = tls;
      c.bearerToken = bearerToken;
      c.retryAfter = retryAfter;
      c.idleTimeout = idleTimeout;
      c.ioThreads = ioThreads;
      c.readHeaderTimeout = readHeaderTimeout;
      c.readTimeout = readTimeout;
      c.handshakeTimeout = handshakeTimeout;
      c.maxConnections = maxConnections;
      return c;
    }

    /**
     * Builds the receiver (not yet started).
     *
     * @throws IllegalArgumentException when the TLS material cannot be loaded
     */
    public HttpReceiver build() {
      return new HttpReceiver(this);
    }
  }
}
