package io.otlp4j.exporter;

import io.otlp4j.core.Outcome;

/**
 * What one request to the upstream came to, as a transport reports it to the {@link ExportCall}:
 * the {@link Outcome} itself, plus whether the circuit breaker counts it as the endpoint failing
 * (unreachable, 5xx, deadline), which is the transport's to judge and no concern of the caller's.
 * Immutable.
 */
final class AttemptOutcome {

  static final long NO_DELAY_HINT = Outcome.NO_DELAY;

  private static final AttemptOutcome FULL_SUCCESS = new AttemptOutcome(Outcome.accepted(), false);

  final Outcome outcome;

  /**
   * Whether the circuit breaker counts this as the endpoint failing (unreachable, 5xx, deadline).
   */
  final boolean endpointFault;

  private AttemptOutcome(Outcome outcome, boolean endpointFault) {
    this.outcome = outcome;
    this.endpointFault = endpointFault;
  }

  static AttemptOutcome success(PartialSuccess partial) {
    if (partial == null || (partial.rejected == 0 && partial.message.isEmpty())) {
      return FULL_SUCCESS;
    }
    return new AttemptOutcome(Outcome.partiallyAccepted(partial.rejected, partial.message), false);
  }

  /**
   * Retryable per the OTLP specification; {@code retryAfterNanos}: the server's delay or {@link
   * #NO_DELAY_HINT}.
   */
  static AttemptOutcome retryable(
      String message, Throwable cause, long retryAfterNanos, boolean endpointFault) {
    return new AttemptOutcome(Outcome.retryable(message, cause, retryAfterNanos), endpointFault);
  }

  /** The upstream's own refusal, not retryable per the OTLP specification. */
  static AttemptOutcome permanent(String message, Throwable cause, boolean endpointFault) {
    return new AttemptOutcome(Outcome.permanent(message, cause), endpointFault);
  }

  /** Our own code failed before or while sending; never the endpoint's fault. */
  static AttemptOutcome localFailure(String message, Throwable cause) {
    return new AttemptOutcome(Outcome.localFailure(message, cause), false);
  }

  /** A non-empty partial_success: rejected item count and error message. */
  static final class PartialSuccess {
    final long rejected;
    final String message;

    PartialSuccess(long rejected, String message) {
      this.rejected = rejected;
      this.message = message;
    }
  }

  @Override
  public String toString() {
    return outcome.toString();
  }
}
