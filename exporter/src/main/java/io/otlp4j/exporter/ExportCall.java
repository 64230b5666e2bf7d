package io.otlp4j.exporter;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.wire.Signal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One export, from its first attempt to its result: asks the endpoint's circuit breaker before
 * every attempt, sends through the transport, and on a retryable outcome schedules the next attempt
 * as the {@link RetryPolicy} decides (a server's RetryInfo / Retry-After delay overrides the
 * backoff). No thread waits: attempts and retries are callbacks and scheduled tasks.
 *
 * <p><b>One retry owner:</b> a call made by {@link OtlpExporter#exportOnce} makes exactly one
 * attempt and reports its outcome unchanged (the server's delay included), so that the caller,
 * which keeps the data (a durable queue), owns the retries; a call made by {@link
 * OtlpExporter#export} retries itself.
 *
 * <p><b>Local failures:</b> anything our own code throws while sending (a {@link Throwable}, an
 * {@link Error} such as an {@link OutOfMemoryError} included) is a {@link
 * Outcome.Kind#LOCAL_FAILURE}: counted ({@code otlp4j_exporter_local_failures_total}), logged at
 * most once per interval, and retried like a retryable answer; it is never reported as the
 * upstream's permanent rejection. Only the upstream's own answer is permanent.
 *
 * <h2>Invariants</h2>
 *
 * The result is completed exactly once ({@link #finished}); the in-flight permit is released and
 * the payload reference dropped just before that, and never before the last attempt reported. A
 * success is never retried, so a request the server acknowledged is not sent again; a partial
 * success is final too.
 *
 * <h2>Buffer ownership</h2>
 *
 * Owns one reference to the payload, taken over from the caller of {@link OtlpExporter#export};
 * released when the result completes.
 */
final class ExportCall {

  private final OtlpExporter exporter;
  private final EndpointState endpoint;
  private final Signal signal;
  private final ByteBuf payload;
  private final int items;
  private final boolean retries;
  final CompletableFuture<Outcome> result = new CompletableFuture<>();
  private final AtomicBoolean finished = new AtomicBoolean();
  private final long startNanos;
  private volatile int
      attempts; // written by one attempt at a time; read by abort() from any thread
  private volatile int
      circuitWaits; // tries that found the circuit open (no attempt made); same threading
  private volatile ScheduledFuture<?> retryTimer;
  private volatile boolean aborted;

  ExportCall(
      OtlpExporter exporter,
      EndpointState endpoint,
      Signal signal,
      ByteBuf payload,
      int items,
      boolean retries) {
    this.exporter = exporter;
    this.endpoint = endpoint;
    this.signal = signal;
    this.payload = payload;
    this.items = items;
    this.retries = retries;
    this.startNanos = exporter.settings.clock.nanoTime();
  }

  /** Runs the first attempt; called with an in-flight permit held. */
  void start() {
    attempt();
  }

  private void attempt() {
    try {
      if (aborted) {
        finish(Outcome.retryable("exporter shut down before the export completed"));
        return;
      }
      CircuitBreaker breaker = endpoint.breaker;
      if (!breaker.tryAcquirePermission()) {
        // Nothing is sent while the circuit is open, but a retrying export is not over: it waits
        // (within
        // retry_on_failure's bounds, each wait counted like an attempt) for the breaker to let a
        // probe
        // through. Ending it here dropped data the relay had acknowledged in ack mode received once
        // a
        // flood or an outage opened the circuit. A caller owning the retries gets the refusal at
        // once.
        int waits = circuitWaits; // one try at a time writes it, as attempts
        circuitWaits = waits + 1;
        retryOrFinish(Outcome.retryable("circuit open for " + endpoint.key + ": failing fast"));
        return;
      }
      int previous = attempts; // one attempt at a time writes it: read-then-write is enough
      attempts = previous + 1;
      long attemptStart = exporter.settings.clock.nanoTime();
      try {
        exporter.transport.send(
            signal,
            payload,
            exporter.settings.timeoutNanos,
            outcome -> onOutcome(outcome, attemptStart));
      } catch (Throwable e) {
        breaker.onIgnored();
        onLocalFailure(e);
      }
    } catch (Throwable e) {
      onLocalFailure(e);
    }
  }

  /**
   * Our own code threw: count, log (throttled), and retry like a retryable answer; never permanent.
   */
  private void onLocalFailure(Throwable e) {
    try {
      exporter.failureLog.onLocalFailure(signal, e);
      retryOrFinish(Outcome.localFailure("exporter failed to send: " + e, e));
    } catch (Throwable again) {
      finish(Outcome.localFailure("exporter failed to send: " + e, e));
    }
  }

  private void onOutcome(AttemptOutcome attempt, long attemptStart) {
    try {
      long now = exporter.settings.clock.nanoTime();
      long duration = now - attemptStart;
      exporter.metrics.requestDuration(duration);
      CircuitBreaker breaker = endpoint.breaker;
      if (attempt.endpointFault) {
        breaker.onError(duration);
      } else {
        breaker.onSuccess(duration);
      }
      Outcome outcome = attempt.outcome;
      switch (outcome.kind()) {
        case PARTIALLY_ACCEPTED:
          exporter.failureLog.onPartialSuccess(signal, outcome.rejectedItems(), outcome.message());
          finish(outcome);
          return;
        case ACCEPTED:
        case PERMANENT:
          finish(outcome);
          return;
        case LOCAL_FAILURE:
          exporter.failureLog.onLocalFailure(signal, outcome.cause());
          retryOrFinish(outcome);
          return;
        default:
          retryOrFinish(outcome);
      }
    } catch (Throwable e) {
      onLocalFailure(e);
    }
  }

  /** A retryable outcome or a local failure: schedules the next attempt, or finishes with it. */
  private void retryOrFinish(Outcome outcome) {
    if (!retries) {
      finish(outcome); // the caller owns the retries: it gets the server's delay unchanged
      return;
    }
    if (aborted) {
      finish(outcome.withMessageSuffix(" (exporter shutting down: not retried)"));
      return;
    }
    long now = exporter.settings.clock.nanoTime();
    RetryPolicy.RetryDecision decision =
        exporter.settings.retryPolicy.decide(
            Math.max(1, attempts + circuitWaits), now - startNanos, outcome.retryAfterNanos());
    if (!decision.shouldRetry()) {
      finish(
          outcome.withMessageSuffix(
              " (gave up after "
                  + attempts
                  + " attempt"
                  + (attempts == 1 ? "" : "s")
                  + ": "
                  + decision.giveUpReason()
                  + ")"));
      return;
    }
    try {
      retryTimer =
          exporter.scheduler.schedule(this::attempt, decision.delayNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException closing) {
      finish(outcome.withMessageSuffix(" (exporter shut down: not retried)"));
      return;
    }
    if (aborted) {
      abort(); // shutdown raced with scheduling: make sure the timer does not outlive it
    }
  }

  /**
   * Ends a call waiting for its retry timer now; an attempt in flight ends when its outcome comes.
   */
  void abort() {
    aborted = true;
    ScheduledFuture<?> timer = retryTimer;
    if (timer != null && timer.cancel(false)) {
      finish(Outcome.retryable("exporter shut down before the export completed"));
    }
  }

  private void finish(Outcome r) {
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    Outcome outcome = r.withAttempts(attempts);
    try {
      switch (outcome.kind()) {
        case ACCEPTED:
          exporter.metrics.sent(signal, items);
          break;
        case PARTIALLY_ACCEPTED:
          long rejected = Math.min(items, outcome.rejectedItems());
          exporter.metrics.sent(signal, items - rejected);
          exporter.metrics.rejected(signal, rejected);
          break;
        default:
          if (retries || !outcome.isRetryable()) {
            // an exportOnce caller sends retryable data again: counted when it is given up or sent
            exporter.metrics.failed(signal, items);
          }
          break;
      }
    } finally {
      // Each step on its own: whatever one throws, the permit comes back and the result completes.
      try {
        payload.release();
      } finally {
        try {
          endpoint.limiter.release();
          exporter.callFinished(this);
        } finally {
          result.complete(outcome);
        }
      }
    }
  }
}
