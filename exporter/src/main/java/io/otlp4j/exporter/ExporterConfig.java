package io.otlp4j.exporter;

import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The {@link OtlpExporter.Builder}'s configuration work: its argument checks (each names the bad
 * parameter), the {@code OTEL_EXPORTER_OTLP_*} environment variables, and the resolution of each
 * signal's endpoint at {@code build()}. Stateless; everything fails fast with a clear message.
 */
final class ExporterConfig {

  private ExporterConfig() {}

  /** Applies the variables to {@code b}; see {@link OtlpExporter.Builder#fromEnvironment}. */
  static void applyEnvironment(
      OtlpExporter.Builder builder, Function<String, String> env, Signal signal) {
    String protocolValue = lookup(env, signal, "PROTOCOL");
    if (protocolValue != null) {
      builder.protocol(parse("PROTOCOL", protocolValue, Protocol::fromConfigName));
    }
    String endpointValue = get(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
    if (endpointValue != null) {
      builder.endpoint(endpointValue);
    }
    for (Signal s : Signal.values()) {
      String v = get(env, "OTEL_EXPORTER_OTLP_" + s.name() + "_ENDPOINT");
      if (v != null) {
        builder.endpoint(s, v);
      }
    }
    String headerValue = lookup(env, signal, "HEADERS");
    if (headerValue != null) {
      parseHeaders(headerValue).forEach(builder::header);
    }
    String timeoutValue = lookup(env, signal, "TIMEOUT");
    if (timeoutValue != null) {
      builder.timeout(
          Duration.ofMillis(
              parse(
                  "TIMEOUT",
                  timeoutValue,
                  v -> {
                    long ms = Long.parseLong(v.trim());
                    if (ms <= 0) {
                      throw new IllegalArgumentException("must be > 0");
                    }
                    return ms;
                  })));
    }
    String compressionValue = lookup(env, signal, "COMPRESSION");
    if (compressionValue != null) {
      builder.compression(parse("COMPRESSION", compressionValue, Compression::fromEncoding));
    }
    String ca = lookup(env, signal, "CERTIFICATE");
    if (ca != null) {
      builder.trustedCertificates(Path.of(ca.trim()));
    }
    String clientKeyValue = lookup(env, signal, "CLIENT_KEY");
    String clientCertValue = lookup(env, signal, "CLIENT_CERTIFICATE");
    if (clientKeyValue != null || clientCertValue != null) {
      if (clientKeyValue == null || clientCertValue == null) {
        throw new IllegalArgumentException(
            "OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE must be set together");
      }
      builder.clientCertificate(Path.of(clientCertValue.trim()), Path.of(clientKeyValue.trim()));
    }
    String insecureValue = lookup(env, signal, "INSECURE");
    if (insecureValue != null) {
      builder.insecure(
          parse(
              "INSECURE",
              insecureValue,
              v -> {
                String b = v.trim().toLowerCase(Locale.ROOT);
                if (!b.equals("true") && !b.equals("false")) {
                  throw new IllegalArgumentException("expected true or false");
                }
                return b.equals("true");
              }));
    }
  }

  static Endpoint resolveEndpoint(OtlpExporter.Builder b, Signal signal) {
    String own = b.signalEndpoints.get(signal);
    if (b.protocol == Protocol.GRPC) {
      String url =
          own != null
              ? own
              : b.endpoint != null ? b.endpoint : OtlpExporter.Builder.DEFAULT_GRPC_ENDPOINT;
      Endpoint e = Endpoint.parse("endpoint", url, b.protocol.defaultPort());
      if (!url.trim().contains("://")) {
        e = e.withTls(!Boolean.TRUE.equals(b.insecure));
      }
      return e.withPath("");
    }
    if (own != null) {
      Endpoint e = Endpoint.parse(signal.id() + " endpoint", own, b.protocol.defaultPort());
      return e.path.isEmpty() ? e.withPath("/") : e;
    }
    String base = b.endpoint != null ? b.endpoint : OtlpExporter.Builder.DEFAULT_HTTP_ENDPOINT;
    Endpoint e = Endpoint.parse("endpoint", base, b.protocol.defaultPort());
    String path = e.path.endsWith("/") ? e.path.substring(0, e.path.length() - 1) : e.path;
    return e.withPath(path + signal.httpPath());
  }

  private static String lookup(Function<String, String> env, Signal signal, String suffix) {
    if (signal != null) {
      String v = get(env, "OTEL_EXPORTER_OTLP_" + signal.name() + "_" + suffix);
      if (v != null) {
        return v;
      }
    }
    return get(env, "OTEL_EXPORTER_OTLP_" + suffix);
  }

  private static String get(Function<String, String> env, String name) {
    String v = env.apply(name);
    return v == null || v.isBlank() ? null : v;
  }

  private static <T> T parse(String variable, String value, Function<String, T> parser) {
    try {
      return parser.apply(value);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "OTEL_EXPORTER_OTLP_" + variable + "='" + value + "' is invalid: " + e.getMessage(), e);
    }
  }

  /**
   * {@code k=v,k2=v2} with URL-encoded values (W3C Baggage-like, as the OTLP exporter spec says).
   */
  static Map<String, String> parseHeaders(String value) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : value.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "OTEL_EXPORTER_OTLP_HEADERS entry '" + part.trim() + "' is not key=value");
      }
      String key = part.substring(0, eq).trim();
      String raw = part.substring(eq + 1).trim();
      try {
        out.put(key, URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "OTEL_EXPORTER_OTLP_HEADERS value of '"
                + key
                + "' is not URL-encoded: "
                + e.getMessage(),
            e);
      }
    }
    return out;
  }

  static String requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be null or blank");
    }
    return value;
  }

  static Duration requirePositive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + d);
    }
    return d;
  }

  static int requirePositive(int n, String what) {
    if (n <= 0) {
      throw new IllegalArgumentException(what + " must be > 0: " + n);
    }
    return n;
  }
}
