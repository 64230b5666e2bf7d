package io.otlp4j.testing;

import io.grpc.Status;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * What the {@link MockOtlpServer} does with one request: answer it (success, partial success, or a
 * failure as a gRPC status or an HTTP status), drop its connection, or never answer. An answer can
 * wait for a delay and for a gate before it is given. Immutable; the modifiers return a copy.
 *
 * <p>One answer serves both transports. A gRPC status given to an HTTP request is sent as the HTTP
 * status that OTLP pairs with it (UNAVAILABLE → 503, RESOURCE_EXHAUSTED → 429, INVALID_ARGUMENT →
 * 400, ...), and {@link #retryInfo} as a {@code Retry-After} header; an HTTP status given to a gRPC
 * call is sent as the matching gRPC status (503 → UNAVAILABLE, 429 → RESOURCE_EXHAUSTED, ...).
 */
public final class Answer {

  enum Kind {
    RESPOND,
    DROP_CONNECTION,
    NO_ANSWER
  }

  final Kind kind;

  /** The gRPC status; OK for a success. */
  final Status.Code grpcCode;

  /** The HTTP status; 0 when derived from {@link #grpcCode}. */
  final int httpStatus;

  /** The status description of a failure, or the partial success's error message. */
  final String message;

  /** Rejected items of a partial success; -1 for a plain success. */
  final long rejected;

  final Duration retryDelay;
  final Map<String, String> httpHeaders;
  final Duration delay;
  final CompletionStage<?> gate;

  private Answer(
      Kind kind,
      Status.Code grpcCode,
      int httpStatus,
      String message,
      long rejected,
      Duration retryDelay,
      Map<String, String> httpHeaders,
      Duration delay,
      CompletionStage<?> gate) {
    this.kind = kind;
    this.grpcCode = grpcCode;
    this.httpStatus = httpStatus;
    this.message = message;
    this.rejected = rejected;
    this.retryDelay = retryDelay;
    this.httpHeaders = httpHeaders;
    this.delay = delay;
    this.gate = gate;
  }

  private static Answer respond(Status.Code code, int http, String message, long rejected) {
    return new Answer(
        Kind.RESPOND, code, http, message, rejected, null, Map.of(), Duration.ZERO, null);
  }

  /** Success: an empty Export response (HTTP 200). */
  public static Answer ok() {
    return respond(Status.Code.OK, 200, "", -1);
  }

  /**
   * Success with {@code partial_success}: {@code rejected} items refused, with {@code
   * errorMessage}.
   */
  public static Answer partialSuccess(long rejected, String errorMessage) {
    return respond(
        Status.Code.OK, 200, Objects.requireNonNull(errorMessage, "errorMessage"), rejected);
  }

  /** A failure with a gRPC status (its description, if any, is the message). */
  public static Answer grpcStatus(Status status) {
    if (status.isOk()) {
      throw new IllegalArgumentException("status: OK is a success, use ok()");
    }
    String description = status.getDescription() == null ? "" : status.getDescription();
    return respond(status.getCode(), httpStatusOf(status.getCode()), description, -1);
  }

  /** A failure with an HTTP status (4xx or 5xx) and no body. */
  public static Answer httpStatus(int status) {
    if (status < 300 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " is not a failure");
    }
    return respond(grpcCodeOf(status), status, "", -1);
  }

  /** Closes the connection the request came on without answering. */
  public static Answer dropConnection() {
    return new Answer(
        Kind.DROP_CONNECTION,
        Status.Code.UNAVAILABLE,
        0,
        "",
        -1,
        null,
        Map.of(),
        Duration.ZERO,
        null);
  }

  /** Never answers: the request waits until the client gives up or the server stops. */
  public static Answer noAnswer() {
    return new Answer(
        Kind.NO_ANSWER, Status.Code.UNAVAILABLE, 0, "", -1, null, Map.of(), Duration.ZERO, null);
  }

  /**
   * This failure with a {@code google.rpc.RetryInfo} detail of {@code retryDelay} (gRPC), or a
   * {@code Retry-After} header of its whole seconds, rounded up (HTTP, unless set with {@link
   * #header}).
   */
  public Answer retryInfo(Duration retryDelay) {
    if (grpcCode == Status.Code.OK || kind != Kind.RESPOND) {
      throw new IllegalStateException("retryInfo: only a failure carries a retry delay");
    }
    return new Answer(
        kind,
        grpcCode,
        httpStatus,
        message,
        rejected,
        Objects.requireNonNull(retryDelay),
        httpHeaders,
        delay,
        gate);
  }

  /**
   * The description (gRPC) or the body's {@code google.rpc.Status} message (HTTP) of this failure.
   */
  public Answer message(String text) {
    return new Answer(
        kind,
        grpcCode,
        httpStatus,
        Objects.requireNonNull(text),
        rejected,
        retryDelay,
        httpHeaders,
        delay,
        gate);
  }

  /** An HTTP response header sent with this answer (HTTP only). */
  public Answer header(String name, String value) {
    Map<String, String> headers = new LinkedHashMap<>(httpHeaders);
    headers.put(name, value);
    return new Answer(
        kind,
        grpcCode,
        httpStatus,
        message,
        rejected,
        retryDelay,
        Map.copyOf(headers),
        delay,
        gate);
  }

  /** Gives this answer {@code d} after the request arrived (scheduled, never slept). */
  public Answer delayed(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("delay: negative " + d);
    }
    return new Answer(
        kind, grpcCode, httpStatus, message, rejected, retryDelay, httpHeaders, d, gate);
  }

  /**
   * Gives this answer only once {@code gate} completes (then after {@link #delayed its delay}); the
   * request counts in {@link MockOtlpServer#heldCount()} while it waits.
   */
  public Answer heldUntil(CompletionStage<?> gate) {
    return new Answer(
        kind,
        grpcCode,
        httpStatus,
        message,
        rejected,
        retryDelay,
        httpHeaders,
        delay,
        Objects.requireNonNull(gate, "gate"));
  }

  boolean isSuccess() {
    return kind == Kind.RESPOND && grpcCode == Status.Code.OK;
  }

  static int httpStatusOf(Status.Code code) {
    return switch (code) {
      case OK -> 200;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case UNAUTHENTICATED -> 401;
      case PERMISSION_DENIED -> 403;
      case NOT_FOUND -> 404;
      case RESOURCE_EXHAUSTED -> 429;
      case UNIMPLEMENTED -> 501;
      case UNAVAILABLE, ABORTED, DATA_LOSS -> 503;
      case DEADLINE_EXCEEDED -> 504;
      default -> 500;
    };
  }

  static Status.Code grpcCodeOf(int http) {
    return switch (http) {
      case 400 -> Status.Code.INVALID_ARGUMENT;
      case 401 -> Status.Code.UNAUTHENTICATED;
      case 403 -> Status.Code.PERMISSION_DENIED;
      case 404 -> Status.Code.NOT_FOUND;
      case 429 -> Status.Code.RESOURCE_EXHAUSTED;
      case 501 -> Status.Code.UNIMPLEMENTED;
      case 502, 503 -> Status.Code.UNAVAILABLE;
      case 504 -> Status.Code.DEADLINE_EXCEEDED;
      default -> Status.Code.UNKNOWN;
    };
  }

  @Override
  public String toString() {
    String what =
        switch (kind) {
          case DROP_CONNECTION -> "drop connection";
          case NO_ANSWER -> "no answer";
          case RESPOND ->
              grpcCode == Status.Code.OK
                  ? (rejected < 0
                      ? "ok"
                      : "partial success (" + rejected + " rejected: " + message + ")")
                  : grpcCode
                      + "/"
                      + httpStatus
                      + (message.isEmpty() ? "" : " " + message)
                      + (retryDelay == null ? "" : " retry in " + retryDelay);
        };
    return what
        + (delay.isZero() ? "" : " after " + delay)
        + (gate == null ? "" : " when released");
  }
}
