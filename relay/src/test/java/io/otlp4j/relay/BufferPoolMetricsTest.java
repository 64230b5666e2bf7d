package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.otlp4j.core.MetricsRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BufferPoolMetricsTest {

  private static String scrape(MetricsRegistry registry) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    registry.writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  private static double sample(String text, String name, String... labels) {
    return RelayUnderTest.sample(text, name, labels);
  }

  @Test
  void pooledAllocatorReportsUsedMemoryChunksAndLiveBuffers() throws IOException {
    PooledByteBufAllocator allocator = new PooledByteBufAllocator(true, 1, 1, 8192, 9);
    MetricsRegistry registry = MetricsRegistry.create();
    BufferPoolMetrics.register(registry, allocator);
    String before = scrape(registry);
    assertThat(
            sample(
                before, "otlp4j_buffer_pool_used_bytes", "allocator", "pooled", "memory", "direct"))
        .isZero();
    assertThat(
            sample(before, "otlp4j_buffer_pool_arenas", "allocator", "pooled", "memory", "direct"))
        .isEqualTo(1);
    assertThat(sample(before, "otlp4j_buffer_pool_chunk_size_bytes", "allocator", "pooled"))
        .isEqualTo(allocator.metric().chunkSize());

    ByteBuf first = allocator.directBuffer(100_000);
    ByteBuf second = allocator.directBuffer(1_000);
    try {
      String during = scrape(registry);
      assertThat(
              sample(
                  during,
                  "otlp4j_buffer_pool_used_bytes",
                  "allocator",
                  "pooled",
                  "memory",
                  "direct"))
          .isGreaterThanOrEqualTo(100_000);
      assertThat(
              sample(
                  during, "otlp4j_buffer_pool_chunks", "allocator", "pooled", "memory", "direct"))
          .isGreaterThanOrEqualTo(1);
      assertThat(
              sample(
                  during,
                  "otlp4j_buffer_pool_active_allocations",
                  "allocator",
                  "pooled",
                  "memory",
                  "direct"))
          .isEqualTo(2);
      assertThat(
              sample(
                  during,
                  "otlp4j_buffer_pool_active_allocations",
                  "allocator",
                  "pooled",
                  "memory",
                  "heap"))
          .isZero();
    } finally {
      first.release();
      second.release();
    }
    assertThat(
            sample(
                scrape(registry),
                "otlp4j_buffer_pool_active_allocations",
                "allocator",
                "pooled",
                "memory",
                "direct"))
        .isZero();
  }

  @Test
  void adaptiveAllocatorReportsTheMemoryItHolds() throws IOException {
    AdaptiveByteBufAllocator allocator = new AdaptiveByteBufAllocator();
    MetricsRegistry registry = MetricsRegistry.create();
    BufferPoolMetrics.register(registry, allocator);
    ByteBuf buffer = allocator.directBuffer(50_000);
    try {
      assertThat(
              sample(
                  scrape(registry),
                  "otlp4j_buffer_pool_used_bytes",
                  "allocator",
                  "adaptive",
                  "memory",
                  "direct"))
          .isGreaterThanOrEqualTo(50_000);
    } finally {
      buffer.release();
    }
    assertThat(scrape(registry)).doesNotContain("otlp4j_buffer_pool_chunks");
  }

  @Test
  void kindNamesTheAllocator() {
    assertThat(BufferPoolMetrics.kind(new PooledByteBufAllocator())).isEqualTo("pooled");
    assertThat(BufferPoolMetrics.kind(new AdaptiveByteBufAllocator())).isEqualTo("adaptive");
    assertThat(BufferPoolMetrics.kind(UnpooledByteBufAllocator.DEFAULT)).isEqualTo("unpooled");
  }
}
