package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * The {@code debug} exporter: logs, through {@link System.Logger} at INFO, the signal and the number
 * of items of every batch, as the Collector's debug exporter does at {@code basic} verbosity.
 *
 * <p><b>Buffer ownership:</b> {@link #export} releases the request before it returns. Thread-safe.
 */
public final class DebugExporter implements RelayExporter {
  private static final System.Logger LOG = System.getLogger(DebugExporter.class.getName());

  private final String id;
  private final LongAdder items = new LongAdder();

  public DebugExporter(String id) {
    this.id = Objects.requireNonNull(id, "id");
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public CompletableFuture<ExportOutcome> export(Signal signal, ByteBuf request, long itemCount) {
    int bytes = request.readableBytes();
    request.release();
    items.add(itemCount);
    LOG.log(System.Logger.Level.INFO, () -> id + ": " + signal.id() + " " + itemCount + " items, " + bytes + " bytes");
    return CompletableFuture.completedFuture(ExportOutcome.delivered());
  }

  /** Items logged so far. */
  public long exportedItems() {
    return items.sum();
  }

  @Override
  public CompletableFuture<Void> shutdown(Duration deadline) {
    return CompletableFuture.completedFuture(null);
  }
}
