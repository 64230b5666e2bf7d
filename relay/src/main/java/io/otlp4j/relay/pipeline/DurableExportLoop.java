package io.otlp4j.relay.pipeline;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.queue.QueueConsumer;
import io.otlp4j.queue.QueueRecord;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One exporter's consumer of a pipeline's durable queue: reads a batch of records after its
 * checkpoint (about {@code send_batch_size} items), makes it into requests ({@link BatchAssembler}:
 * merged, cut to {@code send_batch_max_size}), exports them, and commits the batch once every part
 * was accepted or rejected for good by the upstream. A part that failed retryably (the upstream is
 * down, its circuit is open) or locally (an exception in our own code) is sent again, the same
 * bytes, and the batch stays on disk until then: the data waits on disk, not in memory, and never
 * gives up.
 *
 * <p><b>The one retry owner:</b> this loop owns the retries of what it reads: it calls {@link
 * RelayExporter#exportOnce} (one attempt, no retries of the exporter's own) and waits as the
 * upstream asked (RetryInfo / Retry-After) or else as the exporter's {@code retry_on_failure}
 * policy says; where that policy would give up, it goes on at most {@link #DEFAULT_BACKOFF}'s 30 s
 * apart.
 *
 * <p><b>Our own failures</b> (any {@link Throwable} from our code, {@link OutOfMemoryError}
 * included) never end a batch and never stop the loop: they are counted ({@code
 * otlp4j_exporter_local_failures_total}), logged at most once per interval, and retried with
 * backoff. Only the upstream's own permanent answer, or bytes that cannot be made into a request
 * ({@link WireFormatException}), end a batch without delivery.
 *
 * <p><b>Ordering and restarts:</b> batches go one at a time, in queue order; after a restart the
 * consumer resumes after its last checkpoint, so what was not delivered goes first. Delivery is
 * at-least-once. A loop stopped with a batch in flight commits it only if every part was done
 * before the stop completed; otherwise it stays on disk and is sent again after the next start.
 *
 * <p><b>Memory:</b> at most one batch (a bounded number of records and bytes) is held at a time.
 *
 * <p><b>Threads:</b> every step runs on the pipeline's scheduler thread (one per durable pipeline);
 * the consumer is only touched there. Exports only start there; their completions hop back to it.
 *
 * <p><b>Buffer ownership:</b> the payloads polled from the queue belong to the loop, which releases
 * them once their batch is committed (or at stop); the parts hold their own references, and each
 * export gets its own retained duplicate of a part.
 */
final class DurableExportLoop {
  private static final System.Logger LOG = System.getLogger(DurableExportLoop.class.getName());

  /** Most records polled at once. */
  static final int MAX_RECORDS_PER_POLL = 512;

  /** About the most payload bytes polled at once. */
  static final long MAX_BYTES_PER_POLL = 8L * 1024 * 1024;

  /** When the exporter's own policy gives up: the loop keeps trying at most this far apart. */
  static final RetryPolicy DEFAULT_BACKOFF =
      RetryPolicy.builder()
          .initialDelay(Duration.ofSeconds(1))
          .maxDelay(Duration.ofSeconds(30))
          .maxAttempts(Integer.MAX_VALUE)
          .maxElapsed(Duration.ofDays(36_500))
          .build();

  /** Local failures are logged at WARNING at most once per this interval; the rest at DEBUG. */
  private final String pipelineId;

  private final Signal signal;
  private final RelayExporter exporter;
  private final QueueConsumer consumer;
  private final ScheduledExecutorService scheduler;
  private final RetryPolicy backoff;
  private final long sendBatchSize;
  private final BatchAssembler assembler;
  private final MetricsRegistry.Counter failedItems;
  private final MetricsRegistry.Counter retries;
  private final MetricsRegistry.Counter localFailures;
  private final MetricsRegistry.Histogram batchSizes;
  private final ThrottledLog localFailureLog = ThrottledLog.every(Duration.ofSeconds(10));

  // Scheduler-thread state.
  private final ArrayDeque<QueueRecord> carried = new ArrayDeque<>();
  private List<QueueRecord> batch = List.of();
  private List<Part> parts = List.of();
  private int attempts;
  private long batchStartNanos;

  /** A skipped record's position, committed after the batch before it. */
  private long carriedSkip = -1;

  private volatile boolean stopped;
  private final CompletableFuture<Void> idle = new CompletableFuture<>();
  private boolean exporting;

  /** One exported piece of a batch: its bytes (one reference held here) and whether it is done. */
  private static final class Part {
    final ByteBuf bytes;
    final long items;
    boolean done;

    Part(ByteBuf bytes, long items) {
      this.bytes = bytes;
      this.items = items;
    }
  }

  /**
   * @param exporter the exporter as the pipeline counts it ({@link CountingExporter#wrap})
   */
  DurableExportLoop(
      String pipelineId,
      Signal signal,
      RelayExporter exporter,
      QueueConsumer consumer,
      BatchSettings batch,
      RetryPolicy backoff,
      ScheduledExecutorService scheduler,
      MetricsRegistry metrics) {
    this.pipelineId = pipelineId;
    this.signal = signal;
    this.exporter = exporter;
    this.consumer = consumer;
    this.scheduler = scheduler;
    this.backoff = backoff;
    this.sendBatchSize = batch.sendBatchSize();
    this.assembler = new BatchAssembler(signal, batch.sendBatchMaxSize());
    String item =
        switch (signal) {
          case TRACES -> "spans";
          case METRICS -> "metric_points";
          case LOGS -> "log_records";
        };
    // Only for records that can never be sent (counted where no exporter saw them).
    failedItems =
        metrics.counter(
            "otelcol_exporter_send_failed_" + item,
            "Number of " + item.replace('_', ' ') + " in failed attempts to send to destination.",
            "exporter",
            exporter.id());
    batchSizes = ExporterQueue.batchSizes(metrics, pipelineId, exporter.id());
    retries =
        metrics.counter(
            "otlp4j_exporter_queue_retries",
            "Batches read from a durable queue that were sent again after a retryable failure",
            "exporter",
            exporter.id(),
            "pipeline",
            pipelineId);
    localFailures = ExporterQueue.localFailures(metrics, exporter.id());
    String[] labels = {"exporter", exporter.id(), "data_type", signal.id(), "pipeline", pipelineId};
    metrics.gauge(
        "otlp4j_exporter_queue_records",
        "Records waiting in the exporter's durable queue",
        () -> consumer.pendingRecords(),
        labels);
  }

  /** Starts reading (on the scheduler). */
  void start() {
    run(this::step);
  }

  /** The consumer's view of the queue (for metrics). */
  QueueConsumer consumer() {
    return consumer;
  }

  /**
   * Stops after the export in flight (if any) finishes, within {@code deadline}; what is not
   * committed stays in the queue for the next start. Completes with whether the loop was idle in
   * time.
   */
  CompletableFuture<Boolean> stop(Duration deadline) {
    stopped = true;
    try {
      scheduler.execute(
          () -> {
            if (!exporting) {
              finish();
            }
          });
    } catch (RejectedExecutionException closed) {
      idle.complete(null);
    }
    return idle.thenApply(v -> true)
        .completeOnTimeout(false, deadline.toNanos(), TimeUnit.NANOSECONDS)
        .thenApplyAsync(
            clean -> {
              if (!clean) {
                // An export outlived the deadline: it holds its own reference to its bytes, so the
                // loop's
                // can go; the batch was not committed and is sent again after the next start.
                finish();
              }
              return clean;
            },
            scheduler);
  }

  /** Releases what the loop holds, uncommitted: it stays on disk for the next start. */
  private void finish() {
    releaseBatch();
    for (QueueRecord r : carried) {
      r.payload().release();
    }
    carried.clear();
    idle.complete(null);
  }

  /** Runs {@code task} on the scheduler; whatever it throws is a local failure, retried. */
  private void run(Runnable task) {
    try {
      scheduler.execute(() -> guarded(task));
    } catch (RejectedExecutionException closed) {
      finish(); // the pipeline is gone: nothing is committed, the batch stays on disk
    }
  }

  private void guarded(Runnable task) {
    try {
      task.run();
    } catch (Throwable e) {
      onLocalFailure(e);
    }
  }

  private void onLocalFailure(Throwable e) {
    exporting = false;
    try {
      localFailures.increment();
      LOG.log(
          localFailureLog.level(System.Logger.Level.WARNING),
          () ->
              pipelineId
                  + "/"
                  + exporter.id()
                  + ": the durable queue loop failed in otlp4j's own code; the batch stays on disk and "
                  + "is sent again",
          e);
    } catch (Throwable ignored) {
      // even logging failed (out of memory): retrying is what matters
    }
    scheduleRetry(Outcome.NO_DELAY);
  }

  private void step() {
    if (stopped) {
      finish();
      return;
    }
    if (parts.isEmpty() && batch.isEmpty()) {
      if (!fillBatch()) {
        consumer
            .awaitRecords()
            .whenCompleteAsync(
                (v, error) -> {
                  if (error == null) {
                    guarded(this::step);
                  } else {
                    finish(); // the queue closed
                  }
                },
                scheduler);
        return;
      }
      attempts = 0;
      batchStartNanos = System.nanoTime();
    }
    if (parts.isEmpty()) {
      try {
        prepareParts();
      } catch (WireFormatException e) {
        // The queued bytes cannot be made into a request (they were validated when accepted, so the
        // disk changed under us): sending them again cannot help.
        long items = batch.stream().mapToLong(QueueRecord::itemCount).sum();
        LOG.log(
            System.Logger.Level.ERROR,
            () ->
                pipelineId
                    + "/"
                    + exporter.id()
                    + ": dropping "
                    + batch.size()
                    + " queued requests ("
                    + items
                    + " items) that cannot be sent",
            e);
        failedItems.add(items);
        commitBatch();
        run(this::step);
        return;
      }
    }
    send();
  }

  /**
   * Takes records (carried ones first) up to about send_batch_size items; false when none. On an
   * exception the records taken so far go back to the front of {@code carried}: none is skipped.
   */
  private boolean fillBatch() {
    List<QueueRecord> records = new ArrayList<>();
    try {
      return fillBatch(records);
    } catch (Throwable e) {
      for (int i = records.size() - 1; i >= 0; i--) {
        carried.addFirst(records.get(i));
      }
      batch = List.of();
      throw e;
    }
  }

  private boolean fillBatch(List<QueueRecord> records) {
    long items = 0;
    while (true) {
      QueueRecord next = carried.poll();
      if (next == null) {
        List<QueueRecord> polled = consumer.poll(MAX_RECORDS_PER_POLL, MAX_BYTES_PER_POLL);
        if (polled.isEmpty()) {
          break;
        }
        carried.addAll(polled);
        continue;
      }
      if (next.kind() != (byte) signal.ordinal()) {
        // Not this pipeline's signal (a directory reused by another pipeline): cannot be sent here.
        LOG.log(
            System.Logger.Level.ERROR,
            () ->
                pipelineId
                    + "/"
                    + exporter.id()
                    + ": skipping a queued record of "
                    + "kind "
                    + next.kind()
                    + " at position "
                    + next.position());
        next.payload().release();
        if (records.isEmpty()) {
          consumer.commit(next.position());
          continue;
        }
        batch = records;
        carriedSkip = next.position();
        return true;
      }
      if (!records.isEmpty() && items + next.itemCount() > sendBatchSize) {
        carried.addFirst(next);
        break;
      }
      records.add(next);
      items += next.itemCount();
      if (items >= sendBatchSize) {
        break;
      }
    }
    batch = records;
    return !records.isEmpty();
  }

  private void prepareParts() {
    List<ByteBuf> payloads = new ArrayList<>(batch.size());
    long items = 0;
    for (QueueRecord r : batch) {
      payloads.add(r.payload());
      items += r.itemCount();
    }
    List<BatchAssembler.Part> assembled = assembler.assemble(payloads, items);
    List<Part> list = new ArrayList<>(assembled.size());
    try {
      for (BatchAssembler.Part p : assembled) {
        list.add(new Part(p.bytes(), p.items()));
      }
    } catch (Throwable e) {
      BatchAssembler.releaseFrom(assembled, 0);
      throw e;
    }
    parts = list;
  }

  private void send() {
    attempts++;
    exporting = true;
    List<QueueRecord> sentBatch = batch;
    List<CompletableFuture<Outcome>> sent = new ArrayList<>(parts.size());
    List<Part> sending = new ArrayList<>(parts.size());
    for (Part part : parts) {
      if (part.done) {
        continue;
      }
      sending.add(part);
      CompletableFuture<Outcome> f;
      try {
        if (attempts == 1) {
          batchSizes.record(part.items);
        }
        FaultInjection.check(FaultInjection.Stage.EXPORT);
        f = exporter.exportOnce(signal, part.bytes.retainedDuplicate(), part.items);
      } catch (Throwable e) {
        f = CompletableFuture.completedFuture(Outcome.localFailure("export failed: " + e, e));
      }
      sent.add(f);
    }
    CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
        .whenCompleteAsync(
            (v, error) -> guarded(() -> onSent(sentBatch, sending, sent)), scheduler);
  }

  private void onSent(
      List<QueueRecord> sentBatch, List<Part> sending, List<CompletableFuture<Outcome>> sent) {
    exporting = false;
    if (batch != sentBatch) {
      return; // the loop was stopped and released the batch meanwhile: it stays on disk,
      // uncommitted
    }
    Outcome worst = null;
    for (int i = 0; i < sent.size(); i++) {
      CompletableFuture<Outcome> f = sent.get(i);
      Outcome o =
          f.isCompletedExceptionally() ? Outcome.localFailure("export failed", null) : f.join();
      worst = Outcome.worst(worst, o);
      if (!o.isRetryable()) {
        sending.get(i).done = true; // accepted, or rejected for good: sending it again cannot help
      } else if (o.kind() == Outcome.Kind.LOCAL_FAILURE) {
        localFailures.increment();
      }
    }
    if (worst != null && worst.isRetryable()) {
      retries.increment();
      Outcome why = worst;
      if (attempts == 1 || attempts % 10 == 0) {
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                pipelineId
                    + "/"
                    + exporter.id()
                    + ": a batch of "
                    + batch.size()
                    + " queued requests was not delivered ("
                    + why.message()
                    + "); it stays on disk and "
                    + "is sent again (attempt "
                    + attempts
                    + ")");
      }
      if (stopped) {
        finish();
        return;
      }
      scheduleRetry(retryHint(sent));
      return;
    }
    commitBatch();
    step();
  }

  /** The longest delay the upstream asked for among the parts that must go again, or NO_DELAY. */
  private static long retryHint(List<CompletableFuture<Outcome>> sent) {
    long hint = Outcome.NO_DELAY;
    for (CompletableFuture<Outcome> f : sent) {
      Outcome o = f.isCompletedExceptionally() ? null : f.join();
      if (o != null && o.isRetryable() && o.retryAfterNanos() > hint) {
        hint = o.retryAfterNanos();
      }
    }
    return hint;
  }

  /** Commits the batch: only a whole one, every part done (never an empty or a partial list). */
  private void commitBatch() {
    if (batch.isEmpty()) {
      return;
    }
    for (Part p : parts) {
      if (!p.done) {
        return;
      }
    }
    long position = batch.get(batch.size() - 1).position();
    if (carriedSkip > position) {
      position = carriedSkip;
    }
    carriedSkip = -1;
    consumer.commit(position);
    releaseBatch();
  }

  /**
   * Sends the batch again after the upstream's delay when it gave one, else the retry policy's
   * backoff; where the policy would give up, after at most {@link #DEFAULT_BACKOFF}'s cap: the data
   * is on disk.
   */
  private void scheduleRetry(long serverDelayNanos) {
    int n = Math.max(1, attempts);
    long elapsed = batch.isEmpty() ? 0 : System.nanoTime() - batchStartNanos;
    RetryPolicy.RetryDecision d = backoff.decide(n, elapsed, serverDelayNanos);
    long delay =
        d.shouldRetry()
            ? d.delayNanos()
            : serverDelayNanos >= 0
                ? serverDelayNanos
                : DEFAULT_BACKOFF.decide(n, 0, Outcome.NO_DELAY).delayNanos();
    try {
      scheduler.schedule(
          () ->
              guarded(
                  () -> {
                    if (stopped) {
                      finish();
                    } else {
                      step();
                    }
                  }),
          delay,
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closed) {
      finish();
    }
  }

  private void releaseBatch() {
    for (Part p : parts) {
      try {
        p.bytes.release();
      } catch (RuntimeException alreadyReleased) {
        // nothing more to free
      }
    }
    parts = List.of();
    for (QueueRecord r : batch) {
      try {
        r.payload().release();
      } catch (RuntimeException alreadyReleased) {
        // nothing more to free
      }
    }
    batch = List.of();
  }
}
