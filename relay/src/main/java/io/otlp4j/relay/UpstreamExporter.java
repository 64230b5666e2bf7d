package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.exporter.ExportResult;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code otlp} (gRPC) and {@code otlphttp} exporters: an {@link OtlpExporter} behind the relay's
 * exporter contract. Retries, circuit breaking and metrics are the {@link OtlpExporter}'s.
 *
 * <p><b>Buffer ownership:</b> {@link #export} passes the request's reference on to {@link
 * OtlpExporter#export}, which releases it. Thread-safe.
 */
public final class UpstreamExporter implements RelayExporter {
  private static final System.Logger LOG = System.getLogger(UpstreamExporter.class.getName());

  private final String id;
  private final OtlpExporter exporter;
  private final ThrottledLog givingUp = ThrottledLog.every(Duration.ofSeconds(10));

  /** Wraps {@code exporter}, which this object then owns and shuts down. */
  public UpstreamExporter(String id, OtlpExporter exporter) {
    this.id = Objects.requireNonNull(id, "id");
    this.exporter = Objects.requireNonNull(exporter, "exporter");
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public CompletableFuture<ExportOutcome> export(Signal signal, ByteBuf request, long itemCount) {
    int items = (int) Math.min(Integer.MAX_VALUE, itemCount);
    return exporter.export(signal, request, items).handle((result, error) -> {
      if (error != null) {
        LOG.log(System.Logger.Level.WARNING, () -> id + ": export of " + items + " " + signal.id() + " items failed",
            error);
        return ExportOutcome.retryable(id + ": export failed: " + error);
      }
      if (!result.isSuccess()) {
        // A durable queue sends the same batch again and again while the upstream is down: one warning
        // per interval, the rest at DEBUG.
        LOG.log(givingUp.level(System.Logger.Level.WARNING), () -> id + ": gave up on " + items
            + " " + signal.id() + " items: " + result);
      }
      return outcome(result);
    });
  }

  /** The relay's view of an exporter result: a partial success is delivered (the upstream kept it). */
  static ExportOutcome outcome(ExportResult result) {
    if (result.isSuccess()) {
      return ExportOutcome.delivered();
    }
    String message = result.message().isEmpty() ? result.status().toString() : result.message();
    return result.isRetryable() ? ExportOutcome.retryable("upstream unavailable: " + message)
        : ExportOutcome.permanent("upstream rejected the data: " + message);
  }

  @Override
  public CompletableFuture<Void> shutdown(Duration deadline) {
    return exporter.shutdown(deadline).exceptionally(e -> null);
  }

  @Override
  public String toString() {
    return id + "{" + exporter.protocol() + "}";
  }
}
