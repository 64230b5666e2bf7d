package io.otlp4j.relay.component;

import io.otlp4j.relay.DebugExporter;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.DebugExporterConfig;
import io.otlp4j.relay.config.ExporterHelperReader;
import java.util.Map;

/**
 * The {@code debug} exporter: {@code verbosity} (basic, normal, detailed). Builds a {@link
 * DebugExporter}.
 */
final class DebugExporterFactory implements ExporterFactory<DebugExporterConfig> {

  @Override
  public String type() {
    return "debug";
  }

  @Override
  public DebugExporterConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(
        m,
        where,
        "verbosity",
        "sampling_initial",
        "sampling_thereafter",
        "use_internal_logger",
        "sending_queue");
    SendingQueueSettings queue =
        ExporterHelperReader.sendingQueue(in, id, m.get("sending_queue"), where);
    DebugExporter.Verbosity verbosity = DebugExporter.Verbosity.BASIC;
    ConfigNode v = m.get("verbosity");
    if (v != null) {
      switch (String.valueOf(v.value())) {
        case "basic" -> verbosity = DebugExporter.Verbosity.BASIC;
        case "normal" -> verbosity = DebugExporter.Verbosity.NORMAL;
        case "detailed" -> verbosity = DebugExporter.Verbosity.DETAILED;
        default ->
            in.error(
                v.line(),
                where + ".verbosity",
                "unknown verbosity '" + v.value() + "' (basic, normal, detailed)");
      }
    }
    // Accepted for compatibility: the relay logs through its own logger, unsampled.
    in.intValue(m.get("sampling_initial"), where + ".sampling_initial", 2, 0);
    in.intValue(m.get("sampling_thereafter"), where + ".sampling_thereafter", 1, 1);
    in.bool(m.get("use_internal_logger"), where + ".use_internal_logger", true);
    return new DebugExporterConfig(id, queue, verbosity);
  }

  @Override
  public RelayExporter create(DebugExporterConfig config, ComponentContext context) {
    return new DebugExporter(config.id(), config.verbosity());
  }
}
