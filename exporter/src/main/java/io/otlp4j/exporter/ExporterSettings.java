package io.otlp4j.exporter;

import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.NanoClock;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.UnaryOperator;

/** The validated, immutable configuration a {@link OtlpExporter.Builder} builds. */
final class ExporterSettings {

  static final String VERSION = readVersion();
  static final String USER_AGENT = "otlp4j/" + VERSION;

  final Protocol protocol;
  final String name;
  private final Map<Signal, Endpoint> endpoints;
  final Map<String, String> headers;
  final long timeoutNanos;
  final Compression compression;
  final Path trustedCertificates;
  final Path clientCertificate;
  final Path clientKey;
  final RetryPolicy retryPolicy;
  final UnaryOperator<CircuitBreaker.Builder> breakerConfig;
  final int maxInFlight;
  final int maxQueued;
  final int grpcChannels;
  final long keepAliveNanos;
  final long keepAliveTimeoutNanos;
  final int maxConnections;
  final long acquireTimeoutNanos;
  final long idleTimeoutNanos;
  final long maxLifetimeNanos;
  final int ioThreads;
  final NanoClock clock;
  final Clock wallClock;
  final MetricsRegistry metricsRegistry;
  final java.util.function.UnaryOperator<Transport> transportDecorator;

  ExporterSettings(OtlpExporter.Builder b, Map<Signal, Endpoint> endpoints) {
    this.protocol = b.protocol;
    this.transportDecorator = b.transportDecorator;
    this.name = b.name != null ? b.name : (b.protocol == Protocol.GRPC ? "otlp" : "otlphttp");
    this.endpoints = Collections.unmodifiableMap(new EnumMap<>(endpoints));
    this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
    this.timeoutNanos = b.timeout.toNanos();
    this.compression = b.compression;
    this.trustedCertificates = b.trustedCertificates;
    this.clientCertificate = b.clientCertificate;
    this.clientKey = b.clientKey;
    this.retryPolicy = b.retryPolicy;
    this.breakerConfig = b.breakerConfig;
    this.maxInFlight = b.maxInFlight;
    this.maxQueued = b.maxQueued;
    this.grpcChannels = b.grpcChannels;
    this.keepAliveNanos = b.keepAlive.toNanos();
    this.keepAliveTimeoutNanos = b.keepAliveTimeout.toNanos();
    this.maxConnections = b.maxConnections;
    this.acquireTimeoutNanos = b.acquireTimeout.toNanos();
    this.idleTimeoutNanos = b.idleTimeout.toNanos();
    this.maxLifetimeNanos = b.maxConnectionLifetime.toNanos();
    this.ioThreads = b.ioThreads;
    this.clock = b.clock;
    this.wallClock = b.wallClock;
    this.metricsRegistry = b.metricsRegistry;
  }

  Endpoint endpoint(Signal signal) {
    return endpoints.get(signal);
  }

  boolean anyTls() {
    for (Endpoint e : endpoints.values()) {
      if (e.tls) {
        return true;
      }
    }
    return false;
  }

  private static String readVersion() {
    try (InputStream in = ExporterSettings.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version");
        if (v != null && !v.isBlank() && !v.startsWith("$")) {
          return v.trim();
        }
      }
    } catch (IOException e) {
      // fall through to "unknown"
    }
    return "unknown";
  }
}
