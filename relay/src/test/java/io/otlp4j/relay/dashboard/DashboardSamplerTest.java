package io.otlp4j.relay.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.otlp4j.core.MetricsRegistry;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DashboardSamplerTest {
  private final MetricsRegistry registry = MetricsRegistry.create();
  private final SeriesRing ring = new SeriesRing(100, 64);
  private final DashboardSampler sampler = new DashboardSampler(ring, new ProcessReadings());

  /** The latest value of every series, by key. */
  private Map<SeriesKey, Float> latest() {
    SeriesRing.Window w = ring.since(0);
    Map<SeriesKey, Float> m = new HashMap<>();
    for (int s = 0; s < w.keys.size(); s++) {
      m.put(w.keys.get(s), w.values[s][w.values[s].length - 1]);
    }
    return m;
  }

  @Test
  void itemRatesAreCounterDeltasPerSecondSummedOverReceivers() {
    MetricsRegistry.Counter grpc =
        registry.counter(
            "otelcol_receiver_accepted_spans", "h", "receiver", "otlp", "transport", "grpc");
    MetricsRegistry.Counter sent =
        registry.counter("otelcol_exporter_sent_log_records", "h", "exporter", "otlp");
    grpc.add(1000);
    sampler.sample(10_000, registry.scrape());
    SeriesKey accepted = SeriesKey.of("items_rate", "outcome", "accepted", "signal", "traces");
    SeriesKey sentLogs = SeriesKey.of("items_rate", "outcome", "sent", "signal", "logs");
    // The first read has nothing to compare with: a rate of 0 from counters seen first.
    assertThat(latest()).containsEntry(accepted, 0f);
    grpc.add(300);
    MetricsRegistry.Counter http =
        registry.counter(
            "otelcol_receiver_accepted_spans", "h", "receiver", "otlp", "transport", "http");
    http.add(100);
    sent.add(50);
    sampler.sample(12_000, registry.scrape()); // two seconds later
    // grpc +300 in 2 s; http is new in this read (its first value is no rate); logs +50 in 2 s.
    assertThat(latest()).containsEntry(accepted, 150f).containsEntry(sentLogs, 25f);
    http.add(200);
    grpc.add(100);
    sampler.sample(13_000, registry.scrape());
    assertThat(latest()).containsEntry(accepted, 300f).containsEntry(sentLogs, 0f);
  }

  @Test
  void droppedItemsAreWhatProcessorsTookInButDidNotPassOn() {
    MetricsRegistry.Counter in =
        registry.counter(
            "otelcol_processor_incoming_items",
            "h",
            "processor",
            "filter",
            "otel_signal",
            "traces");
    MetricsRegistry.Counter out =
        registry.counter(
            "otelcol_processor_outgoing_items",
            "h",
            "processor",
            "filter",
            "otel_signal",
            "traces");
    in.add(100);
    out.add(100);
    sampler.sample(1_000, registry.scrape());
    in.add(400); // 400 in, 100 out in two seconds: 150 dropped per second
    out.add(100);
    sampler.sample(3_000, registry.scrape());
    assertThat(latest())
        .containsEntry(SeriesKey.of("items_rate", "outcome", "dropped", "signal", "traces"), 150f);
  }

  @Test
  void gaugesPassThroughWithTheirLabelsIncludingAlerts() {
    registry
        .gauge("otelcol_exporter_queue_size", "h", "exporter", "otlp", "data_type", "traces")
        .set(7);
    registry
        .gauge("otelcol_exporter_queue_capacity", "h", "exporter", "otlp", "data_type", "traces")
        .set(1000);
    registry.gauge("otlp4j_memory_used_bytes", "h").set(4096);
    registry
        .gauge(
            "ALERTS",
            "h",
            "alertname",
            "ExporterFailing",
            "alertstate",
            "firing",
            "severity",
            "critical")
        .set(1);
    sampler.sample(1000, registry.scrape());
    assertThat(latest())
        .containsEntry(
            SeriesKey.of("exporter_queue_size", "exporter", "otlp", "data_type", "traces"), 7f)
        .containsEntry(
            SeriesKey.of("exporter_queue_capacity", "exporter", "otlp", "data_type", "traces"),
            1000f)
        .containsEntry(SeriesKey.of("memory_budget_used_bytes"), 4096f)
        .containsEntry(
            SeriesKey.of(
                "alerts",
                "alertname",
                "ExporterFailing",
                "alertstate",
                "firing",
                "severity",
                "critical"),
            1f);
  }

  @Test
  void processSeriesComeFromTheJvmWhenTheRegistryHasNone() {
    sampler.sample(1000, registry.scrape());
    sampler.sample(2000, registry.scrape());
    Map<SeriesKey, Float> m = latest();
    assertThat(m.get(SeriesKey.of("process_heap_used_bytes"))).isPositive();
    assertThat(m.get(SeriesKey.of("process_rss_bytes"))).isPositive(); // Linux: /proc/self/status
    assertThat(m.get(SeriesKey.of("process_cpu_cores"))).isNotNegative();
    assertThat(m.get(SeriesKey.of("process_gc_time_ratio"))).isNotNegative();
  }

  @Test
  void processSeriesPreferTheRegistrysOwnMetrics() {
    registry.gauge("otelcol_process_memory_rss", "h").set(123_456);
    MetricsRegistry.Counter cpu = registry.counter("otelcol_process_cpu_seconds", "h");
    sampler.sample(1000, registry.scrape());
    cpu.add(1);
    sampler.sample(3000, registry.scrape());
    assertThat(latest())
        .containsEntry(SeriesKey.of("process_rss_bytes"), 123_456f)
        .containsEntry(SeriesKey.of("process_cpu_cores"), 0.5f);
  }

  @Test
  void ackLatencyAndBatchSizeQuantilesComeFromBucketDeltasOverTheWindow() {
    MetricsRegistry.Histogram ack =
        registry.histogram(
            "otlp4j_receiver_ack_latency_seconds",
            "h",
            new double[] {0.001, 0.01, 0.1},
            "receiver",
            "otlp",
            "ack_mode",
            "received");
    MetricsRegistry.Histogram batch =
        registry.histogram(
            "otlp4j_exporter_batch_send_size",
            "h",
            new double[] {10, 100, 1000},
            "exporter",
            "otlp",
            "pipeline",
            "traces");
    for (int i = 0; i < 1000; i++) {
      ack.record(0.5); // old observations, before the first read: not in any window
    }
    sampler.sample(1000, registry.scrape());
    for (int i = 0; i < 100; i++) {
      ack.record(i < 98 ? 0.005 : 0.05);
      batch.record(50);
    }
    sampler.sample(2000, registry.scrape());
    Map<SeriesKey, Float> m = latest();
    SeriesKey p50 =
        SeriesKey.of(
            "ack_latency_seconds", "receiver", "otlp", "ack_mode", "received", "stat", "p50");
    SeriesKey p99 =
        SeriesKey.of(
            "ack_latency_seconds", "receiver", "otlp", "ack_mode", "received", "stat", "p99");
    // 98 of 100 in (1ms, 10ms]: the median interpolates to 1 + 9 × 50/98 ms; p99 in (10ms, 100ms].
    assertThat((double) m.get(p50)).isCloseTo(0.001 + 0.009 * 50 / 98.0, within(1e-6));
    assertThat((double) m.get(p99)).isCloseTo(0.01 + 0.09 * 1 / 2.0, within(1e-6));
    assertThat(m)
        .containsEntry(
            SeriesKey.of(
                "batch_send_size", "exporter", "otlp", "pipeline", "traces", "stat", "mean"),
            50f);
    // Nothing recorded for a whole window: the quantile is missing, not zero.
    for (int i = 3; i <= 3 + DashboardSampler.HISTOGRAM_WINDOW; i++) {
      sampler.sample(i * 1000L, registry.scrape());
    }
    assertThat(latest().get(p50)).isNaN();
  }

  @Test
  void quantileInterpolatesInsideItsBucketAndCapsAtTheHighestFiniteBound() {
    double[] bounds = {1, 2, 4, Double.POSITIVE_INFINITY};
    assertThat(DashboardSampler.quantile(0.5, bounds, new long[] {0, 10, 0, 0}, 10)).isEqualTo(1.5);
    assertThat(DashboardSampler.quantile(0.25, bounds, new long[] {10, 0, 0, 0}, 10))
        .isEqualTo(0.25);
    assertThat(DashboardSampler.quantile(0.99, bounds, new long[] {1, 0, 0, 9}, 10)).isEqualTo(4);
  }
}
