package io.otlp4j.bench.command;

import java.util.List;

/**
 * One measured figure: the mean of the values measured in repeated windows, their sample standard
 * deviation (the spread), and how many windows there were. A figure that was counted once over a
 * whole phase has {@code windows == 1} and a spread of {@link Double#NaN} (no spread to give).
 *
 * @param value the mean
 * @param spread the sample standard deviation over the windows, NaN for a single value
 * @param windows how many values the mean is of
 */
public record Figure(double value, double spread, int windows) {

  /** The mean and spread of {@code values}; a figure of NaN when there are none. */
  public static Figure of(List<Double> values) {
    int n = values.size();
    if (n == 0) {
      return new Figure(Double.NaN, Double.NaN, 0);
    }
    double mean = 0;
    for (double v : values) {
      mean += v;
    }
    mean /= n;
    if (n == 1) {
      return new Figure(mean, Double.NaN, 1);
    }
    double var = 0;
    for (double v : values) {
      var += (v - mean) * (v - mean);
    }
    return new Figure(mean, Math.sqrt(var / (n - 1)), n);
  }

  /** A value counted once, over a whole phase. */
  public static Figure once(double value) {
    return new Figure(value, Double.NaN, 1);
  }

  /** The largest of {@code values}, with the spread of the values (peak of per-window peaks). */
  public static Figure peak(List<Double> values) {
    Figure f = of(values);
    double max = Double.NaN;
    for (double v : values) {
      max = Double.isNaN(max) ? v : Math.max(max, v);
    }
    return new Figure(max, f.spread(), f.windows());
  }

  public boolean measured() {
    return windows > 0 && Double.isFinite(value);
  }
}
