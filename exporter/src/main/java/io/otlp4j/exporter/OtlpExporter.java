package io.otlp4j.exporter;

import io.grpc.netty.GrpcSslContexts;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.NanoClock;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.File;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLException;

/**
 * Sends encoded OTLP export requests upstream over OTLP/gRPC or OTLP/HTTP (protobuf or JSON), with
 * retries as the OTLP specification prescribes, a circuit breaker and an in-flight bound per endpoint,
 * pooled connections and TLS.
 *
 * <pre>{@code
 * OtlpExporter exporter = OtlpExporter.builder()
 *     .protocol(Protocol.GRPC)
 *     .endpoint("https://collector:4317")
 *     .compression(Compression.ZSTD)
 *     .build();
 * exporter.export(Signal.TRACES, encodedRequest, spanCount)
 *     .thenAccept(result -> { if (result.isRetryable()) queue.keep(...); });
 * }</pre>
 *
 * <h2>Buffer ownership</h2>
 * {@link #export} takes ownership of the payload's reference: the exporter releases it once the
 * returned future has its result (whatever the result), and never earlier. The caller must not
 * release it, nor change its bytes or indexes, after the call. To keep the bytes for a retry of its own
 * after a retryable result, the caller passes {@code payload.retain()} (or a retained duplicate).
 *
 * <h2>Threads</h2>
 * Thread-safe; {@link #export} never blocks and the futures complete on the exporter's I/O threads,
 * so callbacks must not block either. The exporter owns its I/O threads and connections; {@link
 * #shutdown} (or {@link #close}) must be called to release them.
 *
 * <h2>Results</h2>
 * An {@link Outcome}: a retryable failure (retries given up, circuit open, too many exports
 * queued, shut down) or a local failure (our own code threw; see {@link ExportCall}) leaves the data to
 * the caller, to queue or spill; only the upstream's own refusal is {@link Outcome.Kind#PERMANENT}.
 * {@link #export} retries as the retry policy says; {@link #exportOnce} makes one attempt and leaves
 * the retries, with the server's RetryInfo / Retry-After delay, to a caller that keeps the data.
 */
public final class OtlpExporter implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(OtlpExporter.class.getName());

  /**
   * The counter (label {@code exporter}, exposed with {@code _total}) of failures in otlp4j's own code on
   * the export path, each retried; shared with the relay's queues, which count theirs in the same series.
   */
  public static final String LOCAL_FAILURES_METRIC = "otlp4j_exporter_local_failures";
  /** The help text of {@link #LOCAL_FAILURES_METRIC}. */
  public static final String LOCAL_FAILURES_HELP =
      "Exports that failed in otlp4j's own code (an exception, not the upstream's answer); each is retried.";
  /** Partial successes are logged at WARNING at most once per this interval; the rest at DEBUG. */
  private static final long PARTIAL_SUCCESS_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  final ExporterSettings settings;
  final Transport transport;
  final ExporterMetrics metrics;
  final ScheduledExecutorService scheduler;
  private final EventLoopGroup group;
  private final Map<String, EndpointState> endpoints;
  private final Map<Signal, EndpointState> bySignal = new EnumMap<>(Signal.class);
  private final Set<ExportCall> active = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;
  private final ThrottledLog partialSuccessLog;
  private final ThrottledLog localFailureLog;
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  private OtlpExporter(ExporterSettings settings) {
    this.settings = settings;
    this.partialSuccessLog = ThrottledLog.every(Duration.ofNanos(PARTIAL_SUCCESS_LOG_INTERVAL_NANOS), settings.clock);
    this.localFailureLog = ThrottledLog.every(Duration.ofNanos(PARTIAL_SUCCESS_LOG_INTERVAL_NANOS), settings.clock);
    this.metrics = new ExporterMetrics(settings.name,
        settings.metricsRegistry != null ? settings.metricsRegistry : MetricsRegistry.create());
    this.group = new MultiThreadIoEventLoopGroup(settings.ioThreads,
        new DefaultThreadFactory("otlp4j-exporter-" + settings.name, true), NioIoHandler.newFactory());
    this.scheduler = group;
    try {
      SslContext ssl = settings.anyTls() ? sslContext(settings) : null;
      this.transport = settings.transportDecorator.apply(settings.protocol == Protocol.GRPC
          ? new GrpcTransport(settings, group, ssl)
          : new HttpTransport(settings, group, ssl));
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
    Map<String, EndpointState> states = new LinkedHashMap<>();
    for (Signal signal : Signal.values()) {
      String key = transport.endpointKey(signal);
      bySignal.put(signal, states.computeIfAbsent(key, k -> new EndpointState(k, settings, group, transport)));
    }
    this.endpoints = Collections.unmodifiableMap(states);
    endpoints.forEach((key, state) -> metrics.circuit(key, state.breaker));
    if (transport instanceof HttpTransport) {
      ((HttpTransport) transport).registerMetrics(metrics);
    }
  }

  /** A builder with every default (see its constants). */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Sends one encoded {@code Export*ServiceRequest} of {@code signal}.
   *
   * @param payload the request's protobuf encoding (its readable bytes); ownership is transferred to
   *     the exporter, which releases it when the result is known (see the class Javadoc)
   * @param itemCount the spans, metric data points or log records it holds, for the self-metrics
   * @return the result; never completes exceptionally
   */
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf payload, int itemCount) {
    return export(signal, payload, itemCount, true);
  }

  /**
   * Like {@link #export}, but makes exactly one attempt and reports its outcome as the upstream gave
   * it, its RetryInfo / Retry-After delay included ({@link Outcome#retryAfterNanos()}): for a caller
   * that owns the retries of data it keeps (a durable queue), so that retries are not nested.
   *
   * @param payload ownership is transferred, as for {@link #export}
   * @return the outcome of the one attempt; never completes exceptionally
   */
  public CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf payload, int itemCount) {
    return export(signal, payload, itemCount, false);
  }

  private CompletableFuture<Outcome> export(Signal signal, ByteBuf payload, int itemCount, boolean retries) {
    Objects.requireNonNull(signal, "signal");
    Objects.requireNonNull(payload, "payload");
    if (itemCount < 0) {
      payload.release();
      throw new IllegalArgumentException("itemCount must be >= 0: " + itemCount);
    }
    if (shuttingDown) {
      payload.release();
      metrics.failed(signal, itemCount);
      return CompletableFuture.completedFuture(Outcome.retryable("exporter is shut down"));
    }
    EndpointState endpoint = bySignal.get(signal);
    ExportCall call = new ExportCall(this, endpoint, signal, payload, itemCount, retries);
    active.add(call);
    if (!endpoint.limiter.submit(call::start)) {
      payload.release();
      metrics.failed(signal, itemCount);
      callFinished(call);
      return CompletableFuture.completedFuture(Outcome.retryable(
          "too many exports in flight to " + endpoint.key + " (" + settings.maxInFlight + " sending, "
              + settings.maxQueued + " queued)"));
    }
    if (shuttingDown) {
      call.abort(); // raced with shutdown: do not leave the call behind the drain
    }
    return call.result;
  }

  void callFinished(ExportCall call) {
    active.remove(call);
    if (shuttingDown && active.isEmpty()) {
      closeTransport();
    }
  }

  /** Counts a failure in our own code and logs it at WARNING at most once per interval, else at DEBUG. */
  void onLocalFailure(Signal signal, Throwable error) {
    metrics.localFailure();
    LOG.log(localFailureLog.level(Level.WARNING), () -> settings.name + ": exporting a " + signal.id()
        + " request failed in otlp4j's own code; the export is retried (counted in "
        + ExporterMetrics.LOCAL_FAILURES + "_total)", error);
  }

  void onPartialSuccess(Signal signal, long rejected, String message) {
    LOG.log(partialSuccessLog.level(Level.WARNING), "{0}: upstream partially accepted a {1} request: {2} {3} "
        + "rejected: {4}", settings.name, signal.id(), rejected, ExporterMetrics.itemName(signal), message);
  }

  /**
   * Stops taking exports (new ones fail at once, retryable) and lets the ones in flight finish,
   * retries included, until {@code deadline}; then ends those still waiting for a retry with a
   * retryable result, cancels requests still on the wire, and closes every connection and I/O thread.
   *
   * @return completes when everything is closed
   */
  public CompletableFuture<Void> shutdown(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    if (!shuttingDown) {
      shuttingDown = true;
      if (active.isEmpty()) {
        closeTransport();
      } else {
        scheduler.schedule(this::forceShutdown, deadline.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
    return terminated;
  }

  private void forceShutdown() {
    for (ExportCall call : active) {
      call.abort();
    }
    if (!active.isEmpty()) {
      transport.shutdownNow(); // the calls on the wire fail now, and report their outcome
    }
  }

  private final AtomicLong closing = new AtomicLong();

  private void closeTransport() {
    if (closing.getAndIncrement() != 0) {
      return;
    }
    transport.shutdown().whenComplete((v, e) -> {
      transport.shutdownNow();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS)
          .addListener(f -> terminated.complete(null));
    });
  }

  /** Shuts down with a 10 second deadline and waits for it. */
  @Override
  public void close() {
    shutdown(Duration.ofSeconds(10)).join();
  }

  /** The self-metrics (Collector names) in the Prometheus text format. */
  public String metricsText() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(4096);
    try {
      metrics.registry().writePrometheusText(out);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The registry holding this exporter's self-metrics (the one given to the builder, or its own). */
  public MetricsRegistry metricsRegistry() {
    return metrics.registry();
  }

  /** Items of {@code signal} the upstream accepted ({@code otelcol_exporter_sent_*}). */
  public long sentItems(Signal signal) {
    return metrics.sentItems(signal);
  }

  /** Items of {@code signal} that failed or were rejected ({@code otelcol_exporter_send_failed_*}). */
  public long failedItems(Signal signal) {
    return metrics.failedItems(signal);
  }

  /**
   * The state of the circuit breaker guarding {@code signal}'s endpoint (tests; users read the
   * {@code otlp4j_exporter_circuit_state} gauge: core's breaker type stays out of the public API).
   */
  CircuitBreaker.State circuitState(Signal signal) {
    return bySignal.get(signal).breaker.state();
  }

  /** The protocol this exporter speaks. */
  public Protocol protocol() {
    return settings.protocol;
  }

  /** The endpoint URL {@code signal} is sent to. */
  public String endpoint(Signal signal) {
    Endpoint e = settings.endpoint(signal);
    return settings.protocol == Protocol.GRPC ? e.authority() : e.toString();
  }

  /** The headers sent with every request (read-only). */
  public Map<String, String> headers() {
    return settings.headers;
  }

  /** The compression applied to request bodies. */
  public Compression compression() {
    return settings.compression;
  }

  /** The per-attempt timeout. */
  public Duration timeout() {
    return Duration.ofNanos(settings.timeoutNanos);
  }

  /** The {@code User-Agent} sent: {@code otlp4j/<version>}. */
  public static String userAgent() {
    return ExporterSettings.USER_AGENT;
  }

  EndpointState endpointState(Signal signal) {
    return bySignal.get(signal);
  }

  private static SslContext sslContext(ExporterSettings s) {
    try {
      SslContextBuilder b = SslContextBuilder.forClient();
      if (s.trustedCertificates != null) {
        b.trustManager(readable(s.trustedCertificates, "trusted certificates").toFile());
      }
      if (s.clientCertificate != null) {
        File cert = readable(s.clientCertificate, "client certificate").toFile();
        File key = readable(s.clientKey, "client key").toFile();
        b.keyManager(cert, key);
      }
      if (s.protocol == Protocol.GRPC) {
        GrpcSslContexts.configure(b);
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot set up TLS for the exporter: " + e.getMessage(), e);
    }
  }

  private static Path readable(Path p, String what) {
    if (!Files.isReadable(p)) {
      throw new IllegalArgumentException(what + " file '" + p + "' does not exist or is not readable");
    }
    return p;
  }

  /** Per endpoint: its circuit breaker and in-flight bound. */
  static final class EndpointState {
    final String key;
    final CircuitBreaker breaker;
    final InFlightLimiter limiter;

    EndpointState(String key, ExporterSettings settings, EventLoopGroup group, Transport transport) {
      this.key = key;
      CircuitBreaker.Builder b = CircuitBreaker.builder(settings.name + " " + key).clock(settings.clock)
          .addListener((from, to) -> {
            if (to == CircuitBreaker.State.HALF_OPEN) {
              transport.probing(key);
            }
            LOG.log(to == CircuitBreaker.State.OPEN ? Level.WARNING : Level.INFO,
                "{0}: circuit for {1} went from {2} to {3}", settings.name, key, from, to);
          });
      this.breaker = settings.breakerConfig.apply(b).build();
      this.limiter = new InFlightLimiter(settings.maxInFlight, settings.maxQueued, group);
    }
  }

  /**
   * Configures an {@link OtlpExporter}. Every setter validates its argument and names it when it is
   * wrong. Not thread-safe; {@link #build()} may be called more than once (each exporter is independent).
   */
  public static final class Builder {
    /** Default protocol: {@code http/protobuf}, the OTLP specification's default. */
    public static final Protocol DEFAULT_PROTOCOL = Protocol.HTTP_PROTOBUF;
    /** Default gRPC endpoint. */
    public static final String DEFAULT_GRPC_ENDPOINT = "http://localhost:4317";
    /** Default OTLP/HTTP base endpoint ({@code /v1/<signal>} is appended). */
    public static final String DEFAULT_HTTP_ENDPOINT = "http://localhost:4318";
    /** Default time one request (attempt) may take: 10 s, as the OTLP specification says. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    /** Default retry policy: 1 s initial backoff growing 1.5x to 5 s, equal jitter, 5 attempts within 1 min. */
    public static final RetryPolicy DEFAULT_RETRY_POLICY = RetryPolicy.builder()
        .initialDelay(Duration.ofSeconds(1)).multiplier(1.5).maxDelay(Duration.ofSeconds(5))
        .maxAttempts(5).maxElapsed(Duration.ofMinutes(1)).build();
    /** Default bound of exports in flight per endpoint. */
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;
    /** Default bound of exports waiting for an in-flight slot per endpoint. */
    public static final int DEFAULT_MAX_QUEUED = 4096;
    /** Default gRPC channels (HTTP/2 connections) per endpoint. */
    public static final int DEFAULT_GRPC_CHANNELS = 2;
    /** Default gRPC keepalive ping interval. */
    public static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(30);
    /** Default time to wait for a keepalive ping's answer. */
    public static final Duration DEFAULT_KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(10);
    /** Default max HTTP connections per endpoint. */
    public static final int DEFAULT_MAX_CONNECTIONS = 16;
    /** Default wait for a pooled HTTP connection (also the connect timeout). */
    public static final Duration DEFAULT_ACQUIRE_TIMEOUT = Duration.ofSeconds(10);
    /** Default time an idle HTTP connection stays open. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** Default max age of an HTTP connection. */
    public static final Duration DEFAULT_MAX_CONNECTION_LIFETIME = Duration.ofMinutes(10);

    Protocol protocol = DEFAULT_PROTOCOL;
    String name;
    String endpoint;
    final Map<Signal, String> signalEndpoints = new EnumMap<>(Signal.class);
    final Map<String, String> headers = new LinkedHashMap<>();
    Duration timeout = DEFAULT_TIMEOUT;
    Compression compression = Compression.NONE;
    Path trustedCertificates;
    Path clientCertificate;
    Path clientKey;
    Boolean insecure;
    RetryPolicy retryPolicy = DEFAULT_RETRY_POLICY;
    UnaryOperator<CircuitBreaker.Builder> breakerConfig = UnaryOperator.identity();
    int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    int maxQueued = DEFAULT_MAX_QUEUED;
    int grpcChannels = DEFAULT_GRPC_CHANNELS;
    Duration keepAlive = DEFAULT_KEEP_ALIVE;
    Duration keepAliveTimeout = DEFAULT_KEEP_ALIVE_TIMEOUT;
    int maxConnections = DEFAULT_MAX_CONNECTIONS;
    Duration acquireTimeout = DEFAULT_ACQUIRE_TIMEOUT;
    Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    Duration maxConnectionLifetime = DEFAULT_MAX_CONNECTION_LIFETIME;
    int ioThreads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    MetricsRegistry metricsRegistry;
    NanoClock clock = NanoClock.system();
    java.util.function.UnaryOperator<Transport> transportDecorator = java.util.function.UnaryOperator.identity();
    Clock wallClock = Clock.systemUTC();

    private Builder() {}

    /** The transport (default {@link #DEFAULT_PROTOCOL}). */
    public Builder protocol(Protocol protocol) {
      this.protocol = Objects.requireNonNull(protocol, "protocol");
      return this;
    }

    /** The {@code exporter} label of the self-metrics (default {@code otlp} for gRPC, {@code otlphttp} for HTTP). */
    public Builder name(String name) {
      this.name = requireText(name, "name");
      return this;
    }

    /**
     * The endpoint for every signal: for gRPC {@code scheme://host:port}; for HTTP a base URL to which
     * {@code /v1/traces}, {@code /v1/metrics} or {@code /v1/logs} is appended. {@code https} turns TLS on.
     */
    public Builder endpoint(String endpoint) {
      this.endpoint = requireText(endpoint, "endpoint");
      return this;
    }

    /** The endpoint for one signal, overriding {@link #endpoint}; for HTTP the URL is used as it is. */
    public Builder endpoint(Signal signal, String endpoint) {
      signalEndpoints.put(Objects.requireNonNull(signal, "signal"), requireText(endpoint, "endpoint"));
      return this;
    }

    /** Adds a header sent with every request (gRPC metadata for gRPC). */
    public Builder header(String name, String value) {
      String n = requireText(name, "header name").toLowerCase(Locale.ROOT);
      headers.put(n, Objects.requireNonNull(value, "header value"));
      return this;
    }

    /** The time one request may take before it fails (retryable) (default {@link #DEFAULT_TIMEOUT}). */
    public Builder timeout(Duration timeout) {
      this.timeout = requirePositive(timeout, "timeout");
      return this;
    }

    /** Compression of request bodies (default none). */
    public Builder compression(Compression compression) {
      this.compression = Objects.requireNonNull(compression, "compression");
      return this;
    }

    /** PEM file of the CA certificates trusted to sign the server's certificate (default: the JDK's). */
    public Builder trustedCertificates(Path pemFile) {
      this.trustedCertificates = Objects.requireNonNull(pemFile, "trustedCertificates");
      return this;
    }

    /** PEM files of the client's certificate chain and PKCS#8 private key, for mutual TLS. */
    public Builder clientCertificate(Path certificateChainPem, Path privateKeyPem) {
      this.clientCertificate = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
      this.clientKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      return this;
    }

    /**
     * For a gRPC endpoint given without a scheme: plaintext when true, TLS when false (the default,
     * as {@code OTEL_EXPORTER_OTLP_INSECURE} says). An explicit {@code http}/{@code https} scheme wins.
     */
    public Builder insecure(boolean insecure) {
      this.insecure = insecure;
      return this;
    }

    /** Retry backoff and limits (default {@link #DEFAULT_RETRY_POLICY}). */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /**
     * Adjusts the circuit breaker each endpoint gets (the exporter has set its name and clock);
     * default: the core breaker's defaults.
     */
    public Builder circuitBreaker(UnaryOperator<CircuitBreaker.Builder> configure) {
      this.breakerConfig = Objects.requireNonNull(configure, "circuitBreaker");
      return this;
    }

    /** Exports in flight per endpoint, and how many more may wait for a slot. */
    public Builder maxInFlight(int maxInFlight, int maxQueued) {
      this.maxInFlight = requirePositive(maxInFlight, "maxInFlight");
      if (maxQueued < 0) {
        throw new IllegalArgumentException("maxQueued must be >= 0: " + maxQueued);
      }
      this.maxQueued = maxQueued;
      return this;
    }

    /** gRPC channels (connections) per endpoint, used round-robin (default {@value #DEFAULT_GRPC_CHANNELS}). */
    public Builder grpcChannels(int channels) {
      this.grpcChannels = requirePositive(channels, "grpcChannels");
      return this;
    }

    /** gRPC keepalive: ping interval and the wait for its answer. */
    public Builder keepAlive(Duration interval, Duration timeout) {
      this.keepAlive = requirePositive(interval, "keepAlive interval");
      this.keepAliveTimeout = requirePositive(timeout, "keepAlive timeout");
      return this;
    }

    /** HTTP connections per endpoint (default {@value #DEFAULT_MAX_CONNECTIONS}). */
    public Builder maxConnections(int maxConnections) {
      this.maxConnections = requirePositive(maxConnections, "maxConnections");
      return this;
    }

    /** The wait for a pooled HTTP connection, and the connect timeout. */
    public Builder acquireTimeout(Duration acquireTimeout) {
      this.acquireTimeout = requirePositive(acquireTimeout, "acquireTimeout");
      return this;
    }

    /** An HTTP connection idle this long is closed. */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = requirePositive(idleTimeout, "idleTimeout");
      return this;
    }

    /** An HTTP connection older than this is closed when it is next idle. */
    public Builder maxConnectionLifetime(Duration maxLifetime) {
      this.maxConnectionLifetime = requirePositive(maxLifetime, "maxConnectionLifetime");
      return this;
    }

    /** I/O threads the exporter owns (default: cores, at most 4). */
    public Builder ioThreads(int threads) {
      this.ioThreads = requirePositive(threads, "ioThreads");
      return this;
    }

    /** Registers the self-metrics in {@code registry} (default: a registry of the exporter's own). */
    public Builder metricsRegistry(MetricsRegistry registry) {
      this.metricsRegistry = Objects.requireNonNull(registry, "metricsRegistry");
      return this;
    }

    /** The monotonic clock for retries, breakers and pool timeouts (tests inject one). */
    public Builder clock(NanoClock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The wall clock that HTTP-date {@code Retry-After} values are read against. */
    public Builder wallClock(Clock wallClock) {
      this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
      return this;
    }

    /**
     * Applies the {@code OTEL_EXPORTER_OTLP_*} variables that {@code env} returns (null or blank:
     * unset), over what the builder holds: {@code PROTOCOL}, {@code ENDPOINT}, {@code HEADERS}
     * ({@code k=v,k2=v2}, values URL-decoded), {@code TIMEOUT} (ms), {@code COMPRESSION}
     * ({@code none|gzip|zstd}), {@code CERTIFICATE}, {@code CLIENT_KEY}, {@code CLIENT_CERTIFICATE},
     * {@code INSECURE}; and each signal's endpoint {@code OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT}.
     * When {@code signal} is given, its {@code OTEL_EXPORTER_OTLP_<SIGNAL>_*} forms of every variable
     * win over the generic ones (for an exporter dedicated to that signal).
     *
     * @throws IllegalArgumentException naming the variable when a value is malformed
     */
    public Builder fromEnvironment(Function<String, String> env, Signal signal) {
      Objects.requireNonNull(env, "env");
      String protocolValue = lookup(env, signal, "PROTOCOL");
      if (protocolValue != null) {
        protocol(parse("PROTOCOL", protocolValue, Protocol::fromConfigName));
      }
      String endpointValue = get(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
      if (endpointValue != null) {
        endpoint(endpointValue);
      }
      for (Signal s : Signal.values()) {
        String v = get(env, "OTEL_EXPORTER_OTLP_" + s.name() + "_ENDPOINT");
        if (v != null) {
          endpoint(s, v);
        }
      }
      String headerValue = lookup(env, signal, "HEADERS");
      if (headerValue != null) {
        parseHeaders(headerValue).forEach(this::header);
      }
      String timeoutValue = lookup(env, signal, "TIMEOUT");
      if (timeoutValue != null) {
        timeout(Duration.ofMillis(parse("TIMEOUT", timeoutValue, v -> {
          long ms = Long.parseLong(v.trim());
          if (ms <= 0) {
            throw new IllegalArgumentException("must be > 0");
          }
          return ms;
        })));
      }
      String compressionValue = lookup(env, signal, "COMPRESSION");
      if (compressionValue != null) {
        compression(parse("COMPRESSION", compressionValue, Compression::fromEncoding));
      }
      String ca = lookup(env, signal, "CERTIFICATE");
      if (ca != null) {
        trustedCertificates(Path.of(ca.trim()));
      }
      String clientKeyValue = lookup(env, signal, "CLIENT_KEY");
      String clientCertValue = lookup(env, signal, "CLIENT_CERTIFICATE");
      if (clientKeyValue != null || clientCertValue != null) {
        if (clientKeyValue == null || clientCertValue == null) {
          throw new IllegalArgumentException(
              "OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE must be set together");
        }
        clientCertificate(Path.of(clientCertValue.trim()), Path.of(clientKeyValue.trim()));
      }
      String insecureValue = lookup(env, signal, "INSECURE");
      if (insecureValue != null) {
        insecure(parse("INSECURE", insecureValue, v -> {
          String b = v.trim().toLowerCase(Locale.ROOT);
          if (!b.equals("true") && !b.equals("false")) {
            throw new IllegalArgumentException("expected true or false");
          }
          return b.equals("true");
        }));
      }
      return this;
    }

    /** Test seam: wraps the exporter's transport (fault injection). Not public API. */
    Builder transportDecorator(java.util.function.UnaryOperator<Transport> decorator) {
      this.transportDecorator = Objects.requireNonNull(decorator, "decorator");
      return this;
    }

    /** Builds the exporter: opens its I/O threads (connections open on first use). */
    public OtlpExporter build() {
      if (clientCertificate != null && clientKey == null) {
        throw new IllegalArgumentException("clientCertificate needs a private key");
      }
      Map<Signal, Endpoint> resolved = new EnumMap<>(Signal.class);
      for (Signal s : Signal.values()) {
        resolved.put(s, resolveEndpoint(s));
      }
      return new OtlpExporter(new ExporterSettings(this, resolved));
    }

    private Endpoint resolveEndpoint(Signal signal) {
      String own = signalEndpoints.get(signal);
      if (protocol == Protocol.GRPC) {
        String url = own != null ? own : endpoint != null ? endpoint : DEFAULT_GRPC_ENDPOINT;
        Endpoint e = Endpoint.parse("endpoint", url, protocol.defaultPort());
        if (!url.trim().contains("://")) {
          e = e.withTls(!Boolean.TRUE.equals(insecure));
        }
        return e.withPath("");
      }
      if (own != null) {
        Endpoint e = Endpoint.parse(signal.id() + " endpoint", own, protocol.defaultPort());
        return e.path.isEmpty() ? e.withPath("/") : e;
      }
      String base = endpoint != null ? endpoint : DEFAULT_HTTP_ENDPOINT;
      Endpoint e = Endpoint.parse("endpoint", base, protocol.defaultPort());
      String path = e.path.endsWith("/") ? e.path.substring(0, e.path.length() - 1) : e.path;
      return e.withPath(path + signal.httpPath());
    }

    private static String lookup(Function<String, String> env, Signal signal, String suffix) {
      if (signal != null) {
        String v = get(env, "OTEL_EXPORTER_OTLP_" + signal.name() + "_" + suffix);
        if (v != null) {
          return v;
        }
      }
      return get(env, "OTEL_EXPORTER_OTLP_" + suffix);
    }

    private static String get(Function<String, String> env, String name) {
      String v = env.apply(name);
      return v == null || v.isBlank() ? null : v;
    }

    private static <T> T parse(String variable, String value, Function<String, T> parser) {
      try {
        return parser.apply(value);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(
            "OTEL_EXPORTER_OTLP_" + variable + "='" + value + "' is invalid: " + e.getMessage(), e);
      }
    }

    /** {@code k=v,k2=v2} with URL-encoded values (W3C Baggage-like, as the OTLP exporter spec says). */
    static Map<String, String> parseHeaders(String value) {
      Map<String, String> out = new LinkedHashMap<>();
      for (String part : value.split(",")) {
        if (part.isBlank()) {
          continue;
        }
        int eq = part.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException(
              "OTEL_EXPORTER_OTLP_HEADERS entry '" + part.trim() + "' is not key=value");
        }
        String key = part.substring(0, eq).trim();
        String raw = part.substring(eq + 1).trim();
        try {
          out.put(key, URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "OTEL_EXPORTER_OTLP_HEADERS value of '" + key + "' is not URL-encoded: " + e.getMessage(), e);
        }
      }
      return out;
    }

    private static String requireText(String value, String what) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(what + " must not be null or blank");
      }
      return value;
    }

    private static Duration requirePositive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }

    private static int requirePositive(int n, String what) {
      if (n <= 0) {
        throw new IllegalArgumentException(what + " must be > 0: " + n);
      }
      return n;
    }
  }

}
