package io.otlp4j.relay.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.relay.component.RelayReceiver;
import io.otlp4j.relay.config.KafkaReceiverConfig;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The {@code kafka} receiver: one {@link KafkaConsumer} in a consumer group reads the signals'
 * topics and hands each record, an encoded {@code Export*ServiceRequest}, to the pipelines.
 *
 * <p><b>Threads.</b> One consumer thread per receiver: {@code KafkaConsumer} is single-threaded, so
 * polling, pausing, seeking and committing all happen on it. The pipelines answer on their own
 * threads; an answer is queued ({@code completions}) and applied by the consumer thread on its next
 * turn (at most {@link #POLL} later).
 *
 * <p><b>At least once.</b> An offset is committed only when the pipeline accepted the record in the
 * relay's ack mode (queued in memory, delivered upstream, or fsynced to the durable queue) and
 * every earlier record of its partition is done too ({@link PartitionOffsets}); {@code
 * message_marking.after: false} commits a record once it was handed on instead (the Collector's
 * default, at most once). Commits go out every {@code autocommit.interval} (after every turn when
 * {@code autocommit.enable} is false), on a rebalance for the partitions revoked, and at shutdown.
 *
 * <p><b>Backpressure.</b> A record that does not fit the relay's memory budget, or that the
 * pipeline refuses retryably (a full queue, an open circuit, an upstream that failed in {@code
 * delivered} mode), pauses its partition, which resumes after {@code error_backoff} (or {@link
 * PartitionState#nextBackoffNanos}); nothing is dropped, and a paused consumer keeps polling (for
 * its group membership) without fetching. Records in flight are capped at {@link #MAX_IN_FLIGHT}:
 * above it every partition waits until half have been answered. Where the record is refused while
 * it is handed on (the budget, the cap, a full queue: the pipeline answers at once) the partition
 * keeps that record and the rest of its poll ({@code held}) and hands them on first when it
 * resumes: no seek, no second fetch of the same bytes, and no record after the refused one is
 * handed on before it. A refusal that comes later (the upstream's, in {@code delivered} mode) seeks
 * back to the refused record, so that it and what follows are read again.
 *
 * <p><b>Grouped hand-off.</b> The consecutive valid records of one poll and partition go to the
 * pipeline as one request ({@link RecordGroup}: their bytes one after another, one reservation, one
 * answer, one entry in {@link PartitionOffsets}), not one each: the per-record hand-off cost about
 * as much as walking the record. The group's answer is every record's answer; its refusal pauses
 * the partition at its first record, so the rules above hold for a group as for a record (metrics,
 * {@code otlp_json} and header extraction go record by record).
 *
 * <p><b>Bad records.</b> A record that is not the signal's OTLP (in the configured encoding) is
 * counted ({@code otelcol_kafka_receiver_unmarshal_failed_*}, {@code
 * otlp4j_kafka_receiver_records_total{outcome="invalid"}}) and skipped, or stops its partition
 * (until a rebalance or restart) when {@code message_marking.on_permanent_error} is false; it never
 * stops the consumer.
 *
 * <p><b>Buffer ownership.</b> Each record's bytes are wrapped (no copy) into a buffer that is
 * handed to the sink, which owns and releases it.
 */
public final class KafkaReceiver implements RelayReceiver {
  private static final System.Logger LOG = System.getLogger(KafkaReceiver.class.getName());

  /** How long one poll waits for records; also how late an answer may be applied. */
  static final Duration POLL = Duration.ofMillis(100);

  /** Records handed to the pipelines and not yet answered, at most. */
  static final int MAX_IN_FLIGHT = 8192;

  /** How long a rebalance waits for the revoked partitions' records in flight to be answered. */
  static final Duration REVOKE_WAIT = Duration.ofSeconds(2);

  private final KafkaReceiverConfig config;
  private final Map<Signal, ReceiverSink> sinks;
  private final Map<Signal, Long> holdNanos = new java.util.EnumMap<>(Signal.class);
  private final MemoryBudget budget;
  private final Consumer<byte[], byte[]> consumer;
  private final OtlpWalker walker = OtlpWalker.create();
  private final ThrottledLog warnings = ThrottledLog.every(Duration.ofSeconds(10));
  private final ReceiverLog log;
  private final LinkedBlockingQueue<Answer> answers = new LinkedBlockingQueue<>();
  private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
  private final ReceiverCounters counters;
  private final PartitionPauses pauses;
  private final OffsetCommitter committer;
  private final Thread thread;
  private volatile boolean stopping;
  private volatile boolean cleanStop = true;
  private volatile long stopDeadlineNanos;
  private final int maxGroup;
  private final long maxGroupBytes;
  private int inFlight;
  private long nextCommitNanos;

  /**
   * A pipeline's answer to one hand-off, applied on the consumer thread: {@code records} records
   * from offset {@code first} to {@code offset} (its entry in {@link PartitionOffsets}).
   */
  private record Answer(
      PartitionState partition,
      long first,
      long offset,
      int records,
      int epoch,
      long items,
      Outcome outcome) {}

  KafkaReceiver(
      KafkaReceiverConfig config,
      Map<Signal, ReceiverSink> sinks,
      Map<Signal, Duration> maxHold,
      MemoryBudget budget,
      MetricsRegistry metrics,
      Consumer<byte[], byte[]> consumer) {
    this(config, sinks, maxHold, budget, metrics, consumer, RecordGroup.MAX_RECORDS);
  }

  /**
   * @param maxGroup records of one poll and partition handed on as one request at most (1: one
   *     request per record)
   */
  KafkaReceiver(
      KafkaReceiverConfig config,
      Map<Signal, ReceiverSink> sinks,
      Map<Signal, Duration> maxHold,
      MemoryBudget budget,
      MetricsRegistry metrics,
      Consumer<byte[], byte[]> consumer,
      int maxGroup) {
    this.config = config;
    this.maxGroup = config.headers().isEmpty() ? maxGroup : 1;
    this.maxGroupBytes = Math.max(1, Math.min(RecordGroup.MAX_BYTES, budget.limitBytes() / 16));
    this.sinks = Map.copyOf(sinks);
    sinks.keySet().forEach(s -> holdNanos.put(s, maxHold.getOrDefault(s, Duration.ZERO).toNanos()));
    this.budget = budget;
    this.consumer = consumer;
    this.counters = new ReceiverCounters(metrics, config.id());
    this.pauses = new PartitionPauses(consumer);
    this.committer = new OffsetCommitter(consumer, config.id(), holdNanos, counters, warnings);
    this.log = new ReceiverLog(config, warnings);
    this.thread = new Thread(this::run, "otlp4j-kafka-receiver-" + config.id());
    thread.setDaemon(true);
  }

  /**
   * Starts a receiver for {@code sinks}' signals: subscribes and starts its consumer thread.
   *
   * @param sinks where each signal's records go (only those signals' topics are read)
   * @param maxHold per signal, how long its pipelines may hold accepted data before they pass it on
   *     ({@code tail_sampling}): accepted records become committable only this much later
   */
  public static KafkaReceiver start(
      KafkaReceiverConfig config,
      Map<Signal, ReceiverSink> sinks,
      Map<Signal, Duration> maxHold,
      MemoryBudget budget,
      MetricsRegistry metrics) {
    KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(KafkaConsumerProperties.of(config));
    KafkaReceiver r = new KafkaReceiver(config, sinks, maxHold, budget, metrics, consumer);
    r.startThread();
    return r;
  }

  void startThread() {
    thread.start();
  }

  @Override
  public String describe() {
    List<String> topics = new ArrayList<>();
    for (Signal s : sinks.keySet()) {
      topics.add(s.id() + " " + config.signals().get(s).topics());
    }
    return "Kafka receiver "
        + config.id()
        + " consuming "
        + String.join(", ", topics)
        + " from "
        + String.join(",", config.brokers())
        + " in group "
        + config.groupId();
  }

  @Override
  public boolean shutdown(Duration deadline) {
    long end = System.nanoTime() + deadline.toNanos();
    stopDeadlineNanos = end;
    stopping = true;
    consumer.wakeup();
    try {
      // The thread waits for answers until the deadline, commits, and closes the consumer.
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())) + 5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    return cleanStop && !thread.isAlive();
  }

  // ------------------------------------------------------------------------------ consumer thread

  private void run() {
    try {
      subscribe();
      nextCommitNanos = System.nanoTime() + config.autocommitInterval().toNanos();
      while (!stopping) {
        turn();
      }
    } catch (WakeupException e) {
      // shutdown
    } catch (RuntimeException | Error e) {
      LOG.log(Level.ERROR, "kafka receiver " + config.id() + " stopped", e);
      cleanStop = false;
    } finally {
      finish();
    }
  }

  void subscribe() {
    Listener listener = new Listener();
    boolean regex = false;
    List<String> names = new ArrayList<>();
    for (Signal s : sinks.keySet()) {
      KafkaReceiverConfig.Topics t = config.signals().get(s);
      regex |= t.regex();
      names.addAll(t.topics());
    }
    if (regex) {
      StringBuilder p = new StringBuilder();
      for (Signal s : sinks.keySet()) {
        if (p.length() > 0) {
          p.append('|');
        }
        p.append(TopicMatch.pattern(config.signals().get(s)));
      }
      consumer.subscribe(Pattern.compile(p.toString()), listener);
    } else {
      consumer.subscribe(names, listener);
    }
  }

  /** One turn: apply answers, resume what is due, commit when due, poll and hand records on. */
  void turn() {
    applyAnswers(0);
    pauses.resumeDue(partitions.values());
    handOnHeld();
    long now = System.nanoTime();
    for (PartitionState p : partitions.values()) {
      committer.safeOffset(p, now);
    }
    if (!config.autocommit() || now - nextCommitNanos >= 0) {
      committer.commit(partitions.values(), false);
      nextCommitNanos = now + config.autocommitInterval().toNanos();
    }
    ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
    for (TopicPartition tp : records.partitions()) {
      PartitionState p = partitions.get(tp);
      if (p == null) {
        continue; // revoked during this poll
      }
      handOnFrom(p, records.records(tp), 0);
    }
    counters.publish(inFlight, pauses.pausedCount(), partitions.size());
  }

  /**
   * Hands {@code records} from {@code from} on to their signal's pipeline, until the partition
   * pauses (then it holds the rest, the refused record first).
   */
  private void handOnFrom(
      PartitionState p, List<ConsumerRecord<byte[], byte[]>> records, int from) {
    boolean grouped =
        maxGroup > 1 && p.signal != Signal.METRICS && !config.signals().get(p.signal).json();
    int i = from;
    while (i < records.size() && !p.paused) {
      if (grouped) {
        i = handOnGroup(p, records, i);
      } else if (handOn(p, records, i)) {
        i++;
      } else {
        return;
      }
    }
  }

  /**
   * Hands on {@code records} from {@code i} on, as many as one {@link RecordGroup} takes, as one
   * request; returns the index of the first record not dealt with (where the partition paused, if
   * it did). A record that is not OTLP, or too large, ends the group before it and is then dealt
   * with alone ({@link #handOn}).
   */
  private int handOnGroup(PartitionState p, List<ConsumerRecord<byte[], byte[]>> records, int i) {
    if (inFlight >= MAX_IN_FLIGHT) {
      p.waitingForRoom = true;
      pauses.hold(p, records, i, 0);
      return i;
    }
    RecordGroup g = RecordGroup.collect(walker, p.signal, records, i, maxGroup, maxGroupBytes);
    if (g.count() <= 1) {
      return handOn(p, records, i) ? i + 1 : i; // alone: the per-record path, errors included
    }
    if (!budget.tryAcquire(g.bytes())) {
      // Too large for what is left of the budget: hand on the first record alone (it may fit).
      return handOn(p, records, i) ? i + 1 : i;
    }
    RecordReservation held = new RecordReservation(budget, g.bytes());
    long first = records.get(i).offset();
    long last = records.get(i + g.count() - 1).offset();
    p.offsets.handedOn(last);
    int epoch = p.offsets.epoch();
    long items = g.summary().itemCount();
    inFlight += g.count();
    CompletionStage<Outcome> answer = accept(p.signal, g.request(), g.summary(), held);
    if (!config.afterPipeline()) {
      p.offsets.done(last); // the Collector's default: marked once handed on
    } else if (!config.skipOnError()) {
      Outcome now = ReceiverLog.refusedAtOnce(answer);
      if (now != null) {
        inFlight -= g.count();
        held.release();
        counters.answered(p.signal, g.count(), items, now);
        log.refused(p, first, now);
        pauses.hold(p, records, i, p.nextBackoffNanos(config));
        return i;
      }
    }
    answered(answer, held, new Answer(p, first, last, g.count(), epoch, items, null));
    return i + g.count();
  }

  /** The sink's answer to a request; a sink that throws is a refusal of ours (retryable). */
  private CompletionStage<Outcome> accept(
      Signal signal, ByteBuf request, WalkSummary summary, RecordReservation held) {
    try {
      return sinks.get(signal).accept(signal, request, summary, held);
    } catch (RuntimeException e) {
      return java.util.concurrent.CompletableFuture.failedFuture(e);
    }
  }

  /** Queues {@code a} with {@code answer}'s outcome for the consumer thread once it completes. */
  private void answered(CompletionStage<Outcome> answer, RecordReservation held, Answer a) {
    answer.whenComplete(
        (o, e) -> {
          held.release();
          Outcome outcome =
              o != null ? o : Outcome.localFailure("the pipeline failed to take the record", e);
          answers.add(
              new Answer(a.partition, a.first, a.offset, a.records, a.epoch, a.items, outcome));
        });
  }

  /** Hands on what resumed partitions held, then lets them fetch again. */
  private void handOnHeld() {
    List<TopicPartition> resume = null;
    for (PartitionState p : partitions.values()) {
      if (p.held == null || !p.resumed) {
        continue;
      }
      List<ConsumerRecord<byte[], byte[]>> records = p.held;
      int from = p.heldAt;
      p.held = null;
      p.resumed = false;
      p.paused = false; // handOn may pause it again, and hold the rest
      handOnFrom(p, records, from);
      if (!p.paused) {
        if (resume == null) {
          resume = new ArrayList<>();
        }
        resume.add(p.tp);
      }
    }
    if (resume != null) {
      pauses.resume(resume);
    }
  }

  /**
   * Hands {@code records.get(i)} to its signal's pipeline; false when its partition paused at it
   * (holding it and the rest of {@code records}, or, past a permanent error, stopped).
   */
  private boolean handOn(PartitionState p, List<ConsumerRecord<byte[], byte[]>> records, int i) {
    ConsumerRecord<byte[], byte[]> r = records.get(i);
    if (inFlight >= MAX_IN_FLIGHT) {
      p.waitingForRoom = true;
      pauses.hold(p, records, i, 0);
      return false;
    }
    byte[] value = r.value() == null ? new byte[0] : r.value();
    if (budget.isOversized(value.length)) {
      invalid(p, r, new IllegalArgumentException("larger than the relay's whole memory budget"));
      return !p.paused;
    }
    if (!budget.tryAcquire(value.length)) {
      counters.backpressure.increment();
      pauses.hold(p, records, i, p.nextBackoffNanos(config));
      return false;
    }
    RecordReservation held = new RecordReservation(budget, value.length);
    ByteBuf request = null;
    WalkSummary summary;
    try {
      byte[] proto = value;
      if (config.signals().get(p.signal).json()) {
        proto = OtlpJson.toProtobuf(p.signal, value);
        if (!held.resize(proto.length)) {
          held.release();
          counters.backpressure.increment();
          pauses.hold(p, records, i, p.nextBackoffNanos(config));
          return false;
        }
      }
      request = Unpooled.wrappedBuffer(proto);
      summary = walker.walk(p.signal, request);
      if (!config.headers().isEmpty()) {
        ByteBuf rewritten = HeaderAttributes.apply(config.headers(), p.signal, request, summary, r);
        request.release();
        request = rewritten;
      }
    } catch (RuntimeException e) {
      // Not the signal's OTLP (a WireFormatException, a JSON error): never a reason to stop.
      if (request != null) {
        request.release();
      }
      held.release();
      invalid(p, r, e);
      return !p.paused;
    }
    p.offsets.handedOn(r.offset());
    int epoch = p.offsets.epoch();
    long offset = r.offset();
    long items = summary.itemCount();
    inFlight++;
    CompletionStage<Outcome> answer = accept(p.signal, request, summary, held);
    if (!config.afterPipeline()) {
      p.offsets.done(offset); // the Collector's default: marked once handed on
    } else if (!config.skipOnError()) {
      Outcome now = ReceiverLog.refusedAtOnce(answer);
      if (now != null) {
        // a full queue, say: keep this record and the rest of the poll for after the pause
        inFlight--;
        held.release();
        counters.answered(p.signal, items, now);
        log.refused(p, offset, now);
        pauses.hold(p, records, i, p.nextBackoffNanos(config));
        return false;
      }
    }
    answered(answer, held, new Answer(p, offset, offset, 1, epoch, items, null));
    return !p.paused;
  }

  private void invalid(PartitionState p, ConsumerRecord<byte[], byte[]> r, RuntimeException e) {
    counters.invalid(p.signal);
    log.notOtlp(p, r.offset(), config.signals().get(p.signal).json(), e);
    if (config.skipOnPermanentError()) {
      p.offsets.handedOn(r.offset());
      p.offsets.done(r.offset());
    } else {
      pauses.stop(p, r.offset());
    }
  }

  /** Applies the answers queued so far, waiting up to {@code waitNanos} for the first. */
  private void applyAnswers(long waitNanos) {
    Answer a;
    try {
      a = waitNanos > 0 ? answers.poll(waitNanos, TimeUnit.NANOSECONDS) : answers.poll();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    while (a != null) {
      apply(a);
      a = answers.poll();
    }
    if (inFlight <= MAX_IN_FLIGHT / 2) {
      for (PartitionState p : partitions.values()) {
        if (p.waitingForRoom) {
          p.waitingForRoom = false;
          p.resumeAtNanos = System.nanoTime();
        }
      }
    }
  }

  /**
   * Marks what {@code a} answered done. A record's late success counts in any epoch (the data was
   * accepted, whichever delivery carried it); a group's only in its own epoch, since after a rewind
   * the entry with the same last offset may be a group that starts earlier (records this answer did
   * not carry).
   */
  private static void done(PartitionState p, Answer a) {
    if (a.records == 1 || p.offsets.isPending(a.offset, a.epoch)) {
      p.offsets.done(a.offset);
    }
  }

  private void apply(Answer a) {
    inFlight -= a.records;
    PartitionState p = a.partition;
    Outcome o = a.outcome;
    counters.answered(p.signal, a.records, a.items, o);
    boolean current = partitions.get(p.tp) == p;
    switch (o.kind()) {
      case ACCEPTED, PARTIALLY_ACCEPTED -> {
        done(p, a);
        p.failures = 0;
      }
      case PERMANENT -> {
        if (config.skipOnPermanentError()) {
          done(p, a);
        } else if (current && p.offsets.isPending(a.offset, a.epoch)) {
          log.rejectedForGood(p, a.first, o);
          pauses.stop(p, a.first);
        }
      }
      default -> {
        // retryable: a full queue, an open circuit, an upstream failure, our own failure
        if (config.skipOnError()) {
          done(p, a);
        } else if (current && p.offsets.isPending(a.offset, a.epoch)) {
          log.refused(p, a.first, o);
          pauses.pause(p, a.first, p.nextBackoffNanos(config));
        }
      }
    }
  }

  /** After the loop: waits for the answers until the deadline, commits, closes the consumer. */
  private void finish() {
    try {
      while (inFlight > 0) {
        long left = stopDeadlineOrSoon() - System.nanoTime();
        if (left <= 0) {
          cleanStop = false;
          break;
        }
        applyAnswers(Math.min(left, POLL.toNanos()));
      }
      committer.commit(partitions.values(), true);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "kafka receiver " + config.id() + ": final commit failed: " + e);
    } finally {
      try {
        consumer.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "kafka receiver " + config.id() + ": close failed: " + e);
      }
    }
  }

  private long stopDeadlineOrSoon() {
    long d = stopDeadlineNanos;
    return d != 0 ? d : System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
  }

  /** Partitions come and go with the group's rebalances; called on the consumer thread in poll. */
  private final class Listener implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
      List<PartitionState> gone = new ArrayList<>();
      for (TopicPartition tp : revoked) {
        PartitionState p = partitions.get(tp);
        if (p != null) {
          gone.add(p);
        }
      }
      // Let the records in flight be answered (briefly), commit what is done, hand the rest over.
      long end = System.nanoTime() + REVOKE_WAIT.toNanos();
      while (gone.stream().anyMatch(p -> p.offsets.pending() > 0 && !p.paused)
          && System.nanoTime() < end) {
        applyAnswers(TimeUnit.MILLISECONDS.toNanos(10));
      }
      committer.commit(gone, true);
      drop(revoked);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
      drop(lost);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
      for (TopicPartition tp : assigned) {
        Signal s = signalOf(tp.topic());
        if (s != null) {
          partitions.put(tp, new PartitionState(tp, s));
        }
      }
    }

    private void drop(Collection<TopicPartition> tps) {
      for (TopicPartition tp : tps) {
        PartitionState p = partitions.remove(tp);
        if (p != null) {
          pauses.dropped(p);
        }
      }
    }
  }

  private Signal signalOf(String topic) {
    for (Signal s : sinks.keySet()) {
      if (TopicMatch.matches(config.signals().get(s), topic)) {
        return s;
      }
    }
    return null;
  }
}
