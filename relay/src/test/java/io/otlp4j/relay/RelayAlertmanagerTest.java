package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.otlp4j.testing.MockOtlpServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real Alertmanager receives the relay's "exporter failing" alert within two evaluation intervals
 * plus {@code for} after the upstream goes down, and sees it resolved (gone from {@code GET
 * /api/v2/alerts}) after the upstream comes back.
 */
class RelayAlertmanagerTest extends RelayScenarioTest {
  private static final Duration INTERVAL = Duration.ofMillis(250);
  private static final Duration FOR = Duration.ofSeconds(1);

  @Test
  void alertmanagerGetsTheExporterFailingAlertAndItsResolution() throws Exception {
    try (MonitoringPeer alertmanager = MonitoringPeer.alertmanager(dir)) {
      MockOtlpServer upstream = startUpstream();
      relay =
          RelayUnderTest.start(
              """
              receivers:
                otlp:
                  protocols:
                    http: { endpoint: "127.0.0.1:0" }
              exporters:
                otlphttp:
                  endpoint: ${env:UPSTREAM}
                  retry_on_failure: { enabled: false }
              service:
                telemetry:
                  metrics: { address: "127.0.0.1:0" }
                  alerts:
                    evaluation_interval: 250ms
                    rules:
                      - alert: ExporterSendFailedSpans
                        expr: rate(otelcol_exporter_send_failed_spans_total[2s]) > 0
                        for: 1s
                        labels: { severity: critical }
                        annotations:
                          summary: "Exporter {{ $labels.exporter }} is failing to send spans."
                    alertmanager: { endpoint: "${env:ALERTMANAGER}" }
                pipelines:
                  traces: { receivers: [otlp], exporters: [otlphttp] }
              """,
              Map.of(
                  "UPSTREAM",
                  upstream.httpEndpoint(),
                  "ALERTMANAGER",
                  alertmanager.base.toString()),
              AckMode.RECEIVED,
              dir);
      ScheduledExecutorService client = Executors.newSingleThreadScheduledExecutor();
      try {
        // an application sending 4 requests a second, all along (bounded by the test's length)
        int[] sent = {0};
        client.scheduleAtFixedRate(
            () -> {
              if (sent[0]++ < 400) {
                post(relay, sent[0]);
              }
            },
            0,
            250,
            TimeUnit.MILLISECONDS);
        RelayUnderTest.promptly(Duration.ofSeconds(30)).until(() -> upstream.spanCount() > 0);
        assertThat(alerts(alertmanager)).isEmpty();

        upstream.stop();
        Instant down = Instant.now();
        // the relay learns of the outage with the first export that fails
        RelayUnderTest.promptly(Duration.ofSeconds(30)).until(() -> failedSpans(relay) > 0);
        Instant firstFailure = Instant.now();
        RelayUnderTest.promptly(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(50))
            .until(() -> !alerts(alertmanager).isEmpty());
        Duration took = Duration.between(down, Instant.now());
        JsonNode alert = alerts(alertmanager).get(0);
        assertThat(alert.get("labels").get("exporter").asText()).isEqualTo("otlphttp");
        assertThat(alert.get("labels").get("severity").asText()).isEqualTo("critical");
        assertThat(alert.get("annotations").get("summary").asText())
            .isEqualTo("Exporter otlphttp is failing to send spans.");
        // rate() needs the failure and one more sample (at most two intervals), then `for`; the
        // slack absorbs a loaded machine's scheduling stalls (exact pending/firing instants are
        // DefaultRulesEvaluationTest's, on a fake clock)
        Instant startsAt = Instant.parse(alert.get("startsAt").asText());
        assertThat(Duration.between(firstFailure, startsAt))
            .isLessThanOrEqualTo(INTERVAL.multipliedBy(2).plus(FOR).plus(Duration.ofSeconds(2)));
        assertThat(Duration.between(down, startsAt))
            .isLessThanOrEqualTo(INTERVAL.multipliedBy(2).plus(FOR).plus(Duration.ofSeconds(4)));
        assertThat(took).isLessThan(Duration.between(down, startsAt).plusSeconds(5));

        upstream.start();
        RelayUnderTest.promptly(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> alerts(alertmanager).isEmpty());
        assertThat(
                relay.metric(
                    "otlp4j_alert_notifications_total",
                    "receiver",
                    "alertmanager",
                    "outcome",
                    "sent"))
            .isGreaterThanOrEqualTo(2);
        assertThat(
                relay.metric(
                    "otlp4j_alert_notifications_total",
                    "receiver",
                    "alertmanager",
                    "outcome",
                    "failed"))
            .isZero();
      } finally {
        client.shutdownNow();
        client.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static double failedSpans(RelayUnderTest relay) {
    return relay.metric("otelcol_exporter_send_failed_spans_total", "exporter", "otlphttp");
  }

  /** The alerts Alertmanager holds now (resolved ones are left out by its API). */
  private static List<JsonNode> alerts(MonitoringPeer alertmanager) throws Exception {
    return MonitoringPeer.elements(alertmanager.get("/api/v2/alerts"));
  }

  private static void post(RelayUnderTest relay, int i) {
    try {
      relay.http.send(
          HttpRequest.newBuilder(relay.httpUri("/v1/traces"))
              .header("Content-Type", RelayUnderTest.PROTOBUF)
              .timeout(Duration.ofSeconds(30))
              .POST(
                  HttpRequest.BodyPublishers.ofByteArray(
                      OtlpRequests.spans("alert-" + i, 2).toByteArray()))
              .build(),
          HttpResponse.BodyHandlers.discarding());
    } catch (Exception e) {
      // the relay answers while the upstream is down (ack mode received); nothing to do here
    }
  }
}
