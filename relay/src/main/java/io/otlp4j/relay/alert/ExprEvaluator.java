package io.otlp4j.relay.alert;

import io.otlp4j.relay.alert.Expr.BinaryOp;
import io.otlp4j.relay.alert.Expr.VectorMatching;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

/**
 * Evaluates an {@link Expr} at one instant, with Prometheus's semantics: names dropped by
 * arithmetic and functions and kept by comparison filters, one-to-one vector matching on every
 * label but the name (or {@code on}/{@code ignoring}), and {@code rate}/{@code increase}
 * extrapolated to the window's edges with counter resets corrected, as Prometheus's {@code
 * extrapolatedRate} does. Stateless.
 */
final class ExprEvaluator {

  /** One sample of an instant vector; labels include {@code __name__} while it is kept. */
  record Sample(SortedMap<String, String> labels, double value) {}

  /** One series of a range vector: its samples in time order, in milliseconds since the epoch. */
  record RangeSeries(SortedMap<String, String> labels, long[] times, double[] values) {}

  /** Where the evaluator reads series: the relay's metrics now, and the history kept for rate. */
  interface SeriesSource {
    /** The series matching {@code selector} now. */
    List<Sample> select(Expr.VectorSelector selector);

    /** The samples of each series matching {@code selector} in {@code (now - window, now]}. */
    List<RangeSeries> selectRange(Expr.VectorSelector selector, long windowMillis, long now);
  }

  /** A vector that Prometheus would refuse too (many-to-many matching, duplicate series). */
  static final class EvalException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    EvalException(String message) {
      super(message);
    }
  }

  private ExprEvaluator() {}

  /**
   * The instant vector {@code expr} gives at {@code now}.
   *
   * @throws EvalException when Prometheus would also fail the evaluation
   */
  static List<Sample> vector(Expr expr, SeriesSource source, long now) {
    Object v = eval(expr, source, now);
    if (v instanceof Double) {
      throw new EvalException("the expression gives a number, not a vector");
    }
    @SuppressWarnings("unchecked")
    List<Sample> samples = (List<Sample>) v;
    return samples;
  }

  /** A Double for a scalar, a {@code List<Sample>} for a vector. */
  private static Object eval(Expr expr, SeriesSource source, long now) {
    if (expr instanceof Expr.NumberLiteral n) {
      return n.value();
    }
    if (expr instanceof Expr.VectorSelector s) {
      return source.select(s);
    }
    if (expr instanceof Expr.Call c) {
      return call(c, source, now);
    }
    if (expr instanceof Expr.Aggregate a) {
      return aggregate(a, vector(a.argument(), source, now));
    }
    if (expr instanceof Expr.Binary b) {
      return binary(b, eval(b.left(), source, now), eval(b.right(), source, now));
    }
    throw new EvalException("a range vector cannot be evaluated on its own");
  }

  // -------------------------------------------------------------------------------- functions

  private static List<Sample> call(Expr.Call c, SeriesSource source, long now) {
    long window = c.argument().windowMillis();
    List<Sample> out = new ArrayList<>();
    for (RangeSeries s : source.selectRange(c.argument().selector(), window, now)) {
      if (s.values().length >= 2) {
        double v = extrapolatedRate(s.times(), s.values(), now - window, now, c.function());
        out.add(new Sample(Labels.withoutName(s.labels()), v));
      }
    }
    checkUnique(out);
    return out;
  }

  /**
   * Prometheus's {@code extrapolatedRate} for a counter: the increase between the first and last
   * sample (resets corrected), extrapolated to the window's edges when the samples come close
   * enough to them (within 1.1 average intervals; else by half an interval), never below zero; per
   * second for {@code rate}. NaN with fewer than two samples (the series is then left out).
   */
  static double extrapolatedRate(
      long[] times, double[] values, long rangeStart, long rangeEnd, Expr.Function function) {
    int n = values.length;
    if (n < 2) {
      return Double.NaN;
    }
    double result = values[n - 1] - values[0];
    double prev = values[0];
    for (int i = 1; i < n; i++) {
      if (values[i] < prev) {
        result += prev; // a counter reset: the counter went back to zero and counted up again
      }
      prev = values[i];
    }
    double durationToStart = (times[0] - rangeStart) / 1000.0;
    double durationToEnd = (rangeEnd - times[n - 1]) / 1000.0;
    double sampledInterval = (times[n - 1] - times[0]) / 1000.0;
    double averageBetweenSamples = sampledInterval / (n - 1);
    if (result > 0 && values[0] >= 0) {
      // A counter does not go below zero: extrapolate no further back than where it was zero.
      double durationToZero = sampledInterval * (values[0] / result);
      if (durationToZero < durationToStart) {
        durationToStart = durationToZero;
      }
    }
    double threshold = averageBetweenSamples * 1.1;
    double extrapolateTo = sampledInterval;
    extrapolateTo += durationToStart < threshold ? durationToStart : averageBetweenSamples / 2;
    extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetweenSamples / 2;
    result = result * (extrapolateTo / sampledInterval);
    if (function == Expr.Function.RATE) {
      result /= (rangeEnd - rangeStart) / 1000.0;
    }
    return result;
  }

  // ----------------------------------------------------------------------------- aggregations

  private static List<Sample> aggregate(Expr.Aggregate a, List<Sample> in) {
    Map<SortedMap<String, String>, double[]> groups = new LinkedHashMap<>();
    // per group: [0] the running value, [1] the count
    for (Sample s : in) {
      SortedMap<String, String> key =
          a.without()
              ? Labels.withoutName(Labels.drop(s.labels(), a.grouping()))
              : Labels.keep(s.labels(), a.grouping());
      double[] g = groups.get(key);
      double v = s.value();
      if (g == null) {
        groups.put(key, new double[] {v, 1});
        continue;
      }
      g[1]++;
      switch (a.op()) {
        case SUM, AVG -> g[0] += v;
        case MIN -> g[0] = Double.isNaN(g[0]) || v < g[0] ? v : g[0];
        case MAX -> g[0] = Double.isNaN(g[0]) || v > g[0] ? v : g[0];
        case COUNT -> {}
      }
    }
    List<Sample> out = new ArrayList<>(groups.size());
    groups.forEach(
        (labels, g) -> {
          double v =
              switch (a.op()) {
                case AVG -> g[0] / g[1];
                case COUNT -> g[1];
                default -> g[0];
              };
          out.add(new Sample(labels, v));
        });
    return out;
  }

  // ---------------------------------------------------------------------------------- binaries

  @SuppressWarnings("unchecked")
  private static Object binary(Expr.Binary b, Object left, Object right) {
    BinaryOp op = b.op();
    if (left instanceof Double l && right instanceof Double r) {
      return apply(op, l, r); // comparisons between numbers always have bool (parser)
    }
    if (left instanceof Double l) {
      return scalarVector(b, (List<Sample>) right, l, true);
    }
    if (right instanceof Double r) {
      return scalarVector(b, (List<Sample>) left, r, false);
    }
    List<Sample> l = (List<Sample>) left;
    List<Sample> r = (List<Sample>) right;
    VectorMatching m = b.matching();
    return switch (op) {
      case AND, UNLESS -> {
        Set<SortedMap<String, String>> rightKeys = new HashSet<>();
        r.forEach(s -> rightKeys.add(signature(s.labels(), m)));
        List<Sample> out = new ArrayList<>();
        for (Sample s : l) {
          if (rightKeys.contains(signature(s.labels(), m)) == (op == BinaryOp.AND)) {
            out.add(s);
          }
        }
        yield out;
      }
      case OR -> {
        Set<SortedMap<String, String>> leftKeys = new HashSet<>();
        l.forEach(s -> leftKeys.add(signature(s.labels(), m)));
        List<Sample> out = new ArrayList<>(l);
        for (Sample s : r) {
          if (!leftKeys.contains(signature(s.labels(), m))) {
            out.add(s);
          }
        }
        yield out;
      }
      default -> vectorVector(b, l, r);
    };
  }

  private static List<Sample> scalarVector(
      Expr.Binary b, List<Sample> vector, double scalar, boolean scalarOnLeft) {
    BinaryOp op = b.op();
    List<Sample> out = new ArrayList<>(vector.size());
    for (Sample s : vector) {
      double l = scalarOnLeft ? scalar : s.value();
      double r = scalarOnLeft ? s.value() : scalar;
      double v = apply(op, l, r);
      if (op.isComparison() && !b.returnBool()) {
        if (v == 1) {
          out.add(s); // a filter keeps the vector's own value and labels (name included)
        }
      } else {
        out.add(new Sample(Labels.withoutName(s.labels()), v));
      }
    }
    checkUnique(out);
    return out;
  }

  private static List<Sample> vectorVector(Expr.Binary b, List<Sample> l, List<Sample> r) {
    VectorMatching m = b.matching();
    Map<SortedMap<String, String>, Sample> right = new HashMap<>();
    for (Sample s : r) {
      if (right.put(signature(s.labels(), m), s) != null) {
        throw new EvalException(
            "many-to-many matching not allowed: matching labels must be unique on one side"
                + " (right side of '"
                + b.op().text
                + "', series "
                + Labels.format(s.labels())
                + ")");
      }
    }
    List<Sample> out = new ArrayList<>();
    Set<SortedMap<String, String>> seen = new HashSet<>();
    boolean filter = b.op().isComparison() && !b.returnBool();
    for (Sample s : l) {
      Sample match = right.get(signature(s.labels(), m));
      if (match == null) {
        continue;
      }
      double v = apply(b.op(), s.value(), match.value());
      if (filter && v != 1) {
        continue;
      }
      SortedMap<String, String> labels =
          filter ? s.labels() : Labels.withoutName(s.labels()); // arithmetic and bool drop it
      labels = m.on() ? Labels.keep(labels, m.labels()) : Labels.drop(labels, m.labels());
      if (!seen.add(labels)) {
        throw new EvalException(
            "multiple matches for labels: grouping labels must ensure unique matches ("
                + Labels.format(labels)
                + ")");
      }
      out.add(new Sample(labels, filter ? s.value() : v));
    }
    return out;
  }

  /** The labels two vectors match on. */
  private static SortedMap<String, String> signature(
      SortedMap<String, String> labels, VectorMatching m) {
    return m.on()
        ? Labels.keep(labels, m.labels())
        : Labels.withoutName(Labels.drop(labels, m.labels()));
  }

  /** The operator applied to two numbers; a comparison gives 1 (true) or 0 (false). */
  private static double apply(BinaryOp op, double l, double r) {
    return switch (op) {
      case ADD -> l + r;
      case SUB -> l - r;
      case MUL -> l * r;
      case DIV -> l / r;
      case MOD -> l % r;
      case POW -> Math.pow(l, r);
      case EQL -> l == r ? 1 : 0;
      case NEQ -> l != r ? 1 : 0;
      case GTR -> l > r ? 1 : 0;
      case LSS -> l < r ? 1 : 0;
      case GTE -> l >= r ? 1 : 0;
      case LTE -> l <= r ? 1 : 0;
      case AND, OR, UNLESS -> throw new EvalException(op.text + " needs two vectors");
    };
  }

  private static void checkUnique(List<Sample> samples) {
    Set<SortedMap<String, String>> seen = new HashSet<>();
    for (Sample s : samples) {
      if (!seen.add(s.labels())) {
        throw new EvalException(
            "vector cannot contain metrics with the same labelset " + Labels.format(s.labels()));
      }
    }
  }
}
