package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The {@code otlp} (gRPC) and {@code otlphttp} exporters: an {@link OtlpExporter} behind the
 * relay's exporter contract. Retries, circuit breaking and metrics are the {@link OtlpExporter}'s.
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
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
    int items = (int) Math.min(Integer.MAX_VALUE, itemCount);
    return observe(exporter.export(signal, request, items), signal, items);
  }

  /**
   * One attempt, no retries of the exporter's own: the durable loop owns the retries of what it
   * keeps on disk and gets the upstream's RetryInfo / Retry-After delay in the outcome.
   */
  @Override
  public CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf request, long itemCount) {
    int items = (int) Math.min(Integer.MAX_VALUE, itemCount);
    return observe(exporter.exportOnce(signal, request, items), signal, items);
  }

  /**
   * Logs a failure (throttled: a durable queue sends the same batch again and again); the outcome
   * unchanged.
   */
  private CompletableFuture<Outcome> observe(
      CompletableFuture<Outcome> export, Signal signal, int items) {
    return export.handle(
        (result, error) -> {
          if (error != null) {
            LOG.log(
                System.Logger.Level.WARNING,
                () -> id + ": export of " + items + " " + signal.id() + " items failed",
                error);
            return Outcome.localFailure(id + ": export failed: " + error, error);
          }
          if (!result.isSuccess()) {
            // A durable queue sends the same batch again and again while the upstream is down: one
            // warning
            // per interval, the rest at DEBUG.
            LOG.log(
                givingUp.level(System.Logger.Level.WARNING),
                () -> id + ": gave up on " + items + " " + signal.id() + " items: " + result);
          }
          return withContext(result);
        });
  }

  /** The outcome unchanged but for a message that says whose answer it was, for the client. */
  static Outcome withContext(Outcome result) {
    String message = result.message().isEmpty() ? result.kind().toString() : result.message();
    return switch (result.kind()) {
      case ACCEPTED, PARTIALLY_ACCEPTED -> result;
      case RETRYABLE -> result.withMessage("upstream unavailable: " + message);
      case LOCAL_FAILURE -> result.withMessage("the relay failed to export: " + message);
      case PERMANENT -> result.withMessage("upstream rejected the data: " + message);
    };
  }

  /** Counts sent and failed items itself ({@link OtlpExporter}), under the Collector's names. */
  @Override
  public boolean countsItems() {
    return true;
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
