package io.otlp4j.queue;

import static io.otlp4j.queue.DurableQueue.readFully;

import io.otlp4j.core.MetricsRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link DurableQueue}'s {@code otlp4j_queue_*} self-metrics: the counters and histograms the
 * writer and {@code append} record into, and the gauges read at scrape time (size and capacity, and
 * per consumer pending bytes, records and the oldest pending record's age). Thread-safe (the
 * registry's instruments are); the gauges read the queue's volatile state and may race with the
 * writer, which only makes a scrape a little stale.
 */
final class QueueMetrics {

  private static final double[] FSYNC_SECONDS_BOUNDS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
  };
  private static final double[] GROUP_SIZE_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  private final MetricsRegistry registry;
  private final String queueName;
  final MetricsRegistry.Counter droppedRecords;
  final MetricsRegistry.Counter refusedRecords;
  final MetricsRegistry.Counter appendedRecords;
  final MetricsRegistry.Counter appendedBytes;
  final MetricsRegistry.Histogram fsyncSeconds;
  final MetricsRegistry.Histogram groupSize;

  QueueMetrics(MetricsRegistry registry, String queueName, AtomicLong sizeBytes, long maxBytes) {
    this.registry = registry;
    this.queueName = queueName;
    this.droppedRecords =
        registry.counter(
            "otlp4j_queue_dropped_records",
            "Records deleted unread by the DROP_OLDEST policy",
            "queue",
            queueName);
    this.refusedRecords =
        registry.counter(
            "otlp4j_queue_refused_records",
            "Appends refused (queue full, disk full or failed, backlog full, closed)",
            "queue",
            queueName);
    this.appendedRecords =
        registry.counter("otlp4j_queue_appended_records", "Records appended", "queue", queueName);
    this.appendedBytes =
        registry.counter(
            "otlp4j_queue_appended_bytes", "Payload bytes appended", "queue", queueName);
    this.fsyncSeconds =
        registry.histogram(
            "otlp4j_queue_fsync_seconds",
            "Time one force() of a segment took",
            FSYNC_SECONDS_BOUNDS,
            "queue",
            queueName);
    this.groupSize =
        registry.histogram(
            "otlp4j_queue_group_size",
            "Appends carried by one group commit (one write, one force)",
            GROUP_SIZE_BOUNDS,
            "queue",
            queueName);
    registry.gauge(
        "otlp4j_queue_size_bytes",
        "Bytes of segment files on disk",
        sizeBytes::get,
        "queue",
        queueName);
    registry.gauge(
        "otlp4j_queue_capacity_bytes",
        "The most bytes of segment files the queue may hold (max_size_mib)",
        () -> maxBytes,
        "queue",
        queueName);
  }

  /**
   * Registers the per-consumer gauges of {@code queue}'s consumers (after recovery placed them).
   */
  void registerConsumers(DurableQueue queue) {
    for (QueueConsumer consumer : queue.consumers.values()) {
      registry.gauge(
          "otlp4j_queue_pending_bytes",
          "Bytes queued that the consumer has not committed",
          consumer::pendingBytes,
          "queue",
          queueName,
          "consumer",
          consumer.name());
      registry.gauge(
          "otlp4j_queue_pending_records",
          "Records queued that the consumer has not committed",
          consumer::pendingRecords,
          "queue",
          queueName,
          "consumer",
          consumer.name());
      registry.gauge(
          "otlp4j_queue_oldest_record_age_seconds",
          "Age of the oldest record the consumer has not committed, 0 when none",
          () -> oldestPendingAgeSeconds(queue, consumer),
          "queue",
          queueName,
          "consumer",
          consumer.name());
    }
  }

  private static double oldestPendingAgeSeconds(DurableQueue queue, QueueConsumer consumer) {
    long position = consumer.checkpoint();
    if (position >= queue.publishedTail) {
      return 0;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
      Segment segment = queue.segmentAt(position);
      if (segment == null) {
        segment = queue.firstSegment();
        if (segment == null) {
          return 0;
        }
        position = segment.base;
      }
      if (position >= segment.visibleEnd()) {
        Segment next = queue.segmentAfter(segment);
        if (next == null) {
          return 0;
        }
        position = next.base;
        continue;
      }
      try (FileChannel channel = FileChannel.open(segment.path, StandardOpenOption.READ)) {
        ByteBuffer header = ByteBuffer.allocate(RecordFormat.HEADER_BYTES);
        readFully(channel, header, position - segment.base);
        long age = queue.millisClock.getAsLong() - RecordFormat.appendedAtMillis(header);
        return Math.max(0, age) / 1000.0;
      } catch (IOException e) {
        position = consumer.checkpoint(); // deleted meanwhile: look again
      }
    }
    return 0;
  }
}
