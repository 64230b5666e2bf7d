package io.otlp4j.relay.component;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.HealthCheckConfig;
import io.otlp4j.relay.config.HostPort;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Collector's {@code health_check} extension, on its own server: {@code GET} (or {@code HEAD})
 * of {@code path} (default {@code /}) on {@code endpoint} (default {@code 127.0.0.1:13133}) answers
 * 200 while every pipeline runs and 503 while the relay starts or drains, with the Collector's JSON
 * status:
 *
 * <pre>{@code
 * {"status":"Server available","upSince":"2026-12-07T10:00:00Z","uptime":"1m2.5s","state":"running"}
 * }</pre>
 *
 * ({@code state} is otlp4j's: {@code starting}, {@code running}, {@code draining}, {@code
 * stopped}), or with {@code response_body.healthy} / {@code .unhealthy} when set. Other paths
 * answer 404. Kubernetes liveness and readiness probes point at it.
 */
final class HealthCheckExtensionFactory implements ExtensionFactory<HealthCheckConfig> {
  private static final JsonFactory JSON = new JsonFactory();

  @Override
  public String type() {
    return "health_check";
  }

  @Override
  public HealthCheckConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        List.of(
            "tls",
            "cors",
            "auth",
            "check_collector_pipeline",
            "use_v2",
            "http",
            "grpc",
            "component_health"),
        "endpoint",
        "path",
        "response_body");
    HostPort endpoint =
        endpoint(m.get("endpoint"), HealthCheckConfig.DEFAULT_ENDPOINT, where, node.line(), in);
    String path = HealthCheckConfig.DEFAULT_PATH;
    ConfigNode p = m.get("path");
    if (p != null) {
      path = in.string(p, where + ".path");
      if (path != null && !path.startsWith("/")) {
        in.error(p.line(), where + ".path", "must start with '/', was '" + path + "'");
      }
    }
    String healthy = null;
    String unhealthy = null;
    ConfigNode body = m.get("response_body");
    if (body != null) {
      Map<String, ConfigNode> b = in.map(body, where + ".response_body");
      if (b != null) {
        in.checkKeys(b, where + ".response_body", "healthy", "unhealthy");
        if (b.get("healthy") != null) {
          healthy = in.string(b.get("healthy"), where + ".response_body.healthy");
        }
        if (b.get("unhealthy") != null) {
          unhealthy = in.string(b.get("unhealthy"), where + ".response_body.unhealthy");
        }
      }
    }
    if (in.errorCount() != errors) {
      return null;
    }
    return new HealthCheckConfig(id, endpoint, path, healthy, unhealthy);
  }

  /**
   * An extension's {@code endpoint}: {@code host:port}, {@code defaultEndpoint} when absent; null
   * (with an error) when it is not an address.
   */
  static HostPort endpoint(
      ConfigNode node, String defaultEndpoint, String where, int line, ConfigReader in) {
    if (node == null) {
      return in.hostPort(defaultEndpoint, where + ".endpoint", line);
    }
    String text = in.string(node, where + ".endpoint");
    return text == null ? null : in.hostPort(text, where + ".endpoint", node.line());
  }

  @Override
  public AutoCloseable start(HealthCheckConfig config, ComponentContext context) {
    ServiceStatus status = context.status();
    return new ExtensionHttpServer(
        config.id(),
        config.endpoint(),
        exchange -> {
          if (!config.path().equals(exchange.getRequestURI().getPath())) {
            ExtensionHttpServer.respond(
                exchange, 404, "text/plain; charset=utf-8", "not found; try " + config.path());
            return;
          }
          answer(exchange, config, status);
        });
  }

  private static void answer(HttpExchange exchange, HealthCheckConfig config, ServiceStatus status)
      throws IOException {
    boolean ok = status.isRunning();
    String custom = ok ? config.healthyBody() : config.unhealthyBody();
    if (custom != null) {
      ExtensionHttpServer.respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8", custom);
    } else {
      ExtensionHttpServer.respond(exchange, ok ? 200 : 503, "application/json", json(status, ok));
    }
  }

  /** The Collector's status document, plus otlp4j's {@code state}. */
  static String json(ServiceStatus status, boolean ok) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("status", ok ? "Server available" : "Server not available");
      Instant up = status.upSince();
      g.writeStringField("upSince", up == null ? "" : up.toString());
      g.writeStringField("uptime", up == null ? "" : goDuration(status.uptime()));
      g.writeStringField("state", status.state().name().toLowerCase(Locale.ROOT));
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /**
   * A duration as Go prints one ({@code 1h2m3.5s}, {@code 250ms} under a second), as the Collector
   * shows uptime.
   */
  static String goDuration(Duration d) {
    long nanos = d.toNanos();
    if (nanos == 0) {
      return "0s";
    }
    if (nanos < 1_000_000_000L) {
      return trim(nanos / 1e6) + "ms";
    }
    long hours = nanos / 3_600_000_000_000L;
    long minutes = (nanos / 60_000_000_000L) % 60;
    double seconds = (nanos % 60_000_000_000L) / 1e9;
    StringBuilder s = new StringBuilder();
    if (hours > 0) {
      s.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      s.append(minutes).append('m');
    }
    return s.append(trim(seconds)).append('s').toString();
  }

  private static String trim(double value) {
    String s = String.format(Locale.ROOT, "%.9f", value);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
