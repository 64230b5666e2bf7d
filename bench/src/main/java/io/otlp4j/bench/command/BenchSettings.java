package io.otlp4j.bench.command;

import java.util.Arrays;
import java.util.Locale;

/**
 * How long each phase of {@code ./otlp4j bench} runs, and the load's shape. {@link #full()} is the
 * default run (at most ~10 minutes), {@link #quick()} about a minute on two cores with wider
 * spreads; {@link #with} overrides single values (the internal {@code --durations} option, which
 * the tests use to shorten the run further). Immutable.
 *
 * @param warmupMs closed-loop / flat-out warm-up of each side before its first window
 * @param windowMs one measurement window
 * @param windows windows per measurement (flat out, fixed rate)
 * @param settleMs pause after changing the offered rate before measuring again
 * @param curveFractions offered rates of the latency–throughput curve, as fractions of the "before"
 *     side's flat-out maximum (0.5 is the fixed rate of the latency rows and is always measured)
 * @param faultMs how long the load runs against the faulty upstream (including its outage)
 * @param downMs how long the upstream is away, once, in the middle of the fault run
 * @param drainMs at most this long waiting for what was accepted to arrive after the fault run
 * @param faultFraction the fraction of upstream requests answered with a retryable error
 * @param sampleMs how often CPU and RSS of the process under test are sampled
 */
public record BenchSettings(
    String profile,
    long warmupMs,
    long windowMs,
    int windows,
    long settleMs,
    double[] curveFractions,
    long faultMs,
    long downMs,
    long drainMs,
    double faultFraction,
    long sampleMs) {

  /** The offered rate of the latency rows, as a fraction of the "before" side's maximum. */
  public static final double FIXED_RATE_FRACTION = 0.5;

  /** The default run: at most ~10 minutes. */
  public static BenchSettings full() {
    return new BenchSettings(
        "default",
        6000,
        3000,
        4,
        1000,
        new double[] {0.25, 0.5, 0.75, 1.0, 1.25},
        16_000,
        4000,
        20_000,
        0.05,
        500);
  }

  /** {@code --quick}: about a minute on two cores, the same rows with wider spreads. */
  public static BenchSettings quick() {
    return new BenchSettings(
        "quick", 1500, 800, 2, 400, new double[] {0.5, 1.25}, 3000, 1000, 10_000, 0.05, 250);
  }

  /**
   * These settings with {@code overrides} ({@code key=value,...}; keys: warmup, window, windows,
   * settle, fault, down, drain, sample in ms, fraction, curve as {@code 0.5:1.25}).
   */
  public BenchSettings with(String overrides) {
    BenchSettings s = this;
    for (String part : overrides.split(",")) {
      String[] kv = part.trim().split("=", 2);
      if (kv.length != 2) {
        throw new IllegalArgumentException("--durations: expected key=value, got '" + part + "'");
      }
      String v = kv[1].trim().toLowerCase(Locale.ROOT);
      s =
          switch (kv[0].trim()) {
            case "warmup" ->
                s.copy(
                    ms(v),
                    s.windowMs,
                    s.windows,
                    s.settleMs,
                    s.curveFractions,
                    s.faultMs,
                    s.downMs,
                    s.drainMs,
                    s.sampleMs);
            case "window" ->
                s.copy(
                    s.warmupMs,
                    ms(v),
                    s.windows,
                    s.settleMs,
                    s.curveFractions,
                    s.faultMs,
                    s.downMs,
                    s.drainMs,
                    s.sampleMs);
            case "windows" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    Integer.parseInt(v),
                    s.settleMs,
                    s.curveFractions,
                    s.faultMs,
                    s.downMs,
                    s.drainMs,
                    s.sampleMs);
            case "settle" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    s.windows,
                    ms(v),
                    s.curveFractions,
                    s.faultMs,
                    s.downMs,
                    s.drainMs,
                    s.sampleMs);
            case "curve" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    s.windows,
                    s.settleMs,
                    Arrays.stream(v.split(":")).mapToDouble(Double::parseDouble).toArray(),
                    s.faultMs,
                    s.downMs,
                    s.drainMs,
                    s.sampleMs);
            case "fault" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    s.windows,
                    s.settleMs,
                    s.curveFractions,
                    ms(v),
                    s.downMs,
                    s.drainMs,
                    s.sampleMs);
            case "down" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    s.windows,
                    s.settleMs,
                    s.curveFractions,
                    s.faultMs,
                    ms(v),
                    s.drainMs,
                    s.sampleMs);
            case "drain" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    s.windows,
                    s.settleMs,
                    s.curveFractions,
                    s.faultMs,
                    s.downMs,
                    ms(v),
                    s.sampleMs);
            case "sample" ->
                s.copy(
                    s.warmupMs,
                    s.windowMs,
                    s.windows,
                    s.settleMs,
                    s.curveFractions,
                    s.faultMs,
                    s.downMs,
                    s.drainMs,
                    ms(v));
            default ->
                throw new IllegalArgumentException(
                    "--durations: unknown key '"
                        + kv[0]
                        + "' (warmup, window, windows, settle, curve,"
                        + " fault, down, drain, sample)");
          };
    }
    if (s.windows < 1 || s.windowMs < 1 || s.downMs >= s.faultMs) {
      throw new IllegalArgumentException(
          "--durations: need windows >= 1, window > 0 and down < fault: " + overrides);
    }
    return s;
  }

  private BenchSettings copy(
      long warmup,
      long window,
      int windows,
      long settle,
      double[] curve,
      long fault,
      long down,
      long drain,
      long sample) {
    return new BenchSettings(
        profile, warmup, window, windows, settle, curve, fault, down, drain, faultFraction, sample);
  }

  /** The curve's offered rates (fractions of the maximum), always including the fixed rate. */
  public double[] curve() {
    double[] c = curveFractions.clone();
    Arrays.sort(c);
    return Arrays.binarySearch(c, FIXED_RATE_FRACTION) >= 0
        ? c
        : java.util.stream.DoubleStream.concat(
                Arrays.stream(c), java.util.stream.DoubleStream.of(FIXED_RATE_FRACTION))
            .sorted()
            .toArray();
  }

  /**
   * What one side of a scenario is planned to take, in ms, not counting the process's start: the
   * progress line's estimate.
   */
  public long plannedSideMillis() {
    long curvePoints = curve().length - 1L; // the fixed rate's windows are one point
    return warmupMs
        + (long) windows * windowMs
        + settleMs
        + (long) windows * windowMs
        + curvePoints * (settleMs + windowMs)
        + faultMs
        + Math.min(drainMs, 5000);
  }

  private static long ms(String v) {
    if (v.endsWith("ms")) {
      return Long.parseLong(v.substring(0, v.length() - 2));
    }
    if (v.endsWith("s")) {
      return Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000);
    }
    return Long.parseLong(v);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BenchSettings b
        && profile.equals(b.profile)
        && warmupMs == b.warmupMs
        && windowMs == b.windowMs
        && windows == b.windows
        && settleMs == b.settleMs
        && Arrays.equals(curveFractions, b.curveFractions)
        && faultMs == b.faultMs
        && downMs == b.downMs
        && drainMs == b.drainMs
        && faultFraction == b.faultFraction
        && sampleMs == b.sampleMs;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(
        profile,
        warmupMs,
        windowMs,
        windows,
        Arrays.hashCode(curveFractions),
        faultMs,
        downMs,
        drainMs,
        faultFraction,
        sampleMs);
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "%s: warm-up %.1f s, %d x %.1f s windows, curve at %s of the maximum, %.1f s under faults"
            + " (%.0f%% retryable answers, upstream away %.1f s)",
        profile,
        warmupMs / 1e3,
        windows,
        windowMs / 1e3,
        Arrays.toString(curve()),
        faultMs / 1e3,
        faultFraction * 100,
        downMs / 1e3);
  }
}
