package io.otlp4j.relay.component;

import com.sun.net.httpserver.HttpExchange;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.HostPort;
import io.otlp4j.relay.config.PipelineConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.ZPagesConfig;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Collector's {@code zpages} extension, on its own server ({@code endpoint}, default {@code
 * 127.0.0.1:55679}), with the pages that make sense in otlp4j:
 *
 * <ul>
 *   <li>{@code /debug/servicez}: the relay's state, start time and uptime, the JVM, and the running
 *       configuration with secrets redacted ({@link RedactedConfig});
 *   <li>{@code /debug/pipelinez}: every pipeline with its receivers, processors and exporters, each
 *       with its state in the Collector's component-status words ({@code Starting}, {@code OK},
 *       {@code RecoverableError} while an exporter's circuit breaker is open or half-open, {@code
 *       Stopping}, {@code Stopped}), and per exporter the items sent and failed and its queue;
 *   <li>{@code /debug/extensionz}: the extensions in use;
 *   <li>{@code /debug/tracez}, {@code /debug/rpcz}, {@code /debug/featurez}: 501 with a page saying
 *       that otlp4j has no such data and what to use instead.
 * </ul>
 *
 * Pages are built on each request from the relay's {@link ServiceStatus} and one read of its
 * metrics.
 */
final class ZPagesExtensionFactory implements ExtensionFactory<ZPagesConfig> {

  private static final String HTML = "text/html; charset=utf-8";

  @Override
  public String type() {
    return "zpages";
  }

  @Override
  public ZPagesConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(m, where, List.of("tls", "cors", "auth", "expvar"), "endpoint");
    HostPort endpoint =
        HealthCheckExtensionFactory.endpoint(
            m.get("endpoint"), ZPagesConfig.DEFAULT_ENDPOINT, where, node.line(), in);
    return in.errorCount() != errors ? null : new ZPagesConfig(id, endpoint);
  }

  @Override
  public AutoCloseable start(ZPagesConfig config, ComponentContext context) {
    return new ExtensionHttpServer(config.id(), config.endpoint(), e -> serve(e, context));
  }

  private static void serve(HttpExchange exchange, ComponentContext context) throws IOException {
    String path = exchange.getRequestURI().getPath();
    ServiceStatus status = context.status();
    switch (path) {
      case "/debug/servicez" -> ExtensionHttpServer.respond(exchange, 200, HTML, servicez(status));
      case "/debug/pipelinez" ->
          ExtensionHttpServer.respond(
              exchange, 200, HTML, pipelinez(status, context.metrics().scrape()));
      case "/debug/extensionz" ->
          ExtensionHttpServer.respond(exchange, 200, HTML, extensionz(status));
      case "/debug/tracez", "/debug/rpcz", "/debug/featurez" ->
          ExtensionHttpServer.respond(exchange, 501, HTML, notAvailable(path));
      default -> ExtensionHttpServer.respond(exchange, 404, HTML, page("Not found", index()));
    }
  }

  static String servicez(ServiceStatus status) {
    StringBuilder b = new StringBuilder(index());
    b.append("<h2>Service</h2><table>");
    row(b, "State", status.state().name().toLowerCase(Locale.ROOT));
    row(b, "Started", String.valueOf(status.startedAt()));
    row(b, "Ready since", status.upSince() == null ? "not yet" : status.upSince().toString());
    row(b, "Uptime", HealthCheckExtensionFactory.goDuration(status.uptime()));
    String version = ZPagesExtensionFactory.class.getPackage().getImplementationVersion();
    row(b, "otlp4j version", version == null ? "development build" : version);
    row(
        b,
        "Java",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    row(b, "Process id", String.valueOf(ProcessHandle.current().pid()));
    b.append("</table>");
    RelayConfig config = status.config();
    b.append("<h2>Running configuration (secrets redacted)</h2><pre>")
        .append(escape(config == null ? "(none)" : RedactedConfig.render(config)))
        .append("</pre>");
    return page("servicez", b.toString());
  }

  static String pipelinez(ServiceStatus status, MetricSnapshots metrics) {
    StringBuilder b = new StringBuilder(index());
    RelayConfig config = status.config();
    b.append("<h2>Pipelines</h2>");
    if (config == null) {
      return page("pipelinez", b.append("<p>No configuration.</p>").toString());
    }
    String base = componentState(status);
    b.append("<table><tr><th>Pipeline</th><th>Signal</th><th>Receivers</th><th>Processors</th>")
        .append("<th>Exporters</th></tr>");
    for (PipelineConfig p : config.pipelines()) {
      b.append("<tr><td>").append(escape(p.id())).append("</td><td>").append(p.signal().id());
      b.append("</td><td>");
      p.receivers().forEach(r -> component(b, r, base));
      b.append("</td><td>");
      p.processors().forEach(r -> component(b, r, base));
      b.append("</td><td>");
      for (String e : p.exporters()) {
        component(b, e, exporterState(base, metrics, e));
      }
      b.append("</td></tr>");
    }
    b.append("</table><h2>Exporters</h2><table><tr><th>Exporter</th><th>State</th>")
        .append("<th>Sent</th><th>Send failed</th><th>Enqueue failed</th><th>Queue</th></tr>");
    for (String e : config.exporters().keySet()) {
      b.append("<tr><td>").append(escape(e)).append("</td><td>");
      b.append(escape(exporterState(base, metrics, e))).append("</td><td>");
      b.append(items(metrics, "otelcol_exporter_sent_", e)).append("</td><td>");
      b.append(items(metrics, "otelcol_exporter_send_failed_", e)).append("</td><td>");
      b.append(items(metrics, "otelcol_exporter_enqueue_failed_", e)).append("</td><td>");
      b.append(format(sum(metrics, "otelcol_exporter_queue_size", e)))
          .append(" / ")
          .append(format(sum(metrics, "otelcol_exporter_queue_capacity", e)))
          .append("</td></tr>");
    }
    b.append("</table>");
    return page("pipelinez", b.toString());
  }

  static String extensionz(ServiceStatus status) {
    StringBuilder b = new StringBuilder(index()).append("<h2>Extensions</h2><ul>");
    RelayConfig config = status.config();
    if (config != null) {
      for (String id : config.extensions().keySet()) {
        b.append("<li>").append(escape(id)).append(": ").append(componentState(status));
      }
    }
    return page("extensionz", b.append("</ul>").toString());
  }

  static String notAvailable(String path) {
    String what =
        switch (path) {
          case "/debug/tracez" ->
              "otlp4j does not trace its own requests, so there are no spans to show. "
                  + "Its self-metrics (<code>/metrics</code> on the admin address) and its log "
                  + "show what each receiver, processor and exporter does.";
          case "/debug/rpcz" ->
              "otlp4j keeps no per-RPC statistics. The receivers' and exporters' request counts and "
                  + "latency histograms are in its self-metrics (<code>/metrics</code>).";
          default -> "otlp4j has no feature gates: every feature is configured in its YAML.";
        };
    return page(
        path.substring("/debug/".length()),
        index() + "<h2>Not available in otlp4j</h2><p>" + what + "</p>");
  }

  /** The Collector's component-status word for every component while the relay is in a state. */
  private static String componentState(ServiceStatus status) {
    return switch (status.state()) {
      case STARTING -> "Starting";
      case RUNNING -> "OK";
      case DRAINING -> "Stopping";
      case STOPPED -> "Stopped";
    };
  }

  /**
   * An exporter's state: the relay's, or RecoverableError while one of its circuits is not closed.
   */
  private static String exporterState(String base, MetricSnapshots metrics, String exporter) {
    double worst = -1;
    for (DataPointSnapshot p : points(metrics, "otlp4j_exporter_circuit_state", exporter)) {
      worst = Math.max(worst, ((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue());
    }
    if (!"OK".equals(base) || worst <= 0) {
      return base;
    }
    return worst >= 2 ? "RecoverableError (circuit open)" : "RecoverableError (circuit half-open)";
  }

  private static String items(MetricSnapshots metrics, String prefix, String exporter) {
    double total = 0;
    for (String item : List.of("spans", "metric_points", "log_records")) {
      total += sum(metrics, prefix + item, exporter);
    }
    return format(total);
  }

  private static double sum(MetricSnapshots metrics, String name, String exporter) {
    double total = 0;
    for (DataPointSnapshot p : points(metrics, name, exporter)) {
      if (p instanceof CounterSnapshot.CounterDataPointSnapshot c) {
        total += c.getValue();
      } else if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
        total += g.getValue();
      }
    }
    return total;
  }

  private static List<? extends DataPointSnapshot> points(
      MetricSnapshots metrics, String name, String exporter) {
    for (MetricSnapshot m : metrics) {
      if (m.getMetadata().getName().equals(name)) {
        return m.getDataPoints().stream()
            .filter(p -> exporter.equals(p.getLabels().get("exporter")))
            .toList();
      }
    }
    return List.of();
  }

  private static String format(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }

  private static void component(StringBuilder b, String id, String state) {
    b.append(escape(id)).append(" <small>(").append(escape(state)).append(")</small><br>");
  }

  private static void row(StringBuilder b, String key, String value) {
    b.append("<tr><th>").append(escape(key)).append("</th><td>").append(escape(value));
    b.append("</td></tr>");
  }

  private static String index() {
    return "<p><a href=\"/debug/servicez\">servicez</a> · <a href=\"/debug/pipelinez\">pipelinez</a>"
        + " · <a href=\"/debug/extensionz\">extensionz</a></p>";
  }

  private static String page(String title, String body) {
    return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>otlp4j "
        + escape(title)
        + "</title><style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
        + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
        + "pre{background:#f6f6f6;padding:.5em}</style></head><body><h1>otlp4j "
        + escape(title)
        + "</h1>"
        + body
        + "</body></html>\n";
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
