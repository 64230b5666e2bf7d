package io.otlp4j.core;

import java.time.Duration;
import java.util.Objects;

/**
 * What became of some telemetry: the one answer type from the exporter's attempt to the client's
 * answer. An exporter reports it, a relay pipeline combines the outcomes of its exporters with
 * {@link #worst}, and a receiver maps it to a gRPC status or an HTTP status at the edge only.
 *
 * <table>
 * <caption>The states and how a receiver answers them</caption>
 * <tr><th>kind</th><th>meaning</th><th>OTLP/gRPC</th><th>OTLP/HTTP</th></tr>
 * <tr><td>{@link Kind#ACCEPTED}</td><td>the destination has all of it</td><td>OK</td><td>200</td></tr>
 * <tr><td>{@link Kind#PARTIALLY_ACCEPTED}</td><td>the destination kept the request but rejected
 *     {@link #rejectedItems()} items; never sent again</td><td>OK, {@code partial_success}</td><td>200,
 *     {@code partial_success}</td></tr>
 * <tr><td>{@link Kind#RETRYABLE}</td><td>not taken now; the same data may be sent again, after the
 *     upstream's delay when it gave one</td><td>UNAVAILABLE + RetryInfo (RESOURCE_EXHAUSTED when
 *     {@link #isOverload() overloaded})</td><td>503 + Retry-After (429 when overloaded)</td></tr>
 * <tr><td>{@link Kind#LOCAL_FAILURE}</td><td>an exception in our own code: the data is fine, so it
 *     is retried like {@link Kind#RETRYABLE}, never dropped as a rejection</td><td>UNAVAILABLE +
 *     RetryInfo</td><td>503 + Retry-After</td></tr>
 * <tr><td>{@link Kind#PERMANENT}</td><td>the upstream (or the receiver's validation) refused it for
 *     good: sending the same bytes again cannot succeed</td><td>INVALID_ARGUMENT</td><td>400</td></tr>
 * </table>
 *
 * <p><b>Combining</b> ({@link #worst}): permanent over local failure over retryable over partially
 * accepted over accepted, as the Collector's fan-out combines errors; of two retryable outcomes the
 * longer delay wins, of two partial successes the larger rejected count.
 *
 * <p>Immutable and thread-safe.
 */
public final class Outcome {

  /** The retry delay a client is told when a retryable outcome carries no delay of its own. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  /** No server-given delay ({@link #retryAfterNanos()}). */
  public static final long NO_DELAY = -1;

  /** The states, in the order {@link #worst} ranks them (later is worse). */
  public enum Kind {
    /** The destination has every item. */
    ACCEPTED,
    /** The destination kept the request but rejected some items; never sent again. */
    PARTIALLY_ACCEPTED,
    /** Not taken now; sending the same data again later may succeed. */
    RETRYABLE,
    /** Our own code failed; the data is intact and is retried, never treated as a rejection. */
    LOCAL_FAILURE,
    /**
     * Refused for good by the upstream (or the receiver): sending the same bytes cannot succeed.
     */
    PERMANENT
  }

  private static final Outcome ACCEPTED =
      new Outcome(Kind.ACCEPTED, 0, "", null, NO_DELAY, false, 0);
  private static final Outcome ACCEPTED_ONE_ATTEMPT =
      new Outcome(Kind.ACCEPTED, 0, "", null, NO_DELAY, false, 1);

  private final Kind kind;
  private final long rejectedItems;
  private final String message;
  private final Throwable cause;
  private final long retryAfterNanos;
  private final boolean overload;
  private final int attempts;

  private Outcome(
      Kind kind,
      long rejectedItems,
      String message,
      Throwable cause,
      long retryAfterNanos,
      boolean overload,
      int attempts) {
    this.kind = kind;
    this.rejectedItems = rejectedItems;
    this.message = Objects.requireNonNull(message, "message");
    this.cause = cause;
    this.retryAfterNanos = retryAfterNanos;
    this.overload = overload;
    this.attempts = attempts;
  }

  /** Everything accepted. */
  public static Outcome accepted() {
    return ACCEPTED;
  }

  /**
   * Accepted except {@code rejectedItems} items (a negative count reads as 0), with the upstream's
   * {@code partial_success.error_message}.
   */
  public static Outcome partiallyAccepted(long rejectedItems, String message) {
    return new Outcome(
        Kind.PARTIALLY_ACCEPTED, Math.max(0, rejectedItems), message, null, NO_DELAY, false, 0);
  }

  /** Not taken now, with no delay of its own (a client is told {@link #DEFAULT_RETRY_AFTER}). */
  public static Outcome retryable(String reason) {
    return new Outcome(Kind.RETRYABLE, 0, reason, null, NO_DELAY, false, 0);
  }

  /** Not taken now; the upstream (or we) asked for {@code retryAfter} before the next try. */
  public static Outcome retryable(Duration retryAfter, String reason) {
    return retryable(reason, null, nanos(retryAfter));
  }

  /**
   * Not taken now, with the cause and the server's RetryInfo / Retry-After delay in nanoseconds, or
   * {@link #NO_DELAY}.
   */
  public static Outcome retryable(String reason, Throwable cause, long retryAfterNanos) {
    return new Outcome(
        Kind.RETRYABLE,
        0,
        reason,
        cause,
        retryAfterNanos < 0 ? NO_DELAY : retryAfterNanos,
        false,
        0);
  }

  /**
   * Refused for now for want of memory: retryable, answered as the memory limit is (gRPC {@code
   * RESOURCE_EXHAUSTED}, HTTP 429) so that clients back off.
   */
  public static Outcome overloaded(Duration retryAfter, String reason) {
    return new Outcome(Kind.RETRYABLE, 0, reason, null, nanos(retryAfter), true, 0);
  }

  /** Refused for good, with the reason. */
  public static Outcome permanent(String reason) {
    return permanent(reason, null);
  }

  /** Refused for good, with the reason and the upstream's status or exception behind it. */
  public static Outcome permanent(String reason, Throwable cause) {
    return new Outcome(Kind.PERMANENT, 0, reason, cause, NO_DELAY, false, 0);
  }

  /** Our own code failed with {@code cause}; the data is intact and must be tried again. */
  public static Outcome localFailure(String reason, Throwable cause) {
    return new Outcome(Kind.LOCAL_FAILURE, 0, reason, cause, NO_DELAY, false, 0);
  }

  private static long nanos(Duration d) {
    Objects.requireNonNull(d, "retryAfter");
    if (d.isNegative()) {
      throw new IllegalArgumentException("retryAfter must not be negative, was " + d);
    }
    return d.toNanos();
  }

  /** This outcome, saying it took {@code attempts} requests to the upstream. */
  public Outcome withAttempts(int attempts) {
    if (attempts == this.attempts) {
      return this;
    }
    if (kind == Kind.ACCEPTED && attempts == 1) {
      return ACCEPTED_ONE_ATTEMPT;
    }
    return new Outcome(kind, rejectedItems, message, cause, retryAfterNanos, overload, attempts);
  }

  /** This outcome with {@code suffix} appended to its message (same kind, delay and cause). */
  public Outcome withMessageSuffix(String suffix) {
    return withMessage(message + suffix);
  }

  /**
   * This outcome with another message (same kind, counts, delay and cause), for context on the way
   * up.
   */
  public Outcome withMessage(String message) {
    return new Outcome(kind, rejectedItems, message, cause, retryAfterNanos, overload, attempts);
  }

  public Kind kind() {
    return kind;
  }

  /** Accepted or partially accepted: the destination has the request. */
  public boolean isSuccess() {
    return kind == Kind.ACCEPTED || kind == Kind.PARTIALLY_ACCEPTED;
  }

  /** Retryable or a local failure: the data may (and should) be sent again later. */
  public boolean isRetryable() {
    return kind == Kind.RETRYABLE || kind == Kind.LOCAL_FAILURE;
  }

  /** Whether this is a refusal for want of memory ({@link #overloaded}). */
  public boolean isOverload() {
    return overload;
  }

  /** Items rejected in a partial success; 0 otherwise. */
  public long rejectedItems() {
    return rejectedItems;
  }

  /** The reason, or the partial-success message; empty when accepted. */
  public String message() {
    return message;
  }

  /** The exception or upstream status behind a failure; {@code null} when there is none. */
  public Throwable cause() {
    return cause;
  }

  /** Whether the upstream (or the refusal) named a delay before the next try. */
  public boolean hasRetryDelay() {
    return retryAfterNanos >= 0;
  }

  /** The named delay in nanoseconds, or {@link #NO_DELAY}. */
  public long retryAfterNanos() {
    return retryAfterNanos;
  }

  /**
   * The delay a client is told: the named one, or {@link #DEFAULT_RETRY_AFTER} when there is none.
   */
  public Duration retryAfter() {
    return retryAfterNanos >= 0 ? Duration.ofNanos(retryAfterNanos) : DEFAULT_RETRY_AFTER;
  }

  /**
   * Requests sent to the upstream to come to this outcome (0 where none was sent or it is not
   * known).
   */
  public int attempts() {
    return attempts;
  }

  /**
   * The worse of two outcomes ({@code null} is "nothing yet"): permanent over local failure over
   * retryable over partially accepted over accepted; of two retryable ones the longer delay, of two
   * partial successes the larger rejected count; on a tie, {@code a}.
   */
  public static Outcome worst(Outcome a, Outcome b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    int c = a.kind.compareTo(b.kind);
    if (c != 0) {
      return c > 0 ? a : b;
    }
    return switch (a.kind) {
      case RETRYABLE, LOCAL_FAILURE -> b.retryAfterNanos > a.retryAfterNanos ? b : a;
      case PARTIALLY_ACCEPTED -> b.rejectedItems > a.rejectedItems ? b : a;
      default -> a;
    };
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Outcome{").append(kind);
    if (kind == Kind.PARTIALLY_ACCEPTED) {
      sb.append(", rejected=").append(rejectedItems);
    }
    if (!message.isEmpty()) {
      sb.append(", message='").append(message).append('\'');
    }
    if (cause != null) {
      sb.append(", cause=").append(cause);
    }
    if (retryAfterNanos >= 0) {
      sb.append(", retryAfter=").append(Duration.ofNanos(retryAfterNanos));
    }
    if (overload) {
      sb.append(", overload");
    }
    if (attempts > 0) {
      sb.append(", attempts=").append(attempts);
    }
    return sb.append('}').toString();
  }
}
