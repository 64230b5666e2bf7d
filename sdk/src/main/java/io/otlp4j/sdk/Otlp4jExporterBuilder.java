package io.otlp4j.sdk;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The transport settings the three otlp4j SDK exporters share: endpoint, protocol, headers,
 * compression, timeout, TLS, retry and in-flight bounds. Each setter passes its value to the
 * underlying {@link OtlpExporter.Builder}, which validates it and names a bad parameter.
 *
 * <p>Not thread-safe; build once, then share the built (thread-safe) exporter. Only this package's
 * exporter builders extend it.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class Otlp4jExporterBuilder<B extends Otlp4jExporterBuilder<B>> {

  private static final System.Logger LOG = System.getLogger(Otlp4jExporterBuilder.class.getName());

  /** How long {@code shutdown()} lets exports in flight finish before it cancels them: 10 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  final Signal signal;
  final OtlpExporter.Builder transport = OtlpExporter.builder();

  /**
   * Whether a built exporter warms itself up in the background by default (see {@link
   * #warmUp(boolean)}): true.
   */
  public static final boolean DEFAULT_WARM_UP = true;

  /** The environment variable read by {@link #fromEnvironment(Function)} for {@link #warmUp}. */
  static final String WARM_UP_VARIABLE = "OTEL_EXPORTER_OTLP4J_WARMUP_ENABLED";

  Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
  boolean warmUp = DEFAULT_WARM_UP;
  int warmUpRounds = ExporterWarmup.ROUNDS;
  ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;

  Otlp4jExporterBuilder(Signal signal) {
    this.signal = signal;
    transport.name("otlp4j_" + signal.id());
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /**
   * The endpoint: for gRPC {@code scheme://host:port}; for OTLP/HTTP a base URL to which {@code
   * /v1/traces}, {@code /v1/metrics} or {@code /v1/logs} is appended (as {@code
   * OTEL_EXPORTER_OTLP_ENDPOINT} is read). {@code https} turns TLS on.
   */
  public B endpoint(String endpoint) {
    transport.endpoint(endpoint);
    return self();
  }

  /**
   * The full URL of this exporter's signal, used as it is for OTLP/HTTP (as {@code
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} is read, and as the SDK's {@code setEndpoint} takes it);
   * wins over {@link #endpoint(String)}.
   */
  public B signalEndpoint(String url) {
    transport.endpoint(signal, url);
    return self();
  }

  /** The transport: gRPC, http/protobuf (the default) or http/json. */
  public B protocol(Protocol protocol) {
    transport.protocol(protocol);
    return self();
  }

  /**
   * The transport by its configuration name: {@code grpc}, {@code http/protobuf} or {@code
   * http/json}.
   */
  public B protocol(String configName) {
    transport.protocol(Protocol.fromConfigName(Objects.requireNonNull(configName, "protocol")));
    return self();
  }

  /** Adds a header (gRPC metadata for gRPC) sent with every request. */
  public B header(String name, String value) {
    transport.header(name, value);
    return self();
  }

  /** Adds every header of {@code headers}. */
  public B headers(Map<String, String> headers) {
    Objects.requireNonNull(headers, "headers").forEach(transport::header);
    return self();
  }

  /** Request body compression (default none). */
  public B compression(Compression compression) {
    transport.compression(compression);
    return self();
  }

  /** Request body compression by name: {@code none}, {@code gzip} or {@code zstd}. */
  public B compression(String name) {
    transport.compression(
        Compression.fromEncoding(
            Objects.requireNonNull(name, "compression").trim().toLowerCase(Locale.ROOT)));
    return self();
  }

  /**
   * The time one request attempt may take (default {@link OtlpExporter.Builder#DEFAULT_TIMEOUT}).
   */
  public B timeout(Duration timeout) {
    transport.timeout(timeout);
    return self();
  }

  /** PEM file of the CA certificates that sign the server's certificate (default: the JDK's). */
  public B trustedCertificates(Path pemFile) {
    transport.trustedCertificates(pemFile);
    return self();
  }

  /** PEM files of the client certificate chain and PKCS#8 key, for mutual TLS. */
  public B clientCertificate(Path certificateChainPem, Path privateKeyPem) {
    transport.clientCertificate(certificateChainPem, privateKeyPem);
    return self();
  }

  /** For a gRPC endpoint without a scheme: plaintext when true, TLS when false (the default). */
  public B insecure(boolean insecure) {
    transport.insecure(insecure);
    return self();
  }

  /** Retry backoff and limits (default {@link OtlpExporter.Builder#DEFAULT_RETRY_POLICY}). */
  public B retryPolicy(RetryPolicy retryPolicy) {
    transport.retryPolicy(retryPolicy);
    return self();
  }

  /** Turns retries off: every export is sent once. */
  public B noRetries() {
    transport.retryPolicy(RetryPolicy.builder().maxAttempts(1).build());
    return self();
  }

  /**
   * Exports in flight to the endpoint, and how many more may wait for a slot (then fail,
   * retryable).
   */
  public B maxInFlight(int maxInFlight, int maxQueued) {
    transport.maxInFlight(maxInFlight, maxQueued);
    return self();
  }

  /** The exporter's own I/O threads (default: cores, at most 4). */
  public B ioThreads(int threads) {
    transport.ioThreads(threads);
    return self();
  }

  /** Registers the transport's self-metrics ({@code otelcol_exporter_*}) in {@code registry}. */
  public B metricsRegistry(MetricsRegistry registry) {
    transport.metricsRegistry(registry);
    return self();
  }

  /**
   * Any other transport setting (gRPC channels, HTTP connections, keepalive, circuit breaker...).
   */
  public B transport(Consumer<OtlpExporter.Builder> configure) {
    Objects.requireNonNull(configure, "transport").accept(transport);
    return self();
  }

  /**
   * How long {@code shutdown()} waits for exports in flight (default {@link
   * #DEFAULT_SHUTDOWN_TIMEOUT}).
   */
  public B shutdownTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "shutdownTimeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("shutdownTimeout must not be negative: " + timeout);
    }
    this.shutdownTimeout = timeout;
    return self();
  }

  /**
   * Whether the built exporter warms itself up before its first export (default {@value
   * #DEFAULT_WARM_UP}): on one daemon thread, for at most about a second of that thread's CPU time,
   * it opens the connection to the endpoint (a gRPC channel's HTTP/2 connection, the OTLP/HTTP
   * pool's first connection) and marshals synthetic telemetry into discarded buffers until the
   * encode path is compiled, so that the first export does not stall a fresh JVM for seconds while
   * spans pile up in front of it. Nothing is sent: the connect sends no request, and the synthetic
   * data never leaves the process. A failed connect is logged once at DEBUG; shutdown stops the
   * warm-up. Autoconfigure: {@code otel.exporter.otlp4j.warmup.enabled}.
   */
  public B warmUp(boolean warmUp) {
    this.warmUp = warmUp;
    return self();
  }

  /**
   * Applies the process's {@code OTEL_EXPORTER_OTLP_*} environment variables (see the other
   * overload).
   */
  public B fromEnvironment() {
    return fromEnvironment(System::getenv);
  }

  /**
   * Applies the {@code OTEL_EXPORTER_OTLP_*} variables {@code env} returns (null or blank: unset)
   * over what the builder holds, with this signal's {@code OTEL_EXPORTER_OTLP_<SIGNAL>_*} forms
   * winning over the generic ones (see {@link OtlpExporter.Builder#fromEnvironment}); then the same
   * names with the prefix {@code OTEL_EXPORTER_OTLP4J_}, which win over the standard ones; and
   * {@code OTEL_EXPORTER_OTLP4J_WARMUP_ENABLED} ({@code true} or {@code false}, see {@link
   * #warmUp}).
   *
   * @throws IllegalArgumentException naming the variable when a value is malformed
   */
  public B fromEnvironment(Function<String, String> env) {
    Objects.requireNonNull(env, "env");
    transport.fromEnvironment(env, signal);
    transport.fromEnvironment(name -> env.apply(Otlp4jConfig.otlp4jName(name)), signal);
    String warm = env.apply(WARM_UP_VARIABLE);
    if (warm != null && !warm.isBlank()) {
      String value = warm.trim().toLowerCase(Locale.ROOT);
      if (!value.equals("true") && !value.equals("false")) {
        throw new IllegalArgumentException(
            WARM_UP_VARIABLE + " must be true or false, not '" + warm + "'");
      }
      warmUp = value.equals("true");
    }
    return self();
  }

  /** The warm-up's encode rounds (tests: fewer, to keep the build fast). */
  B warmUpRounds(int rounds) {
    this.warmUpRounds = rounds;
    return self();
  }

  /** The buffer allocator for marshaled requests (tests). */
  B allocator(ByteBufAllocator allocator) {
    this.allocator = Objects.requireNonNull(allocator, "allocator");
    return self();
  }

  /**
   * The bridge over a newly built transport. A configuration error throws (as every setter does); a
   * transport that cannot start (a class that cannot load, I/O threads that cannot start) gives a
   * bridge that fails everything at once, after one ERROR line that says why: an application must
   * never wait on an exporter that does not exist.
   */
  ExportBridge bridge(String name) {
    OtlpExporter built;
    try {
      built = transport.build();
    } catch (IllegalArgumentException configuration) {
      throw configuration;
    } catch (RuntimeException | LinkageError e) {
      LOG.log(
          Level.ERROR,
          name
              + " cannot start, so every "
              + signal.id()
              + " export will fail at once: "
              + e
              + (e instanceof LinkageError
                  ? ". A class cannot load: a dependency of otlp4j-sdk is missing or of"
                      + " another version, or the agent-extension jar (classifier 'agent', for"
                      + " -Dotel.javaagent.extensions only) is on the application's class path in place of"
                      + " otlp4j-sdk and its dependencies"
                  : ""),
          e);
      return ExportBridge.failedToStart(name, signal, e);
    }
    ExporterWarmup warmup = null;
    if (warmUp) {
      try {
        warmup = ExporterWarmup.start(name, built, signal, allocator, warmUpRounds);
      } catch (RuntimeException | Error e) { // no thread can start: the exporter works without
        LOG.log(Level.DEBUG, name + ": no warm-up: " + e, e);
      }
    }
    return new ExportBridge(name, built, signal, allocator, shutdownTimeout, warmup);
  }
}
