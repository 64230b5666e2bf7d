package io.otlp4j.exporter;

import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.wire.Signal;
import java.util.EnumMap;
import java.util.Map;

/**
 * The exporter's self-metrics in the core {@link MetricsRegistry}, with the OpenTelemetry
 * Collector's exporter names and label {@code exporter}: {@code otelcol_exporter_sent_<items>} and
 * {@code otelcol_exporter_send_failed_<items>} for spans, metric_points and log_records (exposed
 * with the {@code _total} suffix, as the Collector's Prometheus endpoint shows them), the request
 * latency histogram {@code otlp4j_exporter_request_duration_seconds} (one observation per attempt),
 * the count of failures in our own code {@code otlp4j_exporter_local_failures_total} (each
 * retried), and the breaker state gauge {@code otlp4j_exporter_circuit_state} (label {@code
 * endpoint}; 0 closed, 1 half-open, 2 open), and for OTLP/HTTP the connection pool's gauges (see
 * {@link #connectionPool}).
 *
 * <p>Thread-safe and lock-free (the registry's cells are adders).
 */
final class ExporterMetrics {

  /** Histogram bucket upper bounds, seconds. */
  static final double[] LATENCY_BUCKETS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };

  private final String exporter;
  private final MetricsRegistry registry;
  private final Map<Signal, MetricsRegistry.Counter> sent = new EnumMap<>(Signal.class);
  private final Map<Signal, MetricsRegistry.Counter> failed = new EnumMap<>(Signal.class);
  private final MetricsRegistry.Histogram latency;
  private final MetricsRegistry.Counter localFailures;

  ExporterMetrics(String exporter, MetricsRegistry registry) {
    this.exporter = exporter;
    this.registry = registry;
    for (Signal s : Signal.values()) {
      String item = itemName(s);
      sent.put(
          s,
          registry.counter(
              "otelcol_exporter_sent_" + item,
              "Number of " + item.replace('_', ' ') + " successfully sent to destination.",
              "exporter",
              exporter));
      failed.put(
          s,
          registry.counter(
              "otelcol_exporter_send_failed_" + item,
              "Number of " + item.replace('_', ' ') + " in failed attempts to send to destination.",
              "exporter",
              exporter));
    }
    localFailures = registry.counter(LOCAL_FAILURES, LOCAL_FAILURES_HELP, "exporter", exporter);
    latency =
        registry.histogram(
            "otlp4j_exporter_request_duration_seconds",
            "Duration of one export request (one attempt), in seconds.",
            LATENCY_BUCKETS,
            "exporter",
            exporter);
  }

  static final String LOCAL_FAILURES = OtlpExporter.LOCAL_FAILURES_METRIC;
  static final String LOCAL_FAILURES_HELP = OtlpExporter.LOCAL_FAILURES_HELP;

  /** An exception in our own code on the export path: counted, and the export retried. */
  void localFailure() {
    localFailures.increment();
  }

  long localFailures() {
    return localFailures.get();
  }

  MetricsRegistry registry() {
    return registry;
  }

  /** Publishes {@code breaker}'s state for {@code endpoint}, read on each scrape. */
  void circuit(String endpoint, CircuitBreaker breaker) {
    registry.gauge(
        "otlp4j_exporter_circuit_state",
        "Circuit breaker state per endpoint: 0 closed, 1 half-open, 2 open.",
        () -> stateValue(breaker.state()),
        "exporter",
        exporter,
        "endpoint",
        endpoint);
  }

  /**
   * Publishes the OTLP/HTTP connection pool of {@code endpoint} (scheme://host:port), read on each
   * scrape: {@code otlp4j_exporter_connections_open} (open or opening), {@code
   * otlp4j_exporter_connections_idle} (waiting in the pool) and {@code
   * otlp4j_exporter_connections_created} (opened since start; rises).
   */
  void connectionPool(String endpoint, ConnectionPool pool) {
    registry.gauge(
        "otlp4j_exporter_connections_open",
        "OTLP/HTTP connections open or opening.",
        pool::openConnections,
        "exporter",
        exporter,
        "endpoint",
        endpoint);
    registry.gauge(
        "otlp4j_exporter_connections_idle",
        "OTLP/HTTP connections waiting in the pool.",
        pool::idleConnections,
        "exporter",
        exporter,
        "endpoint",
        endpoint);
    registry.gauge(
        "otlp4j_exporter_connections_created",
        "OTLP/HTTP connections opened since start.",
        pool::connectionsCreated,
        "exporter",
        exporter,
        "endpoint",
        endpoint);
  }

  void sent(Signal signal, long items) {
    sent.get(signal).add(items);
  }

  void failed(Signal signal, long items) {
    failed.get(signal).add(items);
  }

  /**
   * Items a server refused in a partial success: counted as failed (the Collector does the same).
   */
  void rejected(Signal signal, long items) {
    failed.get(signal).add(items);
  }

  void requestDuration(long nanos) {
    latency.record(nanos / 1e9);
  }

  long sentItems(Signal signal) {
    return sent.get(signal).get();
  }

  long failedItems(Signal signal) {
    return failed.get(signal).get();
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
}
