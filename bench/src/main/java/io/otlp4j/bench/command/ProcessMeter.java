package io.otlp4j.bench.command;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Samples one process from outside, every {@code periodMs}: its CPU time ({@link
 * ProcessHandle.Info#totalCpuDuration()}: user + system, all threads) and resident set ({@code
 * VmRSS} of {@code /proc/<pid>/status}). Keeps every sample for the report's charts and answers the
 * peak and mean RSS between two instants.
 *
 * <p>Thread-safety: samples are taken on the given timer's thread and read by the driver; the
 * sample list is guarded by {@code this}.
 */
public final class ProcessMeter implements AutoCloseable {

  private static final double MIB = 1024.0 * 1024.0;

  private final ProcessHandle process;
  private final long startNanos = System.nanoTime();
  private final List<long[]> samples = new ArrayList<>(); // {nanoTime, cpu ns, rss bytes}
  private final ScheduledFuture<?> sampling;

  public ProcessMeter(ProcessHandle process, long periodMs, ScheduledExecutorService timer) {
    this.process = process;
    sample();
    this.sampling =
        timer.scheduleAtFixedRate(this::sample, periodMs, periodMs, TimeUnit.MILLISECONDS);
  }

  private void sample() {
    long rss = rssBytes(process.pid());
    long cpu = cpuNanos(process);
    if (rss < 0 || cpu < 0) {
      return; // the process is gone, or /proc cannot be read
    }
    synchronized (this) {
      samples.add(new long[] {System.nanoTime(), cpu, rss});
    }
  }

  /** CPU time the process has used so far (ns), or -1 when it cannot be read. */
  public long cpuNanos() {
    return cpuNanos(process);
  }

  /** The largest and the mean RSS (MiB) sampled between {@code fromNanos} and {@code toNanos}. */
  public synchronized double[] rssMiB(long fromNanos, long toNanos) {
    double max = Double.NaN;
    double sum = 0;
    int n = 0;
    for (long[] s : samples) {
      if (s[0] >= fromNanos && s[0] <= toNanos) {
        double mib = s[2] / MIB;
        max = Double.isNaN(max) ? mib : Math.max(max, mib);
        sum += mib;
        n++;
      }
    }
    return new double[] {max, n == 0 ? Double.NaN : sum / n};
  }

  /** Seconds since this meter started, at {@code nanos}. */
  public double secondsAt(long nanos) {
    return (nanos - startNanos) / 1e9;
  }

  /** Every sample as {seconds since start, CPU % of one core since the last sample, RSS MiB}. */
  public synchronized List<double[]> series() {
    List<double[]> out = new ArrayList<>();
    for (int i = 1; i < samples.size(); i++) {
      long[] a = samples.get(i - 1);
      long[] b = samples.get(i);
      double wall = b[0] - a[0];
      out.add(
          new double[] {secondsAt(b[0]), wall <= 0 ? 0 : 100.0 * (b[1] - a[1]) / wall, b[2] / MIB});
    }
    return out;
  }

  @Override
  public void close() {
    sampling.cancel(false);
  }

  /** CPU time of {@code process} so far (ns), or -1. */
  public static long cpuNanos(ProcessHandle process) {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** The resident set of process {@code pid} in bytes, or -1 where {@code /proc} has none. */
  public static long rssBytes(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
