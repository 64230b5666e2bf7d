package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.queue.QueueConsumer;
import io.otlp4j.queue.QueueRecord;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.RequestMerger;
import io.otlp4j.wire.RequestSplitter;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One exporter's consumer of a pipeline's durable queue: reads a batch of records after its checkpoint
 * (about {@code send_batch_size} items), merges them by concatenation ({@link RequestMerger}, no
 * copy), cuts the result to {@code send_batch_max_size} ({@link RequestSplitter}), exports it, and
 * commits the batch once every part was delivered or rejected for good (counted). A part that failed
 * retryably (the upstream is down, its circuit is open) is sent again, the same bytes, after a backoff
 * that grows up to the retry policy's cap and never gives up: the data waits on disk, not in memory.
 *
 * <p><b>Ordering and restarts:</b> batches go one at a time, in queue order; after a restart the
 * consumer resumes after its last checkpoint, so what was not delivered goes first. Delivery is
 * at-least-once: a batch exported but not yet committed when the process died is sent again.
 *
 * <p><b>Memory:</b> at most one batch (a bounded number of records and bytes) is held at a time; the
 * rest stays on disk whatever the upstream does.
 *
 * <p><b>Threads:</b> every step runs on the pipeline's scheduler thread (one per durable pipeline);
 * the consumer is only touched there. Exports only start there; their completions hop back to it.
 *
 * <p><b>Buffer ownership:</b> the payloads polled from the queue belong to the loop, which releases
 * them once their batch is committed (or at shutdown); each export gets its own retained duplicate.
 */
final class DurableExportLoop {
  private static final System.Logger LOG = System.getLogger(DurableExportLoop.class.getName());

  /** Most records polled at once. */
  static final int MAX_RECORDS_PER_POLL = 512;
  /** About the most payload bytes polled at once. */
  static final long MAX_BYTES_PER_POLL = 8L * 1024 * 1024;
  /** When the exporter's own policy gives up: the loop keeps trying at most this far apart. */
  static final RetryPolicy DEFAULT_BACKOFF = RetryPolicy.builder().initialDelay(Duration.ofSeconds(1))
      .maxDelay(Duration.ofSeconds(30)).maxAttempts(Integer.MAX_VALUE).maxElapsed(Duration.ofDays(36_500)).build();

  private final String pipelineId;
  private final Signal signal;
  private final RelayExporter exporter;
  private final QueueConsumer consumer;
  private final ScheduledExecutorService scheduler;
  private final RetryPolicy backoff;
  private final long sendBatchSize;
  private final RequestSplitter splitter;
  private final OtlpWalker walker = OtlpWalker.create();
  private final MetricsRegistry.Counter sentItems;
  private final MetricsRegistry.Counter failedItems;
  private final MetricsRegistry.Counter retries;

  // Scheduler-thread state.
  private final ArrayDeque<QueueRecord> carried = new ArrayDeque<>();
  private List<QueueRecord> batch = List.of();
  private List<Part> parts = List.of();
  private int attempts;
  private final MetricsRegistry.Histogram batchSizes;
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

  DurableExportLoop(String pipelineId, Signal signal, RelayExporter exporter, QueueConsumer consumer,
      BatchSettings batch, RetryPolicy backoff, ScheduledExecutorService scheduler, MetricsRegistry metrics) {
    this.pipelineId = pipelineId;
    this.signal = signal;
    this.exporter = exporter;
    this.consumer = consumer;
    this.scheduler = scheduler;
    this.backoff = backoff;
    this.sendBatchSize = batch.sendBatchSize();
    this.splitter = batch.sendBatchMaxSize() > 0
        ? RequestSplitter.builder().maxItems(batch.sendBatchMaxSize()).validation(false).build()
        : null;
    String item = switch (signal) {
      case TRACES -> "spans";
      case METRICS -> "metric_points";
      case LOGS -> "log_records";
    };
    if (exporter instanceof UpstreamExporter) {
      sentItems = null; // OtlpExporter counts them under the same names
      failedItems = null;
    } else {
      sentItems = metrics.counter("otelcol_exporter_sent_" + item,
          "Number of " + item.replace('_', ' ') + " successfully sent to destination.", "exporter", exporter.id());
      failedItems = metrics.counter("otelcol_exporter_send_failed_" + item,
          "Number of " + item.replace('_', ' ') + " in failed attempts to send to destination.",
          "exporter", exporter.id());
    }
    batchSizes = ExporterQueue.batchSizes(metrics, pipelineId, exporter.id());
    retries = metrics.counter("otlp4j_exporter_queue_retries",
        "Batches read from a durable queue that were sent again after a retryable failure",
        "exporter", exporter.id(), "pipeline", pipelineId);
    String[] labels = {"exporter", exporter.id(), "data_type", signal.id(), "pipeline", pipelineId};
    metrics.gauge("otlp4j_exporter_queue_records", "Records waiting in the exporter's durable queue",
        () -> consumer.pendingRecords(), labels);
  }

  /** Starts reading (on the scheduler). */
  void start() {
    scheduler.execute(this::step);
  }

  /** The consumer's view of the queue (for metrics). */
  QueueConsumer consumer() {
    return consumer;
  }

  /**
   * Stops after the export in flight (if any) finishes, within {@code deadline}; what is not committed
   * stays in the queue for the next start. Completes with whether the loop was idle in time.
   */
  CompletableFuture<Boolean> stop(Duration deadline) {
    stopped = true;
    scheduler.execute(() -> {
      if (!exporting) {
        finish();
      }
    });
    return idle.thenApply(v -> true).completeOnTimeout(false, deadline.toNanos(), TimeUnit.NANOSECONDS)
        .thenApplyAsync(clean -> {
          if (!clean) {
            // An export outlived the deadline: it holds its own reference to its bytes, so the loop's
            // can go; the batch was not committed and is sent again after the next start.
            finish();
          }
          return clean;
        }, scheduler);
  }

  private void finish() {
    releaseBatch();
    for (QueueRecord r : carried) {
      r.payload().release();
    }
    carried.clear();
    idle.complete(null);
  }

  private void step() {
    if (stopped) {
      finish();
      return;
    }
    try {
      if (!fillBatch()) {
        consumer.awaitRecords().whenCompleteAsync((v, error) -> {
          if (error == null) {
            step();
          } else {
            finish(); // the queue closed
          }
        }, scheduler);
        return;
      }
      attempts = 0;
      prepareParts();
      send();
    } catch (RuntimeException e) {
      if (!batch.isEmpty() && parts.isEmpty()) {
        // The queued bytes cannot be made into a request (they were validated when accepted, so the
        // disk changed under us): sending them again cannot help.
        long items = batch.stream().mapToLong(QueueRecord::itemCount).sum();
        LOG.log(System.Logger.Level.ERROR, () -> pipelineId + "/" + exporter.id() + ": dropping " + batch.size()
            + " queued requests (" + items + " items) that cannot be sent", e);
        count(failedItems, items);
        commitBatch();
      } else {
        LOG.log(System.Logger.Level.ERROR, () -> pipelineId + "/" + exporter.id() + ": durable queue loop failed; "
            + "retrying", e);
      }
      scheduleRetry();
    }
  }

  /** Takes records (carried ones first) up to about send_batch_size items; false when none. */
  private boolean fillBatch() {
    List<QueueRecord> records = new ArrayList<>();
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
        LOG.log(System.Logger.Level.ERROR, () -> pipelineId + "/" + exporter.id() + ": skipping a queued record of "
            + "kind " + next.kind() + " at position " + next.position());
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

  /** A skipped record's position, committed after the batch before it. */
  private long carriedSkip = -1;

  private void prepareParts() {
    List<ByteBuf> payloads = new ArrayList<>(batch.size());
    long items = 0;
    for (QueueRecord r : batch) {
      payloads.add(r.payload());
      items += r.itemCount();
    }
    ByteBuf merged = payloads.size() == 1 ? payloads.get(0).retainedDuplicate()
        : RequestMerger.merge(ByteBufAllocator.DEFAULT, payloads);
    List<Part> list = new ArrayList<>(1);
    if (splitter != null && items > splitter.maxItems()) {
      List<ByteBuf> pieces;
      try {
        pieces = splitter.split(signal, merged);
      } finally {
        merged.release();
      }
      for (ByteBuf piece : pieces) {
        list.add(new Part(piece, walker.walk(signal, piece).itemCount()));
      }
    } else {
      list.add(new Part(merged, items));
    }
    parts = list;
  }

  private void send() {
    attempts++;
    exporting = true;
    List<CompletableFuture<ExportOutcome>> sent = new ArrayList<>(parts.size());
    List<Part> sending = new ArrayList<>(parts.size());
    for (Part part : parts) {
      if (!part.done) {
        sending.add(part);
        if (attempts == 1) {
          batchSizes.record(part.items);
        }
        CompletableFuture<ExportOutcome> f;
        try {
          f = exporter.export(signal, part.bytes.retainedDuplicate(), part.items);
        } catch (RuntimeException e) {
          f = CompletableFuture.completedFuture(ExportOutcome.retryable("export failed: " + e));
        }
        sent.add(f);
      }
    }
    CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new)).whenCompleteAsync((v, error) -> {
      exporting = false;
      boolean retry = false;
      ExportOutcome worst = null;
      for (int i = 0; i < sent.size(); i++) {
        CompletableFuture<ExportOutcome> f = sent.get(i);
        ExportOutcome o = f.isCompletedExceptionally() ? ExportOutcome.retryable("export failed") : f.join();
        Part part = sending.get(i);
        worst = ExportOutcome.worst(worst, o);
        switch (o.kind()) {
          case DELIVERED -> {
            part.done = true;
            count(sentItems, part.items);
          }
          case PERMANENT -> {
            part.done = true; // rejected for good: sending it again cannot help
            count(failedItems, part.items);
          }
          case RETRYABLE -> retry = true;
        }
      }
      if (retry) {
        retries.increment();
        ExportOutcome why = worst;
        if (attempts == 1 || attempts % 10 == 0) {
          LOG.log(System.Logger.Level.WARNING, () -> pipelineId + "/" + exporter.id() + ": a batch of "
              + batch.size() + " queued requests was not delivered (" + why.message() + "); it stays on disk and "
              + "is sent again (attempt " + attempts + ")");
        }
        if (stopped) {
          finish();
          return;
        }
        scheduleRetry();
        return;
      }
      commitBatch();
      step();
    }, scheduler);
  }

  private void count(MetricsRegistry.Counter counter, long items) {
    if (counter != null) {
      counter.add(items);
    }
  }

  private void commitBatch() {
    long position = batch.get(batch.size() - 1).position();
    if (carriedSkip > position) {
      position = carriedSkip;
    }
    carriedSkip = -1;
    consumer.commit(position);
    releaseBatch();
  }

  private void scheduleRetry() {
    RetryPolicy.RetryDecision d = backoff.decide(Math.max(1, attempts), 0, -1);
    if (!d.shouldRetry()) {
      d = DEFAULT_BACKOFF.decide(Math.max(1, attempts), 0, -1);
    }
    scheduler.schedule(() -> {
      if (stopped) {
        finish();
      } else if (parts.isEmpty()) {
        step();
      } else {
        send();
      }
    }, d.delayNanos(), TimeUnit.NANOSECONDS);
  }

  private void releaseBatch() {
    for (Part p : parts) {
      p.bytes.release();
    }
    parts = List.of();
    for (QueueRecord r : batch) {
      r.payload().release();
    }
    batch = List.of();
  }
}
