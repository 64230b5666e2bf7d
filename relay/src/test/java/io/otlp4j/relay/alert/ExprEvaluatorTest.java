package io.otlp4j.relay.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.alert.ExprEvaluator.Sample;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Prometheus's semantics for the subset, against hand-computed values. */
class ExprEvaluatorTest {
  private final MetricsRegistry metrics = MetricsRegistry.create();

  private List<Sample> eval(SeriesStore store, String expr, long now) {
    return ExprEvaluator.vector(ExprParser.parse(expr), store, now);
  }

  private static SeriesStore storeFor(String... exprs) {
    List<Expr.MatrixSelector> ranges = new java.util.ArrayList<>();
    for (String e : exprs) {
      collect(ExprParser.parse(e), ranges);
    }
    return new SeriesStore(ranges, 100);
  }

  private static void collect(Expr e, List<Expr.MatrixSelector> out) {
    if (e instanceof Expr.Call c) {
      out.add(c.argument());
    } else if (e instanceof Expr.Binary b) {
      collect(b.left(), out);
      collect(b.right(), out);
    } else if (e instanceof Expr.Aggregate a) {
      collect(a.argument(), out);
    }
  }

  @Test
  void rateIsExtrapolatedToTheWindowAsPrometheusDoes() {
    MetricsRegistry.Counter c = metrics.counter("x", "X.", "exporter", "otlp");
    String expr = "rate(x_total[5m])";
    SeriesStore store = storeFor(expr);
    long now = 0;
    for (int i = 1; i <= 20; i++) { // 10 more every 15 s, from 10 at 15 s to 200 at 300 s
      c.add(10);
      now = i * 15_000L;
      store.update(metrics.scrape(), now);
    }
    List<Sample> r = eval(store, expr, now);
    assertThat(r).hasSize(1);
    assertThat(r.get(0).labels()).isEqualTo(Map.of("exporter", "otlp")); // the name is dropped
    // increase 190 over 285 s, extrapolated by 15 s to the window's start: 200 / 300 s
    assertThat(r.get(0).value()).isCloseTo(2.0 / 3, within(1e-12));
    assertThat(store.samplesInHistory()).isEqualTo(20); // only the window is kept
    store.update(metrics.scrape(), now + 15_000);
    assertThat(store.samplesInHistory()).isEqualTo(20);
  }

  @Test
  void historyIsKeptOnlyForSeriesARangeSelectorMatchesAndAtMostMaxSeries() {
    for (String exporter : new String[] {"a", "b", "c"}) {
      metrics.counter("failed", "F.", "exporter", exporter).increment();
    }
    metrics.counter("other", "O.").increment();
    metrics.gauge("size", "S.").set(1);
    SeriesStore store = new SeriesStore(List.of(matrix("rate(failed_total[1m])")), 2);
    for (long t = 0; t < 10 * 15_000; t += 15_000) {
      store.update(metrics.scrape(), t);
    }
    assertThat(store.seriesWithHistory()).isEqualTo(2); // not "other", not "size", not the third
    assertThat(store.droppedSeries()).isPositive();
    assertThat(store.samplesInHistory()).isEqualTo(2 * 4); // 1m at 15 s: samples after t - 60 s
  }

  private static Expr.MatrixSelector matrix(String expr) {
    return ((Expr.Call) ExprParser.parse(expr)).argument();
  }

  @Test
  void increaseCorrectsACounterResetAndNeedsTwoSamples() {
    double[] values = {100, 110, 5, 15};
    long[] times = {0, 15_000, 30_000, 45_000};
    // 25 counted (10 + 5 after the reset to 0 + 10), extrapolated from 45 s to the 60 s window
    assertThat(
            ExprEvaluator.extrapolatedRate(times, values, -15_000, 45_000, Expr.Function.INCREASE))
        .isCloseTo(25 * 60.0 / 45, within(1e-9));
    assertThat(
            ExprEvaluator.extrapolatedRate(
                new long[] {0}, new double[] {1}, -15_000, 0, Expr.Function.RATE))
        .isNaN();
  }

  @Test
  void ratiosMatchOnEveryLabelButTheNameAndComparisonsFilterKeepingTheName() {
    metrics.gauge("size", "S.", "exporter", "a").set(90);
    metrics.gauge("size", "S.", "exporter", "b").set(10);
    metrics.gauge("capacity", "C.", "exporter", "a").set(100);
    metrics.gauge("capacity", "C.", "exporter", "b").set(100);
    metrics.gauge("capacity", "C.", "exporter", "c").set(100);
    SeriesStore store = storeFor();
    store.update(metrics.scrape(), 1000);
    assertThat(eval(store, "size / capacity > 0.8", 1000))
        .containsExactly(new Sample(Labels.of(Map.of("exporter", "a")), 0.9));
    assertThat(eval(store, "size > 50", 1000))
        .containsExactly(new Sample(Labels.of(Map.of("__name__", "size", "exporter", "a")), 90));
    assertThat(eval(store, "size > bool 50", 1000))
        .hasSize(2)
        .extracting(Sample::value)
        .containsExactlyInAnyOrder(1.0, 0.0);
    assertThat(eval(store, "sum(capacity) - 250", 1000))
        .containsExactly(new Sample(Labels.of(Map.of()), 50));
    assertThat(eval(store, "max by (exporter) (size) < 50", 1000)).hasSize(1);
    assertThat(eval(store, "capacity unless size", 1000)).hasSize(1);
    assertThat(eval(store, "capacity and on (exporter) size", 1000)).hasSize(2);
    assertThat(eval(store, "size or capacity", 1000)).hasSize(3);
    assertThat(eval(store, "size{exporter=~\"a|b\", exporter!=\"b\"}", 1000)).hasSize(1);
  }

  @Test
  void duplicateRightSideSeriesFailTheEvaluation() {
    metrics.gauge("a", "A.", "q", "1", "c", "x").set(1);
    metrics.gauge("b", "B.", "q", "1", "c", "x").set(1);
    metrics.gauge("b", "B.", "q", "1", "c", "y").set(1);
    SeriesStore store = storeFor();
    store.update(metrics.scrape(), 1000);
    assertThatThrownBy(() -> eval(store, "a / on (q) b", 1000))
        .isInstanceOf(ExprEvaluator.EvalException.class)
        .hasMessageContaining("many-to-many");
    assertThatThrownBy(() -> eval(store, "a / ignoring (c) b", 1000))
        .isInstanceOf(ExprEvaluator.EvalException.class)
        .hasMessageContaining("many-to-many");
    assertThat(eval(store, "a / b", 1000)).hasSize(1); // every label but the name: one match
  }

  @Test
  void seriesAreNamedAsTheTextFormatNamesThem() throws Exception {
    metrics.counter("otelcol_exporter_sent_spans", "S.", "exporter", "otlp").add(3);
    metrics.gauge("otelcol_exporter_queue_size", "Q.", "exporter", "otlp").set(7);
    metrics.histogram("otlp4j_latency_seconds", "L.", new double[] {0.1, 1}).record(0.5);
    Set<String> flattened =
        SeriesStore.flatten(metrics.scrape()).stream()
            .map(s -> Labels.format(s.labels()) + " " + s.value())
            .collect(Collectors.toCollection(TreeSet::new));
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    metrics.writePrometheusText(text);
    Set<String> exposed =
        text.toString(StandardCharsets.UTF_8)
            .lines()
            .filter(l -> !l.startsWith("#"))
            .map(ExprEvaluatorTest::normalise)
            .collect(Collectors.toCollection(TreeSet::new));
    assertThat(flattened).isEqualTo(exposed);
    assertThat(flattened).contains("otelcol_exporter_sent_spans_total{exporter=\"otlp\"} 3.0");
  }

  /** A text-format line as Labels.format prints it: {@code name{a="x", b="y"} value}. */
  private static String normalise(String line) {
    int space = line.lastIndexOf(' ');
    String series = line.substring(0, space);
    double value = Double.parseDouble(line.substring(space + 1));
    if (!series.contains("{")) {
      series += "{}";
    }
    return series.replace("\",", "\", ") + " " + value;
  }
}
