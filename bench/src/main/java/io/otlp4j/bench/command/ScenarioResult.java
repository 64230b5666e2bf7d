package io.otlp4j.bench.command;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One scenario of {@code ./otlp4j bench}: its two sides' raw measurements and, after {@link
 * #finish()}, the table's metrics. Filled by one driver thread; not thread-safe.
 */
public final class ScenarioResult {

  static final String SEED_THROUGHPUT = "1,000 → 1,600 req/s";
  static final String SEED_MEMORY = "512 → 256 MB";
  static final String SEED_LATENCY = "50 → 30 ms";
  static final String SEED_CPU = "80 → 60 %";
  static final String SEED_ERRORS = "0.1 → 0.05 %";
  static final String NO_SEED = "–";

  /** A stable id, such as {@code gateway-durable}. */
  public final String id;

  public final String title;

  /** What one item is ({@code spans}) and one request ({@code export requests}...). */
  public final String description;

  public final SideMeasurements before;
  public final SideMeasurements after;

  /** How the figures were measured, and anything a reader must know to read them. */
  public final List<String> notes = new ArrayList<>();

  /** The offered rate of the latency rows (items/s), the same for both sides. */
  public double fixedRateItems = Double.NaN;

  /** Whether the latency rows are in µs (the library's) rather than ms. */
  public boolean latencyInMicros;

  /** Why the scenario could not run, or null. */
  public String failure;

  private final List<Metric> metrics = new ArrayList<>();

  public ScenarioResult(
      String id, String title, String description, String beforeLabel, String afterLabel) {
    this.id = id;
    this.title = title;
    this.description = description;
    this.before = new SideMeasurements(beforeLabel);
    this.after = new SideMeasurements(afterLabel);
  }

  /** The unit of the latency rows and charts: µs or ms. */
  public String latencyUnit() {
    return latencyInMicros ? "µs" : "ms";
  }

  public List<Metric> metrics() {
    return metrics;
  }

  /** Computes the table's metrics from both sides' measurements. */
  public void finish() {
    metrics.clear();
    add(
        "throughput_requests",
        "throughput",
        "requests/s, flat out",
        "req/s",
        SEED_THROUGHPUT,
        true,
        s -> Figure.of(map(s.flat, w -> w[2] / w[0])));
    add(
        "throughput_items",
        "throughput",
        "items/s delivered, flat out",
        "items/s",
        NO_SEED,
        true,
        s -> Figure.of(map(s.flat, w -> w[1] / w[0])));
    add(
        "memory_peak_rss",
        "memory",
        "peak RSS of the process under test",
        "MiB",
        SEED_MEMORY,
        false,
        s -> Figure.peak(concat(s.flatPeakRss, map(s.fixed, w -> w[4]))));
    add(
        "memory_steady_rss",
        "memory",
        "steady RSS at the fixed rate",
        "MiB",
        SEED_MEMORY,
        false,
        s -> Figure.of(map(s.fixed, w -> w[5])));
    double k = latencyInMicros ? 1000 : 1;
    add(
        "latency_p50",
        "latency",
        "p50 at the fixed rate",
        latencyUnit(),
        SEED_LATENCY,
        false,
        s -> Figure.of(map(s.fixed, w -> w[1] * k)));
    add(
        "latency_p99",
        "latency",
        "p99 at the fixed rate",
        latencyUnit(),
        SEED_LATENCY,
        false,
        s -> Figure.of(map(s.fixed, w -> w[2] * k)));
    add(
        "cpu_percent",
        "CPU",
        "% of one core at the fixed rate",
        "%",
        SEED_CPU,
        false,
        s -> Figure.of(map(s.fixed, w -> 100.0 * w[3] / 1e9 / w[0])));
    add(
        "cpu_us_per_item",
        "CPU",
        "µs per item, flat out",
        "µs/item",
        NO_SEED,
        false,
        s -> {
          // All the windows' CPU over all their items (a window that moved few items must not
          // weigh as much as one that moved many); the spread is the windows' own.
          Figure windows = Figure.of(map(s.flat, w -> w[1] == 0 ? Double.NaN : w[3] / 1e3 / w[1]));
          double cpuNanos = 0;
          double items = 0;
          for (double[] w : s.flat) {
            cpuNanos += w[3];
            items += w[1];
          }
          double all = items == 0 ? Double.NaN : cpuNanos / 1e3 / items;
          return new Figure(all, windows.spread(), windows.windows());
        });
    add(
        "error_requests",
        "error rate",
        "client requests failed, under faults",
        "%",
        SEED_ERRORS,
        false,
        s -> {
          Figure windows = Figure.of(map(s.faultWindows, f -> 100.0 * f));
          double all =
              s.faultRequests == 0 ? Double.NaN : 100.0 * s.faultFailedRequests / s.faultRequests;
          return new Figure(all, windows.spread(), windows.windows());
        });
    add(
        "error_items",
        "error rate",
        "items lost, under faults",
        "%",
        SEED_ERRORS,
        false,
        s ->
            Figure.once(s.faultOffered == 0 ? Double.NaN : 100.0 * s.faultLost() / s.faultOffered));
  }

  private interface FigureOf {
    Figure of(SideMeasurements side);
  }

  private void add(
      String key,
      String row,
      String label,
      String unit,
      String seed,
      boolean higherIsBetter,
      FigureOf figure) {
    metrics.add(
        new Metric(
            key, row, label, unit, figure.of(before), figure.of(after), seed, higherIsBetter));
  }

  private static <T> List<Double> map(List<T> values, ToDoubleFunction<T> f) {
    List<Double> out = new ArrayList<>(values.size());
    for (T v : values) {
      double d = f.applyAsDouble(v);
      if (Double.isFinite(d)) {
        out.add(d);
      }
    }
    return out;
  }

  private static List<Double> concat(List<Double> a, List<Double> b) {
    List<Double> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
