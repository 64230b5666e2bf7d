package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.core.Batcher;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.RequestMerger;
import io.otlp4j.wire.RequestSplitter;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * One exporter's bounded in-memory queue within one pipeline (or, for an exporter whose {@code
 * sending_queue} is disabled, a direct path to it), and the batching in front of the exporter: queued requests are merged by concatenation ({@link RequestMerger}, no copy) into batches
 * of about {@code send_batch_size} items, cut to {@code send_batch_max_size} by {@link
 * RequestSplitter} when larger, and handed to the exporter.
 *
 * <p><b>Queue:</b> producers are the receivers' threads ({@link #offer}); the consumer is the
 * batcher's drainer thread. When full, {@link #offer} returns {@code false} and keeps nothing: the
 * pipeline refuses the request with a retryable answer. A slow exporter fills only its own queue. The
 * size check and the enqueue are not one atomic step, so concurrent producers may overshoot the
 * configured size by at most their number (the batcher's ring, at least 1024, is the hard bound).
 *
 * <p><b>Outcomes:</b> every entry's completion is called exactly once, with the outcome of the batch
 * that carried it (the worst of its parts when the batch was split), or with a retryable outcome when
 * a shutdown timed out before it was sent. In the {@code delivered} ack mode that is the client's answer.
 *
 * <p><b>No queue:</b> with {@code sending_queue.enabled: false} an offered request is exported at once,
 * alone, by the offering thread (which only starts the export); {@link #answersAfterExport()} tells the
 * pipeline that its clients must wait for that export, as in the Collector.
 *
 * <p><b>Buffer ownership:</b> {@link #offer} takes ownership of the entry's buffer only when it returns
 * {@code true}; the queue then releases it exactly once (after the export, or on a shutdown that
 * timed out) and calls the entry's completion. Thread-safe.
 */
final class ExporterQueue {
  private static final System.Logger LOG = System.getLogger(ExporterQueue.class.getName());

  static final String QUEUE_SIZE_HELP =
      "Size of the exporter's queue: requests waiting in memory, or bytes for a queue on disk";
  static final String QUEUE_CAPACITY_HELP =
      "Capacity of the exporter's queue: requests in memory, or bytes for a queue on disk";

  /** A queued request: its buffer, items, and what to tell once it is exported or given up. */
  record Entry(ByteBuf request, long items, Consumer<ExportOutcome> onDone) {}

  private final Signal signal;
  private final RelayExporter exporter;
  private final Batcher<Entry> batcher; // null without a queue
  private final Set<CompletableFuture<ExportOutcome>> direct; // exports in flight without a queue
  private final RequestSplitter splitter;
  private final OtlpWalker walker = OtlpWalker.create();

  ExporterQueue(String pipelineId, Signal signal, RelayExporter exporter, BatchSettings settings,
      SendingQueueSettings queue, MetricsRegistry metrics) {
    this.signal = signal;
    this.exporter = exporter;
    this.splitter = settings.sendBatchMaxSize() > 0
        ? RequestSplitter.builder().maxItems(settings.sendBatchMaxSize()).validation(false).build()
        : null;
    if (queue.enabled()) {
      Batcher.Builder<Entry> builder = Batcher.<Entry>builder(this::exportBatch)
          .capacity(Math.max(queue.queueSize(), 1024))
          .maxBatchSize(1024)
          .maxBatchBytes(settings.sendBatchSize(), Entry::items)
          .overflow(Batcher.Overflow.REJECT)
          .maxInFlight(queue.numConsumers())
          .discardListener(ExporterQueue::discard)
          .threadFactory(r -> {
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
      this.direct = null;
    } else {
      this.batcher = null;
      this.direct = ConcurrentHashMap.newKeySet();
    }
    this.queueSize = queue.enabled() ? queue.queueSize() : 0;
    this.batchSizes = batchSizes(metrics, pipelineId, exporter.id());
    if (exporter instanceof UpstreamExporter) {
      // OtlpExporter counts sent and failed items itself, under the same names.
      sentItems = null;
      failedItems = null;
    } else {
      String item = switch (signal) {
        case TRACES -> "spans";
        case METRICS -> "metric_points";
        case LOGS -> "log_records";
      };
      sentItems = metrics.counter("otelcol_exporter_sent_" + item,
          "Number of " + item.replace('_', ' ') + " successfully sent to destination.", "exporter", exporter.id());
      failedItems = metrics.counter("otelcol_exporter_send_failed_" + item,
          "Number of " + item.replace('_', ' ') + " in failed attempts to send to destination.",
          "exporter", exporter.id());
    }
    String[] labels = {"exporter", exporter.id(), "data_type", signal.id(), "pipeline", pipelineId};
    metrics.gauge("otelcol_exporter_queue_size", QUEUE_SIZE_HELP,
        () -> batcher == null ? 0 : batcher.queuedCount(), labels);
    metrics.gauge("otelcol_exporter_queue_capacity", QUEUE_CAPACITY_HELP,
        () -> queueSize, labels);
  }

  private final int queueSize;
  private final MetricsRegistry.Histogram batchSizes;
  private final MetricsRegistry.Counter sentItems;
  private final MetricsRegistry.Counter failedItems;

  /** Upper bounds of {@code otlp4j_exporter_batch_send_size}: the Collector's batch size buckets. */
  private static final double[] BATCH_SIZE_BOUNDS = {10, 25, 50, 75, 100, 250, 500, 750, 1000, 2000, 3000, 4000,
      5000, 6000, 7000, 8000, 9000, 10000, 20000, 30000, 50000, 100000};

  /** Items per request handed to {@code exporterId}, as the Collector's batch_send_size histogram. */
  static MetricsRegistry.Histogram batchSizes(MetricsRegistry metrics, String pipelineId, String exporterId) {
    return metrics.histogram("otlp4j_exporter_batch_send_size",
        "Items (spans, data points, log records) in each request handed to the exporter, after batching and "
            + "splitting", BATCH_SIZE_BOUNDS, "exporter", exporterId, "pipeline", pipelineId);
  }

  /** Queues {@code entry}; {@code false} (the caller keeps the entry) when the queue is full or closed. */
  boolean offer(Entry entry) {
    if (batcher == null) {
      if (closed) {
        return false;
      }
      exportDirectly(entry);
      return true;
    }
    // The batcher's ring rounds up to a power of two; the configured size is the bound.
    if (batcher.queuedCount() >= queueSize) {
      return false;
    }
    return batcher.offer(entry).accepted();
  }

  /** Whether a client's answer must wait for this exporter whatever the ack mode (it has no queue). */
  boolean answersAfterExport() {
    return batcher == null;
  }

  /** The exporter's id. */
  String exporterId() {
    return exporter.id();
  }

  /** Stops taking requests and exports what is queued within {@code deadline}. */
  CompletableFuture<Boolean> shutdown(Duration deadline) {
    if (batcher != null) {
      return batcher.shutdown(deadline);
    }
    closed = true;
    CompletableFuture<Boolean> done = CompletableFuture.allOf(direct.toArray(CompletableFuture[]::new))
        .thenApply(v -> true);
    return done.completeOnTimeout(false, deadline.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  private volatile boolean closed;

  /** Without a queue: the request goes alone, at once. Owns the entry's buffer. */
  private void exportDirectly(Entry entry) {
    CompletableFuture<ExportOutcome> sent;
    try {
      sent = count(exporter.export(signal, entry.request(), entry.items()), entry.items());
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, () -> exporter.id() + ": could not export a request", e);
      sent = CompletableFuture.completedFuture(ExportOutcome.retryable("internal error: " + e));
    }
    direct.add(sent);
    CompletableFuture<ExportOutcome> f = sent;
    sent.whenComplete((outcome, error) -> {
      direct.remove(f);
      entry.onDone().accept(outcome != null ? outcome : ExportOutcome.retryable("internal error: " + error));
    });
  }

  /** Runs on the drainer thread; owns the entries' buffers. */
  private CompletableFuture<?> exportBatch(List<Entry> batch) {
    List<CompletableFuture<ExportOutcome>> sent = new ArrayList<>(2);
    try {
      long items = 0;
      ByteBuf merged;
      if (batch.size() == 1) {
        merged = batch.get(0).request().retain();
        items = batch.get(0).items();
      } else {
        List<ByteBuf> buffers = new ArrayList<>(batch.size());
        for (Entry e : batch) {
          buffers.add(e.request());
          items += e.items();
        }
        merged = RequestMerger.merge(ByteBufAllocator.DEFAULT, buffers);
      }
      if (splitter != null && items > splitter.maxItems()) {
        List<ByteBuf> parts;
        try {
          parts = splitter.split(signal, merged);
        } finally {
          merged.release();
        }
        for (ByteBuf part : parts) {
          long partItems = walker.walk(signal, part).itemCount();
          sent.add(count(exporter.export(signal, part, partItems), partItems));
        }
      } else {
        sent.add(count(exporter.export(signal, merged, items), items));
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, () -> exporter.id() + ": could not export a batch of " + batch.size()
          + " requests", e);
      sent.add(CompletableFuture.completedFuture(ExportOutcome.retryable("internal error: " + e)));
    } finally {
      // The merged request and its parts hold their own references (retained slices).
      for (Entry e : batch) {
        e.request().release();
      }
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
    return all.whenComplete((v, error) -> {
      ExportOutcome outcome = null;
      for (CompletableFuture<ExportOutcome> part : sent) {
        ExportOutcome o = part.isCompletedExceptionally() ? null : part.join();
        outcome = ExportOutcome.worst(outcome, o == null ? ExportOutcome.retryable("internal error") : o);
      }
      for (Entry e : batch) {
        e.onDone().accept(outcome);
      }
    });
  }

  private CompletableFuture<ExportOutcome> count(CompletableFuture<ExportOutcome> export, long items) {
    batchSizes.record(items);
    if (sentItems == null) {
      return export;
    }
    return export.whenComplete((o, error) -> (o != null && o.isDelivered() ? sentItems : failedItems).add(items));
  }

  private static void discard(Entry entry) {
    try {
      entry.request().release();
    } finally {
      entry.onDone().accept(ExportOutcome.retryable("the relay stopped before the request was sent"));
    }
  }
}
