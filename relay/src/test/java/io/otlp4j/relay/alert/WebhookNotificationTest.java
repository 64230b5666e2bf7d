package io.otlp4j.relay.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.otlp4j.core.MetricsRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Notifications to a webhook (a JDK HttpServer) in Alertmanager's webhook shape: one message when
 * an alert starts firing and one when it resolves; failed deliveries retried with backoff and
 * counted; a slow receiver never holds up evaluation.
 */
class WebhookNotificationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final MetricsRegistry metrics = MetricsRegistry.create();
  private final FakeClock clock = new FakeClock(Instant.parse("2026-12-07T10:00:00Z"));
  private final BlockingQueue<JsonNode> received = new LinkedBlockingQueue<>();
  private final AtomicInteger failuresToAnswer = new AtomicInteger();
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private final CountDownLatch firstArrived = new CountDownLatch(1);
  private HttpServer server;

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    server.createContext(
        "/hook",
        exchange -> {
          try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            firstArrived.countDown();
            gate.await(30, TimeUnit.SECONDS);
            if (failuresToAnswer.getAndDecrement() > 0) {
              exchange.sendResponseHeaders(503, -1);
              return;
            }
            assertThat(exchange.getRequestHeaders().getFirst("Content-Type"))
                .isEqualTo("application/json");
            received.add(JSON.readTree(body));
            exchange.sendResponseHeaders(200, -1);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    gate.countDown();
    server.stop(0);
  }

  private AlertEvaluator evaluator() {
    AlertRule rule =
        AlertRule.of(
            "ExporterSendFailedSpans",
            "otlp4j_failing > 0",
            Duration.ofSeconds(30),
            Map.of("severity", "critical"),
            Map.of("summary", "Exporter {{ $labels.exporter }} fails at {{ $value }}/s."));
    URI hook = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
    return AlertEvaluator.builder(
            new AlertsConfig(Duration.ofSeconds(15), List.of(rule), null, hook), metrics)
        .clock(clock)
        .externalUrl("http://127.0.0.1:8888/")
        .notifierQueue(4, 3, Duration.ofMillis(50))
        .build();
  }

  private double counter(String outcome) {
    return SeriesStore.flatten(metrics.scrape()).stream()
        .filter(
            s ->
                s.labels().get(Labels.NAME).equals("otlp4j_alert_notifications_total")
                    && outcome.equals(s.labels().get("outcome")))
        .mapToDouble(ExprEvaluator.Sample::value)
        .sum();
  }

  @Test
  void firingAndResolvedArriveInAlertmanagersWebhookShape() throws Exception {
    MetricsRegistry.Gauge failing = metrics.gauge("otlp4j_failing", "F.", "exporter", "otlp");
    try (AlertEvaluator evaluator = evaluator()) {
      failing.set(3);
      evaluator.evaluate(); // pending: nothing is sent
      clock.advance(Duration.ofSeconds(15));
      evaluator.evaluate();
      assertThat(received.poll(300, TimeUnit.MILLISECONDS)).isNull();
      clock.advance(Duration.ofSeconds(15));
      Instant firedAt = clock.instant();
      evaluator.evaluate(); // held 30 s: firing
      JsonNode firing = received.poll(30, TimeUnit.SECONDS);
      assertThat(firing).isNotNull();
      assertThat(firing.get("version").asText()).isEqualTo("4");
      assertThat(firing.get("status").asText()).isEqualTo("firing");
      assertThat(firing.get("receiver").asText()).isEqualTo("webhook");
      assertThat(firing.get("groupKey").asText())
          .isEqualTo("{}:{alertname=\"ExporterSendFailedSpans\"}");
      assertThat(firing.get("groupLabels").toString())
          .isEqualTo("{\"alertname\":\"ExporterSendFailedSpans\"}");
      assertThat(firing.get("commonLabels").toString())
          .isEqualTo(
              "{\"alertname\":\"ExporterSendFailedSpans\",\"exporter\":\"otlp\","
                  + "\"severity\":\"critical\"}");
      assertThat(firing.get("commonAnnotations").get("summary").asText())
          .isEqualTo("Exporter otlp fails at 3/s.");
      assertThat(firing.get("externalURL").asText()).isEqualTo("http://127.0.0.1:8888/");
      assertThat(firing.get("truncatedAlerts").asInt()).isZero();
      JsonNode alert = firing.get("alerts").get(0);
      assertThat(alert.get("status").asText()).isEqualTo("firing");
      assertThat(alert.get("startsAt").asText()).isEqualTo(firedAt.toString());
      assertThat(alert.get("endsAt").asText()).isEqualTo("0001-01-01T00:00:00Z");
      assertThat(alert.get("fingerprint").asText()).matches("[0-9a-f]{16}");
      assertThat(alert.get("generatorURL").asText()).isEqualTo("http://127.0.0.1:8888/");

      clock.advance(Duration.ofSeconds(15));
      evaluator.evaluate(); // still firing: no new message (repeat after 4 h)
      assertThat(received.poll(300, TimeUnit.MILLISECONDS)).isNull();

      failing.set(0);
      clock.advance(Duration.ofSeconds(15));
      Instant resolvedAt = clock.instant();
      evaluator.evaluate();
      JsonNode resolved = received.poll(30, TimeUnit.SECONDS);
      assertThat(resolved.get("status").asText()).isEqualTo("resolved");
      JsonNode r = resolved.get("alerts").get(0);
      assertThat(r.get("status").asText()).isEqualTo("resolved");
      assertThat(r.get("endsAt").asText()).isEqualTo(resolvedAt.toString());
      assertThat(r.get("fingerprint").asText()).isEqualTo(alert.get("fingerprint").asText());
      await().atMost(Duration.ofSeconds(30)).until(() -> counter("sent") == 2);
      assertThat(counter("failed")).isZero();
    }
  }

  @Test
  void aFailedDeliveryIsRetriedWithBackoffAndCounted() throws Exception {
    MetricsRegistry.Gauge failing = metrics.gauge("otlp4j_failing", "F.", "exporter", "otlp");
    failuresToAnswer.set(2);
    try (AlertEvaluator evaluator = evaluator()) {
      failing.set(1);
      evaluator.evaluate();
      clock.advance(Duration.ofSeconds(30));
      evaluator.evaluate();
      assertThat(received.poll(30, TimeUnit.SECONDS)).isNotNull(); // third attempt
      await().atMost(Duration.ofSeconds(30)).until(() -> counter("sent") == 1);
      assertThat(
              SeriesStore.flatten(metrics.scrape()).stream()
                  .filter(
                      s ->
                          s.labels()
                              .get(Labels.NAME)
                              .equals("otlp4j_alert_notification_retries_total"))
                  .mapToDouble(ExprEvaluator.Sample::value)
                  .sum())
          .isEqualTo(2);

      failuresToAnswer.set(100); // every attempt fails: given up after 3, counted as failed
      failing.set(0);
      clock.advance(Duration.ofSeconds(15));
      evaluator.evaluate();
      await().atMost(Duration.ofSeconds(30)).until(() -> counter("failed") == 1);
    }
  }

  @Test
  void aStuckReceiverNeitherBlocksEvaluationNorGrowsTheQueue() throws Exception {
    gate = new CountDownLatch(1); // the receiver takes every request and answers none
    MetricsRegistry.Gauge failing = metrics.gauge("otlp4j_failing", "F.", "exporter", "otlp");
    try (AlertEvaluator evaluator = evaluator()) {
      for (int i = 0; i < 10; i++) { // 10 firing/resolved flips: 10 messages for a queue of 4
        failing.set(i % 2 == 0 ? 1 : 0);
        evaluator.evaluate();
        clock.advance(Duration.ofSeconds(30));
        evaluator.evaluate();
        clock.advance(Duration.ofSeconds(15));
        if (i == 0) { // the first message reaches the receiver before the others queue up
          assertThat(firstArrived.await(30, TimeUnit.SECONDS)).isTrue();
        }
      }
      // one message is with the stuck receiver, 4 wait, the oldest of the rest were dropped
      assertThat(counter("dropped")).isEqualTo(10 - 1 - 4);
      gate.countDown();
      await().atMost(Duration.ofSeconds(30)).until(() -> counter("sent") == 5);
    }
  }
}
