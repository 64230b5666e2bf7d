package io.otlp4j.sdk;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.ReadWriteLogRecord;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * A drop-in replacement for the SDK's {@code BatchLogRecordProcessor}, on otlp4j's core {@code
 * Batcher}; it behaves as {@link Otlp4jBatchSpanProcessor} does (lock-free enqueue in {@link
 * #onEmit}, several exports in flight, drops counted in {@code processedLogs} and warned about once
 * per interval, flush and shutdown export what is queued), with the {@code otel.blrp.*} settings.
 *
 * <p>Thread-safe.
 */
public final class Otlp4jBatchLogRecordProcessor implements LogRecordProcessor {

  private final BatchExportCore<ReadWriteLogRecord, LogRecordData> core;
  private final LogRecordExporter exporter;

  private Otlp4jBatchLogRecordProcessor(Builder b) {
    this.exporter = b.exporter;
    this.core =
        new BatchExportCore<>(
            b.settings(
                "Otlp4jBatchLogRecordProcessor",
                "log records",
                "processedLogs",
                "otlp4j-blrp",
                exporter instanceof Otlp4jLogRecordExporter),
            ReadWriteLogRecord::toLogRecordData,
            new BatchExportCore.Target<>() {
              @Override
              public CompletableResultCode export(
                  Collection<LogRecordData> batch, LongConsumer payloadBytes) {
                return exporter instanceof Otlp4jLogRecordExporter sized
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
  public static Builder builder(LogRecordExporter exporter) {
    return new Builder(exporter);
  }

  @Override
  public void onEmit(Context context, ReadWriteLogRecord logRecord) {
    if (logRecord != null) {
      core.offer(logRecord);
    }
  }

  @Override
  public CompletableResultCode forceFlush() {
    return core.forceFlush();
  }

  @Override
  public CompletableResultCode shutdown() {
    return core.shutdown();
  }

  /** The exporter log records go to. */
  public LogRecordExporter getLogRecordExporter() {
    return exporter;
  }

  /** Log records dropped because the queue was full (or emitted after shutdown). */
  public long droppedCount() {
    return core.droppedCount();
  }

  /** Log records handed to the exporter so far. */
  public long exportedCount() {
    return core.exportedCount();
  }

  /** Log records in batches whose export failed or timed out. */
  public long failedCount() {
    return core.failedCount();
  }

  /** Log records waiting in the queue. */
  public int queuedCount() {
    return core.queuedCount();
  }

  /** Exports in flight now; never more than {@code maxConcurrentExports}. */
  public int inFlightCount() {
    return core.inFlightCount();
  }

  @Override
  public String toString() {
    return "Otlp4jBatchLogRecordProcessor{exporter=" + exporter + ", " + core.batcher() + "}";
  }

  /** Configures an {@link Otlp4jBatchLogRecordProcessor}; not thread-safe. */
  public static final class Builder extends Otlp4jBatchProcessorBuilder<Builder> {
    /** Default schedule delay: 1 s, as the SDK's {@code BatchLogRecordProcessor}. */
    public static final Duration DEFAULT_SCHEDULE_DELAY = Duration.ofMillis(1000);

    private final LogRecordExporter exporter;

    private Builder(LogRecordExporter exporter) {
      super("otel.blrp.", DEFAULT_SCHEDULE_DELAY);
      this.exporter = Objects.requireNonNull(exporter, "exporter");
    }

    /** Builds the processor and starts its drainer thread ({@code otlp4j-blrp}, a daemon). */
    public Otlp4jBatchLogRecordProcessor build() {
      return new Otlp4jBatchLogRecordProcessor(this);
    }
  }
}
