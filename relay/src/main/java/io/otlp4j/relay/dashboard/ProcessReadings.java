package io.otlp4j.relay.dashboard;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The process figures the dashboard shows when the registry has no {@code otelcol_process_*} metric
 * for them, read from the JVM's management beans (CPU time, heap, garbage collection) and, on
 * Linux, {@code /proc/self/status} (resident set size). Every method returns NaN when the platform
 * does not give the figure. Thread-safe; each call costs microseconds.
 */
public final class ProcessReadings {
  private static final Path STATUS = Path.of("/proc/self/status");

  private final List<GarbageCollectorMXBean> collectors =
      ManagementFactory.getGarbageCollectorMXBeans();

  /** CPU time used by the process so far, in seconds. */
  double cpuSeconds() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean) {
      long nanos = ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
      return nanos < 0 ? Double.NaN : nanos / 1e9;
    }
    return Double.NaN;
  }

  ProcessReadings() {}

  /**
   * Resident set size in bytes ({@code VmRSS} of {@code /proc/self/status}), NaN off Linux or where
   * the file has another shape. Also what the relay's {@code otelcol_process_memory_rss} reads.
   */
  public static double rssBytes() {
    try {
      for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024.0; // the kernel writes kB
        }
      }
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
    return Double.NaN;
  }

  /** Heap in use, in bytes. */
  double heapUsedBytes() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Heap committed (reserved from the system), in bytes. */
  double heapCommittedBytes() {
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return heap.getCommitted();
  }

  /** Collections so far, all collectors together. */
  double gcCount() {
    long n = 0;
    for (GarbageCollectorMXBean gc : collectors) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  /** Time spent collecting so far, all collectors together, in seconds. */
  double gcSeconds() {
    long ms = 0;
    for (GarbageCollectorMXBean gc : collectors) {
      ms += Math.max(0, gc.getCollectionTime());
    }
    return ms / 1000.0;
  }
}
