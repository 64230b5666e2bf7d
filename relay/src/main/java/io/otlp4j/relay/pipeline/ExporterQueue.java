package io.otlp4j.relay.pipeline;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Batcher;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One exporter's bounded in-memory queue within one pipeline (or, for an exporter whose {@code
 * sending_queue} is disabled, a direct path to it), and the batching in front of the exporter:
 * queued requests are gathered into batches of about {@code send_batch_size} items, made into
 * requests of at most {@code send_batch_max_size} by the {@link BatchAssembler}, and handed to the
 * exporter.
 *
 * <p><b>Queue:</b> producers are the receivers' threads ({@link #offer}); the consumer is the
 * batcher's drainer thread. When full, {@link #offer} returns {@code false} and keeps nothing: the
 * pipeline refuses the request with a retryable answer. A slow exporter fills only its own queue.
 * The size check and the enqueue are not one atomic step, so concurrent producers may overshoot the
 * configured size by at most their number (the batcher's ring, at least 1024, is the hard bound).
 *
 * <p><b>Outcomes:</b> every entry's completion is called exactly once, with the outcome of the
 * batch that carried it (the worst of its parts when the batch was split; a partial success only as
 * itself when the batch was that one request, else as accepted, since which client's items the
 * upstream refused cannot be told), or with a retryable outcome when a shutdown timed out before it
 * was sent. In the {@code delivered} ack mode that is the client's answer.
 *
 * <p><b>Our own failures:</b> whatever our code throws while making a batch into requests ({@link
 * Throwable}, {@link OutOfMemoryError} included) neither kills the batcher's thread nor loses the
 * batch: it is counted ({@code otlp4j_exporter_local_failures_total}), logged at most once per
 * interval, and the same batch is tried again after a backoff ({@link #LOCAL_RETRY}: up to a
 * minute), holding one of the batcher's in-flight permits meanwhile, so the queue in front fills
 * and refuses (retryable) rather than growing. Past that minute the batch's entries are answered
 * with a local failure (retryable for the client). An exporter that throws on part k of n still
 * gets parts k+1..n, and no part leaks.
 *
 * <p><b>No queue:</b> with {@code sending_queue.enabled: false} an offered request is exported at
 * once, alone, by the offering thread (which only starts the export); {@link #answersAfterExport()}
 * tells the pipeline that its clients must wait for that export, as in the Collector.
 *
 * <p><b>Buffer ownership:</b> {@link #offer} takes ownership of the entry's buffer only when it
 * returns {@code true}; the queue then releases it exactly once (after the export, or on a shutdown
 * that timed out) and calls the entry's completion. Thread-safe.
 */
final class ExporterQueue {
  private static final System.Logger LOG = System.getLogger(ExporterQueue.class.getName());

  static final String QUEUE_SIZE_HELP =
      "Size of the exporter's queue: requests waiting in memory, or bytes for a queue on disk";
  static final String QUEUE_CAPACITY_HELP =
      "Capacity of the exporter's queue: requests in memory, or bytes for a queue on disk";

  /**
   * How a batch that failed in our own code is tried again: 100 ms growing to 5 s, for a minute.
   */
  static final RetryPolicy LOCAL_RETRY =
      RetryPolicy.builder()
          .initialDelay(Duration.ofMillis(100))
          .maxDelay(Duration.ofSeconds(5))
          .maxAttempts(Integer.MAX_VALUE)
          .maxElapsed(Duration.ofMinutes(1))
          .build();

  /** A queued request: its buffer, items, and what to tell once it is exported or given up. */
  record Entry(ByteBuf request, long items, Consumer<Outcome> onDone) {}

  private final String pipelineId;
  private final Signal signal;
  private final RelayExporter exporter; // counted (CountingExporter.wrap)
  private final BatchSettings settings;
  private final SendingQueueSettings queue;
  private final BatchAssembler assembler;
  private final int queueSize;
  private final MetricsRegistry.Histogram batchSizes;
  private final MetricsRegistry.Counter localFailures;
  private final MetricsRegistry.Counter enqueueFailed;
  private final ThrottledLog localFailureLog = ThrottledLog.every(Duration.ofSeconds(10));
  private final Set<CompletableFuture<Outcome>> direct; // exports in flight without a queue
  private volatile Batcher<Entry> batcher; // null without a queue, or before start()
  private volatile ScheduledExecutorService scheduler; // for local-failure retries; set by start()
  private volatile boolean closed;

  ExporterQueue(
      String pipelineId,
      Signal signal,
      RelayExporter exporter,
      BatchSettings settings,
      SendingQueueSettings queue,
      MetricsRegistry metrics) {
    this.pipelineId = pipelineId;
    this.signal = signal;
    this.exporter = CountingExporter.wrap(exporter, signal, metrics);
    this.settings = settings;
    this.queue = queue;
    this.assembler = new BatchAssembler(signal, settings.sendBatchMaxSize());
    this.direct = queue.enabled() ? null : ConcurrentHashMap.newKeySet();
    this.queueSize = queue.enabled() ? queue.queueSize() : 0;
    this.batchSizes = batchSizes(metrics, pipelineId, exporter.id());
    this.localFailures = localFailures(metrics, exporter.id());
    this.enqueueFailed = enqueueFailed(metrics, exporter.id(), signal);
    String[] labels = {"exporter", exporter.id(), "data_type", signal.id(), "pipeline", pipelineId};
    metrics.gauge(
        "otelcol_exporter_queue_size",
        QUEUE_SIZE_HELP,
        () -> {
          Batcher<Entry> b = batcher;
          return b == null ? 0 : b.queuedCount();
        },
        labels);
    metrics.gauge("otelcol_exporter_queue_capacity", QUEUE_CAPACITY_HELP, () -> queueSize, labels);
  }

  /**
   * Starts the batcher's thread (with a queue); {@code scheduler} runs the retries of batches that
   * failed in our own code. Called once, by {@link Pipeline#start()}.
   */
  void start(ScheduledExecutorService scheduler) {
    this.scheduler = scheduler;
    if (!queue.enabled()) {
      return;
    }
    Batcher.Builder<Entry> builder =
        Batcher.<Entry>builder(this::exportBatch)
            .capacity(Math.max(queue.queueSize(), 1024))
            .maxBatchSize(1024)
            .maxBatchBytes(settings.sendBatchSize(), Entry::items)
            .overflow(Batcher.Overflow.REJECT)
            .maxInFlight(queue.numConsumers())
            .discardListener(ExporterQueue::discard)
            .threadFactory(
                r -> {
                  Thread t = new Thread(r, "otlp4j-queue-" + pipelineId + "-" + exporter.id());
                  t.setDaemon(true);
                  return t;
                });
    if (settings.batching()) {
      builder.strategy(Batcher.Strategy.TIME).maxDelay(settings.timeout());
    } else {
      builder.strategy(Batcher.Strategy.ADAPTIVE);
    }
    this.batcher = builder.build();
  }

  /**
   * Upper bounds of {@code otlp4j_exporter_batch_send_size}: the Collector's batch size buckets.
   */
  private static final double[] BATCH_SIZE_BOUNDS = {
    10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000,
    20000, 30000, 50000, 100000
  };

  /**
   * Items per request handed to {@code exporterId}, as the Collector's batch_send_size histogram.
   */
  static MetricsRegistry.Histogram batchSizes(
      MetricsRegistry metrics, String pipelineId, String exporterId) {
    return metrics.histogram(
        "otlp4j_exporter_batch_send_size",
        "Items (spans, data points, log records) in each request handed to the exporter, after batching and "
            + "splitting",
        BATCH_SIZE_BOUNDS,
        "exporter",
        exporterId,
        "pipeline",
        pipelineId);
  }

  /**
   * The Collector's {@code otelcol_exporter_enqueue_failed_<items>}, labelled with the exporter's
   * id: items its sending queue could not take (full, or failed), refused to the client with a
   * retryable answer.
   */
  static MetricsRegistry.Counter enqueueFailed(
      MetricsRegistry metrics, String exporterId, Signal signal) {
    String item = CountingExporter.itemName(signal);
    return metrics.counter(
        "otelcol_exporter_enqueue_failed_" + item,
        "Number of " + item.replace('_', ' ') + " failed to be added to the sending queue.",
        "exporter",
        exporterId);
  }

  /** Counts {@code items} that this exporter's queue could not take. */
  void enqueueFailed(long items) {
    enqueueFailed.add(items);
  }

  /**
   * Failures in our own code on {@code exporterId}'s path: the same series the exporter library
   * counts in.
   */
  static MetricsRegistry.Counter localFailures(MetricsRegistry metrics, String exporterId) {
    return metrics.counter(
        io.otlp4j.exporter.OtlpExporter.LOCAL_FAILURES_METRIC,
        io.otlp4j.exporter.OtlpExporter.LOCAL_FAILURES_HELP,
        "exporter",
        exporterId);
  }

  /**
   * Queues {@code entry}; {@code false} (the caller keeps the entry) when the queue is full or
   * closed.
   */
  boolean offer(Entry entry) {
    FaultInjection.check(FaultInjection.Stage.ENQUEUE);
    if (!queue.enabled()) {
      if (closed) {
        return false;
      }
      exportDirectly(entry);
      return true;
    }
    Batcher<Entry> b = batcher;
    // The batcher's ring rounds up to a power of two; the configured size is the bound.
    if (b == null || closed || b.queuedCount() >= queueSize) {
      return false;
    }
    return b.offer(entry).accepted();
  }

  /**
   * Whether a client's answer must wait for this exporter whatever the ack mode (it has no queue).
   */
  boolean answersAfterExport() {
    return !queue.enabled();
  }

  /** The exporter's id. */
  String exporterId() {
    return exporter.id();
  }

  /** Stops taking requests and exports what is queued within {@code deadline}. */
  CompletableFuture<Boolean> shutdown(Duration deadline) {
    closed = true;
    Batcher<Entry> b = batcher;
    if (b != null) {
      return b.shutdown(deadline);
    }
    if (direct == null) {
      return CompletableFuture.completedFuture(true); // never started
    }
    CompletableFuture<Boolean> done =
        CompletableFuture.allOf(direct.toArray(CompletableFuture[]::new)).thenApply(v -> true);
    return done.completeOnTimeout(false, deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Without a queue: the request goes alone, at once. Owns the entry's buffer. */
  private void exportDirectly(Entry entry) {
    CompletableFuture<Outcome> sent;
    try {
      batchSizes.record(entry.items());
      sent = exporter.export(signal, entry.request(), entry.items());
    } catch (Throwable e) {
      onLocalFailure(e);
      sent = CompletableFuture.completedFuture(Outcome.localFailure("internal error: " + e, e));
    }
    // The exporter owns the buffer now: from here on nothing may throw out of offer (the pipeline
    // would release a reference it no longer holds).
    CompletableFuture<Outcome> f = sent;
    try {
      direct.add(f);
      f.whenComplete(
          (outcome, error) -> {
            direct.remove(f);
            complete(
                entry,
                outcome != null
                    ? outcome
                    : Outcome.localFailure("internal error: " + error, error));
          });
    } catch (Throwable e) {
      onLocalFailure(e);
      direct.remove(f);
      complete(entry, Outcome.localFailure("internal error: " + e, e));
    }
  }

  /** Runs on the drainer thread; owns the entries' buffers. Never throws. */
  private CompletableFuture<?> exportBatch(List<Entry> batch) {
    BatchExport export = new BatchExport(batch);
    export.assemble();
    return export.done;
  }

  /**
   * One batch on its way out. Holds the entries until the parts exist, then one reference to each
   * part until every export of it completed (each export gets its own retained duplicate), so that
   * a part whose export threw in our own code is sent again, from the same bytes, after a backoff
   * ({@link #LOCAL_RETRY}); only past that is the batch answered with a local failure. Runs on the
   * drainer thread, then on the scheduler for retries; the steps of one batch never overlap.
   */
  private final class BatchExport {
    final List<Entry> entries;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    final long startNanos = System.nanoTime();
    List<BatchAssembler.Part> parts; // null until assembled
    CompletableFuture<Outcome>[] sent;
    int attempt;

    BatchExport(List<Entry> entries) {
      this.entries = entries;
    }

    /**
     * Makes the entries into parts; on a failure of our own, tries again later with the entries
     * kept.
     */
    void assemble() {
      attempt++;
      List<BatchAssembler.Part> assembled = null;
      try {
        long items = 0;
        List<ByteBuf> buffers = new ArrayList<>(entries.size());
        for (Entry e : entries) {
          buffers.add(e.request());
          items += e.items();
        }
        assembled = assembler.assemble(buffers, items);
        @SuppressWarnings("unchecked")
        CompletableFuture<Outcome>[] futures = new CompletableFuture[assembled.size()];
        parts = assembled;
        sent = futures;
      } catch (Throwable e) {
        if (assembled != null && parts == null) {
          BatchAssembler.releaseFrom(assembled, 0);
        }
        onLocalFailure(e);
        retryLater(this::assemble, e);
        return;
      }
      for (Entry e : entries) {
        release(e.request()); // the parts hold their own references
      }
      attempt = 0;
      send();
    }

    /** Exports every part not yet handed over; a part whose export threw is sent again later. */
    void send() {
      attempt++;
      Throwable failure = null;
      for (int i = 0; i < parts.size(); i++) {
        if (sent[i] != null) {
          continue;
        }
        BatchAssembler.Part part = parts.get(i);
        try {
          if (attempt == 1) {
            batchSizes.record(part.items());
          }
          FaultInjection.check(FaultInjection.Stage.EXPORT);
          sent[i] = exporter.export(signal, part.bytes().retainedDuplicate(), part.items());
        } catch (Throwable e) {
          onLocalFailure(e);
          failure = e;
        }
      }
      if (failure != null) {
        retryLater(this::send, failure);
        return;
      }
      try {
        CompletableFuture.allOf(sent).whenComplete((v, error) -> answer());
      } catch (Throwable e) {
        onLocalFailure(e);
        answer(); // answers with what is known; unfinished parts read as local failures
      }
    }

    private void retryLater(Runnable step, Throwable cause) {
      ScheduledExecutorService s = scheduler;
      RetryPolicy.RetryDecision d =
          LOCAL_RETRY.decide(attempt, System.nanoTime() - startNanos, Outcome.NO_DELAY);
      if (s != null && d.shouldRetry()) {
        try {
          s.schedule(step, d.delayNanos(), TimeUnit.NANOSECONDS);
          return;
        } catch (Throwable rejected) {
          // the pipeline is stopping: give up below
        }
      }
      giveUp(Outcome.localFailure("the relay failed to export the batch: " + cause, cause));
    }

    private void giveUp(Outcome failure) {
      try {
        if (parts == null) {
          for (Entry e : entries) {
            release(e.request());
          }
        } else {
          BatchAssembler.releaseFrom(parts, 0);
        }
        for (Entry e : entries) {
          complete(e, failure);
        }
      } finally {
        done.complete(null);
      }
    }

    private void answer() {
      try {
        Outcome outcome = null;
        for (CompletableFuture<Outcome> part : sent) {
          Outcome o =
              part != null && part.isDone() && !part.isCompletedExceptionally()
                  ? part.join()
                  : null;
          outcome =
              Outcome.worst(outcome, o == null ? Outcome.localFailure("internal error", null) : o);
        }
        if (outcome != null
            && outcome.kind() == Outcome.Kind.PARTIALLY_ACCEPTED
            && (entries.size() > 1 || sent.length > 1)) {
          outcome =
              Outcome.accepted(); // the upstream kept it; whose items it refused cannot be told
        }
        BatchAssembler.releaseFrom(parts, 0);
        for (Entry e : entries) {
          complete(e, outcome);
        }
      } finally {
        done.complete(null);
      }
    }
  }

  private void onLocalFailure(Throwable e) {
    try {
      localFailures.increment();
      LOG.log(
          localFailureLog.level(System.Logger.Level.WARNING),
          () ->
              pipelineId
                  + "/"
                  + exporter.id()
                  + ": exporting a batch failed in otlp4j's own code; it is tried again",
          e);
    } catch (Throwable ignored) {
      // even logging failed (out of memory): the retry is what matters
    }
  }

  private static void complete(Entry e, Outcome outcome) {
    try {
      e.onDone().accept(outcome);
    } catch (Throwable ignored) {
      // one completion's failure must not keep the others from their answer
    }
  }

  private static void release(ByteBuf buf) {
    buf.release();
  }

  private static void discard(Entry entry) {
    try {
      entry.request().release();
    } finally {
      entry.onDone().accept(Outcome.retryable("the relay stopped before the request was sent"));
    }
  }
}
