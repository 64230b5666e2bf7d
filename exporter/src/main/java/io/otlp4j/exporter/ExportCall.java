package io.otlp4j.exporter;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.wire.Signal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One export, from its first attempt to its result: asks the endpoint's circuit breaker before every
 * attempt, sends through the transport, and on a retryable outcome schedules the next attempt as the
 * {@link RetryPolicy} decides (a server's RetryInfo / Retry-After delay overrides the backoff). No
 * thread waits: attempts and retries are callbacks and scheduled tasks.
 *
 * <h2>Invariants</h2>
 * The result is completed exactly once ({@link #finished}); the in-flight permit is released and the
 * payload reference dropped just before that, and never before the last attempt reported. A success
 * is never retried, so a request the server acknowledged is not sent again; a partial success is
 * final too.
 *
 * <h2>Buffer ownership</h2>
 * Owns one reference to the payload, taken over from the caller of {@link OtlpExporter#export};
 * released when the result completes.
 */
final class ExportCall {

  private final OtlpExporter exporter;
  private final OtlpExporter.EndpointState endpoint;
  private final Signal signal;
  private final ByteBuf payload;
  private final int items;
  final CompletableFuture<ExportResult> result = new CompletableFuture<>();
  private final AtomicBoolean finished = new AtomicBoolean();
  private final long startNanos;
  private volatile int attempts; // written by one attempt at a time; read by abort() from any thread
  private volatile ScheduledFuture<?> retryTimer;
  private volatile boolean aborted;

  ExportCall(OtlpExporter exporter, OtlpExporter.EndpointState endpoint, Signal signal, ByteBuf payload, int items) {
    this.exporter = exporter;
    this.endpoint = endpoint;
    this.signal = signal;
    this.payload = payload;
    this.items = items;
    this.startNanos = exporter.settings.clock.nanoTime();
  }

  /** Runs the first attempt; called with an in-flight permit held. */
  void start() {
    attempt();
  }

  private void attempt() {
    if (aborted) {
      finish(ExportResult.failedRetryable("exporter shut down before the export completed", null, attempts));
      return;
    }
    CircuitBreaker breaker = endpoint.breaker;
    if (!breaker.tryAcquirePermission()) {
      finish(ExportResult.failedRetryable("circuit open for " + endpoint.key + ": failing fast", null, attempts));
      return;
    }
    int previous = attempts; // one attempt at a time writes it: read-then-write is enough
    attempts = previous + 1;
    long attemptStart = exporter.settings.clock.nanoTime();
    try {
      exporter.transport.send(signal, payload, exporter.settings.timeoutNanos,
          outcome -> onOutcome(outcome, attemptStart));
    } catch (RuntimeException e) {
      breaker.onIgnored();
      finish(ExportResult.failedPermanent("exporter failed to send: " + e, e, attempts));
    }
  }

  private void onOutcome(AttemptOutcome outcome, long attemptStart) {
    long now = exporter.settings.clock.nanoTime();
    long duration = now - attemptStart;
    exporter.metrics.requestDuration(duration);
    CircuitBreaker breaker = endpoint.breaker;
    if (outcome.endpointFault) {
      breaker.onError(duration);
    } else {
      breaker.onSuccess(duration);
    }
    switch (outcome.kind) {
      case SUCCESS:
        if (outcome.rejected > 0 || !outcome.message.isEmpty()) {
          exporter.onPartialSuccess(signal, outcome.rejected, outcome.message);
          finish(ExportResult.partiallyAccepted(outcome.rejected, outcome.message, attempts));
        } else {
          finish(ExportResult.accepted(attempts));
        }
        return;
      case PERMANENT:
        finish(ExportResult.failedPermanent(outcome.message, outcome.cause, attempts));
        return;
      default:
        break;
    }
    if (aborted) {
      finish(ExportResult.failedRetryable(outcome.message + " (exporter shutting down: not retried)",
          outcome.cause, attempts));
      return;
    }
    RetryPolicy.RetryDecision decision =
        exporter.settings.retryPolicy.decide(attempts, now - startNanos, outcome.retryAfterNanos);
    if (!decision.shouldRetry()) {
      finish(ExportResult.failedRetryable(outcome.message + " (gave up after " + attempts + " attempt"
          + (attempts == 1 ? "" : "s") + ": " + decision.giveUpReason() + ")", outcome.cause, attempts));
      return;
    }
    try {
      retryTimer = exporter.scheduler.schedule(this::attempt, decision.delayNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      finish(ExportResult.failedRetryable(outcome.message + " (exporter shut down: not retried)",
          outcome.cause, attempts));
      return;
    }
    if (aborted) {
      abort(); // shutdown raced with scheduling: make sure the timer does not outlive it
    }
  }

  /** Ends a call waiting for its retry timer now; an attempt in flight ends when its outcome comes. */
  void abort() {
    aborted = true;
    ScheduledFuture<?> timer = retryTimer;
    if (timer != null && timer.cancel(false)) {
      finish(ExportResult.failedRetryable("exporter shut down before the export completed", null, attempts));
    }
  }

  private void finish(ExportResult r) {
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    switch (r.status()) {
      case ACCEPTED:
        exporter.metrics.sent(signal, items);
        break;
      case PARTIALLY_ACCEPTED:
        long rejected = Math.min(items, r.rejectedItems());
        exporter.metrics.sent(signal, items - rejected);
        exporter.metrics.rejected(signal, rejected);
        break;
      default:
        exporter.metrics.failed(signal, items);
        break;
    }
    payload.release();
    endpoint.limiter.release();
    exporter.callFinished(this);
    result.complete(r);
  }
}
