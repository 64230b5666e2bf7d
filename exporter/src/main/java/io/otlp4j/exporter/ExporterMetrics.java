package io.otlp4j.exporter;

import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.wire.Signal;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The exporter's self-metrics, with the OpenTelemetry Collector's exporter names (label
 * {@code exporter}): items sent and failed per signal, request latency, breaker state.
 *
 * <p>Thread-safe and lock-free: counters are {@link LongAdder}s, histogram buckets an
 * {@link AtomicLongArray}; readers never block writers.
 */
final class ExporterMetrics {

  /** Histogram bucket upper bounds, seconds (the Prometheus client's defaults, plus 30 and 60). */
  static final double[] LATENCY_BUCKETS = {
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60};

  private final String exporter;
  private final Map<Signal, LongAdder> sent = new EnumMap<>(Signal.class);
  private final Map<Signal, LongAdder> failed = new EnumMap<>(Signal.class);
  private final Map<Signal, LongAdder> rejected = new EnumMap<>(Signal.class);
  private final AtomicLongArray latencyBuckets = new AtomicLongArray(LATENCY_BUCKETS.length + 1);
  private final LongAdder latencySumNanos = new LongAdder();
  private final LongAdder requests = new LongAdder();

  ExporterMetrics(String exporter) {
    this.exporter = exporter;
    for (Signal s : Signal.values()) {
      sent.put(s, new LongAdder());
      failed.put(s, new LongAdder());
      rejected.put(s, new LongAdder());
    }
  }

  void sent(Signal signal, long items) {
    sent.get(signal).add(items);
  }

  void failed(Signal signal, long items) {
    failed.get(signal).add(items);
  }

  /** Items a server refused in a partial success (also counted as failed). */
  void rejected(Signal signal, long items) {
    rejected.get(signal).add(items);
    failed.get(signal).add(items);
  }

  void requestDuration(long nanos) {
    requests.increment();
    latencySumNanos.add(nanos);
    double seconds = nanos / 1e9;
    int i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) {
      i++;
    }
    latencyBuckets.incrementAndGet(i);
  }

  long sentItems(Signal signal) {
    return sent.get(signal).sum();
  }

  long failedItems(Signal signal) {
    return failed.get(signal).sum();
  }

  long rejectedItems(Signal signal) {
    return rejected.get(signal).sum();
  }

  long requests() {
    return requests.sum();
  }

  /** The Collector's name for items of {@code signal}: spans, metric_points, log_records. */
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

  /** 0 closed, 1 half-open, 2 open. */
  static int stateValue(CircuitBreaker.State state) {
    switch (state) {
      case CLOSED:
        return 0;
      case HALF_OPEN:
        return 1;
      default:
        return 2;
    }
  }

  /** Appends the metrics in the Prometheus text format (0.0.4). */
  void writePrometheus(StringBuilder out, Map<String, CircuitBreaker> breakers) {
    String label = "exporter=\"" + escape(exporter) + "\"";
    for (Signal s : Signal.values()) {
      String item = itemName(s);
      counter(out, "otelcol_exporter_sent_" + item, "Items successfully sent upstream.", label, sentItems(s));
      counter(out, "otelcol_exporter_send_failed_" + item, "Items that failed to be sent upstream.", label,
          failedItems(s));
    }
    String h = "otlp4j_exporter_request_duration_seconds";
    out.append("# HELP ").append(h).append(" Duration of one export request (one attempt).\n");
    out.append("# TYPE ").append(h).append(" histogram\n");
    long cumulative = 0;
    for (int i = 0; i <= LATENCY_BUCKETS.length; i++) {
      cumulative += latencyBuckets.get(i);
      String le = i < LATENCY_BUCKETS.length ? Double.toString(LATENCY_BUCKETS[i]) : "+Inf";
      out.append(h).append("_bucket{").append(label).append(",le=\"").append(le).append("\"} ")
          .append(cumulative).append('\n');
    }
    out.append(h).append("_sum{").append(label).append("} ").append(latencySumNanos.sum() / 1e9).append('\n');
    out.append(h).append("_count{").append(label).append("} ").append(cumulative).append('\n');
    String g = "otlp4j_exporter_circuit_state";
    out.append("# HELP ").append(g).append(" Circuit breaker state per endpoint: 0 closed, 1 half-open, 2 open.\n");
    out.append("# TYPE ").append(g).append(" gauge\n");
    breakers.forEach((endpoint, breaker) -> out.append(g).append('{').append(label).append(",endpoint=\"")
        .append(escape(endpoint)).append("\"} ").append(stateValue(breaker.state())).append('\n'));
  }

  private static void counter(StringBuilder out, String name, String help, String label, long value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(" counter\n");
    out.append(name).append('{').append(label).append("} ").append(value).append('\n');
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
