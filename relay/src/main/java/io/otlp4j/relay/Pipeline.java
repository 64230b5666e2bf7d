package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.receiver.ReceiveOutcome;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.wire.ResourceRewrite;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One pipeline of one signal: memory budget → resource processors → one bounded queue per exporter →
 * batching → exporters. Acknowledges in the {@code received} mode: a request is accepted once every
 * exporter's queue holds it in memory.
 *
 * <p><b>Memory:</b> every queued request holds its size in the shared {@link MemoryBudget} (the one
 * the receivers reserve from) until the last exporter is done with it; a request that does not fit is
 * refused with a retryable answer, and so is one that finds an exporter's queue full. (While a request
 * is being accepted the receiver's own reservation for it is held too, so for that moment it counts
 * twice: a request larger than half the budget is refused.) (When several
 * exporters share the pipeline and only some queues are full, the request is already queued for the
 * others: a retrying client may duplicate data there, as in the Collector's fan-out.)
 *
 * <p><b>Buffer ownership:</b> {@link #accept} takes ownership of the request (see {@link ReceiverSink});
 * each exporter's queue holds its own reference (one {@code retain} per exporter, no copy), so the
 * bytes are freed when the slowest exporter has sent them.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@link #accept} never blocks.
 */
public final class Pipeline implements ReceiverSink {
  private static final System.Logger LOG = System.getLogger(Pipeline.class.getName());

  private final String id;
  private final Signal signal;
  private final MemoryBudget budget;
  private final List<ResourceRewrite> processors;
  private final List<ExporterQueue> queues;
  private final MetricsRegistry.Counter refused;
  private final MetricsRegistry.Counter queued;

  /**
   * @param id the pipeline id, such as {@code traces} or {@code traces/2}
   * @param processors applied in order to every request
   * @param exporters each gets its own queue
   */
  public Pipeline(String id, Signal signal, MemoryBudget budget, List<ResourceRewrite> processors,
      List<RelayExporter> exporters, BatchSettings batch, MetricsRegistry metrics) {
    this.id = Objects.requireNonNull(id, "id");
    this.signal = Objects.requireNonNull(signal, "signal");
    this.budget = Objects.requireNonNull(budget, "budget");
    this.processors = List.copyOf(processors);
    if (exporters.isEmpty()) {
      throw new IllegalArgumentException("pipeline " + id + " has no exporter");
    }
    List<ExporterQueue> q = new ArrayList<>();
    for (RelayExporter exporter : exporters) {
      q.add(new ExporterQueue(id, signal, exporter, batch, metrics));
    }
    this.queues = List.copyOf(q);
    this.refused = metrics.counter("otlp4j_pipeline_refused_" + signal.id(),
        "Items refused by the pipeline (memory limit or full queue), retryable for the client", "pipeline", id);
    this.queued = metrics.counter("otlp4j_pipeline_queued_" + signal.id(),
        "Items queued by the pipeline for its exporters", "pipeline", id);
  }

  public String id() {
    return id;
  }

  public Signal signal() {
    return signal;
  }

  @Override
  public CompletionStage<ReceiveOutcome> accept(Signal requestSignal, ByteBuf request, WalkSummary summary) {
    try {
      return CompletableFuture.completedFuture(enqueue(requestSignal, request, summary.itemCount()));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, () -> id + ": unexpected failure", e);
      return CompletableFuture.completedFuture(ReceiveOutcome.retryable(ReceiveOutcome.DEFAULT_RETRY_AFTER,
          "internal error"));
    }
  }

  /** Takes ownership of {@code request}. */
  private ReceiveOutcome enqueue(Signal requestSignal, ByteBuf request, long items) {
    if (requestSignal != signal) {
      request.release();
      return ReceiveOutcome.permanent("pipeline " + id + " does not take " + requestSignal.id());
    }
    ByteBuf current = request;
    try {
      for (ResourceRewrite rewrite : processors) {
        ByteBuf next = rewrite.apply(signal, current);
        current.release();
        current = next;
      }
    } catch (WireFormatException e) {
      current.release();
      return ReceiveOutcome.permanent(e.getMessage());
    }
    long bytes = current.readableBytes();
    if (!budget.tryAcquire(bytes)) {
      current.release();
      refused.add(items);
      return ReceiveOutcome.retryable(ReceiveOutcome.DEFAULT_RETRY_AFTER, "memory limit reached");
    }
    AtomicInteger pending = new AtomicInteger(queues.size());
    Runnable onDone = () -> {
      if (pending.decrementAndGet() == 0) {
        budget.release(bytes);
      }
    };
    boolean full = false;
    try {
      for (ExporterQueue queue : queues) {
        ExporterQueue.Entry entry = new ExporterQueue.Entry(current.retain(), items, onDone);
        if (!queue.offer(entry)) {
          current.release();
          onDone.run();
          full = true;
        }
      }
    } finally {
      current.release();
    }
    if (full) {
      refused.add(items);
      return ReceiveOutcome.retryable(ReceiveOutcome.DEFAULT_RETRY_AFTER, "exporter queue is full");
    }
    queued.add(items);
    return ReceiveOutcome.accepted();
  }

  /**
   * Stops taking requests and sends what is queued, within {@code deadline}; completes with {@code
   * true} when everything was sent in time.
   */
  public CompletableFuture<Boolean> shutdown(Duration deadline) {
    List<CompletableFuture<Boolean>> all = new ArrayList<>();
    for (ExporterQueue queue : queues) {
      all.add(queue.shutdown(deadline));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> all.stream().allMatch(CompletableFuture::join));
  }

  @Override
  public String toString() {
    return "Pipeline{" + id + "}";
  }
}
