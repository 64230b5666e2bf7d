package io.otlp4j.relay.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** {@code service.telemetry.alerts} in the relay's YAML: defaults, each key, errors with lines. */
class AlertsConfigTest {

  private static String yaml(String alerts) {
    return """
        receivers:
          otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0" } } }
        exporters:
          debug:
        service:
          telemetry:
            metrics: { address: "127.0.0.1:0" }
        %s
          pipelines:
            traces: { receivers: [otlp], exporters: [debug] }
        """
        .formatted(alerts.indent(4).stripTrailing());
  }

  private static AlertsConfig parse(String alerts) throws RelayConfigException {
    return RelayConfig.parse(yaml(alerts), n -> null, Path.of(".")).alerts();
  }

  @Test
  void withoutTheKeyTheDefaultRulesAreEvaluatedEvery15sAndNobodyIsNotified() throws Exception {
    AlertsConfig c = parse("");
    assertThat(c).isEqualTo(AlertsConfig.DEFAULTS);
    assertThat(c.evaluationInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.rules()).isEqualTo(DefaultRules.rules());
    assertThat(c.alertmanager()).isNull();
    assertThat(c.webhook()).isNull();
    assertThat(RelayConfig.defaults(Path.of("data")).alerts()).isEqualTo(AlertsConfig.DEFAULTS);
  }

  @Test
  void everyKeyOfTheIssueIsRead() throws Exception {
    AlertsConfig c =
        parse(
            """
            alerts:
              evaluation_interval: 30s
              rules: default
              alertmanager: { endpoint: http://127.0.0.1:9093 }
              webhook: { endpoint: http://127.0.0.1:5001/hook }
            """);
    assertThat(c.evaluationInterval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.rules()).isEqualTo(DefaultRules.rules());
    assertThat(c.alertmanager()).isEqualTo(URI.create("http://127.0.0.1:9093"));
    assertThat(c.webhook()).isEqualTo(URI.create("http://127.0.0.1:5001/hook"));
    assertThat(parse("alerts: { rules: none }").rules()).isEmpty();
  }

  @Test
  void aListHoldsRulesInPrometheussShapeAndMayIncludeTheDefaults() throws Exception {
    AlertsConfig c =
        parse(
            """
            alerts:
              rules:
                - alert: QueueBacklog
                  expr: sum by (exporter) (otelcol_exporter_queue_size) > 100
                  for: 5m
                  labels: { severity: warning }
                  annotations: { summary: "{{ $labels.exporter }}: {{ $value }}" }
                - default
            """);
    assertThat(c.rules()).hasSize(1 + DefaultRules.rules().size());
    AlertRule r = c.rules().get(0);
    assertThat(r.name()).isEqualTo("QueueBacklog");
    assertThat(r.exprText()).isEqualTo("sum by (exporter) (otelcol_exporter_queue_size) > 100");
    assertThat(r.holdDuration()).isEqualTo(Duration.ofMinutes(5));
    assertThat(r.labels()).containsEntry("severity", "warning");
    assertThat(r.annotations()).containsKey("summary");
  }

  @Test
  void mistakesAreReportedTogetherEachWithItsLine() {
    String text =
        yaml(
            """
            alerts:
              evaluation_interval: soon
              rules:
                - alert: NoExpr
                - alert: Bad Name
                  expr: x > 0
                - expr: x > 0
                  keep_firing_for: 5m
              alertmanager: { endpoint: "127.0.0.1:9093" }
              webhook: { url: http://x }
              extra: 1
            """);
    assertThatThrownBy(() -> RelayConfig.parse(text, n -> null, Path.of(".")))
        .isInstanceOf(RelayConfigException.class)
        .satisfies(
            e ->
                assertThat(((RelayConfigException) e).errors())
                    .containsExactly(
                        "line 18: service.telemetry.alerts.extra: unknown key 'extra' (known:"
                            + " evaluation_interval, rules, alertmanager, webhook)",
                        "line 9: service.telemetry.alerts.evaluation_interval: must be a duration"
                            + " such as 200ms, 5s or 1m30s, was 'soon'",
                        "line 11: service.telemetry.alerts.rules[0].expr: is required",
                        "line 12: service.telemetry.alerts.rules[1]: alert name 'Bad Name' is not"
                            + " a valid label value for alertname ([a-zA-Z_][a-zA-Z0-9_]*)",
                        "line 15: service.telemetry.alerts.rules[2].keep_firing_for:"
                            + " 'keep_firing_for' is not supported by otlp4j",
                        "line 14: service.telemetry.alerts.rules[2].alert: is required",
                        "line 16: service.telemetry.alerts.alertmanager.endpoint: '127.0.0.1:9093'"
                            + " must be an http:// or https:// URL",
                        "line 17: service.telemetry.alerts.webhook.url: unknown key 'url' (known:"
                            + " endpoint)",
                        "line 17: service.telemetry.alerts.webhook.endpoint: is required"));
  }
}
