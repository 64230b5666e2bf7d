package io.otlp4j.sdk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.otlp4j.core.Outcome;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.wire.Signal;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the three SDK exporters share: marshal a collection on the calling thread, hand the buffer to
 * the {@link OtlpExporter}, and complete a {@link CompletableResultCode} from its future; flush waits
 * for the exports in flight; shutdown is idempotent.
 *
 * <p><b>Buffer ownership:</b> the marshaled buffer is created here and its ownership passes to {@link
 * OtlpExporter#export} at once; nothing here holds a buffer afterwards.
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
  static final long FAILURE_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final String name;
  private final OtlpExporter exporter;
  private final Signal signal;
  private final ByteBufAllocator allocator;
  private final Duration shutdownTimeout;
  private final Set<CompletableResultCode> pending = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean shutdown = new AtomicBoolean();
  private final CompletableResultCode shutdownResult = new CompletableResultCode();
  private final AtomicLong lastFailureLog = new AtomicLong(Long.MIN_VALUE);
  private volatile boolean ownsTransport = true;

  ExportBridge(String name, OtlpExporter exporter, Signal signal, ByteBufAllocator allocator,
      Duration shutdownTimeout) {
    this.name = name;
    this.exporter = exporter;
    this.signal = signal;
    this.allocator = allocator;
    this.shutdownTimeout = shutdownTimeout;
  }

  OtlpExporter transport() {
    return exporter;
  }

  <T> CompletableResultCode export(Collection<T> items, Encoder<T> encoder, long itemCount) {
    if (shutdown.get()) {
      LOG.log(Level.DEBUG, "{0}: export after shutdown refused", name);
      return CompletableResultCode.ofFailure();
    }
    if (items.isEmpty()) {
      return CompletableResultCode.ofSuccess();
    }
    ByteBuf payload;
    try {
      payload = encoder.encode(items, allocator);
    } catch (RuntimeException e) {
      logFailure("could not marshal " + items.size() + " " + signal.id() + " items", e);
      return CompletableResultCode.ofExceptionalFailure(e);
    }
    CompletableResultCode code = new CompletableResultCode();
    pending.add(code);
    CompletableFuture<Outcome> future;
    try {
      // Ownership of payload passes to the exporter here, whatever happens next.
      future = exporter.export(signal, payload, (int) Math.min(Integer.MAX_VALUE, itemCount));
    } catch (RuntimeException e) {
      pending.remove(code);
      logFailure("export failed", e);
      code.failExceptionally(e);
      return code;
    }
    future.whenComplete((result, error) -> {
      pending.remove(code);
      if (error == null && result.isSuccess()) {
        code.succeed();
      } else {
        String what = error != null ? error.toString() : result.toString();
        logFailure("export of " + itemCount + " " + signal.id() + " items failed: " + what, error);
        code.failExceptionally(new ExportFailedException(what, error != null ? error : result.cause()));
      }
    });
    return code;
  }

  /** Completes when every export in flight at the time of the call has its result. */
  CompletableResultCode flush() {
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
    if (!ownsTransport) {
      shutdownResult.succeed();
      return shutdownResult;
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
    ownsTransport = false;
    return new ExportBridge(name, exporter, signal, allocator, shutdownTimeout);
  }

  private void logFailure(String message, Throwable error) {
    long now = System.nanoTime();
    long last = lastFailureLog.get();
    boolean warn = (last == Long.MIN_VALUE || now - last >= FAILURE_LOG_INTERVAL_NANOS)
        && lastFailureLog.compareAndSet(last, now);
    LOG.log(warn ? Level.WARNING : Level.DEBUG, name + ": " + message
        + (warn ? " (further failures within 10 s are logged at DEBUG)" : ""), error);
  }

  @Override
  public String toString() {
    return name + "{protocol=" + exporter.protocol().configName() + ", endpoint="
        + exporter.endpoint(signal) + ", compression=" + exporter.compression() + "}";
  }

  /** The cause a failed export's {@link CompletableResultCode} carries. */
  static final class ExportFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ExportFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
