package io.otlp4j.relay.alert;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.core.MetricsRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every default rule, driven with a fake clock through Prometheus's states: inactive while the
 * relay is healthy, pending from the first evaluation that sees the problem, firing exactly when it
 * has held for the rule's {@code for}, and resolved once the problem is gone; {@code ALERTS} in the
 * registry follows each state and is gone after.
 */
class DefaultRulesEvaluationTest {
  private static final Duration INTERVAL = AlertsConfig.DEFAULT_EVALUATION_INTERVAL;
  private static final Pattern RATE =
      Pattern.compile("rate\\(([a-z_]+)_total(\\{[^}]*})?\\[5m]\\)");

  static Stream<AlertRule> rules() {
    return DefaultRules.rules().stream();
  }

  /** Sets the relay's metrics healthy or not for one rule. */
  private interface Scenario {
    void step(boolean problem);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void pendingThenFiringAfterForThenResolved(AlertRule rule) throws IOException {
    MetricsRegistry metrics = MetricsRegistry.create();
    FakeClock clock = new FakeClock(Instant.parse("2026-12-07T10:00:00Z"));
    Scenario scenario = scenario(rule, metrics);
    AlertEvaluator evaluator =
        AlertEvaluator.builder(new AlertsConfig(INTERVAL, List.of(rule), null, null), metrics)
            .clock(clock)
            .build();
    try (evaluator) {
      for (int i = 0; i < 4; i++) { // healthy: nothing
        scenario.step(false);
        evaluator.evaluate();
        assertThat(evaluator.alerts()).isEmpty();
        clock.advance(INTERVAL);
      }
      Instant problemSince = clock.instant();
      Instant pendingAt = null;
      Instant firingAt = null;
      for (int i = 0; i < 40 && firingAt == null; i++) {
        scenario.step(true);
        evaluator.evaluate();
        List<AlertEvaluator.Alert> alerts = evaluator.alerts();
        if (!alerts.isEmpty()) {
          AlertEvaluator.Alert a = alerts.get(0);
          assertThat(a.name()).isEqualTo(rule.name());
          assertThat(a.labels()).containsEntry("severity", rule.labels().get("severity"));
          assertThat(a.annotations().get("summary")).isNotBlank().doesNotContain("{{");
          if (pendingAt == null) {
            assertThat(a.state()).isEqualTo(AlertEvaluator.State.PENDING);
            assertThat(scrape(metrics))
                .contains("alertname=\"" + rule.name() + "\",alertstate=\"pending\"");
            pendingAt = clock.instant();
            assertThat(a.activeAt()).isEqualTo(pendingAt);
          }
          if (a.state() == AlertEvaluator.State.FIRING) {
            firingAt = clock.instant();
            assertThat(scrape(metrics))
                .contains("alertname=\"" + rule.name() + "\",alertstate=\"firing\"")
                .contains("ALERTS_FOR_STATE{alertname=\"" + rule.name() + "\"");
          } else {
            assertThat(Duration.between(pendingAt, clock.instant()))
                .isLessThan(rule.holdDuration());
          }
        }
        clock.advance(INTERVAL);
      }
      // rate() needs two samples with an increase between them: at most one more interval
      assertThat(pendingAt).isNotNull();
      assertThat(Duration.between(problemSince, pendingAt)).isLessThanOrEqualTo(INTERVAL);
      // fires at the first evaluation at which it has been pending for `for`
      assertThat(firingAt).isNotNull();
      Duration pendingFor = Duration.between(pendingAt, firingAt);
      assertThat(pendingFor).isGreaterThanOrEqualTo(rule.holdDuration());
      assertThat(pendingFor).isLessThan(rule.holdDuration().plus(INTERVAL));

      Instant healthySince = clock.instant();
      Instant resolvedAt = null;
      for (int i = 0; i < 40 && resolvedAt == null; i++) {
        scenario.step(false);
        evaluator.evaluate();
        if (evaluator.alerts().isEmpty()) {
          resolvedAt = clock.instant();
        } else {
          assertThat(evaluator.alerts().get(0).state()).isEqualTo(AlertEvaluator.State.FIRING);
        }
        clock.advance(INTERVAL);
      }
      assertThat(resolvedAt).isNotNull();
      // a rate over 5m still sees the last increase for up to 5 minutes; a gauge at once
      Duration window =
          RATE.matcher(rule.exprText()).find() ? Duration.ofMinutes(5) : Duration.ZERO;
      assertThat(Duration.between(healthySince, resolvedAt)).isLessThanOrEqualTo(window);
      assertThat(scrape(metrics)).doesNotContain("ALERTS{").doesNotContain("ALERTS_FOR_STATE{");
    }
  }

  private static Scenario scenario(AlertRule rule, MetricsRegistry metrics) {
    if (rule.name().startsWith("ProcessorDropped")) {
      Matcher signal = Pattern.compile("otel_signal=\"(\\w+)\"").matcher(rule.exprText());
      assertThat(signal.find()).isTrue();
      MetricsRegistry.Counter in =
          metrics.counter(
              "otelcol_processor_incoming_items",
              "In.",
              "processor",
              "filter",
              "otel_signal",
              signal.group(1));
      MetricsRegistry.Counter out =
          metrics.counter(
              "otelcol_processor_outgoing_items",
              "Out.",
              "processor",
              "filter",
              "otel_signal",
              signal.group(1));
      // another signal's processor dropping must not raise this signal's alert
      MetricsRegistry.Counter otherIn =
          metrics.counter(
              "otelcol_processor_incoming_items", "In.", "processor", "x", "otel_signal", "other");
      return problem -> {
        in.add(10);
        out.add(problem ? 4 : 10);
        otherIn.add(10);
      };
    }
    Matcher rate = RATE.matcher(rule.exprText());
    if (rate.find()) {
      MetricsRegistry.Counter c =
          metrics.counter(rate.group(1), "Items.", "exporter", "otlp", "receiver", "otlp");
      c.add(5);
      return problem -> {
        if (problem) {
          c.add(10);
        }
      };
    }
    String[] label = {"exporter", "otlp", "data_type", "traces", "pipeline", "traces"};
    switch (rule.name()) {
      case "ExporterQueueNearlyFull":
        {
          MetricsRegistry.Gauge size = metrics.gauge("otelcol_exporter_queue_size", "S.", label);
          metrics.gauge("otelcol_exporter_queue_capacity", "C.", label).set(1000);
          // a queue that is disabled has capacity 0: never an alert, whatever its size
          metrics
              .gauge(
                  "otelcol_exporter_queue_size",
                  "S.",
                  "exporter",
                  "x",
                  "data_type",
                  "traces",
                  "pipeline",
                  "traces")
              .set(5);
          metrics
              .gauge(
                  "otelcol_exporter_queue_capacity",
                  "C.",
                  "exporter",
                  "x",
                  "data_type",
                  "traces",
                  "pipeline",
                  "traces")
              .set(0);
          return problem -> size.set(problem ? 850 : 790);
        }
      case "ExporterCircuitOpen":
        {
          MetricsRegistry.Gauge state =
              metrics.gauge(
                  "otlp4j_exporter_circuit_state",
                  "S.",
                  "exporter",
                  "otlp",
                  "endpoint",
                  "upstream:4317");
          return problem -> state.set(problem ? 2 : 0);
        }
      case "DurableQueueStale":
        {
          MetricsRegistry.Gauge age =
              metrics.gauge(
                  "otlp4j_queue_oldest_record_age_seconds",
                  "A.",
                  "queue",
                  "traces",
                  "consumer",
                  "otlp");
          return problem -> age.set(problem ? 301 : 299);
        }
      case "DurableQueueNearlyFull":
        {
          MetricsRegistry.Gauge size = metrics.gauge("otlp4j_queue_size_bytes", "S.", "queue", "t");
          metrics.gauge("otlp4j_queue_capacity_bytes", "C.", "queue", "t").set(1 << 30);
          return problem -> size.set(problem ? 0.81 * (1 << 30) : 0.79 * (1 << 30));
        }
      case "MemoryBudgetNearlyExhausted":
        {
          MetricsRegistry.Gauge used = metrics.gauge("otlp4j_memory_used_bytes", "U.");
          metrics.gauge("otlp4j_memory_limit_bytes", "L.").set(512 << 20);
          return problem -> used.set(problem ? 0.95 * (512 << 20) : 0.5 * (512 << 20));
        }
      default:
        throw new AssertionError("no scenario for default rule " + rule.name());
    }
  }

  static String scrape(MetricsRegistry metrics) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }
}
