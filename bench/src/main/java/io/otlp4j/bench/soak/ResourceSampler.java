package io.otlp4j.bench.soak;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Samples the relay's resources from outside: resident set and threads ({@code /proc/<pid>/status}
 * {@code VmRSS}, {@code Threads}), open file descriptors (the entries of {@code /proc/<pid>/fd}),
 * the heap after a full GC ({@code jcmd <pid> GC.run}, then the relay's own {@code
 * otelcol_process_runtime_heap_alloc_bytes} from its admin {@code /metrics}) and the direct memory
 * its Netty allocator holds ({@code otlp4j_buffer_pool_used_bytes{memory="direct"}}, summed over
 * allocators).
 *
 * <p>One sampling thread; not thread-safe.
 */
final class ResourceSampler {

  /** One reading; {@code seconds} since the soak began, memory in MiB, -1 where unreadable. */
  record Sample(
      double seconds,
      long pid,
      double rssMiB,
      double heapAfterGcMiB,
      double directMiB,
      double fds,
      double threads) {}

  private static final double MIB = 1024.0 * 1024.0;

  private final int adminPort;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");

  ResourceSampler(int adminPort) {
    this.adminPort = adminPort;
  }

  /** Samples process {@code pid}; null when it is gone or does not answer (a kill in between). */
  Sample sample(double seconds, long pid) throws InterruptedException {
    Path proc = Path.of("/proc", Long.toString(pid));
    long rssKb = -1;
    long threads = -1;
    try {
      for (String line : Files.readAllLines(proc.resolve("status"))) {
        if (line.startsWith("VmRSS:")) {
          rssKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
        } else if (line.startsWith("Threads:")) {
          threads = Long.parseLong(line.substring("Threads:".length()).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    long fds;
    try (Stream<Path> entries = Files.list(proc.resolve("fd"))) {
      fds = entries.count();
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (!fullGc(pid)) {
      return null;
    }
    double[] scraped = scrape();
    if (scraped == null) {
      return null;
    }
    return new Sample(
        seconds, pid, rssKb / 1024.0, scraped[0] / MIB, scraped[1] / MIB, fds, threads);
  }

  private boolean fullGc(long pid) throws InterruptedException {
    try {
      Process p =
          new ProcessBuilder(jcmd.toString(), Long.toString(pid), "GC.run")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** {heap used, direct} in bytes, or null when the admin endpoint does not answer. */
  private double[] scrape() throws InterruptedException {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        return null;
      }
      double heap = -1;
      double direct = 0;
      for (String line : response.body().split("\n")) {
        if (line.startsWith("otelcol_process_runtime_heap_alloc_bytes ")
            || line.startsWith("otelcol_process_runtime_heap_alloc_bytes{")) {
          heap = value(line);
        } else if (line.startsWith("otlp4j_buffer_pool_used_bytes{")
            && line.contains("memory=\"direct\"")) {
          direct += value(line);
        }
      }
      return new double[] {heap, direct};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static double value(String line) {
    return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
  }

  /**
   * The flatness test of one resource: a least-squares line through the samples of a window; the
   * resource is flat when the growth the line predicts across the window ({@code slope × length})
   * is at most {@code tolerance = max(relative × median, floor)}.
   */
  record Flatness(
      String resource,
      int samples,
      double median,
      double slopePerMinute,
      double growth,
      double tolerance,
      boolean flat) {}

  static Flatness flatness(String resource, List<double[]> points, double relative, double floor) {
    int n = points.size();
    if (n < 3) {
      return new Flatness(resource, n, Double.NaN, Double.NaN, Double.NaN, floor, false);
    }
    double sx = 0;
    double sy = 0;
    for (double[] p : points) {
      sx += p[0];
      sy += p[1];
    }
    double mx = sx / n;
    double my = sy / n;
    double sxx = 0;
    double sxy = 0;
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = Double.NEGATIVE_INFINITY;
    for (double[] p : points) {
      sxx += (p[0] - mx) * (p[0] - mx);
      sxy += (p[0] - mx) * (p[1] - my);
      xMin = Math.min(xMin, p[0]);
      xMax = Math.max(xMax, p[0]);
    }
    double slope = sxx == 0 ? 0 : sxy / sxx; // per second
    List<Double> ys = new ArrayList<>();
    for (double[] p : points) {
      ys.add(p[1]);
    }
    ys.sort(null);
    double median = ys.get(n / 2);
    double growth = slope * (xMax - xMin);
    double tolerance = Math.max(relative * median, floor);
    return new Flatness(resource, n, median, slope * 60, growth, tolerance, growth <= tolerance);
  }
}
