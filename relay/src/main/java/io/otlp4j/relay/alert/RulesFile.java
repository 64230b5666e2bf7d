package io.otlp4j.relay.alert;

import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;

/**
 * Writes alerting rules as a Prometheus rules file ({@code groups:} with one group, {@code otlp4j},
 * evaluated every evaluation interval), for teams who alert from their own Prometheus: {@code
 * promtool check rules} accepts it. Stateless.
 */
public final class RulesFile {
  /** The name of the one group. */
  public static final String GROUP = "otlp4j";

  private RulesFile() {}

  /** The rules of {@code config} as a Prometheus rules file. */
  public static String write(AlertsConfig config) {
    StringWriter out = new StringWriter();
    YAMLFactory yaml =
        YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
            .enable(YAMLGenerator.Feature.INDENT_ARRAYS_WITH_INDICATOR)
            .disable(YAMLGenerator.Feature.SPLIT_LINES)
            .build();
    try (YAMLGenerator g = (YAMLGenerator) yaml.createGenerator(out)) {
      g.writeStartObject();
      g.writeArrayFieldStart("groups");
      g.writeStartObject();
      g.writeStringField("name", GROUP);
      g.writeStringField("interval", duration(config.evaluationInterval()));
      g.writeArrayFieldStart("rules");
      for (AlertRule r : config.rules()) {
        g.writeStartObject();
        g.writeStringField("alert", r.name());
        g.writeStringField("expr", r.exprText());
        if (!r.holdDuration().isZero()) {
          g.writeStringField("for", duration(r.holdDuration()));
        }
        map(g, "labels", r.labels());
        map(g, "annotations", r.annotations());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void map(YAMLGenerator g, String field, Map<String, String> m) throws IOException {
    if (m.isEmpty()) {
      return;
    }
    g.writeObjectFieldStart(field);
    for (Map.Entry<String, String> e : m.entrySet()) {
      g.writeStringField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
  }

  /** A duration as Prometheus writes one: {@code 2m}, {@code 15s}, {@code 1m30s}, {@code 500ms}. */
  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    StringBuilder out = new StringBuilder();
    long[] units = {7L * 24 * 3600_000, 24L * 3600_000, 3600_000, 60_000, 1000, 1};
    String[] names = {"w", "d", "h", "m", "s", "ms"};
    for (int i = 0; i < units.length; i++) {
      if (ms >= units[i]) {
        out.append(ms / units[i]).append(names[i]);
        ms %= units[i];
      }
    }
    return out.toString();
  }
}
