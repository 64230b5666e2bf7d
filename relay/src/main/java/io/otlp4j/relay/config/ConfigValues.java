package io.otlp4j.relay.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers of the configuration's value syntaxes: Go durations, {@code host:port} listening
 * addresses, gRPC targets and http(s) endpoints. Each returns null (or adds an error) for a bad
 * value and never throws. Stateless.
 */
public final class ConfigValues {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

  private ConfigValues() {}

  /**
   * Go's duration syntax (what the Collector reads): {@code 1h2m3s}, {@code 200ms}, {@code 0}; null
   * if not one.
   */
  public static Duration parseDuration(String text) {
    if (text.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = DURATION.matcher(text);
    int at = 0;
    double nanos = 0;
    while (at < text.length()) {
      if (!m.find(at) || m.start() != at) {
        return null;
      }
      double n = Double.parseDouble(m.group(1));
      nanos +=
          n
              * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
              };
      at = m.end();
    }
    return at == 0 ? null : Duration.ofNanos((long) nanos);
  }

  /**
   * A listening address: {@code host:port}, {@code [v6]:port} or {@code :port} (every interface);
   * null, with an error in {@code errors}, when it is not one.
   */
  public static HostPort hostPort(String endpoint, String where, int line, List<String> errors) {
    String e = endpoint.trim();
    int colon = e.lastIndexOf(':');
    if (colon < 0) {
      errors.add(ConfigReader.at(line, where, "endpoint '" + endpoint + "' must be host:port"));
      return null;
    }
    String host = e.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty()) {
      host = "0.0.0.0";
    }
    try {
      int port = Integer.parseInt(e.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new HostPort(host, port);
    } catch (NumberFormatException x) {
      errors.add(ConfigReader.at(line, where, "endpoint '" + endpoint + "' has no valid port"));
      return null;
    }
  }

  /**
   * A gRPC target as the Collector takes it: {@code host:port}, {@code dns:///host:port} or a URL;
   * the {@code dns}/{@code passthrough} resolver prefixes are dropped (the exporter resolves names
   * itself).
   */
  public static String grpcTarget(String endpoint) {
    for (String prefix : new String[] {"dns:///", "dns:", "passthrough:///"}) {
      if (endpoint.startsWith(prefix)) {
        return endpoint.substring(prefix.length());
      }
    }
    return endpoint;
  }

  /**
   * Why {@code endpoint} is not {@code host:port} (gRPC only) or an http(s) URL with a host, or
   * null when it is one.
   */
  public static String endpointProblem(String endpoint, boolean http) {
    String url = endpoint.contains("://") ? endpoint : "http://" + endpoint;
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        return "'" + endpoint + "' must use http or https";
      }
      if (uri.getHost() == null || uri.getHost().isEmpty()) {
        return "'" + endpoint + "' has no host";
      }
      if (!http && !endpoint.contains("://") && uri.getPort() < 0) {
        return "'" + endpoint + "' must be host:port or a URL";
      }
      return null;
    } catch (URISyntaxException | RuntimeException x) {
      return "'" + endpoint + "' is not a valid endpoint";
    }
  }

  /** A number as a configuration shows it: {@code 1} rather than {@code 1.0}. */
  static String format(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }
}
