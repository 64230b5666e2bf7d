package io.otlp4j.sdk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.wire.Signal;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * What the three SDK exporters share: marshal a collection on the calling thread, hand the buffer
 * to the {@link OtlpExporter}, and complete a {@link CompletableResultCode} from its future; flush
 * waits for the exports in flight; shutdown is idempotent.
 *
 * <p><b>Buffer ownership:</b> the marshaled buffer is created here and its ownership passes to
 * {@link OtlpExporter#export} at once; nothing here holds a buffer afterwards.
 *
 * <p><b>An exporter that could not start</b> (its transport could not be built: a class that cannot
 * load, threads that cannot start) is a bridge {@linkplain #failedToStart without a transport}:
 * every export, flush and shutdown fails at once, so that no caller waits for an answer that cannot
 * come; the builder has logged why, once.
 *
 * <p><b>Thread-safety:</b> thread-safe; {@code export} may be called concurrently (the otlp4j batch
 * processors keep several exports in flight).
 */
final class ExportBridge {

  /** Marshals a collection of SDK data; the returned buffer belongs to the caller. */
  @FunctionalInterface
  interface Encoder<T> {
    ByteBuf encode(Collection<T> items, ByteBufAllocator allocator);
  }

  private static final System.Logger LOG = System.getLogger(ExportBridge.class.getName());

  /** Failures are logged at WARNING at most once per this interval; the rest at DEBUG. */
  static final Duration FAILURE_LOG_INTERVAL = Duration.ofSeconds(10);

  private final String name;
  private final OtlpExporter exporter;
  private final Signal signal;
  private final ByteBufAllocator allocator;
  private final Duration shutdownTimeout;
  private final Set<CompletableResultCode> pending = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean shutdown = new AtomicBoolean();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  private final ThrottledLog failures = ThrottledLog.every(FAILURE_LOG_INTERVAL);
  private final Throwable startFailure; // non-null: no transport, everything fails at once
  private volatile boolean ownsTransport = true;
  private final ExporterWarmup warmup; // null: none; goes with the transport's ownership

  ExportBridge(
      String name,
      OtlpExporter exporter,
      Signal signal,
      ByteBufAllocator allocator,
      Duration shutdownTimeout,
      ExporterWarmup warmup) {
    this.name = name;
    this.exporter = exporter;
    this.signal = signal;
    this.allocator = allocator;
    this.shutdownTimeout = shutdownTimeout;
    this.startFailure = null;
    this.warmup = warmup;
  }

  private ExportBridge(String name, Signal signal, Throwable startFailure) {
    this.name = name;
    this.exporter = null;
    this.signal = signal;
    this.allocator = null;
    this.shutdownTimeout = Duration.ZERO;
    this.startFailure = startFailure;
    this.ownsTransport = false;
    this.warmup = null;
  }

  /**
   * A bridge whose transport could not be built because of {@code cause}: everything fails at once.
   */
  static ExportBridge failedToStart(String name, Signal signal, Throwable cause) {
    return new ExportBridge(name, signal, cause);
  }

  /** The background warm-up of the transport, or {@code null} when there is none (tests). */
  ExporterWarmup warmup() {
    return warmup;
  }

  /** The transport, or {@code null} when it could not start. */
  OtlpExporter transport() {
    return exporter;
  }

  <T> CompletableResultCode export(Collection<T> items, Encoder<T> encoder, long itemCount) {
    return export(items, encoder, itemCount, bytes -> {});
  }

  /**
   * As {@link #export(Collection, Encoder, long)}, telling {@code payloadBytes} the encoded size
   * before the payload goes (not called when nothing is encoded). The items are only read here.
   */
  <T> CompletableResultCode export(
      Collection<T> items, Encoder<T> encoder, long itemCount, LongConsumer payloadBytes) {
    if (shutdown.get()) {
      LOG.log(Level.DEBUG, "{0}: export after shutdown refused", name);
      return CompletableResultCode.ofFailure();
    }
    if (startFailure != null) {
      LOG.log(Level.DEBUG, "{0}: not started, export of {1} items refused", name, items.size());
      return CompletableResultCode.ofExceptionalFailure(startFailure);
    }
    if (items.isEmpty()) {
      return CompletableResultCode.ofSuccess();
    }
    ByteBuf payload;
    try {
      payload = encoder.encode(items, allocator);
    } catch (RuntimeException | LinkageError e) {
      logFailure("could not marshal " + items.size() + " " + signal.id() + " items", e);
      return CompletableResultCode.ofExceptionalFailure(e);
    }
    payloadBytes.accept(payload.readableBytes());
    CompletableResultCode code = new CompletableResultCode();
    pending.add(code);
    CompletableFuture<Outcome> future;
    try {
      // Ownership of payload passes to the exporter here, whatever happens next.
      future = exporter.export(signal, payload, (int) Math.min(Integer.MAX_VALUE, itemCount));
    } catch (RuntimeException | LinkageError e) {
      pending.remove(code);
      logFailure("export failed", e);
      code.failExceptionally(e);
      return code;
    }
    future.whenComplete(
        (result, error) -> {
          pending.remove(code);
          if (error == null && result.isSuccess()) {
            code.succeed();
          } else {
            String what = error != null ? error.toString() : result.toString();
            logFailure(
                "export of " + itemCount + " " + signal.id() + " items failed: " + what, error);
            code.failExceptionally(
                new ExportFailedException(what, error != null ? error : result.cause()));
          }
        });
    return code;
  }

  /** Completes when every export in flight at the time of the call has its result. */
  CompletableResultCode flush() {
    if (startFailure != null) {
      return CompletableResultCode.ofExceptionalFailure(startFailure);
    }
    if (pending.isEmpty()) {
      return CompletableResultCode.ofSuccess();
    }
    return CompletableResultCode.ofAll(new ArrayList<>(pending));
  }

  /**
   * Refuses new exports, lets those in flight finish until the shutdown timeout and closes the
   * transport (unless it was handed over). Idempotent: every call returns the same result.
   */
  CompletableResultCode shutdown() {
    if (!shutdown.compareAndSet(false, true)) {
      return shutdownResult;
    }
    if (startFailure != null) {
      shutdownResult.failExceptionally(startFailure);
      return shutdownResult;
    }
    if (!ownsTransport) {
      shutdownResult.succeed();
      return shutdownResult;
    }
    if (warmup != null) {
      warmup.cancel();
    }
    exporter.shutdown(shutdownTimeout).whenComplete((v, e) -> shutdownResult.succeed());
    return shutdownResult;
  }

  boolean isShutdown() {
    return shutdown.get();
  }

  /**
   * A bridge over the same transport that now owns it; this one keeps working but its shutdown no
   * longer closes the transport. Used when autoconfigure's batch processor is replaced.
   */
  ExportBridge handOver() {
    if (shutdown.get()) {
      throw new IllegalStateException(name + " is already shut down");
    }
    if (startFailure != null) {
      return new ExportBridge(name, signal, startFailure);
    }
    ownsTransport = false;
    return new ExportBridge(name, exporter, signal, allocator, shutdownTimeout, warmup);
  }

  /**
   * Undoes {@link #handOver} when the new owner could not be put in place: this one owns it again.
   */
  void takeBack() {
    ownsTransport = startFailure == null;
  }

  private void logFailure(String message, Throwable error) {
    Level level = failures.level(Level.WARNING);
    LOG.log(
        level,
        name + ": " + message + (level == Level.WARNING ? " (" + failures.quietPhrase() + ")" : ""),
        error);
  }

  @Override
  public String toString() {
    if (startFailure != null) {
      return name + "{not started: " + startFailure + "}";
    }
    return name
        + "{protocol="
        + exporter.protocol().configName()
        + ", endpoint="
        + exporter.endpoint(signal)
        + ", compression="
        + exporter.compression()
        + "}";
  }

  /** The cause a failed export's {@link CompletableResultCode} carries. */
  static final class ExportFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ExportFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
