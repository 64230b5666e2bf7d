package io.otlp4j.relay.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The kafka receiver's pause state machine over its {@link PartitionState}s: a partition is
 * fetching, or paused (by {@link #hold} with the records it keeps, by {@link #pause} with a seek
 * back, by {@link #stop} for good, or waiting for room while too many records are in flight), and
 * {@link #resumeDue} ends the pauses that are over. Pausing and resuming go to the {@link
 * Consumer}, so this runs on the consumer thread only (not thread-safe); {@link #pausedCount()} is
 * read there too.
 */
final class PartitionPauses {
  private final Consumer<byte[], byte[]> consumer;
  private int pausedCount;

  PartitionPauses(Consumer<byte[], byte[]> consumer) {
    this.consumer = consumer;
  }

  /** Partitions paused now, their pause not yet over. */
  int pausedCount() {
    return pausedCount;
  }

  /**
   * Pauses {@code p} at {@code records.get(i)}, which was not handed on (or was refused at once),
   * keeping it and the rest of {@code records} to hand on after {@code nanos}. No seek: the
   * consumer's position stays after the poll, and nothing is fetched twice.
   */
  void hold(PartitionState p, List<ConsumerRecord<byte[], byte[]>> records, int i, long nanos) {
    p.offsets.rewind(records.get(i).offset()); // a record refused at once was already handed on
    p.held = records;
    p.heldAt = i;
    p.resumed = false;
    pauseFetching(p);
    p.resumeAtNanos = p.waitingForRoom ? Long.MAX_VALUE : System.nanoTime() + nanos;
  }

  /** Pauses {@code p} and rewinds it to {@code offset}, to be read again after {@code nanos}. */
  void pause(PartitionState p, long offset, long nanos) {
    p.offsets.rewind(offset);
    p.held = null; // read again from offset on
    p.resumed = false;
    consumer.seek(p.tp, offset);
    pauseFetching(p);
    p.resumeAtNanos = p.waitingForRoom ? Long.MAX_VALUE : System.nanoTime() + nanos;
  }

  /** Stops {@code p} at {@code offset} until a rebalance or a restart (a permanent error). */
  void stop(PartitionState p, long offset) {
    p.stopped = true;
    pause(p, offset, 0);
    p.resumeAtNanos = Long.MAX_VALUE;
  }

  private void pauseFetching(PartitionState p) {
    if (!p.paused) {
      consumer.pause(List.of(p.tp));
      p.paused = true;
      pausedCount++;
    }
  }

  /**
   * Ends the pauses that are over: a partition that held records is marked {@code resumed} (the
   * receiver hands them on, then calls {@link #resume}); the others fetch again at once.
   */
  void resumeDue(Collection<PartitionState> partitions) {
    long now = System.nanoTime();
    List<TopicPartition> resume = new ArrayList<>();
    for (PartitionState p : partitions) {
      if (p.paused && !p.stopped && !p.waitingForRoom && now - p.resumeAtNanos >= 0) {
        pausedCount--;
        if (p.held != null) {
          p.resumed = true; // the receiver hands on what it held, then resumes the fetching
          continue;
        }
        p.paused = false;
        resume.add(p.tp);
      }
    }
    resume(resume);
  }

  /** Lets {@code tps}, whose held records were handed on, fetch again. */
  void resume(List<TopicPartition> tps) {
    if (!tps.isEmpty()) {
      consumer.resume(tps);
    }
  }

  /** Forgets {@code p}, revoked or lost. */
  void dropped(PartitionState p) {
    if (p.paused && !p.resumed) {
      pausedCount--;
    }
  }
}
