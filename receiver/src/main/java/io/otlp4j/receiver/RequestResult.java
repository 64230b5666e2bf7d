package io.otlp4j.receiver;

import java.util.Locale;

/**
 * How a receiver finished one request; the {@code outcome} label of {@code
 * otlp4j_receiver_requests_total}.
 */
enum RequestResult {
  ACCEPTED,
  PARTIALLY_ACCEPTED,
  /** The sink refused, retryably. */
  REFUSED_RETRYABLE,
  /** The sink refused for good. */
  REFUSED_PERMANENT,
  /** The memory budget had no room: refused retryably before reaching the sink. */
  MEMORY_LIMITED,
  /**
   * The gRPC server's bound on concurrent calls across all connections was reached: refused
   * retryably.
   */
  TOO_MANY_CALLS,
  /** The payload was not a valid OTLP request (protobuf, JSON or compression). */
  MALFORMED,
  TOO_LARGE,
  UNSUPPORTED_MEDIA_TYPE,
  NOT_FOUND,
  METHOD_NOT_ALLOWED,
  UNAUTHENTICATED,
  /** Arrived while the receiver was shutting down. */
  SHUTTING_DOWN;

  private final String label = name().toLowerCase(Locale.ROOT);

  String label() {
    return label;
  }
}
