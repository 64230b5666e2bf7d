package io.otlp4j.relay.kafka;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.MetricsRegistry.Counter;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import java.util.EnumMap;
import java.util.Map;

/**
 * The kafka receiver's counters: the Collector's {@code otelcol_receiver_accepted_*} / {@code
 * _refused_*} (labelled {@code transport="kafka"}) and {@code
 * otelcol_kafka_receiver_unmarshal_failed_*}, and otlp4j's {@code
 * otlp4j_kafka_receiver_records_total{outcome}}, {@code _backpressure_pauses_total} and {@code
 * _commits_total}, and the gauges {@code otlp4j_kafka_receiver_paused_partitions}, {@code
 * _assigned_partitions} and {@code _in_flight_records} ({@link #publish}). Thread-safe (created up
 * front; recording never allocates).
 */
final class ReceiverCounters {
  private final Map<Signal, Counter> accepted = new EnumMap<>(Signal.class);
  private final Map<Signal, Counter> refused = new EnumMap<>(Signal.class);
  private final Map<Signal, Counter> unmarshalFailed = new EnumMap<>(Signal.class);
  private final Counter recordsAccepted;
  private final Counter recordsRetryable;
  private final Counter recordsPermanent;
  private final Counter recordsInvalid;
  final Counter backpressure;
  final Counter commits;
  private volatile int pausedGauge;
  private volatile int assignedGauge;
  private volatile int inFlightGauge;

  ReceiverCounters(MetricsRegistry m, String receiver) {
    for (Signal s : Signal.values()) {
      String unit =
          switch (s) {
            case TRACES -> "spans";
            case METRICS -> "metric_points";
            default -> "log_records";
          };
      accepted.put(
          s,
          m.counter(
              "otelcol_receiver_accepted_" + unit,
              "Number of " + unit.replace('_', ' ') + " successfully pushed into the pipeline.",
              "receiver",
              receiver,
              "transport",
              "kafka"));
      refused.put(
          s,
          m.counter(
              "otelcol_receiver_refused_" + unit,
              "Number of "
                  + unit.replace('_', ' ')
                  + " that could not be pushed into the pipeline.",
              "receiver",
              receiver,
              "transport",
              "kafka"));
      unmarshalFailed.put(
          s,
          m.counter(
              "otelcol_kafka_receiver_unmarshal_failed_" + unit,
              "Kafka records that were not OTLP " + s.id() + " in the configured encoding",
              "receiver",
              receiver));
    }
    recordsAccepted = records(m, receiver, "accepted");
    recordsRetryable = records(m, receiver, "refused_retryable");
    recordsPermanent = records(m, receiver, "refused_permanent");
    recordsInvalid = records(m, receiver, "invalid");
    backpressure =
        m.counter(
            "otlp4j_kafka_receiver_backpressure_pauses_total",
            "Times a partition paused because a record did not fit the relay's memory budget",
            "receiver",
            receiver);
    commits =
        m.counter(
            "otlp4j_kafka_receiver_commits_total",
            "Offset commits sent (each for the partitions whose records were accepted since)",
            "receiver",
            receiver);
    m.gauge(
        "otlp4j_kafka_receiver_paused_partitions",
        "Partitions the kafka receiver paused (backpressure, a refusal, a stopped partition)",
        () -> pausedGauge,
        "receiver",
        receiver);
    m.gauge(
        "otlp4j_kafka_receiver_assigned_partitions",
        "Partitions the group assigned to this receiver",
        () -> assignedGauge,
        "receiver",
        receiver);
    m.gauge(
        "otlp4j_kafka_receiver_in_flight_records",
        "Records handed to the pipelines and not yet answered",
        () -> inFlightGauge,
        "receiver",
        receiver);
  }

  /** Publishes the consumer thread's state to the gauges (called after each of its turns). */
  void publish(int inFlight, int paused, int assigned) {
    inFlightGauge = inFlight;
    pausedGauge = paused;
    assignedGauge = assigned;
  }

  private static Counter records(MetricsRegistry m, String receiver, String outcome) {
    return m.counter(
        "otlp4j_kafka_receiver_records_total",
        "Kafka records read, by how the pipeline answered them",
        "receiver",
        receiver,
        "outcome",
        outcome);
  }

  void invalid(Signal s) {
    recordsInvalid.increment();
    // Its items cannot be counted, so otelcol_receiver_refused_* is not raised (nor is the
    // Collector's for a record it cannot unmarshal).
    unmarshalFailed.get(s).increment();
  }

  void answered(Signal s, long items, Outcome o) {
    answered(s, 1, items, o);
  }

  /** As {@link #answered(Signal, long, Outcome)} for {@code records} records handed on as one. */
  void answered(Signal s, long records, long items, Outcome o) {
    switch (o.kind()) {
      case ACCEPTED -> {
        recordsAccepted.add(records);
        accepted.get(s).add(items);
      }
      case PARTIALLY_ACCEPTED -> {
        recordsAccepted.add(records);
        long rejected = Math.min(items, o.rejectedItems());
        accepted.get(s).add(items - rejected);
        refused.get(s).add(rejected);
      }
      case PERMANENT -> {
        recordsPermanent.add(records);
        refused.get(s).add(items);
      }
      default -> {
        recordsRetryable.add(records);
        refused.get(s).add(items);
      }
    }
  }
}
