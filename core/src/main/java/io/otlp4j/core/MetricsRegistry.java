package io.otlp4j.core;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * A small lock-free registry of self-metrics — counters, gauges and explicit-bucket histograms,
 * each family with a fixed set of label names — exposed in the Prometheus text format through
 * prometheus-metrics (a {@link MultiCollector} that reads the cells on scrape).
 *
 * <p>Register once and keep the returned cell: {@code counter(name, help, "exporter",
 * "otlp/backup")} returns the same {@link Counter} for the same name and label values. Labels are
 * given as name/value pairs. A counter's name may end in {@code _total} or not; it is exposed as
 * {@code <name>_total} either way, as the Collector's Prometheus exporter does.
 *
 * <p><b>Thread-safety:</b> thread-safe. Recording never takes a lock (LongAdder / DoubleAdder
 * cells); registration uses concurrent maps; a scrape reads cells without blocking writers, so a
 * histogram read during recording may show a sum that lags its bucket counts by the records in
 * flight. <b>Invariants:</b> a name belongs to one type, one help text and one label-name set;
 * re-registering it differently throws {@link IllegalArgumentException}.
 */
public final class MetricsRegistry {

  /*
   * Concurrency: writers touch only their own cell (striped adders: no shared CAS hot spot).
   * Registration is computeIfAbsent on concurrent maps. The scrape iterates families and series
   * (weakly consistent iterators) and sums adders; it allocates snapshot objects, writers never do.
   *
   * Memory ordering: adders and the settable gauge's AtomicLong give volatile reads; a value
   * written before the scrape started is seen by it.
   */

  private enum Type {
    COUNTER,
    GAUGE,
    HISTOGRAM
  }

  private final Map<String, Family> families = new ConcurrentSkipListMap<>();
  private final PrometheusRegistry prometheusRegistry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter textWriter = PrometheusTextFormatWriter.create();
  private final MultiCollector collector = this::collect;

  private MetricsRegistry() {
    prometheusRegistry.register(collector);
  }

  /** An empty registry. */
  public static MetricsRegistry create() {
    return new MetricsRegistry();
  }

  /** The counter {@code name} with the given label name/value pairs, created on first use. */
  public Counter counter(String name, String help, String... labelPairs) {
    Object cell =
        family(counterBase(name), help, Type.COUNTER, null, labelPairs)
            .series(labelPairs, Counter::new);
    if (!(cell instanceof Counter counter)) {
      throw new IllegalArgumentException(
          "counter " + name + " with these labels is read from a supplier");
    }
    return counter;
  }

  private static String counterBase(String name) {
    return name != null && name.endsWith("_total")
        ? name.substring(0, name.length() - "_total".length())
        : name;
  }

  /**
   * A counter whose value is read from {@code value} on each scrape (must be fast, thread-safe,
   * non-blocking and never decrease: a process's CPU seconds, its uptime). Named as {@link
   * #counter(String, String, String...)}; registering the same name and labels again replaces the
   * supplier.
   */
  public void counter(String name, String help, DoubleSupplier value, String... labelPairs) {
    Objects.requireNonNull(value, "value");
    Family family = family(counterBase(name), help, Type.COUNTER, null, labelPairs);
    family.series.put(labelValues(labelPairs), new CallbackGauge(value));
  }

  /** The settable gauge {@code name} with the given label name/value pairs. */
  public Gauge gauge(String name, String help, String... labelPairs) {
    return (Gauge) family(name, help, Type.GAUGE, null, labelPairs).series(labelPairs, Gauge::new);
  }

  /**
   * A gauge whose value is read from {@code value} on each scrape (must be fast, thread-safe,
   * non-blocking). Registering the same name and labels again replaces the supplier.
   */
  public void gauge(String name, String help, DoubleSupplier value, String... labelPairs) {
    Objects.requireNonNull(value, "value");
    Family family = family(name, help, Type.GAUGE, null, labelPairs);
    family.series.put(labelValues(labelPairs), new CallbackGauge(value));
  }

  /**
   * A gauge family whose series are all read from {@code series} on each scrape, for series that
   * come and go and differ in their label names (the alert evaluator's {@code ALERTS}): a series
   * the supplier no longer returns is gone from the next scrape, as Prometheus expects of a series
   * that ends. The supplier must be fast, thread-safe and non-blocking; a series with an invalid
   * label name, or a supplier that throws, is left out of the scrape rather than failing it.
   *
   * @throws IllegalArgumentException when {@code name} is already registered
   */
  public void gaugeFamily(String name, String help, Supplier<? extends Collection<Sample>> series) {
    Objects.requireNonNull(series, "series");
    Family family = family(name, help, Type.GAUGE, null, new String[0]);
    if (family.dynamic != null || !family.series.isEmpty()) {
      throw new IllegalArgumentException("metric " + name + " is already registered");
    }
    family.dynamic = series;
  }

  /** One series of a {@link #gaugeFamily}: its labels (name to value) and its value. */
  public record Sample(Map<String, String> labels, double value) {
    public Sample {
      labels = Map.copyOf(labels);
    }
  }

  /**
   * The histogram {@code name} with explicit, strictly increasing, finite upper bounds ({@code
   * +Inf} is implicit) and the given label name/value pairs.
   */
  public Histogram histogram(String name, String help, double[] bounds, String... labelPairs) {
    double[] b = validateBounds(bounds);
    Family family = family(name, help, Type.HISTOGRAM, b, labelPairs);
    return (Histogram) family.series(labelPairs, () -> new Histogram(family.bounds));
  }

  /** Writes every metric in the Prometheus text format (version 0.0.4) to {@code out}. */
  public void writePrometheusText(OutputStream out) throws IOException {
    textWriter.write(out, prometheusRegistry.scrape());
  }

  /**
   * Reads every metric now, as a scrape of {@code /metrics} would (for in-process readers: the
   * dashboard's series ring, the alert rule evaluator). Allocates the snapshot; never blocks
   * writers.
   */
  public MetricSnapshots scrape() {
    return prometheusRegistry.scrape();
  }

  /** This registry as a prometheus-metrics collector, to register in another PrometheusRegistry. */
  public MultiCollector asPrometheusCollector() {
    return collector;
  }

  // ---------------------------------------------------------------------------------------------

  private Family family(String name, String help, Type type, double[] bounds, String[] labelPairs) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(help, "help");
    Objects.requireNonNull(labelPairs, "labelPairs");
    String error = PrometheusNaming.validateMetricName(name);
    if (error != null || !PrometheusNaming.isValidLegacyMetricName(name)) {
      throw new IllegalArgumentException("name is not a valid metric name: " + name);
    }
    String[] labelNames = labelNames(labelPairs);
    Family family =
        families.computeIfAbsent(name, n -> new Family(n, help, type, bounds, labelNames));
    if (family.type != type
        || !family.help.equals(help)
        || !Arrays.equals(family.labelNames, labelNames)
        || (bounds != null && !Arrays.equals(family.bounds, bounds))) {
      throw new IllegalArgumentException(
          "metric "
              + name
              + " is already registered as a "
              + family.type
              + " with help \""
              + family.help
              + "\", labels "
              + Arrays.toString(family.labelNames)
              + (family.bounds != null ? " and bounds " + Arrays.toString(family.bounds) : ""));
    }
    return family;
  }

  private static String[] labelNames(String[] labelPairs) {
    if (labelPairs.length % 2 != 0) {
      throw new IllegalArgumentException(
          "labelPairs must be name/value pairs: " + Arrays.toString(labelPairs));
    }
    String[] names = new String[labelPairs.length / 2];
    for (int i = 0; i < names.length; i++) {
      String n = Objects.requireNonNull(labelPairs[2 * i], "label name");
      Objects.requireNonNull(labelPairs[2 * i + 1], "label value");
      if (!PrometheusNaming.isValidLegacyLabelName(n)) {
        throw new IllegalArgumentException("not a valid label name: " + n);
      }
      names[i] = n;
    }
    return names;
  }

  private static List<String> labelValues(String[] labelPairs) {
    List<String> values = new ArrayList<>(labelPairs.length / 2);
    for (int i = 1; i < labelPairs.length; i += 2) {
      values.add(labelPairs[i]);
    }
    return List.copyOf(values);
  }

  private static double[] validateBounds(double[] bounds) {
    Objects.requireNonNull(bounds, "bounds");
    if (bounds.length == 0) {
      throw new IllegalArgumentException("bounds must not be empty");
    }
    for (int i = 0; i < bounds.length; i++) {
      if (!Double.isFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
        throw new IllegalArgumentException(
            "bounds must be finite and strictly increasing: " + Arrays.toString(bounds));
      }
    }
    return bounds.clone();
  }

  private MetricSnapshots collect() {
    MetricSnapshots.Builder result = MetricSnapshots.builder();
    for (Family family : families.values()) {
      result.metricSnapshot(family.snapshot());
    }
    return result.build();
  }

  private static final class Family {
    final String name;
    final String help;
    final Type type;
    final double[] bounds;
    final String[] labelNames;
    final Map<List<String>, Object> series = new ConcurrentHashMap<>();

    /** The series of a {@link #gaugeFamily}, or null for a family of cells. */
    volatile Supplier<? extends Collection<Sample>> dynamic;

    Family(String name, String help, Type type, double[] bounds, String[] labelNames) {
      this.name = name;
      this.help = help;
      this.type = type;
      this.bounds = bounds;
      this.labelNames = labelNames;
    }

    Object series(String[] labelPairs, java.util.function.Supplier<Object> factory) {
      if (dynamic != null) {
        throw new IllegalArgumentException("metric " + name + " is a gauge family");
      }
      return series.computeIfAbsent(labelValues(labelPairs), k -> factory.get());
    }

    MetricSnapshot snapshot() {
      switch (type) {
        case COUNTER:
          {
            CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
            series.forEach(
                (values, cell) ->
                    b.dataPoint(
                        CounterSnapshot.CounterDataPointSnapshot.builder()
                            .labels(labels(values))
                            .value(
                                cell instanceof Counter
                                    ? ((Counter) cell).get()
                                    : ((CallbackGauge) cell).read())
                            .build()));
            return b.build();
          }
        case GAUGE:
          {
            GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
            Supplier<? extends Collection<Sample>> d = dynamic;
            if (d != null) {
              return dynamicSnapshot(d);
            }
            series.forEach(
                (values, cell) ->
                    b.dataPoint(
                        GaugeSnapshot.GaugeDataPointSnapshot.builder()
                            .labels(labels(values))
                            .value(
                                cell instanceof Gauge
                                    ? ((Gauge) cell).get()
                                    : ((CallbackGauge) cell).read())
                            .build()));
            return b.build();
          }
        default:
          {
            HistogramSnapshot.Builder b = HistogramSnapshot.builder().name(name).help(help);
            double[] upper = Arrays.copyOf(bounds, bounds.length + 1);
            upper[bounds.length] = Double.POSITIVE_INFINITY;
            series.forEach(
                (values, cell) -> {
                  Histogram h = (Histogram) cell;
                  long[] counts = new long[upper.length];
                  for (int i = 0; i < counts.length; i++) {
                    counts[i] = h.buckets[i].sum();
                  }
                  b.dataPoint(
                      HistogramSnapshot.HistogramDataPointSnapshot.builder()
                          .labels(labels(values))
                          .classicHistogramBuckets(ClassicHistogramBuckets.of(upper, counts))
                          .sum(h.sum.sum())
                          .build());
                });
            return b.build();
          }
      }
    }

    private MetricSnapshot dynamicSnapshot(Supplier<? extends Collection<Sample>> d) {
      try {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        java.util.Set<Labels> seen = new java.util.HashSet<>();
        for (Sample sample : d.get()) {
          Labels.Builder lb = Labels.builder();
          boolean valid = true;
          for (Map.Entry<String, String> e : sample.labels().entrySet()) {
            valid &= PrometheusNaming.isValidLegacyLabelName(e.getKey());
            lb.label(e.getKey(), e.getValue());
          }
          Labels labels = lb.build();
          if (valid && seen.add(labels)) {
            b.dataPoint(
                GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .labels(labels)
                    .value(sample.value())
                    .build());
          }
        }
        return b.build();
      } catch (RuntimeException e) {
        // a broken supplier must not break the whole scrape
        return GaugeSnapshot.builder().name(name).help(help).build();
      }
    }

    private Labels labels(List<String> values) {
      return values.isEmpty() ? Labels.EMPTY : Labels.of(labelNames, values.toArray(new String[0]));
    }
  }

  /** A monotonic counter. Thread-safe, lock-free, allocation-free. */
  public static final class Counter {
    private final LongAdder value = new LongAdder();

    private Counter() {}

    /** Adds one. */
    public void increment() {
      value.increment();
    }

    /** Adds {@code n} (>= 0). */
    public void add(long n) {
      if (n < 0) {
        throw new IllegalArgumentException("a counter only goes up: " + n);
      }
      value.add(n);
    }

    /** The current total. */
    public long get() {
      return value.sum();
    }
  }

  /** A settable gauge. Thread-safe, lock-free, allocation-free. */
  public static final class Gauge {
    private final AtomicLong bits = new AtomicLong(Double.doubleToRawLongBits(0.0));

    private Gauge() {}

    /** Sets the value. */
    public void set(double value) {
      bits.set(Double.doubleToRawLongBits(value));
    }

    /** The current value. */
    public double get() {
      return Double.longBitsToDouble(bits.get());
    }
  }

  private static final class CallbackGauge {
    private final DoubleSupplier supplier;

    CallbackGauge(DoubleSupplier supplier) {
      this.supplier = supplier;
    }

    double read() {
      try {
        return supplier.getAsDouble();
      } catch (RuntimeException e) {
        return Double.NaN; // a broken supplier must not break the whole scrape
      }
    }
  }

  /**
   * A histogram with fixed explicit buckets. Thread-safe; {@link #record} is lock-free and
   * allocation-free (a binary search and two adder updates).
   */
  public static final class Histogram {
    private final double[] bounds;
    private final LongAdder[] buckets;
    private final DoubleAdder sum = new DoubleAdder();

    private Histogram(double[] bounds) {
      this.bounds = bounds;
      this.buckets = new LongAdder[bounds.length + 1];
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }

    /** Records one observation; NaN is ignored. */
    public void record(double value) {
      if (Double.isNaN(value)) {
        return;
      }
      int i = Arrays.binarySearch(bounds, value);
      // An exact match belongs to its bucket (le semantics); otherwise the insertion point.
      buckets[i >= 0 ? i : -i - 1].increment();
      sum.add(value);
    }

    /** Observations recorded. */
    public long count() {
      long c = 0;
      for (LongAdder b : buckets) {
        c += b.sum();
      }
      return c;
    }

    /** Sum of the observations recorded. */
    public double sum() {
      return sum.sum();
    }
  }
}
