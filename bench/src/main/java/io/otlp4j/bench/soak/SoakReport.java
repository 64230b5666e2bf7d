package io.otlp4j.bench.soak;

import io.otlp4j.bench.command.SvgChart;
import io.otlp4j.bench.soak.ResourceSampler.Sample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Writes a soak's report: {@code summary.txt} (the summary the runner prints), {@code samples.csv}
 * (every resource sample) and {@code soak-resources.svg} (the resource curves, one panel each,
 * drawn with the {@code ./otlp4j bench} report's {@link SvgChart}).
 */
final class SoakReport {
  private static final int PANEL_W = 560;
  private static final int PANEL_H = 320;
  private static final String COLOR = "#2b6cb0";

  private SoakReport() {}

  static void write(SoakResult result, Path out) throws IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("summary.txt"), result.summaryText());
    StringBuilder csv =
        new StringBuilder("seconds,pid,rss_mib,heap_after_gc_mib,direct_mib,fds,threads\n");
    for (Sample s : result.samples()) {
      csv.append(
          String.format(
              Locale.ROOT,
              "%.1f,%d,%.2f,%.2f,%.2f,%.0f,%.0f%n",
              s.seconds(),
              s.pid(),
              s.rssMiB(),
              s.heapAfterGcMiB(),
              s.directMiB(),
              s.fds(),
              s.threads()));
    }
    Files.writeString(out.resolve("samples.csv"), csv);
    Files.writeString(out.resolve("soak-resources.svg"), chart(result));
  }

  static String chart(SoakResult result) {
    List<String> panels = new ArrayList<>();
    String when =
        String.format(
            Locale.ROOT,
            " (%d SIGKILLs before %s)",
            result.kills().size(),
            ChaosSoak.clock(result.options().killsUntil() * result.options().seconds()));
    panels.add(panel("rss", "Relay resident set" + when, "MiB", result, Sample::rssMiB));
    panels.add(
        panel("heap", "Relay heap after a full GC" + when, "MiB", result, Sample::heapAfterGcMiB));
    panels.add(
        panel("direct", "Relay direct memory (Netty allocator)", "MiB", result, Sample::directMiB));
    panels.add(panel("fds", "Relay open file descriptors", "count", result, Sample::fds));
    panels.add(panel("threads", "Relay threads", "count", result, Sample::threads));
    StringBuilder b = new StringBuilder();
    int rows = (panels.size() + 1) / 2;
    b.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d"
                + " %d\">%n",
            2 * PANEL_W,
            rows * PANEL_H,
            2 * PANEL_W,
            rows * PANEL_H));
    b.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    for (int i = 0; i < panels.size(); i++) {
      String svg = panels.get(i);
      String placed =
          svg.replaceFirst(
              "<svg ",
              String.format(
                  Locale.ROOT, "<svg x=\"%d\" y=\"%d\" ", (i % 2) * PANEL_W, (i / 2) * PANEL_H));
      b.append(placed);
    }
    return b.append("</svg>\n").toString();
  }

  private static String panel(
      String id, String title, String unit, SoakResult result, ToDoubleFunction<Sample> value) {
    List<double[]> points = new ArrayList<>();
    for (Sample s : result.samples()) {
      double v = value.applyAsDouble(s);
      if (v >= 0) {
        points.add(new double[] {s.seconds() / 60, v});
      }
    }
    return new SvgChart(
            "soak-" + id,
            title,
            "minutes into the soak",
            unit,
            List.of(new SvgChart.Series("relay", COLOR, points)),
            false,
            null)
        .svg();
  }
}
