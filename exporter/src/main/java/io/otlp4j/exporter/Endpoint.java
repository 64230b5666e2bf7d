package io.otlp4j.exporter;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A parsed endpoint URL: {@code http} or {@code https}, host, port (the protocol's default when
 * absent) and path. Immutable.
 */
final class Endpoint {
  final boolean tls;
  final String host;
  final int port;
  final String path;

  private Endpoint(boolean tls, String host, int port, String path) {
    this.tls = tls;
    this.host = host;
    this.port = port;
    this.path = path;
  }

  /**
   * Parses {@code url}; a URL without a scheme ({@code host:port}) is taken as {@code http}. A URL
   * with a scheme but no port gets the scheme's port (80, 443); a bare host gets {@code
   * defaultPort}.
   *
   * @throws IllegalArgumentException naming {@code what} and the value when it is not a usable URL
   */
  static Endpoint parse(String what, String url, int defaultPort) {
    String s = url.trim();
    boolean schemeGiven = s.contains("://");
    if (!schemeGiven) {
      s = "http://" + s;
    }
    URI uri;
    try {
      uri = new URI(s);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          what + " '" + url + "' is not a URL: " + e.getMessage(), e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(what + " '" + url + "' must use http or https");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException(what + " '" + url + "' has no host");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    // A URL without a port means its scheme's (RFC 3986); a bare host[:port] the protocol's.
    int port =
        uri.getPort() != -1
            ? uri.getPort()
            : !schemeGiven ? defaultPort : scheme.equals("https") ? 443 : 80;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path = path + "?" + uri.getRawQuery();
    }
    return new Endpoint(scheme.equals("https"), host, port, path);
  }

  Endpoint withPath(String newPath) {
    return new Endpoint(tls, host, port, newPath);
  }

  Endpoint withTls(boolean useTls) {
    return new Endpoint(useTls, host, port, path);
  }

  /** {@code scheme://host:port}: one connection pool, one circuit breaker. */
  String authority() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return (tls ? "https://" : "http://") + h + ":" + port;
  }

  /** The Host header value. */
  String hostHeader() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return h + ":" + port;
  }

  @Override
  public String toString() {
    return authority() + path;
  }
}
