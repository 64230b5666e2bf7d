package io.otlp4j.relay.pipeline;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Counts what an exporter that does not count itself sent and failed to send, under the Collector's
 * names ({@code otelcol_exporter_sent_<items>}, {@code otelcol_exporter_send_failed_<items>}, label
 * {@code exporter}), so that the pipeline's queues need not know which exporter counts and which
 * does not. Wrap with {@link #wrap}: an exporter that {@link RelayExporter#countsItems() counts
 * itself} is returned as it is, so nothing is counted twice.
 *
 * <p><b>Buffer ownership:</b> as {@link RelayExporter}: the request passes to the wrapped exporter.
 * Thread-safe.
 */
final class CountingExporter implements RelayExporter {

  private final RelayExporter exporter;
  private final MetricsRegistry.Counter sent;
  private final MetricsRegistry.Counter failed;

  private CountingExporter(RelayExporter exporter, Signal signal, MetricsRegistry metrics) {
    this.exporter = exporter;
    String item = itemName(signal);
    sent =
        metrics.counter(
            "otelcol_exporter_sent_" + item,
            "Number of " + item.replace('_', ' ') + " successfully sent to destination.",
            "exporter",
            exporter.id());
    failed =
        metrics.counter(
            "otelcol_exporter_send_failed_" + item,
            "Number of " + item.replace('_', ' ') + " in failed attempts to send to destination.",
            "exporter",
            exporter.id());
  }

  /** The Collector's name for items of {@code signal}: spans, metric_points, log_records. */
  static String itemName(Signal signal) {
    return switch (signal) {
      case TRACES -> "spans";
      case METRICS -> "metric_points";
      case LOGS -> "log_records";
    };
  }

  /**
   * {@code exporter} counted for {@code signal}, or {@code exporter} itself when it counts its own
   * items.
   */
  static RelayExporter wrap(RelayExporter exporter, Signal signal, MetricsRegistry metrics) {
    return exporter.countsItems() ? exporter : new CountingExporter(exporter, signal, metrics);
  }

  @Override
  public String id() {
    return exporter.id();
  }

  @Override
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
    return count(exporter.export(signal, request, itemCount), itemCount);
  }

  /** A retryable outcome or local failure is not counted: the caller sends the same data again. */
  @Override
  public CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf request, long itemCount) {
    return exporter
        .exportOnce(signal, request, itemCount)
        .whenComplete(
            (o, error) -> {
              if (o != null && o.isSuccess()) {
                sent.add(itemCount);
              } else if (o != null && o.kind() == Outcome.Kind.PERMANENT) {
                failed.add(itemCount);
              }
            });
  }

  private CompletableFuture<Outcome> count(CompletableFuture<Outcome> export, long items) {
    return export.whenComplete(
        (o, error) -> (o != null && o.isSuccess() ? sent : failed).add(items));
  }

  @Override
  public boolean countsItems() {
    return true;
  }

  @Override
  public CompletableFuture<Void> shutdown(Duration deadline) {
    return exporter.shutdown(deadline);
  }

  @Override
  public String toString() {
    return exporter.toString();
  }
}
