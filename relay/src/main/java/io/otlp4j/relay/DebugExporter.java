package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.RequestSplitter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The {@code debug} exporter: logs what it receives through {@link System.Logger} at INFO, as the
 * Collector's debug exporter does:
 *
 * <ul>
 *   <li>{@link Verbosity#BASIC}: one line per batch with the number of items;
 *   <li>{@link Verbosity#NORMAL}: one line per batch with the resources, scopes, items and bytes;
 *   <li>{@link Verbosity#DETAILED}: that line, then every item rendered as OTLP/JSON, in lines of
 *       at most {@link #DETAILED_ITEMS_PER_LINE} items. The JSON of one batch is bounded by {@link
 *       #DETAILED_MAX_CHARS_PER_BATCH}: past it the rest of the batch is summarized in one line ("N
 *       more items not shown"), so one huge batch cannot flood the log.
 * </ul>
 *
 * <p>A request that is not valid OTLP is logged as such (its bytes are never rendered).
 *
 * <p><b>Buffer ownership:</b> {@link #export} releases the request before it returns. Thread-safe.
 */
public final class DebugExporter implements RelayExporter {
  private static final System.Logger LOG = System.getLogger(DebugExporter.class.getName());

  /** Items rendered per OTLP/JSON line at {@link Verbosity#DETAILED}. */
  public static final int DETAILED_ITEMS_PER_LINE = 100;

  /** The most OTLP/JSON characters logged for one batch at {@link Verbosity#DETAILED}. */
  public static final int DETAILED_MAX_CHARS_PER_BATCH = 1024 * 1024;

  /** How much the exporter logs (the Collector's {@code verbosity}). */
  public enum Verbosity {
    /** One line per batch: the item count. */
    BASIC,
    /** One line per batch: resources, scopes, items and bytes. */
    NORMAL,
    /** Every item as OTLP/JSON, bounded per batch. */
    DETAILED
  }

  private static final OtlpWalker WALKER = OtlpWalker.create();
  private static final RequestSplitter SPLITTER =
      RequestSplitter.builder()
          .maxItems(DETAILED_ITEMS_PER_LINE)
          .maxBytes(Integer.MAX_VALUE)
          .validation(false)
          .build();

  private final String id;
  private final Verbosity verbosity;
  private final Consumer<String> out;
  private final LongAdder items = new LongAdder();

  /** A {@link Verbosity#BASIC} exporter. */
  public DebugExporter(String id) {
    this(id, Verbosity.BASIC);
  }

  public DebugExporter(String id, Verbosity verbosity) {
    this(id, verbosity, line -> LOG.log(System.Logger.Level.INFO, line));
  }

  /** Writes its lines to {@code out} instead of the logger (tests). */
  DebugExporter(String id, Verbosity verbosity, Consumer<String> out) {
    this.id = Objects.requireNonNull(id, "id");
    this.verbosity = Objects.requireNonNull(verbosity, "verbosity");
    this.out = Objects.requireNonNull(out, "out");
  }

  @Override
  public String id() {
    return id;
  }

  /** How much this exporter logs. */
  public Verbosity verbosity() {
    return verbosity;
  }

  @Override
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
    try {
      items.add(itemCount);
      if (verbosity == Verbosity.BASIC) {
        out.accept(id + ": " + signal.id() + ": " + itemCount + " " + itemName(signal));
        return CompletableFuture.completedFuture(Outcome.accepted());
      }
      WalkSummary summary;
      try {
        summary = WALKER.walk(signal, request);
      } catch (RuntimeException e) {
        out.accept(
            id
                + ": "
                + signal.id()
                + ": "
                + request.readableBytes()
                + " bytes that are not valid OTLP: "
                + e.getMessage());
        return CompletableFuture.completedFuture(Outcome.accepted());
      }
      out.accept(
          id
              + ": "
              + signal.id()
              + ": "
              + summary.resourceCount()
              + " resources, "
              + summary.scopeCount()
              + " scopes, "
              + summary.itemCount()
              + " "
              + itemName(signal)
              + ", "
              + request.readableBytes()
              + " bytes");
      if (verbosity == Verbosity.DETAILED) {
        detailed(signal, request, summary.itemCount());
      }
      return CompletableFuture.completedFuture(Outcome.accepted());
    } finally {
      request.release();
    }
  }

  /** Renders the (already walked) request as OTLP/JSON lines, within the per-batch bound. */
  private void detailed(Signal signal, ByteBuf request, long total) {
    List<ByteBuf> parts = SPLITTER.split(signal, request);
    long shown = 0;
    long chars = 0;
    try {
      for (ByteBuf part : parts) {
        if (chars >= DETAILED_MAX_CHARS_PER_BATCH) {
          break;
        }
        byte[] bytes = new byte[part.readableBytes()];
        part.getBytes(part.readerIndex(), bytes);
        String json = new String(OtlpJson.toJson(signal, bytes), StandardCharsets.UTF_8);
        out.accept(json);
        chars += json.length();
        shown += WALKER.walk(signal, bytes).itemCount();
      }
    } finally {
      for (ByteBuf part : parts) {
        part.release();
      }
    }
    if (shown < total) {
      out.accept(
          id
              + ": "
              + (total - shown)
              + " more "
              + itemName(signal)
              + " not shown (the detailed output "
              + "of one batch is bounded to "
              + DETAILED_MAX_CHARS_PER_BATCH
              + " characters)");
    }
  }

  private static String itemName(Signal signal) {
    return switch (signal) {
      case TRACES -> "spans";
      case METRICS -> "data points";
      case LOGS -> "log records";
    };
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
