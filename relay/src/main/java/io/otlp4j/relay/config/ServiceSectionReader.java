package io.otlp4j.relay.config;

import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.alert.AlertsConfig;
import io.otlp4j.wire.Signal;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the {@code service} section: {@code pipelines} (each id listed must be defined), {@code
 * extensions} (the extensions in use), {@code telemetry.metrics.address} (the admin server),
 * otlp4j's {@code telemetry.alerts} ({@link AlertsConfig}) and otlp4j's {@code ack_mode}. Not
 * thread-safe; used once.
 */
final class ServiceSectionReader {
  private final ConfigReader in;
  final List<PipelineConfig> pipelines = new ArrayList<>();

  /** The ids listed in {@code service.extensions}, or null when that list is absent. */
  Set<String> enabledExtensions;

  AckMode ackMode;
  int ackModeLine;
  HostPort admin;
  AlertsConfig alerts = AlertsConfig.DEFAULTS;
  final java.util.Map<String, Integer> pipelineLines = new java.util.LinkedHashMap<>();

  ServiceSectionReader(ConfigReader in) {
    this.in = in;
  }

  void read(
      ConfigNode service, Set<String> receivers, Set<String> processors, Set<String> exporters) {
    Map<String, ConfigNode> s = in.map(service, "service");
    if (s == null) {
      return;
    }
    in.checkKeys(s, "service", "pipelines", "telemetry", "extensions", "ack_mode");
    extensions(s.get("extensions"));
    ConfigNode mode = s.get("ack_mode");
    if (mode != null) {
      ackModeLine = mode.line();
      String text = in.string(mode, "service.ack_mode");
      ackMode = text == null ? null : AckMode.fromId(text);
      if (text != null && ackMode == null) {
        in.error(
            mode.line(),
            "service.ack_mode",
            "unknown ack mode '" + text + "' (received, delivered, durable)");
      }
    }
    admin = telemetry(s.get("telemetry"));
    pipelines(s.get("pipelines"), receivers, processors, exporters, service.line());
    checkAuthenticatorsEnabled();
  }

  /** {@code service.extensions}: each id must be defined. */
  private void extensions(ConfigNode node) {
    if (node == null || node.isNull()) {
      return;
    }
    enabledExtensions = new LinkedHashSet<>();
    if (node.list() == null) {
      in.error(node.line(), "service.extensions", "must be a list of extension ids");
      return;
    }
    for (ConfigNode n : node.list()) {
      String id = n.text();
      if (id == null) {
        in.error(n.line(), "service.extensions", "must be a list of extension ids");
      } else if (!in.extensions().containsKey(id)) {
        in.error(n.line(), "service.extensions", "extension '" + id + "' is not defined");
      } else {
        enabledExtensions.add(id);
      }
    }
  }

  /**
   * As in the Collector, an authenticator a component uses must be enabled in service.extensions.
   */
  private void checkAuthenticatorsEnabled() {
    for (ConfigReader.Use use : in.authenticatorUses()) {
      if (enabledExtensions == null || !enabledExtensions.contains(use.id())) {
        in.error(
            use.line(),
            use.where(),
            "extension '" + use.id() + "' must be listed in service.extensions");
      }
    }
  }

  private HostPort telemetry(ConfigNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    Map<String, ConfigNode> m = in.map(node, "service.telemetry");
    if (m == null) {
      return null;
    }
    in.checkKeys(m, "service.telemetry", "metrics", "alerts");
    alerts = AlertsConfig.read(in, m.get("alerts"));
    ConfigNode metrics = m.get("metrics");
    if (metrics == null || metrics.isNull()) {
      return null;
    }
    Map<String, ConfigNode> mm = in.map(metrics, "service.telemetry.metrics");
    if (mm == null) {
      return null;
    }
    in.checkKeys(mm, "service.telemetry.metrics", "address");
    ConfigNode a = mm.get("address");
    String text = a == null ? null : in.string(a, "service.telemetry.metrics.address");
    return text == null ? null : in.hostPort(text, "service.telemetry.metrics.address", a.line());
  }

  private void pipelines(
      ConfigNode node,
      Set<String> receivers,
      Set<String> processors,
      Set<String> exporters,
      int serviceLine) {
    if (node == null || node.map() == null || node.map().isEmpty()) {
      in.error(
          node == null ? serviceLine : node.line(),
          "service.pipelines",
          "must define at least one pipeline");
      return;
    }
    for (Map.Entry<String, ConfigNode> e : node.map().entrySet()) {
      String id = e.getKey();
      String where = "service.pipelines." + id;
      String type = ComponentConfig.typeOf(id);
      Signal signal;
      try {
        signal = Signal.fromId(type);
      } catch (IllegalArgumentException x) {
        in.error(
            e.getValue().line(), where, "unknown signal '" + type + "' (traces, metrics, logs)");
        continue;
      }
      Map<String, ConfigNode> m = in.map(e.getValue(), where);
      if (m == null) {
        continue;
      }
      pipelineLines.put(id, e.getValue().line());
      in.checkKeys(m, where, "receivers", "processors", "exporters");
      int line = e.getValue().line();
      List<String> r =
          ids(m.get("receivers"), where + ".receivers", receivers, "receiver", true, line);
      List<String> p =
          ids(m.get("processors"), where + ".processors", processors, "processor", false, line);
      List<String> x =
          ids(m.get("exporters"), where + ".exporters", exporters, "exporter", true, line);
      pipelines.add(new PipelineConfig(id, signal, r, p, x));
    }
  }

  private List<String> ids(
      ConfigNode node, String where, Set<String> defined, String kind, boolean required, int line) {
    List<String> ids = new ArrayList<>();
    if (node == null || node.isNull()) {
      if (required) {
        in.error(line, where, "must list at least one " + kind);
      }
      return ids;
    }
    if (node.list() == null) {
      in.error(node.line(), where, "must be a list of " + kind + " ids");
      return ids;
    }
    for (ConfigNode n : node.list()) {
      String id = n.text();
      if (id == null) {
        in.error(n.line(), where, "must be a list of " + kind + " ids");
      } else if (!defined.contains(id)) {
        in.error(n.line(), where, kind + " '" + id + "' is not defined");
      } else {
        ids.add(id);
      }
    }
    if (required && ids.isEmpty() && node.list().isEmpty()) {
      in.error(node.line(), where, "must list at least one " + kind);
    }
    return ids;
  }
}
