package io.otlp4j.relay.config;

import java.nio.file.Path;

/**
 * A client's TLS files (each may be null: the JDK's trust store, no client certificate). Immutable.
 */
public record ClientTls(Path caFile, Path certFile, Path keyFile) {
  public static final ClientTls NONE = new ClientTls(null, null, null);
}
