package io.otlp4j.receiver;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.MetricsRegistry.Counter;
import io.otlp4j.wire.Signal;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * A receiver's self-metrics, with the OpenTelemetry Collector's names so existing dashboards work:
 * {@code otelcol_receiver_accepted_spans} / {@code _metric_points} / {@code _log_records} and the
 * matching {@code otelcol_receiver_refused_*}, labelled {@code receiver} and {@code transport}
 * ({@code grpc} or {@code http}); and otlp4j's {@code otlp4j_receiver_requests_total} labelled also
 * with {@code outcome} ({@link RequestResult#label()}), and the gauge {@code
 * otlp4j_receiver_in_flight_requests}.
 *
 * <p>Thread-safe: all counters are created up front; recording never allocates or locks.
 */
final class ReceiverMetrics {

  private final Map<Signal, Counter> accepted = new EnumMap<>(Signal.class);
  private final Map<Signal, Counter> refused = new EnumMap<>(Signal.class);
  private final Map<RequestResult, Counter> requests = new EnumMap<>(RequestResult.class);

  /**
   * Also registers {@code otlp4j_receiver_in_flight_requests}, read from {@code inFlight} on each
   * scrape.
   */
  ReceiverMetrics(
      MetricsRegistry registry, String receiver, String transport, IntSupplier inFlight) {
    registry.gauge(
        "otlp4j_receiver_in_flight_requests",
        "Requests being read or in the pipeline, not yet answered.",
        inFlight::getAsInt,
        "receiver",
        receiver,
        "transport",
        transport);
    for (Signal signal : Signal.values()) {
      String unit = itemName(signal);
      accepted.put(
          signal,
          registry.counter(
              "otelcol_receiver_accepted_" + unit,
              "Number of " + unit.replace('_', ' ') + " successfully pushed into the pipeline.",
              "receiver",
              receiver,
              "transport",
              transport));
      refused.put(
          signal,
          registry.counter(
              "otelcol_receiver_refused_" + unit,
              "Number of "
                  + unit.replace('_', ' ')
                  + " that could not be pushed into the pipeline.",
              "receiver",
              receiver,
              "transport",
              transport));
    }
    for (RequestResult result : RequestResult.values()) {
      requests.put(
          result,
          registry.counter(
              "otlp4j_receiver_requests_total",
              "OTLP export requests received, by how they ended.",
              "receiver",
              receiver,
              "transport",
              transport,
              "outcome",
              result.label()));
    }
  }

  static String itemName(Signal signal) {
    switch (signal) {
      case TRACES:
        return "spans";
      case METRICS:
        return "metric_points";
      default:
        return "log_records";
    }
  }

  /** Counts a request that ended before it was counted by the walker (no item counts known). */
  void request(RequestResult result) {
    requests.get(result).increment();
  }

  /** Counts a walked request of {@code items} items that ended with {@code result}. */
  void items(Signal signal, long items, RequestResult result, long rejectedItems) {
    requests.get(result).increment();
    switch (result) {
      case ACCEPTED:
        accepted.get(signal).add(items);
        break;
      case PARTIALLY_ACCEPTED:
        long rejected = Math.min(items, rejectedItems);
        accepted.get(signal).add(items - rejected);
        refused.get(signal).add(rejected);
        break;
      default:
        refused.get(signal).add(items);
        break;
    }
  }
}
