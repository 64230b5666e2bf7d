package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.otlp4j.relay.alert.DefaultRules;
import io.otlp4j.relay.alert.RulesFile;
import io.otlp4j.relay.config.RelayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus scrapes the relay's admin endpoint (target up, the exposition accepted, {@code
 * ALERTS} included) and loads the rules {@code otlp4j alerts} prints, evaluating every one of them
 * against the relay's series without an error.
 */
class RelayPrometheusTest extends RelayScenarioTest {

  private static final String CONFIG =
      """
      receivers:
        otlp:
          protocols:
            http: { endpoint: "127.0.0.1:0" }
      exporters:
        debug:
      service:
        telemetry:
          metrics: { address: "127.0.0.1:0" }
          alerts:
            evaluation_interval: 1s
            rules:
              - default
              - alert: RelayUp
                expr: otlp4j_memory_limit_bytes > 0
                labels: { severity: info }
        pipelines:
          traces: { receivers: [otlp], exporters: [debug] }
      """;

  @Test
  void prometheusScrapesTheRelayAndEvaluatesItsRules() throws Exception {
    relay = RelayUnderTest.start(CONFIG, Map.of(), AckMode.RECEIVED, dir);
    Path rules = dir.resolve("otlp4j-rules.yaml");
    Files.writeString(rules, RulesFile.write(RelayConfig.parse(CONFIG, n -> null, dir).alerts()));
    int admin = relay.relay.adminAddress().getPort();
    String config =
        "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
            + "rule_files: ['"
            + rules
            + "']\n"
            + "scrape_configs:\n"
            + "  - job_name: otlp4j\n"
            + "    static_configs: [ { targets: ['127.0.0.1:"
            + admin
            + "'] } ]\n";
    // the exposition Prometheus is to accept holds the relay's own ALERTS series
    RelayUnderTest.promptly(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> relay.scrape().contains("ALERTS{alertname=\"RelayUp\",alertstate=\"firing\""));
    try (MonitoringPeer prometheus = MonitoringPeer.prometheus(dir, config)) {
      RelayUnderTest.promptly(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                JsonNode target =
                    prometheus.get("/api/v1/targets").get("data").get("activeTargets").get(0);
                assertThat(target.get("health").asText()).as(target.toString()).isEqualTo("up");
                assertThat(target.get("lastError").asText()).isEmpty();
              });
      int expected = DefaultRules.rules().size() + 1;
      RelayUnderTest.promptly(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(200))
          .ignoreExceptions()
          .untilAsserted(
              () -> {
                JsonNode group = prometheus.get("/api/v1/rules").get("data").get("groups").get(0);
                assertThat(group.get("name").asText()).isEqualTo(RulesFile.GROUP);
                List<JsonNode> loaded = MonitoringPeer.elements(group.get("rules"));
                assertThat(loaded).hasSize(expected);
                assertThat(loaded)
                    .allSatisfy(
                        r ->
                            assertThat(r.get("health").asText())
                                .as(r.get("name").asText() + ": " + r.get("lastError"))
                                .isEqualTo("ok"));
                // the relay's own evaluator and Prometheus's both fire the always-true rule
                assertThat(
                        MonitoringPeer.elements(
                            prometheus.get("/api/v1/query?query=ALERTS").get("data").get("result")))
                    .extracting(a -> a.get("metric").get("alertname").asText())
                    .contains("RelayUp");
              });
    }
  }
}
