package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
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
   * @return completes (never exceptionally) with what became of the data: accepted, or given up
   *     (retryable, a local failure, or permanent; already logged by the exporter)
   */
  CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount);

  /**
   * Exports like {@link #export}, but with one attempt and no retries of the exporter's own: for a
   * caller that owns the retries because it keeps the data (the durable queue's loop), which gets
   * the upstream's retry delay in the outcome. The default is {@link #export}, for exporters that
   * do not retry.
   *
   * @param request ownership is transferred, as for {@link #export}
   */
  default CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf request, long itemCount) {
    return export(signal, request, itemCount);
  }

  /**
   * Whether this exporter counts its own sent and failed items ({@code otelcol_exporter_sent_*},
   * {@code otelcol_exporter_send_failed_*}); when not, the pipeline counts them around it. Default
   * {@code false}.
   */
  default boolean countsItems() {
    return false;
  }

  /** Finishes pending exports within {@code deadline}, flushes and frees resources. Idempotent. */
  CompletableFuture<Void> shutdown(Duration deadline);
}
