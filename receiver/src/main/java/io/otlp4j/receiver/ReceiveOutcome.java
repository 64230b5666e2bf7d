package io.otlp4j.receiver;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link ReceiverSink} decided about one request, and so what the client is told.
 *
 * <table>
 * <caption>How each outcome is answered</caption>
 * <tr><th>kind</th><th>OTLP/gRPC</th><th>OTLP/HTTP</th></tr>
 * <tr><td>{@link Kind#ACCEPTED}</td><td>OK, empty response</td><td>200, empty response</td></tr>
 * <tr><td>{@link Kind#PARTIALLY_ACCEPTED}</td><td>OK, {@code partial_success}</td><td>200,
 *     {@code partial_success}</td></tr>
 * <tr><td>{@link Kind#RETRYABLE}</td><td>UNAVAILABLE with {@code RetryInfo}</td><td>503 with
 *     {@code Retry-After}</td></tr>
 * <tr><td>{@link Kind#RETRYABLE}, {@link #isOverload() overload}</td><td>RESOURCE_EXHAUSTED with
 *     {@code RetryInfo}</td><td>429 with {@code Retry-After}</td></tr>
 * <tr><td>{@link Kind#PERMANENT}</td><td>INVALID_ARGUMENT</td><td>400</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe.
 */
public final class ReceiveOutcome {

  /** The retry delay suggested when a retryable refusal names none. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  /** The four possible answers. */
  public enum Kind {
    /** Everything was accepted. */
    ACCEPTED,
    /** Some items were rejected; the client must not retry them. */
    PARTIALLY_ACCEPTED,
    /** Nothing was accepted; the client should retry after the suggested delay. */
    RETRYABLE,
    /** Nothing was accepted; retrying the same data will fail again. */
    PERMANENT
  }

  private static final ReceiveOutcome ACCEPTED = new ReceiveOutcome(Kind.ACCEPTED, 0, "", Duration.ZERO);

  private final Kind kind;
  private final long rejectedItems;
  private final String message;
  private final Duration retryAfter;
  private final boolean overload;

  private ReceiveOutcome(Kind kind, long rejectedItems, String message, Duration retryAfter) {
    this(kind, rejectedItems, message, retryAfter, false);
  }

  private ReceiveOutcome(Kind kind, long rejectedItems, String message, Duration retryAfter, boolean overload) {
    this.kind = kind;
    this.rejectedItems = rejectedItems;
    this.message = message;
    this.retryAfter = retryAfter;
    this.overload = overload;
  }

  /** All accepted. */
  public static ReceiveOutcome accepted() {
    return ACCEPTED;
  }

  /**
   * Accepted except {@code rejectedItems} items (spans, data points or log records), with a message
   * for the client's {@code partial_success.error_message}.
   *
   * @throws IllegalArgumentException when {@code rejectedItems} is negative
   */
  public static ReceiveOutcome partiallyAccepted(long rejectedItems, String message) {
    if (rejectedItems < 0) {
      throw new IllegalArgumentException("rejectedItems must not be negative, was " + rejectedItems);
    }
    return new ReceiveOutcome(Kind.PARTIALLY_ACCEPTED, rejectedItems, Objects.requireNonNull(message, "message"),
        Duration.ZERO);
  }

  /**
   * Refused for now (a full queue, an unavailable upstream); the client is asked to retry after
   * {@code retryAfter} (rounded up to whole seconds for HTTP's {@code Retry-After}).
   */
  public static ReceiveOutcome retryable(Duration retryAfter, String message) {
    Objects.requireNonNull(retryAfter, "retryAfter");
    if (retryAfter.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfter);
    }
    return new ReceiveOutcome(Kind.RETRYABLE, 0, Objects.requireNonNull(message, "message"), retryAfter);
  }

  /**
   * Refused for now because the memory budget is spent: retryable like {@link #retryable}, but answered
   * as the memory limit is (gRPC {@code RESOURCE_EXHAUSTED}, HTTP 429), so that clients back off.
   */
  public static ReceiveOutcome overloaded(Duration retryAfter, String message) {
    ReceiveOutcome r = retryable(retryAfter, message);
    return new ReceiveOutcome(Kind.RETRYABLE, 0, r.message, r.retryAfter, true);
  }

  /** Whether this retryable refusal is for want of memory ({@link #overloaded}). */
  public boolean isOverload() {
    return overload;
  }

  /** Refused for good: the data is unacceptable and must not be retried. */
  public static ReceiveOutcome permanent(String message) {
    return new ReceiveOutcome(Kind.PERMANENT, 0, Objects.requireNonNull(message, "message"), Duration.ZERO);
  }

  /** The kind of answer. */
  public Kind kind() {
    return kind;
  }

  /** Items rejected (only non-zero for {@link Kind#PARTIALLY_ACCEPTED}). */
  public long rejectedItems() {
    return rejectedItems;
  }

  /** The message for the client (empty for {@link Kind#ACCEPTED}). */
  public String message() {
    return message;
  }

  /** The suggested retry delay (only meaningful for {@link Kind#RETRYABLE}). */
  public Duration retryAfter() {
    return retryAfter;
  }

  @Override
  public String toString() {
    return "ReceiveOutcome{" + kind + (rejectedItems > 0 ? ", rejected=" + rejectedItems : "")
        + (message.isEmpty() ? "" : ", " + message) + (kind == Kind.RETRYABLE ? ", retryAfter=" + retryAfter : "")
        + (overload ? ", overload" : "")
        + "}";
  }
}
