package io.otlp4j.relay;

import io.otlp4j.receiver.ReceiveOutcome;
import java.time.Duration;
import java.util.Objects;

/**
 * What became of one batch a {@link RelayExporter} was given: delivered, given up for now
 * (retryable: the upstream is unavailable, the circuit is open, retries ran out), or rejected for good
 * (permanent: sending the same bytes again cannot succeed). In the {@code delivered} ack mode it is
 * what the clients whose requests the batch carried are told ({@link #toReceiveOutcome()}).
 *
 * <p>Outcomes combine with {@link #worst}: permanent over retryable over delivered, as the
 * Collector's fan-out does (any permanent error makes the whole answer permanent).
 *
 * <p>Immutable and thread-safe.
 */
public final class ExportOutcome {

  /** What happened to the batch. */
  public enum Kind {
    /** The destination has the data (an upstream's partial success counts: it kept the request). */
    DELIVERED,
    /** Not delivered now; sending the same data later may succeed. */
    RETRYABLE,
    /** Not delivered, and sending the same data again will not succeed. */
    PERMANENT
  }

  private static final ExportOutcome DELIVERED = new ExportOutcome(Kind.DELIVERED, "", Duration.ZERO);

  private final Kind kind;
  private final String message;
  private final Duration retryAfter;

  private ExportOutcome(Kind kind, String message, Duration retryAfter) {
    this.kind = kind;
    this.message = message;
    this.retryAfter = retryAfter;
  }

  /** The destination has the data. */
  public static ExportOutcome delivered() {
    return DELIVERED;
  }

  /** Not delivered now; a client may send again after {@code retryAfter}. */
  public static ExportOutcome retryable(Duration retryAfter, String message) {
    Objects.requireNonNull(retryAfter, "retryAfter");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    return new ExportOutcome(Kind.RETRYABLE, Objects.requireNonNull(message, "message"), retryAfter);
  }

  /** Not delivered now; a client may send again after {@link ReceiveOutcome#DEFAULT_RETRY_AFTER}. */
  public static ExportOutcome retryable(String message) {
    return retryable(ReceiveOutcome.DEFAULT_RETRY_AFTER, message);
  }

  /** Rejected for good, with the reason. */
  public static ExportOutcome permanent(String message) {
    return new ExportOutcome(Kind.PERMANENT, Objects.requireNonNull(message, "message"), Duration.ZERO);
  }

  public Kind kind() {
    return kind;
  }

  /** Whether the destination has the data. */
  public boolean isDelivered() {
    return kind == Kind.DELIVERED;
  }

  /** Why it was not delivered; empty when it was. */
  public String message() {
    return message;
  }

  /** The suggested delay before sending again (meaningful for {@link Kind#RETRYABLE}). */
  public Duration retryAfter() {
    return retryAfter;
  }

  /**
   * The worse of two outcomes: permanent over retryable over delivered; of two retryable ones the
   * longer delay.
   */
  public static ExportOutcome worst(ExportOutcome a, ExportOutcome b) {
    if (a == null) {
      return b;
    }
    if (b == null || a.kind.compareTo(b.kind) > 0) {
      return a;
    }
    if (b.kind.compareTo(a.kind) > 0) {
      return b;
    }
    return a.kind == Kind.RETRYABLE && b.retryAfter.compareTo(a.retryAfter) > 0 ? b : a;
  }

  /** The answer for a client whose request this outcome covers. */
  public ReceiveOutcome toReceiveOutcome() {
    return switch (kind) {
      case DELIVERED -> ReceiveOutcome.accepted();
      case RETRYABLE -> ReceiveOutcome.retryable(retryAfter, message);
      case PERMANENT -> ReceiveOutcome.permanent(message);
    };
  }

  @Override
  public String toString() {
    return "ExportOutcome{" + kind + (message.isEmpty() ? "" : ", " + message)
        + (kind == Kind.RETRYABLE ? ", retryAfter=" + retryAfter : "") + "}";
  }
}
