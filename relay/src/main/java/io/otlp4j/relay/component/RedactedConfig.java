package io.otlp4j.relay.component;

import io.otlp4j.relay.config.HostPort;
import io.otlp4j.relay.config.PipelineConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.Secret;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;

/**
 * The configuration a relay runs, as indented text for the {@code zpages} pages (otlp4j's parsed
 * form: its records' field names, durations as Go writes them, defaults filled in), with every
 * secret replaced by {@code [REDACTED]} (as the Collector prints {@code configopaque} values):
 * {@link Secret} values (bearer tokens) and the values of every {@code headers} map (API keys
 * travel there). Component configurations are records and are walked by their components; any other
 * object is printed by its own {@code toString} only when its class declares one, else by its class
 * name, so nothing unknown is dumped.
 *
 * <p>Stateless and thread-safe.
 */
final class RedactedConfig {
  static final String REDACTED = "[REDACTED]";
  private static final int MAX_DEPTH = 8;

  private RedactedConfig() {}

  /** {@code config} as indented {@code key: value} lines. */
  static String render(RelayConfig config) {
    StringBuilder out = new StringBuilder();
    section(out, "receivers", config.receivers());
    section(out, "processors", config.processors());
    section(out, "exporters", config.exporters());
    section(out, "extensions", config.extensions());
    out.append("service:\n");
    out.append("  ack_mode: ").append(config.ackMode().id()).append('\n');
    out.append("  extensions: ").append(config.extensions().keySet()).append('\n');
    out.append("  telemetry:\n    metrics:\n      address: ").append(config.admin()).append('\n');
    out.append("  pipelines:\n");
    for (PipelineConfig p : config.pipelines()) {
      out.append("    ").append(p.id()).append(":\n");
      out.append("      receivers: ").append(p.receivers()).append('\n');
      out.append("      processors: ").append(p.processors()).append('\n');
      out.append("      exporters: ").append(p.exporters()).append('\n');
    }
    return out.toString();
  }

  private static void section(StringBuilder out, String name, Map<String, ?> components) {
    out.append(name).append(":");
    if (components.isEmpty()) {
      out.append(" {}\n");
      return;
    }
    out.append('\n');
    components.forEach(
        (id, config) -> {
          out.append("  ").append(id).append(':');
          value(out, config, 2, false);
        });
  }

  /** Appends {@code value} after a {@code key:} already written, at {@code indent}. */
  private static void value(StringBuilder out, Object value, int indent, boolean redact) {
    if (indent > 2 * MAX_DEPTH) {
      out.append(" ...\n");
    } else if (value == null) {
      out.append(" null\n");
    } else if (value instanceof Secret || (redact && !(value instanceof Map))) {
      out.append(' ').append(REDACTED).append('\n');
    } else if (value instanceof HostPort || value instanceof Duration) {
      out.append(' ').append(scalar(value)).append('\n');
    } else if (value instanceof Record r) {
      record(out, r, indent);
    } else if (value instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        out.append(" {}\n");
        return;
      }
      out.append('\n');
      m.forEach(
          (k, v) -> {
            pad(out, indent + 2).append(k).append(':');
            value(out, v, indent + 2, redact);
          });
    } else if (value instanceof Collection<?> c) {
      if (c.isEmpty()) {
        out.append(" []\n");
        return;
      }
      out.append('\n');
      for (Object v : c) {
        pad(out, indent + 2).append('-');
        value(out, v, indent + 2, false);
      }
    } else {
      out.append(' ').append(scalar(value)).append('\n');
    }
  }

  private static void record(StringBuilder out, Record r, int indent) {
    out.append('\n');
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      if (c.getName().equals("id")) {
        continue; // the key above
      }
      pad(out, indent + 2).append(c.getName()).append(':');
      Object v;
      try {
        Method accessor = c.getAccessor();
        accessor.setAccessible(true);
        v = accessor.invoke(r);
      } catch (ReflectiveOperationException | RuntimeException e) {
        out.append(" (unreadable)\n");
        continue;
      }
      value(out, v, indent + 2, c.getName().equals("headers"));
    }
  }

  private static String scalar(Object value) {
    if (value instanceof Duration d) {
      return HealthCheckExtensionFactory.goDuration(d);
    }
    if (value instanceof CharSequence
        || value instanceof Number
        || value instanceof Boolean
        || value instanceof Enum<?>
        || value instanceof HostPort
        || value instanceof Path) {
      return String.valueOf(value);
    }
    try {
      if (value.getClass().getMethod("toString").getDeclaringClass() != Object.class) {
        return String.valueOf(value);
      }
    } catch (NoSuchMethodException e) {
      // every class has toString
    }
    return value.getClass().getSimpleName();
  }

  private static StringBuilder pad(StringBuilder out, int indent) {
    return out.append(" ".repeat(indent));
  }
}
