package io.otlp4j.relay.config;

/**
 * A {@code health_check} extension: where it listens, the path it answers, and the bodies it
 * answers with instead of its JSON status when {@code response_body} sets them (null otherwise).
 * Immutable.
 */
public record HealthCheckConfig(
    String id, HostPort endpoint, String path, String healthyBody, String unhealthyBody)
    implements ExtensionConfig {

  /** The Collector's default address (otlp4j binds the loopback interface by default). */
  public static final String DEFAULT_ENDPOINT = "127.0.0.1:13133";

  /** The Collector's default path. */
  public static final String DEFAULT_PATH = "/";
}
