package io.otlp4j.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.api.metrics.ObservableLongCounter;
import io.opentelemetry.api.metrics.ObservableLongGauge;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.otlp4j.core.Batcher;
import io.otlp4j.core.NanoClock;
import io.otlp4j.core.ThrottledLog;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The engine of both otlp4j batch processors: core's {@link Batcher} (lock-free MPSC queue, one
 * drainer thread, up to {@code maxConcurrentExports} exports in flight) in front of an SDK
 * exporter.
 *
 * <p><b>Concurrency.</b> Application threads only call {@link #offer}: a CAS on the queue's
 * producer index, and on a full queue one {@link LongAdder} increment; no lock, no allocation. The
 * drainer thread converts each batch to SDK data ({@code toSpanData()}), calls the exporter, and
 * gets a permit back when the exporter's result arrives or the export timeout passes, whichever is
 * first.
 *
 * <p><b>Backpressure.</b> The queue holds {@code maxQueueSize} items rounded up to a power of two;
 * when it is full the newest item is dropped, counted (metric and {@link #droppedCount()}) and
 * reported in a warning at most once per interval.
 *
 * <p><b>Exports in flight, and memory.</b> A batch goes when {@code maxExportBatchSize} items are
 * queued (or the delay passes), so exports beyond the first start only while full batches wait: the
 * number in flight follows the backlog, bounded by {@code maxConcurrentExports} and, when the
 * exporter reports each payload's encoded size (otlp4j's exporters do), by {@code
 * maxInFlightBytes}: a further export starts only while the payloads in flight hold fewer bytes
 * (one export may always go). A batch's items are not referenced once its export has been started
 * (the exporter's encoded payload is what an export in flight holds), so at the limit the processor
 * holds the queue's items plus at most about {@code maxInFlightBytes} of payload.
 *
 * <p><b>Metrics</b> (the SDK's legacy processor metrics, through the SDK {@link MeterProvider}
 * given to the builder): {@code processed<Items>} (an asynchronous counter with {@code
 * processorType} and {@code dropped} attributes: items handed to the exporter, and items dropped)
 * and {@code queueSize} (gauge). The meter provider is resolved on the first export, on the
 * drainer.
 *
 * <p><b>Failures never hang the caller.</b> Whatever the exporter does (throws, even a {@link
 * LinkageError} from a class that cannot load; fails; never answers), {@link #forceFlush} completes
 * within the export timeout after its batches went and {@link #shutdown} within the shutdown
 * timeout plus the export timeout, failed when something went wrong. An exporter that throws is
 * reported in one WARNING per drop-warning interval; a failed result is the exporter's to report
 * (otlp4j's exporters log their own failures), and a batch without an answer within the export
 * timeout is reported like a throw.
 *
 * @param <I> what the SDK hands the processor ({@code ReadableSpan}, {@code ReadWriteLogRecord})
 * @param <D> what the exporter takes ({@code SpanData}, {@code LogRecordData})
 */
final class BatchExportCore<I, D> {

  private static final System.Logger LOG = System.getLogger(BatchExportCore.class.getName());
  private static final AttributeKey<String> PROCESSOR_TYPE =
      AttributeKey.stringKey("processorType");
  private static final AttributeKey<Boolean> DROPPED = AttributeKey.booleanKey("dropped");

  /** What the core needs to know about the exporter behind it. */
  interface Target<D> {
    /**
     * Starts exporting {@code batch}; an exporter that encodes it calls {@code payloadBytes} with
     * the encoded size, before it returns, and keeps no reference to the batch afterwards.
     */
    CompletableResultCode export(Collection<D> batch, LongConsumer payloadBytes);

    CompletableResultCode flush();

    CompletableResultCode shutdown();
  }

  private final String processorType;
  private final Batcher<I> batcher;
  private final Function<? super I, ? extends D> toData;
  private final Target<D> target;
  private final long exportTimeoutNanos;
  private final Duration shutdownTimeout;
  private final DropReporter drops;
  private final LongAdder handedToExporter = new LongAdder();
  private final LongAdder refusedAfterShutdown = new LongAdder();
  private final AtomicLong inFlightBytes = new AtomicLong();
  private final long maxInFlightBytes;
  private final ThrottledLog exporterTrouble;
  private final AtomicBoolean shutdown = new AtomicBoolean();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  private final Supplier<MeterProvider> meterProvider;
  private final String itemMetric;
  private volatile boolean metricsResolved;
  private ObservableLongCounter processedCounter; // drainer-confined until shutdown
  private ObservableLongGauge queueGauge;
  private final Attributes exportedAttributes;
  private final Attributes droppedAttributes;
  private final Attributes typeAttributes;

  BatchExportCore(Settings settings, Function<? super I, ? extends D> toData, Target<D> target) {
    this.processorType = settings.processorType;
    this.toData = toData;
    this.target = target;
    this.exportTimeoutNanos = settings.exportTimeout.toNanos();
    this.shutdownTimeout = settings.shutdownTimeout;
    this.maxInFlightBytes = settings.maxInFlightBytes;
    this.meterProvider = settings.meterProvider;
    this.itemMetric = settings.itemMetric;
    this.drops =
        new DropReporter(
            settings.itemName,
            settings.dropAdvice,
            settings.clock,
            settings.dropWarningInterval.toNanos());
    this.exporterTrouble = ThrottledLog.every(settings.dropWarningInterval, settings.clock);
    this.typeAttributes = Attributes.of(PROCESSOR_TYPE, processorType);
    this.exportedAttributes = Attributes.of(PROCESSOR_TYPE, processorType, DROPPED, false);
    this.droppedAttributes = Attributes.of(PROCESSOR_TYPE, processorType, DROPPED, true);
    String threadName = settings.threadName;
    this.batcher =
        Batcher.<I>builder(this::exportBatch)
            .strategy(Batcher.Strategy.TIME)
            .overflow(Batcher.Overflow.DROP_NEWEST)
            .capacity(settings.maxQueueSize)
            .maxBatchSize(settings.maxExportBatchSize)
            .maxDelay(settings.scheduleDelay)
            .maxInFlight(settings.maxConcurrentExports)
            .mayStartAnother(() -> inFlightBytes.get() < maxInFlightBytes)
            .clock(settings.clock)
            .logFirstFailure(
                false) // reported here (exceptions, timeouts) or by the exporter (failures)
            .threadFactory(
                runnable -> {
                  Thread thread = new Thread(runnable, threadName);
                  thread.setDaemon(true);
                  return thread;
                })
            .build();
  }

  /** The application-thread path: no lock, no allocation (see the class comment). */
  void offer(I item) {
    Batcher.OfferResult result = batcher.offer(item);
    if (result != Batcher.OfferResult.ACCEPTED) {
      if (result == Batcher.OfferResult.CLOSED) {
        refusedAfterShutdown.increment();
      }
      drops.dropped();
      String warning = drops.report(); // a clock read; a message at most once per interval
      if (warning != null) {
        LOG.log(Level.WARNING, processorType + ": " + warning);
      }
    }
  }

  /** Drainer thread: one batch to the exporter. */
  private CompletionStage<?> exportBatch(List<I> batch) {
    if (!metricsResolved) {
      registerMetrics();
    }
    String warning = drops.report();
    if (warning != null) {
      LOG.log(Level.WARNING, processorType + ": " + warning);
    }
    // Only the size is kept past this method: the items are garbage once the exporter has them.
    int size = batch.size();
    long[] payload = new long[1];
    CompletableResultCode code;
    try {
      ArrayList<D> data = new ArrayList<>(size);
      for (I item : batch) {
        data.add(toData.apply(item));
      }
      handedToExporter.add(size);
      code = target.export(data, bytes -> payload[0] += bytes);
    } catch (RuntimeException | LinkageError e) {
      reportTrouble("export of " + size + " items threw", e);
      return CompletableFuture.failedFuture(e);
    }
    long bytes = payload[0];
    inFlightBytes.addAndGet(bytes);
    CompletableFuture<Void> done = new CompletableFuture<>();
    code.whenComplete(
        () -> {
          if (code.isSuccess()) {
            done.complete(null);
          } else {
            Throwable cause = code.getFailureThrowable();
            done.completeExceptionally(
                cause != null ? cause : new IllegalStateException("export failed"));
          }
        });
    // The permit comes back after the export timeout even if the exporter never answers.
    return done.orTimeout(exportTimeoutNanos, TimeUnit.NANOSECONDS)
        .whenComplete(
            (v, e) -> {
              // Before the batcher's own completion runs: the drainer it wakes sees the bytes gone.
              inFlightBytes.addAndGet(-bytes);
              if (e instanceof TimeoutException) {
                reportTrouble(
                    "export of "
                        + size
                        + " items had no result within the export timeout ("
                        + Duration.ofNanos(exportTimeoutNanos)
                        + ")",
                    null);
              }
            });
  }

  /** One WARNING per interval about an exporter that throws or never answers; the rest at DEBUG. */
  private void reportTrouble(String what, Throwable error) {
    Level level = exporterTrouble.level(Level.WARNING);
    String message =
        processorType
            + ": "
            + what
            + (error == null ? "" : ": " + error)
            + (level == Level.WARNING ? " (" + exporterTrouble.quietPhrase() + ")" : "");
    LOG.log(level, message, error);
  }

  /**
   * Calls {@code step} (an exporter's flush or shutdown) and completes {@code result} from its
   * result, failed if it throws or has none within {@code timeoutNanos}.
   */
  private void completeFrom(
      Supplier<CompletableResultCode> step,
      String what,
      CompletableResultCode result,
      long timeoutNanos,
      boolean succeeded) {
    CompletableResultCode code;
    try {
      code = step.get();
    } catch (RuntimeException | LinkageError e) {
      reportTrouble(what + " threw", e);
      result.fail();
      return;
    }
    CompletableFuture.delayedExecutor(timeoutNanos, TimeUnit.NANOSECONDS)
        .execute(
            () -> {
              if (!code.isDone()) {
                reportTrouble(
                    what + " had no result within " + Duration.ofNanos(timeoutNanos), null);
                result.fail();
              }
            });
    code.whenComplete(
        () -> {
          if (succeeded && code.isSuccess()) {
            result.succeed();
          } else {
            result.fail();
          }
        });
  }

  private void registerMetrics() {
    metricsResolved = true;
    MeterProvider provider = meterProvider.get();
    if (provider == null) {
      return;
    }
    Meter meter = provider.meterBuilder("io.otlp4j.sdk").build();
    processedCounter =
        meter
            .counterBuilder(itemMetric)
            .setUnit("1")
            .setDescription(
                "Items processed by the "
                    + processorType
                    + " [dropped=true if they were dropped because the queue was full]")
            .buildWithCallback(
                m -> {
                  m.record(handedToExporter.sum(), exportedAttributes);
                  m.record(droppedCount(), droppedAttributes);
                });
    queueGauge =
        meter
            .gaugeBuilder("queueSize")
            .ofLongs()
            .setUnit("1")
            .setDescription("The number of items queued")
            .buildWithCallback(m -> m.record(batcher.queuedCount(), typeAttributes));
  }

  /**
   * Exports what was queued before the call and flushes the exporter. Fails if the exporter's flush
   * fails, throws or has no result within the export timeout; never waits longer than the export
   * timeout after the batches went (each of which has the export timeout too).
   */
  CompletableResultCode forceFlush() {
    CompletableResultCode result = new CompletableResultCode();
    batcher
        .flush()
        .whenComplete(
            (v, e) ->
                completeFrom(
                    target::flush, "the exporter's flush", result, exportTimeoutNanos, true));
    return result;
  }

  CompletableResultCode shutdown() {
    if (!shutdown.compareAndSet(false, true)) {
      return shutdownResult;
    }
    batcher
        .shutdown(shutdownTimeout)
        .whenComplete(
            (drained, e) -> {
              if (!Boolean.TRUE.equals(drained)) {
                LOG.log(
                    Level.WARNING,
                    processorType
                        + ": shutdown timed out after "
                        + shutdownTimeout
                        + "; the items still queued were dropped ("
                        + droppedCount()
                        + " dropped in total)");
              }
              completeFrom(
                  target::shutdown,
                  "the exporter's shutdown",
                  shutdownResult,
                  shutdownTimeout.toNanos(),
                  Boolean.TRUE.equals(drained));
              shutdownResult.whenComplete(this::closeMetrics);
            });
    return shutdownResult;
  }

  private void closeMetrics() {
    if (processedCounter != null) {
      processedCounter.close();
    }
    if (queueGauge != null) {
      queueGauge.close();
    }
  }

  /** Items dropped: queue full, offered after shutdown, or still queued when shutdown timed out. */
  long droppedCount() {
    return batcher.droppedCount() + refusedAfterShutdown.sum();
  }

  long exportedCount() {
    return handedToExporter.sum();
  }

  long failedCount() {
    return batcher.itemsFailed();
  }

  int queuedCount() {
    return batcher.queuedCount();
  }

  int inFlightCount() {
    return batcher.inFlightCount();
  }

  /** Encoded bytes of the exports in flight, as their exporter reported them. */
  long inFlightBytes() {
    return inFlightBytes.get();
  }

  int capacity() {
    return batcher.capacity();
  }

  Batcher<I> batcher() {
    return batcher;
  }

  /** The validated settings of one processor. */
  static final class Settings {
    String processorType;
    String itemName;
    String itemMetric;
    String threadName;
    String dropAdvice;
    Duration scheduleDelay;
    int maxQueueSize;
    int maxExportBatchSize;
    Duration exportTimeout;
    int maxConcurrentExports;
    long maxInFlightBytes;
    Duration shutdownTimeout;
    Duration dropWarningInterval;
    Supplier<MeterProvider> meterProvider;
    NanoClock clock;
  }
}
