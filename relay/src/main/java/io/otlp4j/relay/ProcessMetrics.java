package io.otlp4j.relay;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.dashboard.ProcessReadings;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.RuntimeMXBean;
import java.util.List;

/**
 * The process metrics the Collector's service emits, under its names, read from the JVM on each
 * scrape (nothing runs between scrapes):
 *
 * <ul>
 *   <li>{@code otelcol_process_uptime} (counter, seconds since the JVM started; also as {@code
 *       otelcol_process_uptime_seconds}, the name a Collector shows when its Prometheus reader
 *       appends units);
 *   <li>{@code otelcol_process_cpu_seconds} (counter, user + system CPU time of the process);
 *   <li>{@code otelcol_process_memory_rss} (gauge, bytes resident, from {@code /proc/self/status};
 *       also as {@code otelcol_process_memory_rss_bytes}; absent where there is no {@code /proc});
 *   <li>{@code otelcol_process_runtime_heap_alloc_bytes} (gauge, bytes of the Java heap in use: the
 *       JVM's counterpart of Go's {@code HeapAlloc});
 *   <li>{@code otelcol_process_runtime_total_sys_memory_bytes} (gauge, memory the JVM obtained from
 *       the operating system: heap and non-heap committed, plus the JDK's direct and mapped buffer
 *       pools; Netty's own direct memory is in {@code otlp4j_buffer_pool_used_bytes}).
 * </ul>
 *
 * <p>And otlp4j's JVM additions: {@code otlp4j_jvm_heap_max_bytes}, and per garbage collector
 * {@code otlp4j_jvm_gc_collections} and {@code otlp4j_jvm_gc_collection_seconds} (counters, label
 * {@code gc}). The Collector's {@code otelcol_process_runtime_total_alloc_bytes} (bytes ever
 * allocated) has no cheap JVM counterpart on Java 17 and is not emitted.
 *
 * <p>Thread-safe: every value is read by the scraping thread from thread-safe MXBeans.
 */
final class ProcessMetrics {

  private ProcessMetrics() {}

  /** Registers the process metrics in {@code metrics}. */
  static void register(MetricsRegistry metrics) {
    RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
    String uptimeHelp = "Uptime of the process";
    metrics.counter("otelcol_process_uptime", uptimeHelp, () -> runtime.getUptime() / 1e3);
    metrics.counter(
        "otelcol_process_uptime_seconds",
        uptimeHelp + ", in seconds",
        () -> runtime.getUptime() / 1e3);

    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun
        && sun.getProcessCpuTime() >= 0) {
      metrics.counter(
          "otelcol_process_cpu_seconds",
          "Total CPU user and system time in seconds",
          () -> sun.getProcessCpuTime() / 1e9);
    }

    if (!Double.isNaN(ProcessReadings.rssBytes())) {
      String rssHelp = "Total physical memory (resident set size)";
      metrics.gauge("otelcol_process_memory_rss", rssHelp, ProcessReadings::rssBytes);
      metrics.gauge(
          "otelcol_process_memory_rss_bytes", rssHelp + ", in bytes", ProcessReadings::rssBytes);
    }

    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    metrics.gauge(
        "otelcol_process_runtime_heap_alloc_bytes",
        "Bytes of allocated heap objects (the Java heap in use)",
        () -> memory.getHeapMemoryUsage().getUsed());
    List<BufferPoolMXBean> pools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
    metrics.gauge(
        "otelcol_process_runtime_total_sys_memory_bytes",
        "Total bytes of memory obtained from the OS (heap and non-heap committed, JDK buffer pools)",
        () -> {
          long total =
              memory.getHeapMemoryUsage().getCommitted()
                  + memory.getNonHeapMemoryUsage().getCommitted();
          for (BufferPoolMXBean pool : pools) {
            total += Math.max(0, pool.getMemoryUsed());
          }
          return total;
        });
    metrics.gauge(
        "otlp4j_jvm_heap_max_bytes",
        "The largest the Java heap may grow (-Xmx), -1 when undefined",
        () -> memory.getHeapMemoryUsage().getMax());
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      metrics.counter(
          "otlp4j_jvm_gc_collections",
          "Garbage collections, by collector",
          () -> Math.max(0, gc.getCollectionCount()),
          "gc",
          gc.getName());
      metrics.counter(
          "otlp4j_jvm_gc_collection_seconds",
          "Time spent in garbage collections (pauses and concurrent cycles), by collector",
          () -> Math.max(0, gc.getCollectionTime()) / 1e3,
          "gc",
          gc.getName());
    }
  }
}
