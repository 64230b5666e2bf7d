package io.otlp4j.relay.pipeline;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.queue.AppendResult;
import io.otlp4j.queue.DurableQueue;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.component.RelayProcessor;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One pipeline of one signal: memory budget → resource processors → one bounded queue per exporter
 * → batching → exporters.
 *
 * <p><b>Ack modes</b> ({@link AckMode}): in {@code received} a request is accepted once every
 * exporter's queue holds it in memory; in {@code delivered} the answer waits until every exporter
 * has sent the batch that carried it and is that batch's outcome ({@link Outcome#worst worst} over
 * the exporters: an upstream that rejected it permanently makes a permanent error with the reason,
 * one that gave up retryably or whose circuit is open a retryable refusal with a retry delay). An
 * exporter without a queue ({@code sending_queue.enabled: false}) is always waited for, as in the
 * Collector. A full queue is a retryable refusal in every mode.
 *
 * <p><b>Durable queue</b> ({@code durable} ack mode): the exporters whose {@code sending_queue}
 * names a {@code file_storage} share one {@link DurableQueue} per pipeline; each request is
 * appended to it once (the bytes as they are) and the client is answered when the append completes,
 * after the fsync that covers it (a full queue or disk is a retryable refusal). Each such exporter
 * reads the queue through its own consumer loop (its own checkpoint), so a slow or unreachable
 * upstream leaves data on disk, not in memory, and never holds back another exporter. Exporters of
 * the same pipeline without a storage keep their in-memory queues, answered as in {@code received}
 * mode.
 *
 * <p><b>Memory:</b> in {@code received} mode every queued request holds its size in the shared
 * {@link MemoryBudget} (the one the receivers reserve from) until the last exporter is done with it
 * (the receiver's reservation for it, taken over, see {@link ReceiverSink.Reservation}); a request
 * that does not fit is refused with a retryable answer, and so is one that finds an exporter's
 * queue full. In {@code delivered} mode the pipeline reserves nothing itself: the receiver's
 * reservation is held until the answer, and the answer comes only after every exporter is done with
 * the request; so too for a durable queue, which is done with the request once the append
 * completes. (When several exporters share the pipeline and only some queues are full, the request
 * is already queued for the others: a retrying client may duplicate data there, as in the
 * Collector's fan-out.)
 *
 * <p><b>Answers:</b> the client's answer is the {@link Outcome} as the exporters reported it (the
 * worst of them), mapped to a gRPC or HTTP status by the receiver only. A failure in our own code
 * (a processor's bug, a queue that throws) is a {@link Outcome.Kind#LOCAL_FAILURE}: the client is
 * asked to send again and nothing of the request is held.
 *
 * <p><b>Processors that hold data</b> ({@code tail_sampling}): a processor answers {@link
 * RelayProcessor.Held} for what it keeps (the client is answered as accepted then) and emits later
 * through the {@link RelayProcessor.Downstream} that {@link #start} gave it: the processors after
 * it, then the queues, with the bytes reserved in the budget in every ack mode (no receiver's
 * reservation covers them; never refused for memory, since they were acknowledged: {@link
 * MemoryBudget#acquireAccepted}) and no client waiting; {@link #shutdown} stops the processors
 * first, so what they emit then is still queued. {@link RelayProcessor.Refused} is a retryable
 * refusal.
 *
 * <p><b>Walked once:</b> the receiver's {@link WalkSummary} travels with the request; processors
 * rewrite without walking again and batches are split with item counts taken from the cut.
 *
 * <p><b>Lifecycle:</b> building checks the configuration and starts nothing; {@link #start()}
 * ({@link Builder#build()} calls it) starts the queues' threads and the durable loops; {@link
 * #shutdown} stops them.
 *
 * <p><b>Buffer ownership:</b> {@link #accept} takes ownership of the request (see {@link
 * ReceiverSink}); each exporter's queue holds its own reference (one {@code retain} per exporter,
 * no copy), so the bytes are freed when the slowest exporter has sent them. Every path that does
 * not hand a reference on releases it, a processor's or a queue's exception included.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #accept} never blocks.
 */
public final class Pipeline implements ReceiverSink {
  private static final System.Logger LOG = System.getLogger(Pipeline.class.getName());

  /**
   * Our own failures (a processor's, an enqueue's) at ERROR once per interval, the rest at DEBUG.
   */
  private final ThrottledLog failureLog = ThrottledLog.every(Duration.ofSeconds(10));

  private final String id;
  private final Signal signal;
  private final AckMode ackMode;
  private final MemoryBudget budget;
  private final List<RelayProcessor> processors;
  private final List<ExporterQueue> queues;
  private final int awaitedInReceivedMode;
  private final DurableQueue durable; // null unless some exporter keeps its queue on disk
  private final List<RelayExporter> onDisk;
  private final Builder settings;
  private volatile List<DurableExportLoop> loops = List.of();
  private volatile ScheduledExecutorService
      scheduler; // durable loops, local-failure retries; set by start()
  private final java.util.concurrent.atomic.AtomicBoolean started =
      new java.util.concurrent.atomic.AtomicBoolean();
  private volatile boolean closing;
  private final java.util.concurrent.atomic.AtomicBoolean processorsStopped =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final MetricsRegistry.Counter refused;
  private final MetricsRegistry.Counter queued;
  private final List<MetricsRegistry.Counter> durableEnqueueFailed;

  /**
   * A pipeline in the {@code received} ack mode whose exporters each get an in-memory queue of
   * {@code batch.queueSize()} requests.
   *
   * @param id the pipeline id, such as {@code traces} or {@code traces/2}
   * @param processors applied in order to every request
   * @param exporters each gets its own queue
   */
  public Pipeline(
      String id,
      Signal signal,
      MemoryBudget budget,
      List<RelayProcessor> processors,
      List<RelayExporter> exporters,
      BatchSettings batch,
      MetricsRegistry metrics) {
    this(
        builder(id, signal)
            .memoryBudget(budget)
            .processors(processors)
            .batch(batch)
            .metrics(metrics)
            .exporters(exporters, SendingQueueSettings.inMemory(batch.queueSize())));
    start();
  }

  /**
   * Checks the configuration and sets up the queues' bookkeeping; starts no thread ({@link #start}
   * does), so a configuration error leaves nothing running.
   */
  private Pipeline(Builder b) {
    this.id = b.id;
    this.signal = b.signal;
    this.ackMode = b.ackMode;
    this.budget = Objects.requireNonNull(b.budget, "memoryBudget");
    this.processors = List.copyOf(b.processors);
    this.settings = b;
    if (b.exporters.isEmpty()) {
      throw new IllegalArgumentException("pipeline " + id + " has no exporter");
    }
    List<RelayExporter> disk = new ArrayList<>();
    for (Map.Entry<RelayExporter, SendingQueueSettings> e : b.exporters.entrySet()) {
      if (e.getValue().durable()) {
        disk.add(e.getKey());
      }
    }
    if (!disk.isEmpty()) {
      if (b.durableQueue == null) {
        throw new IllegalArgumentException(
            "pipeline "
                + id
                + ": exporters "
                + disk.stream().map(RelayExporter::id).toList()
                + " keep their queue on disk, but the pipeline has no durable queue");
      }
      if (ackMode != AckMode.DURABLE) {
        throw new IllegalArgumentException(
            "pipeline " + id + ": a durable queue needs ack mode durable, not " + ackMode.id());
      }
    }
    this.onDisk = List.copyOf(disk);
    this.durableEnqueueFailed =
        disk.stream().map(e -> ExporterQueue.enqueueFailed(b.metrics, e.id(), signal)).toList();
    this.durable = disk.isEmpty() ? null : b.durableQueue;
    List<ExporterQueue> q = new ArrayList<>();
    int direct = 0;
    for (Map.Entry<RelayExporter, SendingQueueSettings> e : b.exporters.entrySet()) {
      if (e.getValue().durable()) {
        continue;
      }
      ExporterQueue queue =
          new ExporterQueue(id, signal, e.getKey(), b.batch, e.getValue(), b.metrics);
      q.add(queue);
      if (queue.answersAfterExport()) {
        direct++;
      }
    }
    this.queues = List.copyOf(q);
    this.awaitedInReceivedMode = direct;
    this.refused =
        b.metrics.counter(
            "otlp4j_pipeline_refused_" + signal.id(),
            "Items refused by the pipeline (memory limit or full queue), retryable for the client",
            "pipeline",
            id);
    this.queued =
        b.metrics.counter(
            "otlp4j_pipeline_queued_" + signal.id(),
            "Items queued by the pipeline for its exporters",
            "pipeline",
            id);
  }

  /**
   * Starts the queues' threads and the durable queue's consumer loops; {@link Builder#build()}
   * calls it. Idempotent.
   *
   * @return this pipeline
   */
  public Pipeline start() {
    if (!started.compareAndSet(false, true)) {
      return this;
    }
    ScheduledExecutorService s =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "otlp4j-pipeline-" + id);
              t.setDaemon(true);
              return t;
            });
    this.scheduler = s;
    for (ExporterQueue queue : queues) {
      queue.start(s);
    }
    for (int i = 0; i < processors.size(); i++) {
      int next = i + 1;
      processors.get(i).start((request, summary) -> emit(next, request, summary));
    }
    if (durable != null) {
      Builder b = settings;
      List<DurableExportLoop> l = new ArrayList<>();
      for (RelayExporter exporter : onDisk) {
        DurableExportLoop loop =
            new DurableExportLoop(
                id,
                signal,
                CountingExporter.wrap(exporter, signal, b.metrics),
                durable.consumer(exporter.id()),
                b.batch,
                b.backoffs.getOrDefault(exporter, DurableExportLoop.DEFAULT_BACKOFF),
                s,
                b.metrics);
        String[] labels = {"exporter", exporter.id(), "data_type", signal.id(), "pipeline", id};
        // The Collector's names; for a queue on disk both are bytes, so size / capacity is how full
        // it is.
        b.metrics.gauge(
            "otelcol_exporter_queue_size",
            ExporterQueue.QUEUE_SIZE_HELP,
            () -> loop.consumer().pendingBytes(),
            labels);
        long capacity = b.durableCapacityBytes;
        b.metrics.gauge(
            "otelcol_exporter_queue_capacity",
            ExporterQueue.QUEUE_CAPACITY_HELP,
            () -> capacity,
            labels);
        l.add(loop);
      }
      this.loops = List.copyOf(l);
      loops.forEach(DurableExportLoop::start);
    }
    return this;
  }

  /** Starts a builder for pipeline {@code id} of {@code signal}. */
  public static Builder builder(String id, Signal signal) {
    return new Builder(id, signal);
  }

  public String id() {
    return id;
  }

  public Signal signal() {
    return signal;
  }

  /**
   * The longest a processor of this pipeline may hold data it already answered for ({@link
   * RelayProcessor#maxHold}); zero when none holds data.
   */
  public Duration maxHold() {
    Duration max = Duration.ZERO;
    for (RelayProcessor p : processors) {
      if (p.maxHold().compareTo(max) > 0) {
        max = p.maxHold();
      }
    }
    return max;
  }

  /** When this pipeline answers its clients. */
  public AckMode ackMode() {
    return ackMode;
  }

  @Override
  public CompletionStage<Outcome> accept(
      Signal requestSignal, ByteBuf request, WalkSummary summary) {
    return accept(requestSignal, request, summary, Reservation.NONE);
  }

  @Override
  public CompletionStage<Outcome> accept(
      Signal requestSignal, ByteBuf request, WalkSummary summary, Reservation reservation) {
    try {
      return enqueue(requestSignal, request, summary, reservation);
    } catch (RuntimeException e) {
      LOG.log(failureLog.level(System.Logger.Level.ERROR), () -> id + ": unexpected failure", e);
      return CompletableFuture.completedFuture(Outcome.localFailure("internal error: " + e, e));
    }
  }

  /**
   * Takes ownership of {@code request}; {@code summary} is the receiver's walk of it, so nothing
   * here walks it again (processors get the summary and give one back, the splitter takes counts
   * from its cut).
   */
  private CompletionStage<Outcome> enqueue(
      Signal requestSignal, ByteBuf request, WalkSummary summary, Reservation reservation) {
    if (requestSignal != signal) {
      request.release();
      return done(Outcome.permanent("pipeline " + id + " does not take " + requestSignal.id()));
    }
    return run(0, request, summary, false, reservation);
  }

  /**
   * What processor {@code from - 1} emits later ({@link RelayProcessor.Downstream}): the processors
   * after it, then the queues, with the bytes held in the budget whatever the ack mode. Takes
   * ownership of {@code request}; never throws.
   */
  private CompletionStage<Outcome> emit(int from, ByteBuf request, WalkSummary summary) {
    try {
      return run(from, request, summary, true, Reservation.NONE);
    } catch (RuntimeException e) {
      LOG.log(failureLog.level(System.Logger.Level.ERROR), () -> id + ": unexpected failure", e);
      return CompletableFuture.completedFuture(Outcome.localFailure("internal error: " + e, e));
    }
  }

  /**
   * Runs processors {@code from..} on {@code request} (owned), then queues what is left.
   *
   * @param emitted whether a processor emits the request later (no receiver's reservation covers
   *     it: the pipeline reserves its bytes in every ack mode)
   * @param reservation the receiver's reservation for {@code request}, which the queues take over
   *     ({@link Reservation#NONE} for what a processor emits)
   */
  private CompletionStage<Outcome> run(
      int from, ByteBuf request, WalkSummary summary, boolean emitted, Reservation reservation) {
    ByteBuf current = request;
    WalkSummary walked = summary;
    try {
      for (int i = from; i < processors.size(); i++) {
        RelayProcessor processor = processors.get(i);
        processorFault(current);
        // The processor owns current from here on, also when it throws: nothing to release below.
        RelayProcessor.Result result = processor.process(signal, current, walked);
        if (result instanceof RelayProcessor.Forward forward) {
          current = forward.request();
          walked = forward.summary();
        } else if (result instanceof RelayProcessor.Refused r) {
          refused.add(walked.itemCount());
          return done(Outcome.overloaded(Outcome.DEFAULT_RETRY_AFTER, r.reason()));
        } else {
          // nothing left to export now (dropped, or held by the processor to emit later)
          return done(Outcome.accepted());
        }
      }
    } catch (WireFormatException e) {
      return done(Outcome.permanent(e.getMessage()));
    } catch (Throwable e) {
      // A processor's bug: the data is fine, the client may send it again; the processor released
      // it.
      LOG.log(failureLog.level(System.Logger.Level.ERROR), () -> id + ": a processor failed", e);
      return done(Outcome.localFailure("a processor failed: " + e, e));
    }
    long items = walked.itemCount();
    boolean delivered = ackMode == AckMode.DELIVERED;
    // In delivered mode the receiver's reservation covers the request until it is answered, and so
    // it
    // does for a durable queue, which is done with the request once the append completes.
    long bytes = (delivered && !emitted) || queues.isEmpty() ? 0 : current.readableBytes();
    if (bytes > 0 && emitted) {
      // Acknowledged already (a processor held it): never refused for memory; new requests are
      // refused instead while usage is above the budget's high water mark.
      budget.acquireAccepted(bytes);
    } else if (bytes > 0 && !reserve(bytes, reservation)) {
      current.release();
      refused.add(items);
      return done(Outcome.overloaded(Outcome.DEFAULT_RETRY_AFTER, "memory limit reached"));
    }
    int onDisk = durable == null ? 0 : 1;
    Acks acks =
        new Acks(
            budget,
            bytes,
            queues.size() + onDisk,
            (delivered ? queues.size() : awaitedInReceivedMode) + onDisk);
    boolean full = false;
    try {
      for (ExporterQueue queue : queues) {
        boolean awaited = delivered || queue.answersAfterExport();
        Outcome refusal = null;
        ByteBuf held = current.retain();
        try {
          ExporterQueue.Entry entry =
              new ExporterQueue.Entry(held, items, awaited ? acks::awaitedDone : acks::done);
          if (!queue.offer(entry)) {
            refusal = Outcome.retryable("exporter " + queue.exporterId() + "'s queue is full");
          }
        } catch (Throwable e) {
          // offer keeps nothing when it does not accept: the reference is still ours
          LOG.log(
              failureLog.level(System.Logger.Level.ERROR),
              () -> id + ": queueing for " + queue.exporterId() + " failed",
              e);
          refusal =
              Outcome.localFailure(
                  "queueing for exporter " + queue.exporterId() + " failed: " + e, e);
        }
        if (refusal != null) {
          queue.enqueueFailed(items);
          held.release();
          if (awaited) {
            acks.awaitedDone(refusal);
          } else {
            acks.refuse(refusal);
          }
          full = true;
        }
      }
      if (durable != null) {
        append(current.retain(), items, acks);
      }
    } finally {
      current.release();
    }
    if (full) {
      refused.add(items);
    } else if (durable == null) {
      queued.add(items);
    }
    return acks.offered();
  }

  /**
   * Holds {@code bytes} in the budget for a queued request: the receiver's reservation taken over
   * and resized, so that the request is not counted twice at the hand-off.
   */
  private boolean reserve(long bytes, Reservation reservation) {
    long taken = reservation.takeOver(budget);
    if (taken >= bytes) {
      budget.release(taken - bytes);
      return true;
    }
    if (budget.tryAcquire(bytes - taken)) {
      return true;
    }
    budget.release(taken);
    return false;
  }

  /** Writes the request to the durable queue once, for every exporter keeping its queue there. */
  private void append(ByteBuf request, long items, Acks acks) {
    CompletableFuture<AppendResult> appended;
    try {
      appended = durable.append((byte) signal.ordinal(), items, request);
    } catch (Throwable e) {
      request.release();
      durableEnqueueFailed.forEach(c -> c.add(items));
      acks.awaitedDone(Outcome.localFailure("durable queue failed: " + e, e));
      return;
    }
    appended.whenComplete(
        (result, error) -> {
          request.release(); // the queue is done with the bytes: on disk now, or refused
          Outcome outcome;
          if (result == null) {
            outcome = Outcome.localFailure("durable queue failed: " + error, error);
          } else {
            outcome = result.outcome();
            if (outcome.kind() == Outcome.Kind.PERMANENT && closing) {
              outcome =
                  Outcome.retryable(
                      outcome.message()); // refused because we are stopping: send again
            }
          }
          if (result != null && result.appended()) {
            queued.add(items);
          } else {
            refused.add(items);
            durableEnqueueFailed.forEach(c -> c.add(items));
          }
          acks.awaitedDone(outcome);
        });
  }

  /**
   * The fault seam before a processor ({@link FaultInjection}): {@code current} is still ours if it
   * fires.
   */
  private static void processorFault(ByteBuf current) {
    try {
      FaultInjection.check(FaultInjection.Stage.PROCESSOR);
    } catch (Throwable e) {
      current.release();
      throw e;
    }
  }

  private static CompletableFuture<Outcome> done(Outcome outcome) {
    return CompletableFuture.completedFuture(outcome);
  }

  /**
   * Stops taking requests and sends what is queued, within {@code deadline}; completes with {@code
   * true} when everything was sent in time.
   */
  public CompletableFuture<Boolean> shutdown(Duration deadline) {
    // Processors first, while the queues still take what they emit (tail_sampling's held traces).
    if (!processorsStopped.getAndSet(true)) {
      for (RelayProcessor p : processors) {
        try {
          p.shutdown();
        } catch (RuntimeException e) {
          LOG.log(
              System.Logger.Level.ERROR, () -> id + ": processor " + p.id() + " failed to stop", e);
        }
      }
    }
    closing = true;
    ScheduledExecutorService s = scheduler;
    List<CompletableFuture<Boolean>> all = new ArrayList<>();
    for (ExporterQueue queue : queues) {
      all.add(queue.shutdown(deadline));
    }
    CompletableFuture<Boolean> memory =
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
            .thenApply(v -> all.stream().allMatch(CompletableFuture::join));
    // What is on disk stays there for the next start; only the batches in flight are waited for.
    List<CompletableFuture<Boolean>> stops = new ArrayList<>();
    for (DurableExportLoop loop : loops) {
      stops.add(loop.stop(deadline));
    }
    CompletableFuture<Boolean> loopsStopped =
        CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new))
            .thenApply(v -> stops.stream().allMatch(CompletableFuture::join));
    return memory
        .thenCombine(loopsStopped, (a, c) -> a && c)
        .whenComplete(
            (ok, error) -> {
              if (durable != null) {
                durable.close();
              }
              if (s != null) {
                s.shutdown();
              }
            });
  }

  @Override
  public String toString() {
    return "Pipeline{" + id + ", " + ackMode.id() + "}";
  }

  /**
   * One request's way through the exporters: frees its budget once every exporter is done with it
   * and answers the client once every awaited exporter is (the worst outcome wins). Both counts
   * start one above the exporters' number, and {@link #offered} takes that one away, so nothing
   * completes while the request is still being offered.
   */
  private static final class Acks {
    private final MemoryBudget budget;
    private final long bytes;
    private final AtomicInteger remaining;
    private final AtomicInteger awaited;
    private final AtomicReference<Outcome> worst = new AtomicReference<>();
    private final CompletableFuture<Outcome> answer = new CompletableFuture<>();

    Acks(MemoryBudget budget, long bytes, int targets, int awaitedTargets) {
      this.budget = budget;
      this.bytes = bytes;
      this.remaining = new AtomicInteger(targets + 1);
      this.awaited = new AtomicInteger(awaitedTargets + 1);
    }

    /** An exporter the answer does not wait for is done with the request. */
    void done(Outcome ignored) {
      if (remaining.decrementAndGet() == 0 && bytes > 0) {
        budget.release(bytes);
      }
    }

    /** An exporter the answer does not wait for refused the request (its queue was full). */
    void refuse(Outcome outcome) {
      worst.accumulateAndGet(outcome, Outcome::worst);
      done(outcome);
    }

    /** An exporter the answer waits for is done with the request. */
    void awaitedDone(Outcome outcome) {
      worst.accumulateAndGet(outcome, Outcome::worst);
      done(outcome);
      if (awaited.decrementAndGet() == 0) {
        answer();
      }
    }

    /** The request was offered to every exporter: the answer, now or later. */
    CompletableFuture<Outcome> offered() {
      done(null);
      if (awaited.decrementAndGet() == 0) {
        answer();
      }
      return answer;
    }

    private void answer() {
      Outcome outcome = worst.get();
      answer.complete(outcome == null ? Outcome.accepted() : outcome);
    }
  }

  /** Configures a {@link Pipeline}. Not thread-safe. */
  public static final class Builder {
    private final String id;
    private final Signal signal;
    private AckMode ackMode = AckMode.RECEIVED;
    private MemoryBudget budget;
    private List<RelayProcessor> processors = List.of();
    private final Map<RelayExporter, SendingQueueSettings> exporters = new LinkedHashMap<>();
    private BatchSettings batch = BatchSettings.UNBATCHED;
    private MetricsRegistry metrics = MetricsRegistry.create();
    private DurableQueue durableQueue;
    private long durableCapacityBytes;
    private final Map<RelayExporter, RetryPolicy> backoffs = new LinkedHashMap<>();

    private Builder(String id, Signal signal) {
      this.id = Objects.requireNonNull(id, "id");
      this.signal = Objects.requireNonNull(signal, "signal");
    }

    /** When clients are answered (default {@code received}). */
    public Builder ackMode(AckMode mode) {
      this.ackMode = Objects.requireNonNull(mode, "ackMode");
      return this;
    }

    /** The budget shared with the receivers (required). */
    public Builder memoryBudget(MemoryBudget budget) {
      this.budget = Objects.requireNonNull(budget, "memoryBudget");
      return this;
    }

    /** Applied in order to every request (default none). */
    public Builder processors(List<RelayProcessor> processors) {
      this.processors = List.copyOf(processors);
      return this;
    }

    /** Adds an exporter with its sending queue. */
    public Builder exporter(RelayExporter exporter, SendingQueueSettings queue) {
      Objects.requireNonNull(exporter, "exporter");
      Objects.requireNonNull(queue, "queue");
      if (exporters.putIfAbsent(exporter, queue) != null) {
        throw new IllegalArgumentException(
            "exporter " + exporter.id() + " is in pipeline " + id + " twice");
      }
      return this;
    }

    /** Adds exporters sharing one kind of sending queue. */
    public Builder exporters(List<RelayExporter> list, SendingQueueSettings queue) {
      list.forEach(e -> exporter(e, queue));
      return this;
    }

    /** The batch processor's settings (default {@link BatchSettings#UNBATCHED}). */
    public Builder batch(BatchSettings batch) {
      this.batch = Objects.requireNonNull(batch, "batch");
      return this;
    }

    /** Where the pipeline's and its queues' metrics go (default a registry of its own). */
    public Builder metrics(MetricsRegistry metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /**
     * The queue on disk that the exporters with a {@link SendingQueueSettings#storage() storage}
     * read, each as the consumer named by its id; the pipeline then owns it and closes it at
     * shutdown. Needs the {@code durable} ack mode.
     *
     * @param capacityBytes its bound on disk, for the queue capacity metric
     */
    public Builder durableQueue(DurableQueue queue, long capacityBytes) {
      this.durableQueue = Objects.requireNonNull(queue, "queue");
      this.durableCapacityBytes = capacityBytes;
      return this;
    }

    /**
     * How long {@code exporter}'s durable queue consumer waits before sending a batch again after a
     * retryable failure (by attempt; where the policy gives up, it goes on at most 30 s apart).
     * Default 1 s growing to 30 s.
     */
    public Builder durableBackoff(RelayExporter exporter, RetryPolicy backoff) {
      backoffs.put(
          Objects.requireNonNull(exporter, "exporter"), Objects.requireNonNull(backoff, "backoff"));
      return this;
    }

    /** Checks the configuration, then starts the pipeline ({@link Pipeline#start()}). */
    public Pipeline build() {
      return new Pipeline(this).start();
    }
  }
}
