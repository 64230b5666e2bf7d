package io.otlp4j.relay.config;

/** A listening address, {@code host:port} ({@code [v6]:port} for IPv6 hosts). Immutable. */
public record HostPort(String host, int port) {
  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
