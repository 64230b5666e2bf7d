package io.otlp4j.relay.dashboard;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Turns one read of the metrics registry into one sample of the dashboard's series: rates from
 * counter deltas, quantiles from histogram bucket deltas, gauges as they are, and the process's
 * figures (from {@code otelcol_process_*} when the registry has them, else from {@link
 * ProcessReadings}).
 *
 * <h2>Series written (names as the page and {@code /api/v1/series} see them)</h2>
 *
 * <ul>
 *   <li>{@code items_rate{signal,outcome}}: items per second of {@code signal} (traces, metrics,
 *       logs), {@code outcome} one of accepted, refused (receivers), sent, failed, enqueue_failed
 *       (exporters), dropped (processors), summed over receivers / exporters.
 *   <li>{@code exporter_queue_size}, {@code exporter_queue_capacity} (labels of {@code
 *       otelcol_exporter_queue_*}: requests for a memory queue, bytes for a durable one).
 *   <li>{@code durable_queue_bytes{queue}}, {@code durable_queue_pending_bytes{queue,consumer}},
 *       {@code durable_queue_oldest_age_seconds{queue,consumer}}.
 *   <li>{@code circuit_state{exporter,endpoint}}: 0 closed, 1 half-open, 2 open.
 *   <li>{@code memory_budget_used_bytes}, {@code memory_budget_limit_bytes}.
 *   <li>{@code process_cpu_cores} (CPU seconds per second), {@code process_rss_bytes}, {@code
 *       process_heap_used_bytes}, {@code process_heap_committed_bytes}, {@code
 *       process_gc_time_ratio} (seconds collecting per second), {@code process_gc_per_second}.
 *   <li>{@code ack_latency_seconds{stat=p50|p99,...}}: over the last {@value #HISTOGRAM_WINDOW}
 *       samples, labels of the ack latency histogram.
 *   <li>{@code batch_send_size{stat=p50|p99|mean,exporter,pipeline}}: items per request sent, over
 *       the last {@value #HISTOGRAM_WINDOW} samples.
 *   <li>{@code alerts{alertname,alertstate,...}}: 1 while {@code ALERTS} has the series.
 * </ul>
 *
 * A rate or quantile needs two reads, so it first appears in the second sample; a quantile over a
 * window with no observation is missing (the chart shows a gap), not zero.
 *
 * <p><b>Thread-safety:</b> not thread-safe; one thread (the dashboard's sampler) calls {@link
 * #sample}.
 */
final class DashboardSampler {
  /** Samples over which histogram quantiles are computed (10 s at the default interval). */
  static final int HISTOGRAM_WINDOW = 5;

  private static final String[][] UNITS = {
    {"spans", "traces"}, {"metric_points", "metrics"}, {"log_records", "logs"}
  };
  private static final String[][] OUTCOMES = {
    {"accepted", "otelcol_receiver_accepted_"},
    {"refused", "otelcol_receiver_refused_"},
    {"sent", "otelcol_exporter_sent_"},
    {"failed", "otelcol_exporter_send_failed_"},
    {"enqueue_failed", "otelcol_exporter_enqueue_failed_"},
  };

  /**
   * What processors dropped: the Collector counts items in and out per processor ({@code
   * otel_signal} label), the difference being the dropped items.
   */
  private static final String PROCESSOR_INCOMING = "otelcol_processor_incoming_items";

  private static final String PROCESSOR_OUTGOING = "otelcol_processor_outgoing_items";
  private static final String[][] GAUGES = {
    {"exporter_queue_size", "otelcol_exporter_queue_size"},
    {"exporter_queue_capacity", "otelcol_exporter_queue_capacity"},
    {"durable_queue_bytes", "otlp4j_queue_size_bytes"},
    {"durable_queue_pending_bytes", "otlp4j_queue_pending_bytes"},
    {"durable_queue_oldest_age_seconds", "otlp4j_queue_oldest_record_age_seconds"},
    {"circuit_state", "otlp4j_exporter_circuit_state"},
    {"memory_budget_used_bytes", "otlp4j_memory_used_bytes"},
    {"memory_budget_limit_bytes", "otlp4j_memory_limit_bytes"},
    {"alerts", "ALERTS"},
  };
  private static final String[] ACK_LATENCY_NAMES = {
    "otlp4j_receiver_ack_latency_seconds", "otlp4j_ack_latency_seconds"
  };

  /** Any other histogram of ack latency the registry may name differently. */
  private static final Pattern ACK_LATENCY = Pattern.compile("otlp4j_\\w*ack\\w*_seconds");

  private static final String BATCH_SEND_SIZE = "otlp4j_exporter_batch_send_size";

  private static final SeriesKey CPU = SeriesKey.of("process_cpu_cores");
  private static final SeriesKey RSS = SeriesKey.of("process_rss_bytes");
  private static final SeriesKey HEAP = SeriesKey.of("process_heap_used_bytes");
  private static final SeriesKey HEAP_COMMITTED = SeriesKey.of("process_heap_committed_bytes");
  private static final SeriesKey GC_TIME = SeriesKey.of("process_gc_time_ratio");
  private static final SeriesKey GC_COUNT = SeriesKey.of("process_gc_per_second");

  private final SeriesRing ring;
  private final ProcessReadings process;
  private long previousMillis = Long.MIN_VALUE;

  /** Counter totals of the previous read, by metric name + labels. */
  private Map<SeriesKey, Double> previousTotals = new HashMap<>();

  /** Recent cumulative bucket counts per histogram series. */
  private Map<SeriesKey, BucketHistory> histories = new HashMap<>();

  DashboardSampler(SeriesRing ring, ProcessReadings process) {
    this.ring = ring;
    this.process = process;
  }

  /** Appends one sample at {@code nowMillis} computed from {@code snapshots}. */
  void sample(long nowMillis, MetricSnapshots snapshots) {
    long t = ring.append(nowMillis);
    double seconds = previousMillis == Long.MIN_VALUE ? Double.NaN : (t - previousMillis) / 1000.0;
    previousMillis = t;
    Map<String, MetricSnapshot> byName = new HashMap<>();
    for (MetricSnapshot m : snapshots) {
      byName.put(m.getMetadata().getName(), m);
    }
    Map<SeriesKey, Double> totals = new HashMap<>();
    for (String[] outcome : OUTCOMES) {
      for (String[] unit : UNITS) {
        MetricSnapshot m = byName.get(outcome[1] + unit[0]);
        if (m != null) {
          double rate = 0;
          for (DataPointSnapshot p : m.getDataPoints()) {
            rate += increase(totals, m.getMetadata().getName(), p, seconds);
          }
          ring.put(SeriesKey.of("items_rate", "outcome", outcome[0], "signal", unit[1]), rate);
        }
      }
    }
    droppedRates(byName, totals, seconds);
    for (String[] gauge : GAUGES) {
      MetricSnapshot m = byName.get(gauge[1]);
      if (m != null) {
        for (DataPointSnapshot p : m.getDataPoints()) {
          ring.put(SeriesKey.of(gauge[0], labels(p.getLabels())), value(p));
        }
      }
    }
    process(byName, totals, seconds);
    Map<SeriesKey, BucketHistory> seen = new HashMap<>();
    HistogramSnapshot ack = ackLatency(byName);
    if (ack != null) {
      quantiles(ack, "ack_latency_seconds", false, seen);
    }
    if (byName.get(BATCH_SEND_SIZE) instanceof HistogramSnapshot) {
      quantiles((HistogramSnapshot) byName.get(BATCH_SEND_SIZE), "batch_send_size", true, seen);
    }
    previousTotals = totals;
    histories = seen;
  }

  private void process(
      Map<String, MetricSnapshot> byName, Map<SeriesKey, Double> totals, double seconds) {
    double cpu = first(byName.get("otelcol_process_cpu_seconds"));
    ring.put(CPU, rate(totals, CPU, Double.isNaN(cpu) ? process.cpuSeconds() : cpu, seconds));
    double rss = first(byName.get("otelcol_process_memory_rss"));
    ring.put(RSS, Double.isNaN(rss) ? ProcessReadings.rssBytes() : rss);
    double heap = first(byName.get("otelcol_process_runtime_heap_alloc_bytes"));
    ring.put(HEAP, Double.isNaN(heap) ? process.heapUsedBytes() : heap);
    ring.put(HEAP_COMMITTED, process.heapCommittedBytes());
    ring.put(GC_TIME, rate(totals, GC_TIME, process.gcSeconds(), seconds));
    ring.put(GC_COUNT, rate(totals, GC_COUNT, process.gcCount(), seconds));
  }

  /** The counter's increase per second since the previous read (0 for a series seen first). */
  /** {@code items_rate{outcome=dropped}} per signal: processors' incoming minus outgoing rate. */
  private void droppedRates(
      Map<String, MetricSnapshot> byName, Map<SeriesKey, Double> totals, double seconds) {
    MetricSnapshot incoming = byName.get(PROCESSOR_INCOMING);
    MetricSnapshot outgoing = byName.get(PROCESSOR_OUTGOING);
    if (incoming == null || outgoing == null) {
      return;
    }
    Map<String, Double> dropped = new HashMap<>();
    for (DataPointSnapshot p : incoming.getDataPoints()) {
      dropped.merge(
          p.getLabels().get("otel_signal"),
          increase(totals, PROCESSOR_INCOMING, p, seconds),
          Double::sum);
    }
    for (DataPointSnapshot p : outgoing.getDataPoints()) {
      dropped.merge(
          p.getLabels().get("otel_signal"),
          -increase(totals, PROCESSOR_OUTGOING, p, seconds),
          Double::sum);
    }
    for (String[] unit : UNITS) {
      Double rate = dropped.get(unit[1]);
      if (rate != null) {
        ring.put(
            SeriesKey.of("items_rate", "outcome", "dropped", "signal", unit[1]), Math.max(0, rate));
      }
    }
  }

  private double increase(
      Map<SeriesKey, Double> totals, String metric, DataPointSnapshot p, double seconds) {
    double r = rate(totals, SeriesKey.of(metric, labels(p.getLabels())), value(p), seconds);
    return Double.isNaN(r) ? 0 : r;
  }

  /**
   * The increase per second of {@code total} since the previous read of {@code key}, NaN for the
   * first read; a total that went down (a reset) counts from zero, as Prometheus's rate does.
   */
  private double rate(Map<SeriesKey, Double> totals, SeriesKey key, double total, double seconds) {
    if (Double.isNaN(total)) {
      return Double.NaN;
    }
    totals.put(key, total);
    Double previous = previousTotals.get(key);
    if (previous == null || !(seconds > 0)) {
      return Double.NaN;
    }
    double delta = total >= previous ? total - previous : total;
    return delta / seconds;
  }

  private static HistogramSnapshot ackLatency(Map<String, MetricSnapshot> byName) {
    for (String name : ACK_LATENCY_NAMES) {
      if (byName.get(name) instanceof HistogramSnapshot) {
        return (HistogramSnapshot) byName.get(name);
      }
    }
    for (Map.Entry<String, MetricSnapshot> e : new TreeMap<>(byName).entrySet()) {
      if (ACK_LATENCY.matcher(e.getKey()).matches() && e.getValue() instanceof HistogramSnapshot) {
        return (HistogramSnapshot) e.getValue();
      }
    }
    return null;
  }

  private void quantiles(
      HistogramSnapshot h, String name, boolean mean, Map<SeriesKey, BucketHistory> seen) {
    for (HistogramSnapshot.HistogramDataPointSnapshot p : h.getDataPoints()) {
      Map<String, String> labels = labels(p.getLabels());
      SeriesKey id = SeriesKey.of(h.getMetadata().getName(), labels);
      ClassicHistogramBuckets buckets = p.getClassicBuckets();
      BucketHistory history = histories.get(id);
      if (history == null || history.bounds.length != buckets.size()) {
        history = new BucketHistory(buckets);
      }
      seen.put(id, history);
      long[] delta = history.push(buckets, p.hasSum() ? p.getSum() : Double.NaN);
      if (delta == null) {
        continue;
      }
      long count = 0;
      for (long c : delta) {
        count += c;
      }
      if (count == 0) {
        continue;
      }
      labels.put("stat", "p50");
      ring.put(SeriesKey.of(name, labels), quantile(0.5, history.bounds, delta, count));
      labels.put("stat", "p99");
      ring.put(SeriesKey.of(name, labels), quantile(0.99, history.bounds, delta, count));
      if (mean) {
        labels.put("stat", "mean");
        ring.put(SeriesKey.of(name, labels), history.sumDelta() / count);
      }
    }
  }

  /**
   * The {@code q} quantile of per-bucket {@code counts} with upper {@code bounds}, interpolated
   * linearly inside its bucket as Prometheus's {@code histogram_quantile} does (the first bucket
   * starts at 0; a quantile in the {@code +Inf} bucket is the highest finite bound).
   */
  static double quantile(double q, double[] bounds, long[] counts, long total) {
    double rank = q * total;
    long cumulative = 0;
    for (int i = 0; i < counts.length; i++) {
      long before = cumulative;
      cumulative += counts[i];
      if (cumulative >= rank && counts[i] > 0) {
        if (Double.isInfinite(bounds[i])) {
          return i > 0 ? bounds[i - 1] : Double.NaN;
        }
        double lower = i == 0 ? Math.min(0, bounds[0]) : bounds[i - 1];
        return lower + (bounds[i] - lower) * ((rank - before) / counts[i]);
      }
    }
    return Double.NaN;
  }

  private static Map<String, String> labels(Labels labels) {
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < labels.size(); i++) {
      m.put(labels.getName(i), labels.getValue(i));
    }
    return m;
  }

  private static double value(DataPointSnapshot p) {
    if (p instanceof CounterSnapshot.CounterDataPointSnapshot) {
      return ((CounterSnapshot.CounterDataPointSnapshot) p).getValue();
    }
    if (p instanceof GaugeSnapshot.GaugeDataPointSnapshot) {
      return ((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue();
    }
    return Double.NaN;
  }

  /** The value of the metric's first data point (a process-wide metric has one), NaN if none. */
  private static double first(MetricSnapshot m) {
    if (m == null) {
      return Double.NaN;
    }
    List<? extends DataPointSnapshot> points = m.getDataPoints();
    return points.isEmpty() ? Double.NaN : value(points.get(0));
  }

  /** The last {@value #HISTOGRAM_WINDOW} + 1 reads of one histogram's buckets and sum. */
  private static final class BucketHistory {
    final double[] bounds;
    final long[][] counts = new long[HISTOGRAM_WINDOW + 1][];
    final double[] sums = new double[HISTOGRAM_WINDOW + 1];
    int reads;

    BucketHistory(ClassicHistogramBuckets buckets) {
      bounds = new double[buckets.size()];
      for (int i = 0; i < bounds.length; i++) {
        bounds[i] = buckets.getUpperBound(i);
      }
    }

    /** Records this read; returns the per-bucket increase over the window, null on the first. */
    long[] push(ClassicHistogramBuckets buckets, double sum) {
      long[] now = new long[bounds.length];
      for (int i = 0; i < now.length; i++) {
        now[i] = buckets.getCount(i);
      }
      int slot = reads % counts.length;
      counts[slot] = now;
      sums[slot] = sum;
      reads++;
      if (reads == 1) {
        return null;
      }
      long[] oldest = counts[oldestSlot()];
      long[] delta = new long[now.length];
      for (int i = 0; i < now.length; i++) {
        delta[i] = Math.max(0, now[i] - oldest[i]);
      }
      return delta;
    }

    double sumDelta() {
      return sums[(reads - 1) % sums.length] - sums[oldestSlot()];
    }

    private int oldestSlot() {
      return reads <= counts.length ? 0 : reads % counts.length;
    }
  }
}
