package io.otlp4j.exporter;

import java.util.Locale;

/**
 * The OTLP transports, named as {@code OTEL_EXPORTER_OTLP_PROTOCOL} names them. Immutable,
 * thread-safe.
 */
public enum Protocol {
  /** OTLP/gRPC ({@code grpc}), default port 4317. */
  GRPC("grpc", 4317),
  /** OTLP/HTTP with binary protobuf bodies ({@code http/protobuf}), default port 4318. */
  HTTP_PROTOBUF("http/protobuf", 4318),
  /** OTLP/HTTP with OTLP/JSON bodies ({@code http/json}), default port 4318. */
  HTTP_JSON("http/json", 4318);

  private final String configName;
  private final int defaultPort;

  Protocol(String configName, int defaultPort) {
    this.configName = configName;
    this.defaultPort = defaultPort;
  }

  /** The name in configuration: {@code grpc}, {@code http/protobuf} or {@code http/json}. */
  public String configName() {
    return configName;
  }

  /** 4317 for gRPC, 4318 for HTTP. */
  public int defaultPort() {
    return defaultPort;
  }

  /** True for the two OTLP/HTTP protocols. */
  public boolean isHttp() {
    return this != GRPC;
  }

  /**
   * The protocol with the given configuration name, ignoring case and blanks.
   *
   * @throws IllegalArgumentException naming the value when it is not one of the three
   */
  public static Protocol fromConfigName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (Protocol p : values()) {
      if (p.configName.equals(n)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown OTLP protocol '" + name + "' (expected grpc, http/protobuf or http/json)");
  }
}
