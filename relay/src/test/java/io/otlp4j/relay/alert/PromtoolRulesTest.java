package io.otlp4j.relay.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.cli.Cli;
import io.otlp4j.testing.ExternalTool;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules file {@code otlp4j alerts} prints, checked by the real {@code promtool}: {@code check
 * rules} accepts it, {@code test rules} passes the unit tests shipped in {@code docs/alerts}, and
 * otlp4j's own evaluator, replaying the same input series, fires exactly the alerts (labels and
 * rendered annotations) that Prometheus does at every evaluation time the tests name.
 */
class PromtoolRulesTest {
  private static final Path DOCS = Path.of("..", "docs", "alerts");
  private static final Pattern SERIES = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

  @TempDir Path dir;

  private static String cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Cli.execute(
            args,
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  private static String run(Path workDir, String... command) throws Exception {
    Process p =
        new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
    byte[] output = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String text = new String(output, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isZero();
    return text;
  }

  @Test
  void theShippedRulesFileIsWhatTheCommandPrintsAndPromtoolAcceptsIt() throws Exception {
    String printed = cli("alerts");
    if (Boolean.getBoolean("otlp4j.rules.regenerate")) { // after changing DefaultRules
      Files.writeString(DOCS.resolve("otlp4j-rules.yaml"), printed);
    }
    assertThat(printed)
        .as(
            "docs/alerts/otlp4j-rules.yaml is stale: regenerate it with ./otlp4j alerts or -Dotlp4j.rules.regenerate=true")
        .isEqualTo(Files.readString(DOCS.resolve("otlp4j-rules.yaml")));
    Files.writeString(dir.resolve("otlp4j-rules.yaml"), printed);
    String promtool = ExternalTool.PROMTOOL.require().toString();
    assertThat(run(dir, promtool, "check", "rules", "otlp4j-rules.yaml"))
        .contains("SUCCESS: " + DefaultRules.rules().size() + " rules found");
    Files.copy(DOCS.resolve("otlp4j-rules-test.yaml"), dir.resolve("otlp4j-rules-test.yaml"));
    assertThat(run(dir, promtool, "test", "rules", "otlp4j-rules-test.yaml")).contains("SUCCESS");
  }

  @Test
  void rulesFromAConfigurationPrintAsAValidRulesFile() throws Exception {
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        """
        receivers:
          otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } }
        exporters:
          debug:
        service:
          telemetry:
            alerts:
              evaluation_interval: 30s
              rules:
                - default
                - alert: AckLatencyHigh
                  expr: |
                    sum by (receiver) (rate(otlp4j_receiver_ack_latency_seconds_sum[5m]))
                      / sum by (receiver) (rate(otlp4j_receiver_ack_latency_seconds_count[5m])) > 0.5
                  for: 90s
                  labels: { severity: page, team: "{{ $labels.receiver }}" }
                  annotations: { summary: "slow acks: {{ $value | humanizeDuration }}" }
          pipelines:
            traces: { receivers: [otlp], exporters: [debug] }
        """);
    String printed = cli("alerts", "--config", config.toString());
    assertThat(printed).contains("interval: 30s").contains("for: 1m30s").contains("AckLatencyHigh");
    Files.writeString(dir.resolve("rules.yaml"), printed);
    assertThat(run(dir, ExternalTool.PROMTOOL.require().toString(), "check", "rules", "rules.yaml"))
        .contains("SUCCESS: " + (DefaultRules.rules().size() + 1) + " rules found");
  }

  @Test
  void otlp4jsEvaluatorFiresWhatPrometheusFiresOnTheShippedTestSeries() throws IOException {
    JsonNode tests =
        new ObjectMapper(new YAMLFactory())
            .readTree(DOCS.resolve("otlp4j-rules-test.yaml").toFile());
    Duration step = Duration.ofSeconds(15);
    int compared = 0;
    for (JsonNode test : tests.get("tests")) {
      List<Series> series = new ArrayList<>();
      for (JsonNode s : test.get("input_series")) {
        series.add(Series.parse(s.get("series").asText(), s.get("values").asText()));
      }
      Map<Long, List<JsonNode>> checks = new TreeMap<>();
      long last = 0;
      for (JsonNode c : test.get("alert_rule_test")) {
        long at = seconds(c.get("eval_time").asText());
        checks.computeIfAbsent(at, k -> new ArrayList<>()).add(c);
        last = Math.max(last, at);
      }
      FakeClock clock = new FakeClock(Instant.EPOCH);
      int[] index = {0};
      try (AlertEvaluator evaluator =
          AlertEvaluator.builder(
                  new AlertsConfig(step, DefaultRules.rules(), null, null),
                  MetricsRegistry.create())
              .clock(clock)
              .source(() -> Series.snapshot(series, index[0]))
              .build()) {
        for (long t = 0; t <= last; t += step.toSeconds()) {
          evaluator.evaluate();
          for (JsonNode c : checks.getOrDefault(t, List.of())) {
            String name = c.get("alertname").asText();
            List<Map<String, Object>> expected = new ArrayList<>();
            for (JsonNode a : c.get("exp_alerts")) {
              Map<String, String> labels = new TreeMap<>(strings(a.get("exp_labels")));
              labels.put("alertname", name);
              expected.add(
                  Map.of("labels", labels, "annotations", strings(a.get("exp_annotations"))));
            }
            List<Map<String, Object>> actual = new ArrayList<>();
            for (AlertEvaluator.Alert a : evaluator.alerts()) {
              if (a.name().equals(name) && a.state() == AlertEvaluator.State.FIRING) {
                actual.add(
                    Map.of("labels", new TreeMap<>(a.labels()), "annotations", a.annotations()));
              }
            }
            assertThat(actual).as(name + " at " + t + "s").isEqualTo(expected);
            compared++;
          }
          clock.advance(step);
          index[0]++;
        }
      }
    }
    assertThat(compared).isGreaterThanOrEqualTo(10);
  }

  private static Map<String, String> strings(JsonNode node) {
    Map<String, String> out = new LinkedHashMap<>();
    if (node != null) {
      node.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return new TreeMap<>(out);
  }

  private static long seconds(String duration) {
    return io.otlp4j.relay.config.ConfigValues.parseDuration(duration).toSeconds();
  }

  /** One promtool input series: its name, labels and values in promtool's expanding notation. */
  private record Series(String name, Map<String, String> labels, List<Double> values) {
    static Series parse(String series, String values) {
      Matcher m = SERIES.matcher(series.strip());
      assertThat(m.matches()).as(series).isTrue();
      Map<String, String> labels = new TreeMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      List<Double> out = new ArrayList<>();
      for (String token : values.strip().split("\\s+")) {
        Matcher x = Pattern.compile("(-?[0-9.]+)(?:([+-])([0-9.]+))?(?:x([0-9]+))?").matcher(token);
        assertThat(x.matches()).as(token).isTrue();
        double start = Double.parseDouble(x.group(1));
        double delta = x.group(3) == null ? 0 : Double.parseDouble(x.group(3));
        if ("-".equals(x.group(2))) {
          delta = -delta;
        }
        int times = x.group(4) == null ? 0 : Integer.parseInt(x.group(4));
        for (int i = 0; i <= times; i++) {
          out.add(start + i * delta);
        }
      }
      return new Series(m.group(1), labels, out);
    }

    /** Every series' value at step {@code index}, as the relay's registry would show it. */
    static MetricSnapshots snapshot(List<Series> all, int index) {
      Map<String, List<Series>> byName = new HashMap<>();
      all.forEach(s -> byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s));
      MetricSnapshots.Builder out = MetricSnapshots.builder();
      byName.forEach(
          (name, list) -> {
            if (name.endsWith("_total")) {
              CounterSnapshot.Builder b =
                  CounterSnapshot.builder().name(name.substring(0, name.length() - 6));
              for (Series s : list) {
                if (index < s.values().size()) {
                  b.dataPoint(
                      CounterSnapshot.CounterDataPointSnapshot.builder()
                          .labels(
                              Labels.of(
                                  new ArrayList<>(s.labels().keySet()),
                                  new ArrayList<>(s.labels().values())))
                          .value(s.values().get(index))
                          .build());
                }
              }
              out.metricSnapshot(b.build());
            } else {
              GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name);
              for (Series s : list) {
                if (index < s.values().size()) {
                  b.dataPoint(
                      GaugeSnapshot.GaugeDataPointSnapshot.builder()
                          .labels(
                              Labels.of(
                                  new ArrayList<>(s.labels().keySet()),
                                  new ArrayList<>(s.labels().values())))
                          .value(s.values().get(index))
                          .build());
                }
              }
              out.metricSnapshot(b.build());
            }
          });
      return out.build();
    }
  }
}
