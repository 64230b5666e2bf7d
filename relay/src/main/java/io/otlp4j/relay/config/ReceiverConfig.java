package io.otlp4j.relay.config;

import io.otlp4j.wire.Signal;
import java.nio.file.Path;
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
   * max_concurrent_calls}, concurrent calls across all connections (0: the receiver's default).
   */
  public record ServerOptions(
      ServerTls tls,
      String authenticator,
      Secret bearerToken,
      int maxRequestBytes,
      int maxConcurrentStreams,
      Map<Signal, String> urlPaths,
      int maxConcurrentCalls) {
    public static final ServerOptions DEFAULTS =
        new ServerOptions(null, null, null, 0, 0, Map.of(), 0);
  }

  /**
   * A server's PEM certificate chain and key, and the CA bundle client certificates must chain to
   * (or null).
   */
  public record ServerTls(Path certFile, Path keyFile, Path clientCaFile) {}
}
