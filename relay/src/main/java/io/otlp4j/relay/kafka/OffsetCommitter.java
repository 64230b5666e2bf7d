package io.otlp4j.relay.kafka;

import io.otlp4j.core.ThrottledLog;
import io.otlp4j.wire.Signal;
import java.lang.System.Logger.Level;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Commits what became committable in the kafka receiver's partitions ({@link
 * PartitionState#safeOffset}): asynchronously on its turns, synchronously on a rebalance and at
 * shutdown. A failed commit is logged (throttled) and retried with the next one, which carries the
 * same or a later offset. Consumer thread only.
 */
final class OffsetCommitter {
  private static final System.Logger LOG = System.getLogger(KafkaReceiver.class.getName());

  private final Consumer<byte[], byte[]> consumer;
  private final String id;
  private final Map<Signal, Long> holdNanos;
  private final ReceiverCounters counters;
  private final ThrottledLog warnings;

  /**
   * @param holdNanos per signal, how long its pipelines may hold accepted data
   */
  OffsetCommitter(
      Consumer<byte[], byte[]> consumer,
      String id,
      Map<Signal, Long> holdNanos,
      ReceiverCounters counters,
      ThrottledLog warnings) {
    this.consumer = consumer;
    this.id = id;
    this.holdNanos = holdNanos;
    this.counters = counters;
    this.warnings = warnings;
  }

  /** {@link PartitionState#safeOffset} of {@code p} now. */
  long safeOffset(PartitionState p, long now) {
    return p.safeOffset(now, holdNanos.get(p.signal));
  }

  /** Commits what became committable in {@code which}. */
  void commit(Collection<PartitionState> which, boolean sync) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    long now = System.nanoTime();
    for (PartitionState p : which) {
      long c = safeOffset(p, now);
      if (c > p.lastCommitted) {
        offsets.put(p.tp, new OffsetAndMetadata(c));
        p.lastCommitted = c;
      }
    }
    if (offsets.isEmpty()) {
      return;
    }
    if (sync) {
      try {
        try {
          consumer.commitSync(offsets);
        } catch (WakeupException e) {
          consumer.commitSync(offsets); // the shutdown's wakeup, not yet consumed by a poll
        }
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "kafka receiver " + id + ": commit failed: " + e);
      }
    } else {
      consumer.commitAsync(
          offsets,
          (done, e) -> {
            if (e != null) {
              LOG.log(
                  warnings.level(Level.WARNING),
                  () -> "kafka receiver " + id + ": commit failed: " + e);
            }
          });
    }
    counters.commits.increment();
  }
}
