package io.otlp4j.bench.command;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The outputs of {@code ./otlp4j bench}: the table on the terminal, {@code report.md}, {@code
 * report.json} (per scenario and metric: {@code before}, {@code after}, {@code unit}, {@code
 * change_percent}, {@code spread}) and {@code report.html} (self-contained: inline CSS and SVG
 * charts, no script, no network), with each chart also as {@code charts/<scenario>-<chart>.svg}.
 */
final class Report {

  private final Map<String, String> machine;
  private final BenchSettings settings;
  private final List<ScenarioResult> scenarios;

  Report(Map<String, String> machine, BenchSettings settings, List<ScenarioResult> scenarios) {
    this.machine = machine;
    this.settings = settings;
    this.scenarios = scenarios;
  }

  /** Writes report.md, report.json, report.html and charts/*.svg into {@code dir}. */
  void write(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("charts"));
    Files.writeString(dir.resolve("report.md"), markdown(), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("report.json"), json(), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("report.html"), html(), StandardCharsets.UTF_8);
    for (ScenarioResult r : scenarios) {
      for (SvgChart c : charts(r)) {
        Files.writeString(
            dir.resolve("charts").resolve(c.id() + ".svg"), c.svg(), StandardCharsets.UTF_8);
      }
    }
  }

  // ------------------------------------------------------------------------------ formatting

  /** A figure for people: 3 significant digits, thousands separated, "n/a" where not measured. */
  static String number(double v) {
    if (!Double.isFinite(v)) {
      return "n/a";
    }
    double a = Math.abs(v);
    if (a >= 100 || a == 0) {
      return String.format(Locale.ROOT, "%,.0f", v);
    }
    if (a >= 10) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    if (a >= 1) {
      return String.format(Locale.ROOT, "%.2f", v);
    }
    return String.format(Locale.ROOT, "%.3g", v);
  }

  /** An axis tick: whole numbers without decimals. */
  static String tick(double v) {
    return v == Math.rint(v) && Math.abs(v) >= 1
        ? String.format(Locale.ROOT, "%,.0f", v)
        : number(v);
  }

  static String figure(Figure f) {
    if (!f.measured()) {
      return "n/a";
    }
    return Double.isFinite(f.spread())
        ? number(f.value()) + " ± " + number(f.spread())
        : number(f.value());
  }

  static String change(Metric m) {
    double c = m.changePercent();
    if (!Double.isFinite(c)) {
      return "–";
    }
    return String.format(Locale.ROOT, "%+.1f %%", c);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  // ------------------------------------------------------------------------------ terminal, md

  /** The table for the terminal: one block per scenario, aligned columns. */
  String terminal() {
    StringBuilder b = new StringBuilder();
    b.append("otlp4j bench — ").append(settings.profile()).append(" run\n");
    machine.forEach((k, v) -> b.append("  ").append(k).append(": ").append(v).append('\n'));
    for (ScenarioResult r : scenarios) {
      b.append('\n').append(r.title).append('\n');
      b.append("  before: ").append(r.before.label).append("; after: ").append(r.after.label);
      b.append('\n');
      if (r.failure != null) {
        b.append("  COULD NOT RUN: ").append(r.failure).append('\n');
      }
      String format = "  %-11s %-40s %-8s %22s %22s %9s  %s%n";
      b.append(
          String.format(
              Locale.ROOT, format, "row", "metric", "unit", "before", "after", "change", "seed"));
      for (Metric m : r.metrics()) {
        b.append(
            String.format(
                Locale.ROOT,
                format,
                m.row(),
                m.label(),
                m.unit(),
                figure(m.before()),
                figure(m.after()),
                change(m),
                m.seed()));
      }
    }
    return b.toString();
  }

  String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# otlp4j bench\n\n");
    b.append("Measured by `./otlp4j bench")
        .append(settings.profile().equals("quick") ? " --quick" : "")
        .append("` (")
        .append(settings)
        .append(").\n\n");
    for (Map.Entry<String, String> e : machine.entrySet()) {
      b.append("- **").append(e.getKey()).append("**: ").append(e.getValue()).append('\n');
    }
    b.append(
        "\nEvery figure is the mean ± the standard deviation over the repeated windows; change ="
            + " (after − before) / before. The seed column gives the plan's own before → after"
            + " figures for the row.\n");
    for (ScenarioResult r : scenarios) {
      b.append("\n## ").append(r.title).append("\n\n");
      b.append("Before: ").append(r.before.label).append(". After: ").append(r.after.label);
      b.append(". ").append(capitalize(r.description)).append(".\n\n");
      if (r.failure != null) {
        b.append("**Could not run:** ").append(r.failure).append("\n\n");
      }
      b.append("| row | metric | unit | before | after | change | seed |\n");
      b.append("| --- | --- | --- | ---: | ---: | ---: | --- |\n");
      for (Metric m : r.metrics()) {
        b.append("| ")
            .append(m.row())
            .append(" | ")
            .append(m.label())
            .append(" | ")
            .append(m.unit())
            .append(" | ")
            .append(figure(m.before()))
            .append(" | ")
            .append(figure(m.after()))
            .append(" | ")
            .append(change(m))
            .append(" | ")
            .append(m.seed())
            .append(" |\n");
      }
      b.append('\n');
      if (Double.isFinite(r.fixedRateItems)) {
        b.append("- Fixed offered rate of the latency, CPU % and steady RSS rows: ")
            .append(number(r.fixedRateItems))
            .append(" items/s (half the before side's maximum).\n");
      }
      for (String n : r.notes) {
        b.append("- ").append(n).append('\n');
      }
      b.append('\n');
      for (SvgChart c : charts(r)) {
        b.append("![").append(c.title()).append("](charts/").append(c.id()).append(".svg)\n");
      }
    }
    return b.toString();
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  // ------------------------------------------------------------------------------ json

  String json() {
    StringBuilder b = new StringBuilder();
    b.append("{\n  \"machine\": {");
    String sep = "";
    for (Map.Entry<String, String> e : machine.entrySet()) {
      b.append(sep).append("\n    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
      sep = ",";
    }
    b.append("\n  },\n  \"settings\": {")
        .append("\"profile\": ")
        .append(str(settings.profile()))
        .append(", \"warmup_ms\": ")
        .append(settings.warmupMs())
        .append(", \"window_ms\": ")
        .append(settings.windowMs())
        .append(", \"windows\": ")
        .append(settings.windows())
        .append(", \"fault_ms\": ")
        .append(settings.faultMs())
        .append(", \"down_ms\": ")
        .append(settings.downMs())
        .append(", \"fault_fraction\": ")
        .append(num(settings.faultFraction()))
        .append("},\n  \"scenarios\": [");
    sep = "";
    for (ScenarioResult r : scenarios) {
      b.append(sep).append("\n    {\n");
      sep = ",";
      b.append("      \"id\": ").append(str(r.id)).append(",\n");
      b.append("      \"title\": ").append(str(r.title)).append(",\n");
      b.append("      \"description\": ").append(str(r.description)).append(",\n");
      b.append("      \"before\": ").append(str(r.before.label)).append(",\n");
      b.append("      \"after\": ").append(str(r.after.label)).append(",\n");
      b.append("      \"failure\": ").append(r.failure == null ? "null" : str(r.failure));
      b.append(",\n      \"fixed_rate_items_per_second\": ").append(num(r.fixedRateItems));
      b.append(",\n      \"notes\": [");
      String s2 = "";
      for (String n : r.notes) {
        b.append(s2).append(str(n));
        s2 = ", ";
      }
      b.append("],\n      \"metrics\": {");
      s2 = "";
      for (Metric m : r.metrics()) {
        b.append(s2)
            .append("\n        ")
            .append(str(m.key()))
            .append(": {")
            .append("\"row\": ")
            .append(str(m.row()))
            .append(", \"label\": ")
            .append(str(m.label()))
            .append(", \"unit\": ")
            .append(str(m.unit()))
            .append(", \"before\": ")
            .append(num(m.before().value()))
            .append(", \"after\": ")
            .append(num(m.after().value()))
            .append(", \"change_percent\": ")
            .append(num(m.changePercent()))
            .append(", \"spread\": {\"before\": ")
            .append(num(m.before().spread()))
            .append(", \"after\": ")
            .append(num(m.after().spread()))
            .append("}")
            .append(", \"windows\": {\"before\": ")
            .append(m.before().windows())
            .append(", \"after\": ")
            .append(m.after().windows())
            .append("}")
            .append(", \"seed\": ")
            .append(str(m.seed()))
            .append(", \"higher_is_better\": ")
            .append(m.higherIsBetter())
            .append("}");
        s2 = ",";
      }
      b.append("\n      },\n      \"raw\": {\n        \"before\": ")
          .append(raw(r.before))
          .append(",\n        \"after\": ")
          .append(raw(r.after))
          .append("\n      }\n    }");
    }
    return b.append("\n  ]\n}\n").toString();
  }

  private static String raw(SideMeasurements s) {
    StringBuilder b = new StringBuilder("{");
    b.append("\"flat_windows\": ")
        .append(arrays(s.flat))
        .append(", \"fixed_windows\": ")
        .append(arrays(s.fixed))
        .append(", \"curve\": ")
        .append(arrays(s.curve))
        .append(", \"percentiles_ms\": {");
    String sep = "";
    for (Map.Entry<String, Double> e : s.percentiles.entrySet()) {
      b.append(sep).append(str(e.getKey())).append(": ").append(num(e.getValue()));
      sep = ", ";
    }
    b.append("}, \"faults\": {\"requests\": ")
        .append(s.faultRequests)
        .append(", \"failed_requests\": ")
        .append(s.faultFailedRequests)
        .append(", \"items_offered\": ")
        .append(s.faultOffered)
        .append(", \"items_delivered\": ")
        .append(s.faultDelivered)
        .append(", \"items_refused\": ")
        .append(s.faultRefused)
        .append(", \"items_lost\": ")
        .append(s.faultLost())
        .append("}, \"series\": ")
        .append(arrays(s.series))
        .append("}");
    return b.toString();
  }

  private static String arrays(List<double[]> rows) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < rows.size(); i++) {
      b.append(i == 0 ? "[" : ", [");
      double[] row = rows.get(i);
      for (int j = 0; j < row.length; j++) {
        b.append(j == 0 ? "" : ", ").append(num(row[j]));
      }
      b.append(']');
    }
    return b.append(']').toString();
  }

  static String num(double v) {
    if (!Double.isFinite(v)) {
      return "null";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v); // shortest exact form; JSON accepts its exponent notation
  }

  static String str(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  // ------------------------------------------------------------------------------ charts, html

  /** The charts of one scenario. */
  static List<SvgChart> charts(ScenarioResult r) {
    double k = r.latencyInMicros ? 1000 : 1;
    List<SvgChart> charts = new ArrayList<>();
    List<double[]> ideal = new ArrayList<>();
    for (double[] p : r.before.curve) {
      ideal.add(new double[] {p[0], p[0]});
    }
    charts.add(
        new SvgChart(
            r.id + "-throughput",
            "Delivered vs offered load",
            "offered items/s",
            "delivered items/s",
            List.of(
                new SvgChart.Series("offered", SvgChart.REFERENCE_COLOR, ideal),
                new SvgChart.Series("before", SvgChart.BEFORE_COLOR, column(r.before.curve, 0, 1)),
                new SvgChart.Series("after", SvgChart.AFTER_COLOR, column(r.after.curve, 0, 1))),
            false,
            null));
    charts.add(
        new SvgChart(
            r.id + "-latency-curve",
            "p99 latency vs offered load",
            "offered items/s",
            "p99 latency (" + r.latencyUnit() + ", log)",
            List.of(
                new SvgChart.Series(
                    "before", SvgChart.BEFORE_COLOR, scaled(column(r.before.curve, 0, 3), k)),
                new SvgChart.Series(
                    "after", SvgChart.AFTER_COLOR, scaled(column(r.after.curve, 0, 3), k))),
            true,
            null));
    List<String> names = new ArrayList<>(r.before.percentiles.keySet());
    if (names.isEmpty()) {
      names.addAll(r.after.percentiles.keySet());
    }
    charts.add(
        new SvgChart(
            r.id + "-percentiles",
            "Latency percentiles at the fixed rate",
            "percentile",
            "latency (" + r.latencyUnit() + ", log)",
            List.of(
                new SvgChart.Series(
                    "before", SvgChart.BEFORE_COLOR, scaled(byName(r.before, names), k)),
                new SvgChart.Series(
                    "after", SvgChart.AFTER_COLOR, scaled(byName(r.after, names), k))),
            true,
            names));
    charts.add(
        new SvgChart(
            r.id + "-cpu",
            "CPU of the process under test over time",
            "seconds since the side started",
            "% of one core",
            List.of(
                new SvgChart.Series("before", SvgChart.BEFORE_COLOR, column(r.before.series, 0, 1)),
                new SvgChart.Series("after", SvgChart.AFTER_COLOR, column(r.after.series, 0, 1))),
            false,
            null));
    charts.add(
        new SvgChart(
            r.id + "-rss",
            "RSS of the process under test over time",
            "seconds since the side started",
            "RSS (MiB)",
            List.of(
                new SvgChart.Series("before", SvgChart.BEFORE_COLOR, column(r.before.series, 0, 2)),
                new SvgChart.Series("after", SvgChart.AFTER_COLOR, column(r.after.series, 0, 2))),
            false,
            null));
    return charts;
  }

  private static List<double[]> column(List<double[]> rows, int x, int y) {
    List<double[]> out = new ArrayList<>();
    for (double[] r : rows) {
      out.add(new double[] {r[x], r[y]});
    }
    return out;
  }

  private static List<double[]> scaled(List<double[]> points, double k) {
    for (double[] p : points) {
      p[1] *= k;
    }
    return points;
  }

  private static List<double[]> byName(SideMeasurements s, List<String> names) {
    List<double[]> out = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      out.add(new double[] {i, s.percentiles.getOrDefault(names.get(i), Double.NaN)});
    }
    return out;
  }

  String html() {
    StringBuilder b = new StringBuilder();
    b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<title>otlp4j bench</title>\n<style>\n")
        .append("body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}\n")
        .append("table{border-collapse:collapse;margin:1em 0}\n")
        .append("td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right}\n")
        .append("th{background:#f3f3f3}.failure{color:#b00;font-weight:bold}\n")
        .append(".charts{display:flex;flex-wrap:wrap;gap:12px}\n")
        .append(".before{color:")
        .append(SvgChart.BEFORE_COLOR)
        .append("}.after{color:")
        .append(SvgChart.AFTER_COLOR)
        .append("}\n</style>\n</head>\n<body>\n");
    b.append("<h1>otlp4j bench</h1>\n<p>").append(escape(settings.toString())).append("</p>\n");
    b.append("<table id=\"machine\">\n");
    machine.forEach(
        (k, v) ->
            b.append("<tr><th>")
                .append(escape(k))
                .append("</th><td>")
                .append(escape(v))
                .append("</td></tr>\n"));
    b.append(
        "</table>\n<p>Every figure: mean ± standard deviation over the repeated windows;"
            + " change = (after − before) / before.</p>\n");
    for (ScenarioResult r : scenarios) {
      b.append("<section class=\"scenario\" id=\"").append(escape(r.id)).append("\">\n");
      b.append("<h2>")
          .append(escape(r.title))
          .append("</h2>\n<p><span class=\"before\">before:" + " ")
          .append(escape(r.before.label))
          .append("</span>; <span class=\"after\">after: ")
          .append(escape(r.after.label))
          .append("</span>. ")
          .append(escape(r.description))
          .append(".</p>\n");
      if (r.failure != null) {
        b.append("<p class=\"failure\">Could not run: ").append(escape(r.failure)).append("</p>\n");
      }
      b.append(
          "<table class=\"metrics\">\n<tr><th>row</th><th>metric</th><th>unit</th>"
              + "<th>before</th><th>after</th><th>change</th><th>seed</th></tr>\n");
      for (Metric m : r.metrics()) {
        b.append("<tr data-key=\"")
            .append(m.key())
            .append("\"><td>")
            .append(escape(m.row()))
            .append("</td><td>")
            .append(escape(m.label()))
            .append("</td><td>")
            .append(escape(m.unit()))
            .append("</td><td class=\"n\">")
            .append(escape(figure(m.before())))
            .append("</td><td class=\"n\">")
            .append(escape(figure(m.after())))
            .append("</td><td class=\"n\">")
            .append(escape(change(m)))
            .append("</td><td>")
            .append(escape(m.seed()))
            .append("</td></tr>\n");
      }
      b.append("</table>\n<ul>\n");
      if (Double.isFinite(r.fixedRateItems)) {
        b.append("<li>Fixed offered rate: ")
            .append(number(r.fixedRateItems))
            .append(" items/s (half the before side's maximum).</li>\n");
      }
      for (String n : r.notes) {
        b.append("<li>").append(escape(n)).append("</li>\n");
      }
      b.append("</ul>\n<div class=\"charts\">\n");
      for (SvgChart c : charts(r)) {
        b.append(c.svg());
      }
      b.append("</div>\n</section>\n");
    }
    return b.append("</body>\n</html>\n").toString();
  }
}
