package io.otlp4j.bench.relay;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The measurements of {@link RelayPassThroughBench}: one window, all windows of one middle, the
 * upstream-down samples, and the statistics over windows. Filled by the benchmark's driver thread,
 * read by its report once the measurements are over; not thread-safe.
 */
final class RelayBenchResults {

  static final double MIB = 1024.0 * 1024.0;

  private RelayBenchResults() {}

  /** One measurement window. */
  static final class Window {
    int spansPerRequest;
    double seconds;
    long bytes;
    double spans;
    long middleCpuNanos;
    long driverCpuNanos;
    long succeeded;
    long failed;
    long dropped;
    long maxRss;
    Histogram latency;

    double spansPerSecond() {
      return spans / seconds;
    }

    double mbPerSecond() {
      return bytes / 1e6 / seconds;
    }

    /**
     * Requests per second arriving upstream (bytes over request size: batching merges requests).
     */
    double requestsPerSecond() {
      return spansPerSecond() / spansPerRequest;
    }

    double middleCpuMicrosPerSpan() {
      return spans == 0 ? Double.NaN : middleCpuNanos / 1e3 / spans;
    }

    double driverCpuMicrosPerSpan() {
      return spans == 0 ? Double.NaN : driverCpuNanos / 1e3 / spans;
    }

    double latencyMs(double percentile) {
      return latency == null || latency.getTotalCount() == 0
          ? Double.NaN
          : latency.getValueAtPercentile(percentile) / 1e6;
    }

    double maxRssMiB() {
      return maxRss / MIB;
    }

    double refusedPerSecond() {
      return failed / seconds;
    }
  }

  /** All windows of one middle. */
  static final class Run {
    final String protocol;
    final String middle;
    final String ackMode;
    final List<Window> throughput = new ArrayList<>();
    final List<Window> latency = new ArrayList<>();
    double latencyRate;

    Run(String protocol, String middle, String ackMode) {
      this.protocol = protocol;
      this.middle = middle;
      this.ackMode = ackMode;
    }
  }

  /**
   * One second of the upstream-down phase: accepted/refused exports, spans the exporter gave up.
   */
  record DownSample(
      int second, long rss, long memoryUsed, long accepted, long refused, long droppedSpans) {}

  static final class DownRun {
    final String protocol;
    final double rate;
    final int seconds;
    DownSample before;
    final List<DownSample> samples = new ArrayList<>();

    DownRun(String protocol, double rate, int seconds) {
      this.protocol = protocol;
      this.rate = rate;
      this.seconds = seconds;
    }

    /** RSS growth over the second half of the down phase, after the queue has filled. */
    long rssGrowthSecondHalf() {
      if (samples.size() < 2) {
        return 0;
      }
      int mid = samples.size() / 2;
      return samples.get(samples.size() - 1).rss - samples.get(mid - 1).rss;
    }

    long maxRss() {
      return samples.stream().mapToLong(DownSample::rss).max().orElse(-1);
    }

    /** The first second of the down phase in which the relay refused, or -1. */
    int firstRefusalSecond() {
      return samples.stream()
          .filter(s -> s.refused > 0)
          .mapToInt(DownSample::second)
          .findFirst()
          .orElse(-1);
    }

    long maxMemoryUsed() {
      return samples.stream().mapToLong(DownSample::memoryUsed).max().orElse(-1);
    }
  }

  interface Metric {
    double of(Window w);
  }

  static double mean(List<Window> windows, Metric metric) {
    return windows.stream().mapToDouble(metric::of).average().orElse(Double.NaN);
  }

  static double stddev(List<Window> windows, Metric metric) {
    if (windows.size() < 2) {
      return 0;
    }
    double mean = mean(windows, metric);
    double sum = 0;
    for (Window w : windows) {
      double d = metric.of(w) - mean;
      sum += d * d;
    }
    return Math.sqrt(sum / (windows.size() - 1));
  }
}
