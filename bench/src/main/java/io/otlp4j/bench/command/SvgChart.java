package io.otlp4j.bench.command;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line chart drawn as standalone SVG (no script, no network): the report's charts, both
 * inline in {@code report.html} and as {@code charts/*.svg} files readable on a code host. Each
 * series is a {@code <path class="series">} with a marker per point; a logarithmic y axis where the
 * values span decades (latencies). Immutable once built.
 */
public final class SvgChart {

  /** One line: a name for the legend, its colour and its points {x, y}. */
  public record Series(String name, String color, List<double[]> points) {}

  static final String BEFORE_COLOR = "#d9822b";
  static final String AFTER_COLOR = "#2b6cb0";
  static final String REFERENCE_COLOR = "#999999";

  private static final int W = 560;
  private static final int H = 320;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 34;
  private static final int BOTTOM = 62;

  private final String id;
  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series;
  private final boolean logY;
  private final List<String> categories; // x tick labels at 0, 1, ...; null: numeric x

  public SvgChart(
      String id,
      String title,
      String xLabel,
      String yLabel,
      List<Series> series,
      boolean logY,
      List<String> categories) {
    this.id = id;
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.series = series;
    this.logY = logY;
    this.categories = categories;
  }

  String id() {
    return id;
  }

  String title() {
    return title;
  }

  /** Whether any series has a finite point to draw. */
  boolean hasData() {
    for (Series s : series) {
      for (double[] p : s.points()) {
        if (finite(p)) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean finite(double[] p) {
    return Double.isFinite(p[0]) && Double.isFinite(p[1]) && (!logY || p[1] > 0);
  }

  /** The chart as an SVG document ({@code standalone}: with the XML namespace). */
  public String svg() {
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (double[] p : s.points()) {
        if (finite(p)) {
          xMin = Math.min(xMin, p[0]);
          xMax = Math.max(xMax, p[0]);
          yMin = Math.min(yMin, p[1]);
          yMax = Math.max(yMax, p[1]);
        }
      }
    }
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"%s\" width=\"%d\""
                + " height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\""
                + " font-size=\"11\">\n",
            id,
            W,
            H,
            W,
            H));
    b.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    b.append(text(W / 2.0, 18, "middle", 13, title));
    if (xMin > xMax) {
      b.append(text(W / 2.0, H / 2.0, "middle", 12, "no data"));
      return b.append("</svg>\n").toString();
    }
    if (categories != null) {
      xMin = -0.5;
      xMax = categories.size() - 0.5;
    } else if (xMax == xMin) {
      xMin -= 1;
      xMax += 1;
    }
    if (logY) {
      yMin = Math.pow(10, Math.floor(Math.log10(yMin)));
      yMax = Math.pow(10, Math.ceil(Math.log10(yMax)));
      if (yMax == yMin) {
        yMax = yMin * 10;
      }
    } else {
      yMin = Math.min(0, yMin);
      yMax = yMax <= yMin ? yMin + 1 : yMax * 1.08;
    }
    double x0 = xMin;
    double x1 = xMax;
    double y0 = yMin;
    double y1 = yMax;
    int plotW = W - LEFT - RIGHT;
    int plotH = H - TOP - BOTTOM;
    java.util.function.DoubleUnaryOperator px = x -> LEFT + (x - x0) / (x1 - x0) * plotW;
    java.util.function.DoubleUnaryOperator py =
        y ->
            logY
                ? TOP
                    + plotH
                    - (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) * plotH
                : TOP + plotH - (y - y0) / (y1 - y0) * plotH;
    // axes and grid
    b.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>\n",
            LEFT,
            TOP,
            plotW,
            plotH));
    for (double t : yTicks(y0, y1)) {
      double y = py.applyAsDouble(t);
      b.append(
          String.format(
              Locale.ROOT,
              "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
              LEFT,
              LEFT + plotW,
              y,
              y));
      b.append(text(LEFT - 6, y + 4, "end", 11, Report.tick(t)));
    }
    if (categories != null) {
      for (int i = 0; i < categories.size(); i++) {
        b.append(text(px.applyAsDouble(i), TOP + plotH + 16, "middle", 11, categories.get(i)));
      }
    } else {
      for (double t : linearTicks(x0, x1)) {
        double x = px.applyAsDouble(t);
        b.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n",
                x,
                x,
                TOP,
                TOP + plotH));
        b.append(text(x, TOP + plotH + 16, "middle", 11, Report.tick(t)));
      }
    }
    b.append(text(LEFT + plotW / 2.0, TOP + plotH + 34, "middle", 11, xLabel));
    b.append(
        String.format(
            Locale.ROOT,
            "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
            TOP + plotH / 2.0,
            Report.escape(yLabel)));
    // series
    int legendX = LEFT;
    for (Series s : series) {
      StringBuilder d = new StringBuilder();
      StringBuilder marks = new StringBuilder();
      for (double[] p : s.points()) {
        if (!finite(p)) {
          continue;
        }
        double x = px.applyAsDouble(p[0]);
        double y = py.applyAsDouble(Math.max(y0, p[1]));
        d.append(d.length() == 0 ? "M" : " L")
            .append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
        if (s.points().size() <= 40) {
          marks.append(
              String.format(
                  Locale.ROOT,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"><title>%s: %s, %s</title>"
                      + "</circle>\n",
                  x,
                  y,
                  s.color(),
                  Report.escape(s.name()),
                  Report.number(p[0]),
                  Report.number(p[1])));
        }
      }
      if (d.length() > 0) {
        b.append(
            String.format(
                Locale.ROOT,
                "<path class=\"series\" data-series=\"%s\" d=\"%s\" fill=\"none\" stroke=\"%s\""
                    + " stroke-width=\"2\"%s/>\n",
                Report.escape(s.name()),
                d,
                s.color(),
                s.color().equals(REFERENCE_COLOR) ? " stroke-dasharray=\"4 3\"" : ""));
        b.append(marks);
      }
      b.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/>\n",
              legendX,
              H - 14,
              s.color()));
      b.append(text(legendX + 16, H - 10, "start", 11, s.name()));
      legendX += 24 + 6 * s.name().length();
    }
    return b.append("</svg>\n").toString();
  }

  private static String text(double x, double y, String anchor, int size, String s) {
    return String.format(
        Locale.ROOT,
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>\n",
        x,
        y,
        anchor,
        size,
        Report.escape(s));
  }

  private List<Double> yTicks(double min, double max) {
    if (!logY) {
      return linearTicks(min, max);
    }
    List<Double> ticks = new ArrayList<>();
    for (double t = min; t <= max * 1.0001; t *= 10) {
      ticks.add(t);
    }
    return ticks;
  }

  private static List<Double> linearTicks(double min, double max) {
    double span = max - min;
    double step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    if (span / step > 10) {
      step *= 2;
    }
    if (span / step > 10) {
      step *= 2.5;
    }
    List<Double> ticks = new ArrayList<>();
    for (double t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
      ticks.add(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }
}
