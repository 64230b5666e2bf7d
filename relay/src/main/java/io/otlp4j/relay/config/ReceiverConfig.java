package io.otlp4j.relay.config;

import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * One receiver: where its protocols listen ({@code null} when off) and their server options ({@link
 * ServerOptions#DEFAULTS} when nothing is set); or, for a receiver that is no OTLP server (such as
 * {@code kafka}), its type's own {@code settings}, which its factory starts. Immutable.
 */
public record ReceiverConfig(
    String id,
    HostPort grpc,
    HostPort http,
    ServerOptions grpcOptions,
    ServerOptions httpOptions,
    ComponentConfig settings)
    implements ComponentConfig {

  public ReceiverConfig(String id, HostPort grpc, HostPort http) {
    this(id, grpc, http, ServerOptions.DEFAULTS, ServerOptions.DEFAULTS);
  }

  public ReceiverConfig(
      String id,
      HostPort grpc,
      HostPort http,
      ServerOptions grpcOptions,
      ServerOptions httpOptions) {
    this(id, grpc, http, grpcOptions, httpOptions, null);
  }

  /** A receiver that runs no OTLP server: its factory starts it from {@code settings}. */
  public static ReceiverConfig of(String id, ComponentConfig settings) {
    return new ReceiverConfig(
        id, null, null, ServerOptions.DEFAULTS, ServerOptions.DEFAULTS, settings);
  }

  /**
   * A receiver protocol's options from the Collector's {@code configgrpc}/{@code confighttp} server
   * settings: TLS, the bearer token of its {@code auth.authenticator} (null when none), the largest
   * request in bytes, the concurrent streams per connection (0: the receiver's default), for
   * OTLP/HTTP the URL paths set by {@code traces_url_path} etc., and for OTLP/gRPC otlp4j's {@code
   * max_concurrent_calls}, concurrent calls across all connections (0: the receiver's default), and
   * the connection limits and timeouts ({@link ConnectionOptions}).
   */
  public record ServerOptions(
      ServerTls tls,
      String authenticator,
      Secret bearerToken,
      int maxRequestBytes,
      int maxConcurrentStreams,
      Map<Signal, String> urlPaths,
      int maxConcurrentCalls,
      ConnectionOptions connections) {
    public static final ServerOptions DEFAULTS =
        new ServerOptions(null, null, null, 0, 0, Map.of(), 0);

    /** Options with the receiver's default connection limits and timeouts. */
    public ServerOptions(
        ServerTls tls,
        String authenticator,
        Secret bearerToken,
        int maxRequestBytes,
        int maxConcurrentStreams,
        Map<Signal, String> urlPaths,
        int maxConcurrentCalls) {
      this(
          tls,
          authenticator,
          bearerToken,
          maxRequestBytes,
          maxConcurrentStreams,
          urlPaths,
          maxConcurrentCalls,
          ConnectionOptions.DEFAULTS);
    }
  }

  /**
   * A protocol's connection limits and timeouts; null (or 0 for {@code maxConnections}) where not
   * set, leaving the receiver's default. OTLP/HTTP: the Collector's {@code confighttp} {@code
   * read_header_timeout}, {@code read_timeout}, {@code idle_timeout}; OTLP/gRPC: {@code configgrpc}
   * {@code keepalive.server_parameters} ({@code max_connection_idle}, {@code max_connection_age},
   * {@code max_connection_age_grace}, {@code time}, {@code timeout}) and {@code
   * keepalive.enforcement_policy} ({@code min_time}, {@code permit_without_stream}) and otlp4j's
   * {@code max_control_frames} and {@code max_unanswered_resets} (-1 where not set); both: otlp4j's
   * {@code max_connections}.
   */
  public record ConnectionOptions(
      int maxConnections,
      Duration readHeaderTimeout,
      Duration readTimeout,
      Duration idleTimeout,
      Duration maxConnectionIdle,
      Duration maxConnectionAge,
      Duration maxConnectionAgeGrace,
      Duration keepaliveTime,
      Duration keepaliveTimeout,
      Duration minTime,
      Boolean permitWithoutStream,
      int maxControlFrames,
      int maxUnansweredResets) {
    public static final ConnectionOptions DEFAULTS =
        new ConnectionOptions(
            0, null, null, null, null, null, null, null, null, null, null, -1, -1);
  }

  /**
   * A server's PEM certificate chain and key, and the CA bundle client certificates must chain to
   * (or null).
   */
  public record ServerTls(Path certFile, Path keyFile, Path clientCaFile) {}
}
