package io.otlp4j.relay;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PoolChunkListMetric;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import io.otlp4j.core.MetricsRegistry;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * The relay's buffer pool in {@code /metrics}: the Netty allocator that the receivers, the batches
 * and the exporters draw every request buffer from (the object pool of the relay; otlp4j keeps no
 * pool of its own). Gauges, read on each scrape, labelled {@code allocator} (the allocator's kind:
 * {@code adaptive}, Netty 4.2's default, or {@code pooled}) and {@code memory} ({@code heap} or
 * {@code direct}):
 *
 * <ul>
 *   <li>{@code otlp4j_buffer_pool_used_bytes}: memory the allocator holds from the JVM or the OS
 *       (its chunks, whether or not a buffer uses them now);
 *   <li>for a {@code PooledByteBufAllocator} also {@code otlp4j_buffer_pool_arenas}, {@code
 *       otlp4j_buffer_pool_chunks}, {@code otlp4j_buffer_pool_active_allocations} (buffers
 *       allocated and not yet released), {@code otlp4j_buffer_pool_chunk_size_bytes} and {@code
 *       otlp4j_buffer_pool_thread_caches}.
 * </ul>
 *
 * <p>A scrape walks the arenas' chunk lists (a few dozen objects); nothing is read on the data
 * path. Stateless; the gauges are thread-safe as Netty's metric objects are.
 */
final class BufferPoolMetrics {

  private BufferPoolMetrics() {}

  /** Registers the gauges of {@code allocator} (one without metrics registers nothing). */
  static void register(MetricsRegistry registry, ByteBufAllocator allocator) {
    if (!(allocator instanceof ByteBufAllocatorMetricProvider)) {
      return;
    }
    ByteBufAllocatorMetric metric = ((ByteBufAllocatorMetricProvider) allocator).metric();
    String kind = kind(allocator);
    registry.gauge(
        "otlp4j_buffer_pool_used_bytes",
        "Bytes the buffer allocator holds (its chunks).",
        metric::usedHeapMemory,
        "allocator",
        kind,
        "memory",
        "heap");
    registry.gauge(
        "otlp4j_buffer_pool_used_bytes",
        "Bytes the buffer allocator holds (its chunks).",
        metric::usedDirectMemory,
        "allocator",
        kind,
        "memory",
        "direct");
    if (!(metric instanceof PooledByteBufAllocatorMetric)) {
      return;
    }
    PooledByteBufAllocatorMetric pooled = (PooledByteBufAllocatorMetric) metric;
    perMemory(
        registry,
        kind,
        "otlp4j_buffer_pool_arenas",
        "Arenas of the pooled allocator.",
        pooled.heapArenas(),
        pooled.directArenas(),
        arenas -> arenas.size());
    perMemory(
        registry,
        kind,
        "otlp4j_buffer_pool_chunks",
        "Chunks the pooled allocator's arenas hold.",
        pooled.heapArenas(),
        pooled.directArenas(),
        BufferPoolMetrics::chunks);
    perMemory(
        registry,
        kind,
        "otlp4j_buffer_pool_active_allocations",
        "Buffers allocated from the pooled allocator and not yet released.",
        pooled.heapArenas(),
        pooled.directArenas(),
        BufferPoolMetrics::activeAllocations);
    registry.gauge(
        "otlp4j_buffer_pool_chunk_size_bytes",
        "Size of one chunk of the pooled allocator.",
        pooled::chunkSize,
        "allocator",
        kind);
    registry.gauge(
        "otlp4j_buffer_pool_thread_caches",
        "Thread-local caches of the pooled allocator.",
        pooled::numThreadLocalCaches,
        "allocator",
        kind);
  }

  private static void perMemory(
      MetricsRegistry registry,
      String kind,
      String name,
      String help,
      List<PoolArenaMetric> heap,
      List<PoolArenaMetric> direct,
      ToLongFunction<List<PoolArenaMetric>> value) {
    registry.gauge(name, help, () -> value.applyAsLong(heap), "allocator", kind, "memory", "heap");
    registry.gauge(
        name, help, () -> value.applyAsLong(direct), "allocator", kind, "memory", "direct");
  }

  private static long chunks(List<PoolArenaMetric> arenas) {
    long chunks = 0;
    for (PoolArenaMetric arena : arenas) {
      for (PoolChunkListMetric list : arena.chunkLists()) {
        java.util.Iterator<?> it = list.iterator();
        while (it.hasNext()) {
          it.next();
          chunks++;
        }
      }
    }
    return chunks;
  }

  private static long activeAllocations(List<PoolArenaMetric> arenas) {
    long active = 0;
    for (PoolArenaMetric arena : arenas) {
      active += Math.max(0, arena.numActiveAllocations());
    }
    return active;
  }

  /**
   * {@code adaptive}, {@code pooled}, {@code unpooled}: the allocator's class name less its suffix.
   */
  static String kind(ByteBufAllocator allocator) {
    String name = allocator.getClass().getSimpleName();
    if (name.endsWith("ByteBufAllocator")) {
      name = name.substring(0, name.length() - "ByteBufAllocator".length());
    }
    return name.isEmpty() ? "netty" : name.toLowerCase(Locale.ROOT);
  }
}
