package io.otlp4j.queue;

import static io.otlp4j.queue.DurableQueue.LOGGER;
import static io.otlp4j.queue.DurableQueue.closeQuietly;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link DurableQueue}'s disk accounting and reclamation: deletes whole segments once every
 * consumer has committed past them, and keeps the queue's size in bytes in step with the files.
 *
 * <h2>Concurrency</h2>
 *
 * {@link #reclaim} runs on any consumer's thread after a commit, {@link #delete} on the writer
 * (under segmentsLock) too; both hold the queue's segmentsLock while they remove segments.
 * Reclamation never deletes the active segment nor any segment at or after the base where the
 * writer's current group started (groupStartBase), so it cannot delete bytes written but not yet
 * published.
 */
final class SegmentReclaimer {

  private final DurableQueue queue;
  private final ConcurrentSkipListMap<Long, Segment> segments;
  private final Object segmentsLock;
  private final Map<String, QueueConsumer> consumers;
  private final AtomicLong sizeBytes;

  SegmentReclaimer(DurableQueue queue) {
    this.queue = queue;
    this.segments = queue.segments;
    this.segmentsLock = queue.segmentsLock;
    this.consumers = queue.consumers;
    this.sizeBytes = queue.sizeBytes;
  }

  long minCheckpoint() {
    long min = Long.MAX_VALUE;
    for (QueueConsumer consumer : consumers.values()) {
      min = Math.min(min, consumer.checkpoint());
    }
    return min;
  }

  /** Deletes every whole segment all consumers have committed past (called after a commit). */
  void reclaim() {
    synchronized (segmentsLock) {
      long min = minCheckpoint();
      while (true) {
        Map.Entry<Long, Segment> first = segments.firstEntry();
        if (first == null) {
          return;
        }
        Segment segment = first.getValue();
        if (segment == queue.active
            || segment.base >= queue.groupStartBase
            || segment.visibleEnd() > min) {
          return;
        }
        delete(segment);
      }
    }
  }

  /** Deletes {@code segment}'s file. Caller holds segmentsLock; never the active segment. */
  void delete(Segment segment) {
    segment.deleted = true;
    segments.remove(segment.base);
    closeQuietly(segment.channel);
    segment.channel = null;
    sizeBytes.addAndGet(-Math.max(segment.writeLength, segment.visibleLength));
    try {
      Files.deleteIfExists(segment.path);
    } catch (IOException e) {
      LOGGER.log(System.Logger.Level.WARNING, "could not delete segment " + segment.path, e);
    }
  }
}
