package io.otlp4j.relay.config;

/** A {@code zpages} extension: where its debug pages listen. Immutable. */
public record ZPagesConfig(String id, HostPort endpoint) implements ExtensionConfig {

  /** The Collector's default address (otlp4j binds the loopback interface by default). */
  public static final String DEFAULT_ENDPOINT = "127.0.0.1:55679";
}
