package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Where a pipeline's batches go: an upstream OTLP endpoint, a file, a log.
 *
 * <p><b>Buffer ownership:</b> {@link #export} takes ownership of {@code request} and releases it
 * exactly once, when the returned future completes or earlier; the caller never touches it again.
 *
 * <p><b>Thread-safety:</b> implementations are thread-safe; {@code export} is called from the
 * pipelines' batcher threads and must not block longer than a local write.
 */
public interface RelayExporter {

  /** The component id from the configuration, such as {@code otlp/upstream}. */
  String id();

  /**
   * Exports one encoded {@code Export*ServiceRequest}.
   *
   * @param request the protobuf bytes between reader and writer index; ownership is transferred
   * @param itemCount spans, data points or log records in the request
   * @return completes (never exceptionally) with what became of the data: delivered, or given up
   *     (retryable or permanent; already logged and counted by the exporter)
   */
  CompletableFuture<ExportOutcome> export(Signal signal, ByteBuf request, long itemCount);

  /** Finishes pending exports within {@code deadline}, flushes and frees resources. Idempotent. */
  CompletableFuture<Void> shutdown(Duration deadline);
}
