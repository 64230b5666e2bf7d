package io.otlp4j.exporter;

/**
 * What one request to the upstream came to, as a transport reports it to the {@link ExportCall}
 * that retries it. Immutable.
 */
final class AttemptOutcome {

  enum Kind {
    /** The server took the request; {@link #rejected} items of it may have been refused (partial success). */
    SUCCESS,
    /** Not taken; the OTLP specification lets the exporter send it again. */
    RETRYABLE,
    /** Not taken; sending it again cannot help. */
    PERMANENT
  }

  static final long NO_DELAY_HINT = -1;

  final Kind kind;
  final long rejected;
  final String message;
  final Throwable cause;
  /** The server's RetryInfo / Retry-After delay in nanoseconds, or {@link #NO_DELAY_HINT}. */
  final long retryAfterNanos;
  /** Whether the circuit breaker counts this as the endpoint failing (unreachable, 5xx, deadline). */
  final boolean endpointFault;

  private AttemptOutcome(Kind kind, long rejected, String message, Throwable cause, long retryAfterNanos,
      boolean endpointFault) {
    this.kind = kind;
    this.rejected = rejected;
    this.message = message;
    this.cause = cause;
    this.retryAfterNanos = retryAfterNanos;
    this.endpointFault = endpointFault;
  }

  private static final AttemptOutcome FULL_SUCCESS = new AttemptOutcome(Kind.SUCCESS, 0, "", null, NO_DELAY_HINT, false);

  static AttemptOutcome success(PartialSuccess partial) {
    if (partial == null || (partial.rejected == 0 && partial.message.isEmpty())) {
      return FULL_SUCCESS;
    }
    return new AttemptOutcome(Kind.SUCCESS, Math.max(0, partial.rejected), partial.message, null, NO_DELAY_HINT, false);
  }

  static AttemptOutcome retryable(String message, Throwable cause, long retryAfterNanos, boolean endpointFault) {
    return new AttemptOutcome(Kind.RETRYABLE, 0, message, cause, retryAfterNanos, endpointFault);
  }

  static AttemptOutcome permanent(String message, Throwable cause, boolean endpointFault) {
    return new AttemptOutcome(Kind.PERMANENT, 0, message, cause, NO_DELAY_HINT, endpointFault);
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
    return kind + (message.isEmpty() ? "" : " " + message);
  }
}
