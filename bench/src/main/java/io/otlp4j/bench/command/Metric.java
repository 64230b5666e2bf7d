package io.otlp4j.bench.command;

/**
 * One line of the table: a figure measured on both sides of a scenario.
 *
 * @param key a stable machine-readable name, such as {@code throughput_items}
 * @param row the seed table's row it belongs to (throughput, memory, latency, CPU, error rate)
 * @param label what was measured, for people
 * @param unit the unit of {@code before} and {@code after}
 * @param before the "before" side (the ecosystem's own component)
 * @param after the "after" side (otlp4j)
 * @param seed the seed plan's own figures for the row, or "–" where it gave none
 * @param higherIsBetter whether a larger value is an improvement
 */
public record Metric(
    String key,
    String row,
    String label,
    String unit,
    Figure before,
    Figure after,
    String seed,
    boolean higherIsBetter) {

  /**
   * (after − before) / before in percent; NaN when either is missing or before is 0 (an error rate
   * of 0 cannot improve by a percentage).
   */
  public double changePercent() {
    if (!before.measured() || !after.measured() || before.value() == 0) {
      return Double.NaN;
    }
    return 100.0 * (after.value() - before.value()) / Math.abs(before.value());
  }
}
