package io.otlp4j.exporter;

import java.util.Objects;

/**
 * The outcome of one {@link OtlpExporter#export export}: accepted, partially accepted, or failed
 * (retryable or permanent), with the cause of a failure.
 *
 * <p>A retryable failure means the exporter gave up retrying (deadline spent, circuit open, too many
 * exports queued) but the data may be sent again later: the caller queues or spills it. A permanent
 * failure means sending the same bytes again cannot succeed (the server refused them: 400, 401,
 * {@code INVALID_ARGUMENT}, ...). A partial success is final too: the server kept the rest and the
 * rejected items must not be sent again.
 *
 * <p>Immutable and thread-safe.
 */
public final class ExportResult {

  /** What happened to the payload. */
  public enum Status {
    /** The server accepted every item. */
    ACCEPTED,
    /** The server accepted the request but rejected {@link #rejectedItems()} items; never retried. */
    PARTIALLY_ACCEPTED,
    /** Not accepted, but sending again later may succeed. */
    FAILED_RETRYABLE,
    /** Not accepted, and sending the same bytes again will not succeed. */
    FAILED_PERMANENT
  }

  private static final ExportResult ACCEPTED_SINGLE_ATTEMPT = new ExportResult(Status.ACCEPTED, 0, "", null, 1);

  private final Status status;
  private final long rejectedItems;
  private final String message;
  private final Throwable cause;
  private final int attempts;

  private ExportResult(Status status, long rejectedItems, String message, Throwable cause, int attempts) {
    this.status = status;
    this.rejectedItems = rejectedItems;
    this.message = Objects.requireNonNull(message, "message");
    this.cause = cause;
    this.attempts = attempts;
  }

  static ExportResult accepted(int attempts) {
    return attempts == 1 ? ACCEPTED_SINGLE_ATTEMPT : new ExportResult(Status.ACCEPTED, 0, "", null, attempts);
  }

  static ExportResult partiallyAccepted(long rejectedItems, String message, int attempts) {
    return new ExportResult(Status.PARTIALLY_ACCEPTED, rejectedItems, message, null, attempts);
  }

  static ExportResult failedRetryable(String message, Throwable cause, int attempts) {
    return new ExportResult(Status.FAILED_RETRYABLE, 0, message, cause, attempts);
  }

  static ExportResult failedPermanent(String message, Throwable cause, int attempts) {
    return new ExportResult(Status.FAILED_PERMANENT, 0, message, cause, attempts);
  }

  /** What happened. */
  public Status status() {
    return status;
  }

  /** True for {@link Status#ACCEPTED} and {@link Status#PARTIALLY_ACCEPTED}: the server has the request. */
  public boolean isSuccess() {
    return status == Status.ACCEPTED || status == Status.PARTIALLY_ACCEPTED;
  }

  /** True for {@link Status#FAILED_RETRYABLE}: the caller may keep the data and send it again later. */
  public boolean isRetryable() {
    return status == Status.FAILED_RETRYABLE;
  }

  /** Items the server rejected in a partial success (a negative server count reads as 0); 0 otherwise. */
  public long rejectedItems() {
    return rejectedItems;
  }

  /** The server's partial-success message, or a description of the failure; empty when accepted. */
  public String message() {
    return message;
  }

  /** The exception or server status behind a failure; {@code null} when there is none. */
  public Throwable cause() {
    return cause;
  }

  /** How many requests were sent (0 when the export failed before sending, e.g. circuit open). */
  public int attempts() {
    return attempts;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("ExportResult{").append(status);
    if (status == Status.PARTIALLY_ACCEPTED) {
      sb.append(", rejected=").append(rejectedItems);
    }
    if (!message.isEmpty()) {
      sb.append(", message='").append(message).append('\'');
    }
    if (cause != null) {
      sb.append(", cause=").append(cause);
    }
    return sb.append(", attempts=").append(attempts).append('}').toString();
  }
}
