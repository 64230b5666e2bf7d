package io.otlp4j.exporter;

import static io.otlp4j.exporter.ExporterConfig.requirePositive;
import static io.otlp4j.exporter.ExporterConfig.requireText;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.NanoClock;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Sends encoded OTLP export requests upstream over OTLP/gRPC or OTLP/HTTP (protobuf or JSON), with
 * retries as the OTLP specification prescribes, a circuit breaker and an in-flight bound per
 * endpoint, pooled connections and TLS.
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
 *
 * {@link #export} takes ownership of the payload's reference: the exporter releases it once the
 * returned future has its result (whatever the result), and never earlier. The caller must not
 * release it, nor change its bytes or indexes, after the call. To keep the bytes for a retry of its
 * own after a retryable result, the caller passes {@code payload.retain()} (or a retained
 * duplicate).
 *
 * <h2>Threads</h2>
 *
 * Thread-safe; {@link #export} never blocks and the futures complete on the exporter's I/O threads,
 * so callbacks must not block either. The exporter owns its I/O threads and connections; {@link
 * #shutdown} (or {@link #close}) must be called to release them.
 *
 * <h2>Results</h2>
 *
 * An {@link Outcome}: a retryable failure (retries given up, circuit open, too many exports queued,
 * shut down) or a local failure (our own code threw; see {@link ExportCall}) leaves the data to the
 * caller, to queue or spill; only the upstream's own refusal is {@link Outcome.Kind#PERMANENT}.
 * {@link #export} retries as the retry policy says; {@link #exportOnce} makes one attempt and
 * leaves the retries, with the server's RetryInfo / Retry-After delay, to a caller that keeps the
 * data.
 */
public final class OtlpExporter implements AutoCloseable {

  /**
   * The counter (label {@code exporter}, exposed with {@code _total}) of failures in otlp4j's own
   * code on the export path, each retried; shared with the relay's queues, which count theirs in
   * the same series.
   */
  public static final String LOCAL_FAILURES_METRIC = "otlp4j_exporter_local_failures";

  /** The help text of {@link #LOCAL_FAILURES_METRIC}. */
  public static final String LOCAL_FAILURES_HELP =
      "Exports that failed in otlp4j's own code (an exception, not the upstream's answer); each is retried.";

  final ExporterSettings settings;
  final Transport transport;
  final ExporterMetrics metrics;
  final ScheduledExecutorService scheduler;
  private final EventLoopGroup group;
  private final Map<String, EndpointState> endpoints;
  private final Map<Signal, EndpointState> bySignal = new EnumMap<>(Signal.class);
  final ExportFailureLog failureLog;
  private final ExportLifecycle lifecycle;

  private OtlpExporter(ExporterSettings settings) {
    this.settings = settings;
    this.metrics =
        new ExporterMetrics(
            settings.name,
            settings.metricsRegistry != null ? settings.metricsRegistry : MetricsRegistry.create());
    this.failureLog = new ExportFailureLog(settings, metrics);
    this.group =
        new MultiThreadIoEventLoopGroup(
            settings.ioThreads,
            new DefaultThreadFactory("otlp4j-exporter-" + settings.name, true),
            NioIoHandler.newFactory());
    this.scheduler = group;
    try {
      SslContext ssl = settings.anyTls() ? ExporterTls.sslContext(settings) : null;
      this.transport =
          settings.transportDecorator.apply(
              settings.protocol == Protocol.GRPC
                  ? new GrpcTransport(settings, group, ssl)
                  : new HttpTransport(settings, group, ssl));
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw e;
    }
    this.lifecycle = new ExportLifecycle(transport, group);
    Map<String, EndpointState> states = new LinkedHashMap<>();
    for (Signal signal : Signal.values()) {
      String key = transport.endpointKey(signal);
      bySignal.put(
          signal,
          states.computeIfAbsent(key, k -> new EndpointState(k, settings, group, transport)));
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
   * @param payload the request's protobuf encoding (its readable bytes); ownership is transferred
   *     to the exporter, which releases it when the result is known (see the class Javadoc)
   * @param itemCount the spans, metric data points or log records it holds, for the self-metrics
   * @return the result; never completes exceptionally
   */
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf payload, int itemCount) {
    return export(signal, payload, itemCount, true);
  }

  /**
   * Like {@link #export}, but makes exactly one attempt and reports its outcome as the upstream
   * gave it, its RetryInfo / Retry-After delay included ({@link Outcome#retryAfterNanos()}): for a
   * caller that owns the retries of data it keeps (a durable queue), so that retries are not
   * nested.
   *
   * @param payload ownership is transferred, as for {@link #export}
   * @return the outcome of the one attempt; never completes exceptionally
   */
  public CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf payload, int itemCount) {
    return export(signal, payload, itemCount, false);
  }

  private CompletableFuture<Outcome> export(
      Signal signal, ByteBuf payload, int itemCount, boolean retries) {
    Objects.requireNonNull(signal, "signal");
    Objects.requireNonNull(payload, "payload");
    if (itemCount < 0) {
      payload.release();
      throw new IllegalArgumentException("itemCount must be >= 0: " + itemCount);
    }
    if (lifecycle.shuttingDown()) {
      payload.release();
      metrics.failed(signal, itemCount);
      return CompletableFuture.completedFuture(Outcome.retryable("exporter is shut down"));
    }
    EndpointState endpoint = bySignal.get(signal);
    ExportCall call = new ExportCall(this, endpoint, signal, payload, itemCount, retries);
    lifecycle.add(call);
    if (!endpoint.limiter.submit(call::start)) {
      payload.release();
      metrics.failed(signal, itemCount);
      callFinished(call);
      return CompletableFuture.completedFuture(
          Outcome.retryable(
              "too many exports in flight to "
                  + endpoint.key
                  + " ("
                  + settings.maxInFlight
                  + " sending, "
                  + settings.maxQueued
                  + " queued)"));
    }
    if (lifecycle.shuttingDown()) {
      call.abort(); // raced with shutdown: do not leave the call behind the drain
    }
    return call.result;
  }

  /**
   * Opens the connections to every endpoint now, ahead of the first export, and sends nothing: each
   * gRPC channel connects (HTTP/2 handshake, TLS included), each OTLP/HTTP endpoint's pool opens
   * one connection and keeps it idle for the first request. Without it connections open on first
   * use.
   *
   * @return completes when every connection is open ({@code true}) or one has failed ({@code
   *     false}: the first export connects again, with its retries); never completes exceptionally
   */
  public CompletableFuture<Boolean> connect() {
    if (lifecycle.shuttingDown()) {
      return CompletableFuture.completedFuture(false);
    }
    return transport.connect();
  }

  void callFinished(ExportCall call) {
    lifecycle.callFinished(call);
  }

  /**
   * Stops taking exports (new ones fail at once, retryable) and lets the ones in flight finish,
   * retries included, until {@code deadline}; then ends those still waiting for a retry with a
   * retryable result, cancels requests still on the wire, and closes every connection and I/O
   * thread.
   *
   * @return completes when everything is closed
   */
  public CompletableFuture<Void> shutdown(Duration deadline) {
    Objects.requireNonNull(deadline, "deadline");
    return lifecycle.shutdown(deadline);
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

  /**
   * The registry holding this exporter's self-metrics (the one given to the builder, or its own).
   */
  public MetricsRegistry metricsRegistry() {
    return metrics.registry();
  }

  /** Items of {@code signal} the upstream accepted ({@code otelcol_exporter_sent_*}). */
  public long sentItems(Signal signal) {
    return metrics.sentItems(signal);
  }

  /**
   * Items of {@code signal} that failed or were rejected ({@code otelcol_exporter_send_failed_*}).
   */
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

  /**
   * Configures an {@link OtlpExporter}. Every setter validates its argument and names it when it is
   * wrong. Not thread-safe; {@link #build()} may be called more than once (each exporter is
   * independent).
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

    /**
     * Default retry policy: 1 s initial backoff growing 1.5x to 5 s, equal jitter, 5 attempts
     * within 1 min.
     */
    public static final RetryPolicy DEFAULT_RETRY_POLICY =
        RetryPolicy.builder()
            .initialDelay(Duration.ofSeconds(1))
            .multiplier(1.5)
            .maxDelay(Duration.ofSeconds(5))
            .maxAttempts(5)
            .maxElapsed(Duration.ofMinutes(1))
            .build();

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
    java.util.function.UnaryOperator<Transport> transportDecorator =
        java.util.function.UnaryOperator.identity();
    Clock wallClock = Clock.systemUTC();

    private Builder() {}

    /** The transport (default {@link #DEFAULT_PROTOCOL}). */
    public Builder protocol(Protocol protocol) {
      this.protocol = Objects.requireNonNull(protocol, "protocol");
      return this;
    }

    /**
     * The {@code exporter} label of the self-metrics (default {@code otlp} for gRPC, {@code
     * otlphttp} for HTTP).
     */
    public Builder name(String name) {
      this.name = requireText(name, "name");
      return this;
    }

    /**
     * The endpoint for every signal: for gRPC {@code scheme://host:port}; for HTTP a base URL to
     * which {@code /v1/traces}, {@code /v1/metrics} or {@code /v1/logs} is appended. {@code https}
     * turns TLS on.
     */
    public Builder endpoint(String endpoint) {
      this.endpoint = requireText(endpoint, "endpoint");
      return this;
    }

    /**
     * The endpoint for one signal, overriding {@link #endpoint}; for HTTP the URL is used as it is.
     */
    public Builder endpoint(Signal signal, String endpoint) {
      signalEndpoints.put(
          Objects.requireNonNull(signal, "signal"), requireText(endpoint, "endpoint"));
      return this;
    }

    /** Adds a header sent with every request (gRPC metadata for gRPC). */
    public Builder header(String name, String value) {
      String n = requireText(name, "header name").toLowerCase(Locale.ROOT);
      headers.put(n, Objects.requireNonNull(value, "header value"));
      return this;
    }

    /**
     * The time one request may take before it fails (retryable) (default {@link #DEFAULT_TIMEOUT}).
     */
    public Builder timeout(Duration timeout) {
      this.timeout = requirePositive(timeout, "timeout");
      return this;
    }

    /** Compression of request bodies (default none). */
    public Builder compression(Compression compression) {
      this.compression = Objects.requireNonNull(compression, "compression");
      return this;
    }

    /**
     * PEM file of the CA certificates trusted to sign the server's certificate (default: the
     * JDK's).
     */
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
     * as {@code OTEL_EXPORTER_OTLP_INSECURE} says). An explicit {@code http}/{@code https} scheme
     * wins.
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

    /**
     * gRPC channels (connections) per endpoint, used round-robin (default {@value
     * #DEFAULT_GRPC_CHANNELS}).
     */
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

    /**
     * Registers the self-metrics in {@code registry} (default: a registry of the exporter's own).
     */
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
     * ({@code k=v,k2=v2}, values URL-decoded), {@code TIMEOUT} (ms), {@code COMPRESSION} ({@code
     * none|gzip|zstd}), {@code CERTIFICATE}, {@code CLIENT_KEY}, {@code CLIENT_CERTIFICATE}, {@code
     * INSECURE}; and each signal's endpoint {@code OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT}. When
     * {@code signal} is given, its {@code OTEL_EXPORTER_OTLP_<SIGNAL>_*} forms of every variable
     * win over the generic ones (for an exporter dedicated to that signal).
     *
     * @throws IllegalArgumentException naming the variable when a value is malformed
     */
    public Builder fromEnvironment(Function<String, String> env, Signal signal) {
      Objects.requireNonNull(env, "env");
      ExporterConfig.applyEnvironment(this, env, signal);
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
        resolved.put(s, ExporterConfig.resolveEndpoint(this, s));
      }
      return new OtlpExporter(new ExporterSettings(this, resolved));
    }
  }
}
