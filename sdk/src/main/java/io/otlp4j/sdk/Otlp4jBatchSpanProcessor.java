package io.otlp4j.sdk;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * A drop-in replacement for the SDK's {@code BatchSpanProcessor}, on otlp4j's core {@code Batcher}:
 * ended spans are queued lock-free on the application thread, and a drainer thread hands batches to
 * the exporter with up to {@link Builder#maxConcurrentExports several exports in flight} (the SDK's
 * processor waits for each export before it starts the next).
 *
 * <h2>Application thread</h2>
 *
 * {@link #onEnd} checks the sampled flag and offers the span to a bounded MPSC queue: one CAS, no
 * lock, no allocation. The span is turned into {@link SpanData} on the drainer thread.
 *
 * <h2>When a batch goes</h2>
 *
 * As the SDK's: when {@code maxExportBatchSize} spans are queued, when the oldest queued span has
 * waited {@code scheduleDelay}, or on {@link #forceFlush}/{@link #shutdown} — and, here, only while
 * fewer than {@code maxConcurrentExports} exports are in flight and (in front of otlp4j's exporter,
 * which reports each payload's size) their payloads hold fewer than {@code maxInFlightBytes}; one
 * export may always go. Exports beyond the first start only while full batches wait, so the number
 * in flight follows the backlog. An export that has no result after {@code exporterTimeout} gives
 * its slot back.
 *
 * <h2>Memory</h2>
 *
 * The queue holds at most {@code maxQueueSize} spans, the same objects the SDK's processor queues;
 * an export in flight holds only its encoded payload (the spans of a batch are not referenced once
 * its export started). So at the limit the processor holds its queue plus about {@code
 * maxInFlightBytes}.
 *
 * <h2>When the queue is full</h2>
 *
 * The span is dropped and counted: {@link #droppedCount()}, the {@code processedSpans} metric with
 * {@code dropped=true} (SDK {@code MeterProvider}, as the SDK's processor), and a WARNING at most
 * once per drop-warning interval saying how many were dropped since the last one.
 *
 * <h2>Flush and shutdown</h2>
 *
 * {@link #forceFlush} exports every span ended before the call and completes when those exports
 * have finished and the exporter has flushed. {@link #shutdown} refuses new spans, exports the
 * queued ones (within the shutdown timeout; the rest are dropped and the result fails), then shuts
 * the exporter down; it is idempotent.
 *
 * <p>Thread-safe.
 */
public final class Otlp4jBatchSpanProcessor implements SpanProcessor {

  private final BatchExportCore<ReadableSpan, SpanData> core;
  private final SpanExporter exporter;
  private final boolean exportUnsampledSpans;

  private Otlp4jBatchSpanProcessor(Builder b) {
    this.exporter = b.exporter;
    this.exportUnsampledSpans = b.exportUnsampledSpans;
    this.core =
        new BatchExportCore<>(
            b.settings(
                "Otlp4jBatchSpanProcessor",
                "spans",
                "processedSpans",
                "otlp4j-bsp",
                exporter instanceof Otlp4jSpanExporter),
            ReadableSpan::toSpanData,
            new BatchExportCore.Target<>() {
              @Override
              public CompletableResultCode export(
                  Collection<SpanData> batch, LongConsumer payloadBytes) {
                return exporter instanceof Otlp4jSpanExporter sized
                    ? sized.export(batch, payloadBytes)
                    : exporter.export(batch);
              }

              @Override
              public CompletableResultCode flush() {
                return exporter.flush();
              }

              @Override
              public CompletableResultCode shutdown() {
                return exporter.shutdown();
              }
            });
  }

  /** A builder for a processor in front of {@code exporter}, with the SDK's defaults. */
  public static Builder builder(SpanExporter exporter) {
    return new Builder(exporter);
  }

  @Override
  public void onStart(Context parentContext, ReadWriteSpan span) {}

  @Override
  public boolean isStartRequired() {
    return false;
  }

  @Override
  public void onEnd(ReadableSpan span) {
    if (span != null && (exportUnsampledSpans || span.getSpanContext().isSampled())) {
      core.offer(span);
    }
  }

  @Override
  public boolean isEndRequired() {
    return true;
  }

  @Override
  public CompletableResultCode forceFlush() {
    return core.forceFlush();
  }

  @Override
  public CompletableResultCode shutdown() {
    return core.shutdown();
  }

  /** The exporter spans go to. */
  public SpanExporter getSpanExporter() {
    return exporter;
  }

  /** Spans dropped because the queue was full (or offered after shutdown). */
  public long droppedCount() {
    return core.droppedCount();
  }

  /** Spans handed to the exporter so far. */
  public long exportedCount() {
    return core.exportedCount();
  }

  /** Spans in batches whose export failed or timed out. */
  public long failedCount() {
    return core.failedCount();
  }

  /** Spans waiting in the queue (an estimate while spans end). */
  public int queuedCount() {
    return core.queuedCount();
  }

  /** Exports in flight now; never more than {@code maxConcurrentExports}. */
  public int inFlightCount() {
    return core.inFlightCount();
  }

  /** Encoded bytes of the exports in flight, as otlp4j's exporter reported them (tests). */
  long inFlightBytes() {
    return core.inFlightBytes();
  }

  /** The queue's capacity (the configured size rounded up to a power of two). */
  public int capacity() {
    return core.capacity();
  }

  @Override
  public String toString() {
    return "Otlp4jBatchSpanProcessor{exporter=" + exporter + ", " + core.batcher() + "}";
  }

  /** Configures an {@link Otlp4jBatchSpanProcessor}; not thread-safe. */
  public static final class Builder extends Otlp4jBatchProcessorBuilder<Builder> {
    /** Default schedule delay: 5 s, as the SDK's {@code BatchSpanProcessor}. */
    public static final Duration DEFAULT_SCHEDULE_DELAY = Duration.ofMillis(5000);

    private final SpanExporter exporter;
    private boolean exportUnsampledSpans;

    private Builder(SpanExporter exporter) {
      super("otel.bsp.", DEFAULT_SCHEDULE_DELAY);
      this.exporter = Objects.requireNonNull(exporter, "exporter");
    }

    /** Whether spans that are recorded but not sampled are exported too (default false). */
    public Builder exportUnsampledSpans(boolean exportUnsampledSpans) {
      this.exportUnsampledSpans = exportUnsampledSpans;
      return this;
    }

    /** Builds the processor and starts its drainer thread ({@code otlp4j-bsp}, a daemon). */
    public Otlp4jBatchSpanProcessor build() {
      return new Otlp4jBatchSpanProcessor(this);
    }
  }
}
