package io.otlp4j.relay.alert;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The rules the relay evaluates unless told otherwise ({@code rules: default}). They follow what
 * the Collector community alerts on (the OpenTelemetry Collector Helm chart's PrometheusRule and
 * Grafana's opentelemetry-collector mixin: refused, dropped and failed items per signal, a queue
 * filling up) with the names a Prometheus scrape of {@code /metrics} sees (counters end in {@code
 * _total}), and add otlp4j's own: circuit breaker, durable queue and memory budget. Stateless.
 */
public final class DefaultRules {

  /**
   * The signals' item names in the Collector's metric names, their alert-name forms and the
   * signals' {@code otel_signal} label values.
   */
  private static final String[][] ITEMS = {
    {"spans", "Spans", "traces"},
    {"metric_points", "MetricPoints", "metrics"},
    {"log_records", "LogRecords", "logs"}
  };

  private static final List<AlertRule> RULES = build();

  private DefaultRules() {}

  /** The default rules, in the order they are printed. */
  public static List<AlertRule> rules() {
    return RULES;
  }

  private static List<AlertRule> build() {
    List<AlertRule> r = new ArrayList<>();
    Duration twoMinutes = Duration.ofMinutes(2);
    Duration oneMinute = Duration.ofMinutes(1);
    for (String[] item : ITEMS) {
      String words = item[0].replace('_', ' ');
      r.add(
          rule(
              "ReceiverRefused" + item[1],
              "rate(otelcol_receiver_refused_" + item[0] + "_total[5m]) > 0",
              twoMinutes,
              "critical",
              "Receiver {{ $labels.receiver }} is refusing " + words + ".",
              "Receiver {{ $labels.receiver }} ({{ $labels.transport }}) refuses "
                  + "{{ humanize $value }} "
                  + words
                  + "/s: the relay is out of memory budget or its pipeline cannot take more;"
                  + " clients must retry."));
    }
    for (String[] item : ITEMS) {
      String words = item[0].replace('_', ' ');
      // The Collector counts a processor's items in and out (otel_signal label); what it dropped is
      // the difference (its otelcol_processor_dropped_* are gone).
      String signal = "{otel_signal=\"" + item[2] + "\"}";
      r.add(
          rule(
              "ProcessorDropped" + item[1],
              "sum by (processor) (rate(otelcol_processor_incoming_items_total"
                  + signal
                  + "[5m])) - sum by (processor) (rate(otelcol_processor_outgoing_items_total"
                  + signal
                  + "[5m])) > 0",
              twoMinutes,
              "critical",
              "Processor {{ $labels.processor }} is dropping " + words + ".",
              "Processor {{ $labels.processor }} drops {{ humanize $value }} " + words + "/s."));
    }
    for (String[] item : ITEMS) {
      String words = item[0].replace('_', ' ');
      r.add(
          rule(
              "ExporterSendFailed" + item[1],
              "rate(otelcol_exporter_send_failed_" + item[0] + "_total[5m]) > 0",
              twoMinutes,
              "critical",
              "Exporter {{ $labels.exporter }} is failing to send " + words + ".",
              "Exporter {{ $labels.exporter }} fails to send {{ humanize $value }} "
                  + words
                  + "/s: the upstream is down, refusing data or too slow."));
    }
    for (String[] item : ITEMS) {
      String words = item[0].replace('_', ' ');
      r.add(
          rule(
              "ExporterEnqueueFailed" + item[1],
              "rate(otelcol_exporter_enqueue_failed_" + item[0] + "_total[5m]) > 0",
              oneMinute,
              "warning",
              "Exporter {{ $labels.exporter }} cannot queue " + words + ".",
              "The sending queue of exporter {{ $labels.exporter }} refuses {{ humanize $value }} "
                  + words
                  + "/s: it is full."));
    }
    r.add(
        rule(
            "ExporterQueueNearlyFull",
            "otelcol_exporter_queue_size / (otelcol_exporter_queue_capacity > 0) > 0.8",
            oneMinute,
            "warning",
            "The sending queue of exporter {{ $labels.exporter }} is over 80% full.",
            "The {{ $labels.data_type }} queue of exporter {{ $labels.exporter }} in pipeline"
                + " {{ $labels.pipeline }} is {{ humanizePercentage $value }} full."));
    r.add(
        rule(
            "ExporterCircuitOpen",
            "otlp4j_exporter_circuit_state > 0",
            oneMinute,
            "critical",
            "The circuit breaker of exporter {{ $labels.exporter }} is open.",
            "Exporter {{ $labels.exporter }} has not reached {{ $labels.endpoint }} for over a"
                + " minute (breaker open or half-open: 2 open, 1 half-open; now {{ $value }})."));
    r.add(
        rule(
            "DurableQueueStale",
            "otlp4j_queue_oldest_record_age_seconds > 300",
            oneMinute,
            "warning",
            "The durable queue {{ $labels.queue }} holds data older than 5 minutes.",
            "The oldest record that {{ $labels.consumer }} has not sent from queue"
                + " {{ $labels.queue }} is {{ humanizeDuration $value }} old."));
    r.add(
        rule(
            "DurableQueueNearlyFull",
            "otlp4j_queue_size_bytes / otlp4j_queue_capacity_bytes > 0.8",
            oneMinute,
            "warning",
            "The durable queue {{ $labels.queue }} is over 80% of its max_size_mib.",
            "The durable queue {{ $labels.queue }} uses {{ humanizePercentage $value }} of its"
                + " max_size_mib; when full it refuses or drops the oldest data."));
    r.add(
        rule(
            "MemoryBudgetNearlyExhausted",
            "otlp4j_memory_used_bytes / otlp4j_memory_limit_bytes > 0.9",
            oneMinute,
            "warning",
            "The relay's memory budget is over 90% used.",
            "Requests in the relay hold {{ humanizePercentage $value }} of the memory budget;"
                + " receivers refuse new data when it is exhausted."));
    return List.copyOf(r);
  }

  private static AlertRule rule(
      String name,
      String expr,
      Duration hold,
      String severity,
      String summary,
      String description) {
    return AlertRule.of(
        name, expr, hold, Map.of("severity", severity), orderedAnnotations(summary, description));
  }

  private static Map<String, String> orderedAnnotations(String summary, String description) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("summary", summary);
    m.put("description", description);
    return m;
  }
}
