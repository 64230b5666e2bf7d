package io.otlp4j.relay.kafka;

import io.otlp4j.relay.config.KafkaReceiverConfig;
import io.otlp4j.wire.Signal;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * One assigned partition's state in the {@link KafkaReceiver}: its offsets in flight, whether and
 * why it is paused, the records it holds while paused, and what may be committed. Consumer thread
 * only (not thread-safe).
 */
final class PartitionState {
  /** How often the accepted offset is sampled for a pipeline that holds data ({@link #safe}). */
  static final long CHECKPOINT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** The first pause after a refusal when {@code error_backoff} is off; doubles in a row. */
  static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  final TopicPartition tp;
  final Signal signal;
  final PartitionOffsets offsets = new PartitionOffsets();
  long resumeAtNanos; // when paused for a refusal
  boolean paused;
  boolean waitingForRoom; // paused because too many records are in flight
  boolean stopped; // a permanent error with on_permanent_error: false
  // polled records not handed on yet, from heldAt on (the partition is paused meanwhile)
  List<ConsumerRecord<byte[], byte[]>> held;
  int heldAt;
  boolean resumed; // its pause is over; the receiver hands on what it held
  int failures; // refusals in a row, for error_backoff
  long lastCommitted = -1;

  /** {time, committable} samples, for a pipeline that holds data (see {@link #safeOffset}). */
  private final ArrayDeque<long[]> checkpoints = new ArrayDeque<>();

  private long safe = -1;

  PartitionState(TopicPartition tp, Signal signal) {
    this.tp = tp;
    this.signal = signal;
  }

  /**
   * What may be committed now: what the pipeline accepted, or, when its pipeline holds data for up
   * to {@code holdNanos} ({@code tail_sampling}), what it had accepted at least that hold ago, so
   * that data held in memory by a relay that is killed is read again. Samples the accepted offset
   * at most every {@link #CHECKPOINT_NANOS}, so the samples kept are bounded by hold / that period.
   */
  long safeOffset(long now, long holdNanos) {
    long accepted = offsets.committable();
    if (holdNanos <= 0) {
      return accepted;
    }
    long[] last = checkpoints.peekLast();
    if (accepted > (last == null ? safe : last[1])
        && (last == null || now - last[0] >= CHECKPOINT_NANOS)) {
      checkpoints.addLast(new long[] {now, accepted});
    }
    while (!checkpoints.isEmpty() && now - checkpoints.peekFirst()[0] >= holdNanos) {
      safe = checkpoints.pollFirst()[1];
    }
    return safe;
  }

  /**
   * Counts one more refusal in a row and returns the pause after it: error_backoff's next delay
   * when it is enabled; else {@link #FIRST_PAUSE_NANOS}, doubling with each refusal in a row up to
   * {@link KafkaReceiverConfig#DEFAULT_PAUSE}. A full queue clears within milliseconds, an upstream
   * that is down takes longer: short first pauses keep the throughput, longer ones keep an idle
   * consumer from spinning. (A Retry-After meant for remote clients is not used here.)
   */
  long nextBackoffNanos(KafkaReceiverConfig config) {
    failures++;
    if (config.errorBackoff() != null) {
      long d = config.errorBackoff().decide(failures, 0, -1).delayNanos();
      return Math.max(d, 0);
    }
    long max = KafkaReceiverConfig.DEFAULT_PAUSE.toNanos();
    int doublings = Math.min(failures - 1, 20);
    return Math.min(max, FIRST_PAUSE_NANOS << doublings);
  }
}
