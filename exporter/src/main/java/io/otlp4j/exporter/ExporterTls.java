package io.otlp4j.exporter;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * Builds the exporter's client TLS context from its settings; fails fast, naming the unreadable
 * file.
 */
final class ExporterTls {

  private ExporterTls() {}

  static SslContext sslContext(ExporterSettings s) {
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
      throw new IllegalArgumentException(
          "cannot set up TLS for the exporter: " + e.getMessage(), e);
    }
  }

  private static Path readable(Path p, String what) {
    if (!Files.isReadable(p)) {
      throw new IllegalArgumentException(
          what + " file '" + p + "' does not exist or is not readable");
    }
    return p;
  }
}
