package io.otlp4j.exporter;

import io.netty.buffer.ByteBuf;
import io.otlp4j.wire.Signal;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One wire protocol's way of sending a single request (one attempt). Retries, the circuit breaker,
 * the in-flight bound and metrics live above it, in {@link ExportCall}.
 *
 * <p>Implementations are thread-safe and never block the calling thread.
 */
interface Transport {

  /**
   * The endpoint (scheme, host and port) that requests for {@code signal} go to: the breaker's key.
   */
  String endpointKey(Signal signal);

  /**
   * Sends {@code payload} once and reports exactly one outcome, on some I/O thread.
   *
   * <p><b>Buffer ownership:</b> the payload is borrowed: the caller keeps its reference and must
   * not release it before {@code done} has run; the transport retains whatever it hands to the
   * network beyond that point and neither moves the payload's indexes nor releases the caller's
   * reference.
   */
  void send(Signal signal, ByteBuf payload, long timeoutNanos, Consumer<AttemptOutcome> done);

  /**
   * The circuit breaker of endpoint {@code key} is about to let probe requests through: the
   * transport should connect at once rather than after its own reconnect backoff.
   */
  default void probing(String key) {}

  /**
   * Opens the connections to every endpoint now, ahead of the first request, without sending one.
   * The future completes when each connection is open, failed or abandoned at shutdown: {@code
   * true} when every one is open; it never completes exceptionally (a request connects again as
   * usual).
   */
  default CompletableFuture<Boolean> connect() {
    return CompletableFuture.completedFuture(false);
  }

  /**
   * Closes connections once in-flight requests finish; the future completes when all are closed.
   */
  CompletableFuture<Void> shutdown();

  /** Closes every connection now. */
  void shutdownNow();
}
