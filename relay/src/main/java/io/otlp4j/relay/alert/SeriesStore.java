package io.otlp4j.relay.alert;

import io.otlp4j.relay.alert.ExprEvaluator.RangeSeries;
import io.otlp4j.relay.alert.ExprEvaluator.Sample;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Label;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The series the rules read: the relay's metrics at the last {@link #update} (as a Prometheus
 * scrape of {@code /metrics} would see them: a counter as {@code <name>_total}, a histogram as
 * {@code _bucket}/{@code _count}/{@code _sum}), and the short history that {@code rate} and {@code
 * increase} need.
 *
 * <p><b>Bounds:</b> history is kept only for series that a range selector of some rule matches, and
 * only for the longest window: a sample older than that is dropped at the next update, a series
 * with no sample left is forgotten. At most {@code maxSeries} series have history; a new series
 * beyond that gets none (its rate is absent) until others end, and {@link #droppedSeries} counts
 * them.
 *
 * <p>Not thread-safe: used by the evaluator's one thread.
 */
final class SeriesStore implements ExprEvaluator.SeriesSource {

  private final List<Expr.VectorSelector> rangeSelectors;
  private final long maxWindowMillis;
  private final int maxSeries;
  private final Map<SortedMap<String, String>, History> history = new HashMap<>();
  private Map<String, List<Sample>> byName = Map.of();
  private List<Sample> all = List.of();
  private long droppedSeries;

  /**
   * @param ranges the range selectors of every rule
   * @param maxSeries at most this many series keep history
   */
  SeriesStore(List<Expr.MatrixSelector> ranges, int maxSeries) {
    this.rangeSelectors = ranges.stream().map(Expr.MatrixSelector::selector).toList();
    this.maxWindowMillis =
        ranges.stream().mapToLong(Expr.MatrixSelector::windowMillis).max().orElse(0);
    this.maxSeries = maxSeries;
  }

  /** Reads the metrics of {@code snapshots} as taken at {@code now} (ms since the epoch). */
  void update(MetricSnapshots snapshots, long now) {
    all = flatten(snapshots);
    Map<String, List<Sample>> index = new HashMap<>();
    for (Sample s : all) {
      index.computeIfAbsent(s.labels().get(Labels.NAME), k -> new ArrayList<>()).add(s);
    }
    byName = index;
    long oldest = now - maxWindowMillis;
    for (Iterator<History> it = history.values().iterator(); it.hasNext(); ) {
      History h = it.next();
      h.dropUpTo(oldest);
      if (h.size == 0) {
        it.remove();
      }
    }
    if (rangeSelectors.isEmpty()) {
      return;
    }
    for (Sample s : all) {
      if (!matchesAnyRange(s.labels())) {
        continue;
      }
      History h = history.get(s.labels());
      if (h == null) {
        if (history.size() >= maxSeries) {
          droppedSeries++;
          continue;
        }
        h = new History();
        history.put(s.labels(), h);
      }
      h.add(now, s.value());
    }
  }

  /** Series that got no history because {@code maxSeries} had been reached. */
  long droppedSeries() {
    return droppedSeries;
  }

  /** Series that keep history now. */
  int seriesWithHistory() {
    return history.size();
  }

  /** Samples held in the history now, all series together. */
  int samplesInHistory() {
    return history.values().stream().mapToInt(h -> h.size).sum();
  }

  @Override
  public List<Sample> select(Expr.VectorSelector selector) {
    String name = selector.metricName();
    List<Sample> candidates = name != null ? byName.getOrDefault(name, List.of()) : all;
    List<Sample> out = new ArrayList<>();
    for (Sample s : candidates) {
      if (matches(selector, s.labels())) {
        out.add(s);
      }
    }
    return out;
  }

  @Override
  public List<RangeSeries> selectRange(Expr.VectorSelector selector, long windowMillis, long now) {
    List<RangeSeries> out = new ArrayList<>();
    long from = now - windowMillis; // exclusive, as Prometheus 3's left-open ranges
    history.forEach(
        (labels, h) -> {
          if (matches(selector, labels)) {
            RangeSeries r = h.range(labels, from, now);
            if (r != null) {
              out.add(r);
            }
          }
        });
    return out;
  }

  private boolean matchesAnyRange(SortedMap<String, String> labels) {
    for (Expr.VectorSelector s : rangeSelectors) {
      if (matches(s, labels)) {
        return true;
      }
    }
    return false;
  }

  static boolean matches(Expr.VectorSelector selector, Map<String, String> labels) {
    for (Expr.Matcher m : selector.matchers()) {
      if (!m.matches(labels.get(m.name()))) {
        return false;
      }
    }
    return true;
  }

  /** Every series of {@code snapshots}, named and labelled as the Prometheus text format has it. */
  static List<Sample> flatten(MetricSnapshots snapshots) {
    List<Sample> out = new ArrayList<>();
    for (MetricSnapshot metric : snapshots) {
      String name = metric.getMetadata().getPrometheusName();
      for (DataPointSnapshot point : metric.getDataPoints()) {
        if (metric instanceof CounterSnapshot) {
          double v = ((CounterSnapshot.CounterDataPointSnapshot) point).getValue();
          out.add(sample(name + "_total", point, null, null, v));
        } else if (metric instanceof GaugeSnapshot) {
          out.add(
              sample(
                  name,
                  point,
                  null,
                  null,
                  ((GaugeSnapshot.GaugeDataPointSnapshot) point).getValue()));
        } else if (metric instanceof UnknownSnapshot) {
          out.add(
              sample(
                  name,
                  point,
                  null,
                  null,
                  ((UnknownSnapshot.UnknownDataPointSnapshot) point).getValue()));
        } else if (metric instanceof HistogramSnapshot) {
          HistogramSnapshot.HistogramDataPointSnapshot h =
              (HistogramSnapshot.HistogramDataPointSnapshot) point;
          if (!h.hasClassicHistogramData()) {
            continue;
          }
          ClassicHistogramBuckets buckets = h.getClassicBuckets();
          long cumulative = 0;
          for (int i = 0; i < buckets.size(); i++) {
            cumulative += buckets.getCount(i);
            out.add(
                sample(name + "_bucket", point, "le", le(buckets.getUpperBound(i)), cumulative));
          }
          out.add(sample(name + "_count", point, null, null, cumulative));
          if (h.hasSum()) {
            out.add(sample(name + "_sum", point, null, null, h.getSum()));
          }
        }
        // summaries, info and state sets: the relay's registry makes none
      }
    }
    return out;
  }

  private static Sample sample(
      String name, DataPointSnapshot point, String extraName, String extraValue, double value) {
    TreeMap<String, String> labels = new TreeMap<>();
    for (Label l : point.getLabels()) {
      labels.put(l.getName(), l.getValue());
    }
    if (extraName != null) {
      labels.put(extraName, extraValue);
    }
    labels.put(Labels.NAME, name);
    return new Sample(java.util.Collections.unmodifiableSortedMap(labels), value);
  }

  /** A bucket bound as the text format writes it ({@code 0.1}, {@code 1.0}, {@code +Inf}). */
  private static String le(double bound) {
    if (bound == Double.POSITIVE_INFINITY) {
      return "+Inf";
    }
    return Double.toString(bound);
  }

  /** One series' recent samples, oldest first; grows as needed, trimmed by time. */
  private static final class History {
    long[] times = new long[8];
    double[] values = new double[8];
    int start;
    int size;

    void add(long t, double v) {
      if (size > 0 && times[(start + size - 1) % times.length] >= t) {
        return; // one sample per instant
      }
      if (size == times.length) {
        long[] nt = new long[times.length * 2];
        double[] nv = new double[times.length * 2];
        for (int i = 0; i < size; i++) {
          nt[i] = times[(start + i) % times.length];
          nv[i] = values[(start + i) % times.length];
        }
        times = nt;
        values = nv;
        start = 0;
      }
      int at = (start + size) % times.length;
      times[at] = t;
      values[at] = v;
      size++;
    }

    void dropUpTo(long oldestExcluded) {
      while (size > 0 && times[start] <= oldestExcluded) {
        start = (start + 1) % times.length;
        size--;
      }
    }

    RangeSeries range(SortedMap<String, String> labels, long fromExcluded, long to) {
      int n = 0;
      for (int i = 0; i < size; i++) {
        long t = times[(start + i) % times.length];
        if (t > fromExcluded && t <= to) {
          n++;
        }
      }
      if (n == 0) {
        return null;
      }
      long[] ts = new long[n];
      double[] vs = new double[n];
      int j = 0;
      for (int i = 0; i < size; i++) {
        int at = (start + i) % times.length;
        if (times[at] > fromExcluded && times[at] <= to) {
          ts[j] = times[at];
          vs[j++] = values[at];
        }
      }
      return new RangeSeries(labels, ts, vs);
    }
  }
}
