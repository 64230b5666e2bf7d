package io.otlp4j.relay.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.netty.channel.ConnectTimeoutException;
import io.otlp4j.core.Outcome;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * Names the kind of a failed export for the send command's error table: the gRPC status code
 * ({@code UNAVAILABLE}, {@code RESOURCE_EXHAUSTED}...), {@code HTTP nnn}, or what went wrong below
 * the protocol ({@code connect refused}, {@code connect timeout}, {@code timeout}, {@code TLS},
 * {@code unknown host}, {@code connection closed}), {@code client overloaded} when the sender's own
 * bound refused the request, {@code partial success} when the server rejected some items.
 *
 * <p>Stateless.
 */
final class ErrorKind {
  static final String CLIENT_OVERLOADED = "client overloaded";
  static final String CONNECT_REFUSED = "connect refused";
  static final String TIMEOUT = "timeout";
  static final String PARTIAL_SUCCESS = "partial success";

  /**
   * The exporter describes an HTTP answer as "HTTP 429: ..." (its status exception is not public).
   */
  private static final Pattern HTTP_STATUS = Pattern.compile("^HTTP (\\d{3})\\b");

  private ErrorKind() {}

  /** The kind of {@code result}, which must not be a full success. */
  static String of(Outcome result) {
    if (result.kind() == Outcome.Kind.PARTIALLY_ACCEPTED) {
      return PARTIAL_SUCCESS;
    }
    Throwable cause = result.cause();
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectTimeoutException) { // a ConnectException too: test it first
        return "connect timeout";
      }
      if (t instanceof ConnectException) {
        return CONNECT_REFUSED;
      }
      if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
        return "unknown host";
      }
      if (t instanceof SSLException) {
        return "TLS";
      }
    }
    if (cause instanceof StatusRuntimeException) {
      Status.Code code = ((StatusRuntimeException) cause).getStatus().getCode();
      return code == Status.Code.DEADLINE_EXCEEDED ? TIMEOUT : code.name();
    }
    String message =
        cause != null && cause.getMessage() != null ? cause.getMessage() : result.message();
    Matcher http = HTTP_STATUS.matcher(message);
    if (http.find()) {
      return "HTTP " + http.group(1);
    }
    String m = result.message().toLowerCase(Locale.ROOT);
    if (m.startsWith("no response within")
        || (cause != null && cause.getClass().getSimpleName().contains("Timeout"))) {
      return TIMEOUT;
    }
    if (m.startsWith("too many exports in flight")) {
      return CLIENT_OVERLOADED;
    }
    if (m.startsWith("connection") && m.contains("closed")) {
      return "connection closed";
    }
    if (m.contains("shut down")) {
      return "cancelled";
    }
    return "other";
  }

  /**
   * Whether {@code result}, of kind {@code kind} ({@link #of}), is the endpoint's own retryable
   * refusal: it answered, with a gRPC status or an HTTP status, that the request may be sent again
   * later (a full queue, a memory limit, an upstream that is down: {@code UNAVAILABLE}, {@code
   * RESOURCE_EXHAUSTED} with {@code RetryInfo}, HTTP 429, 502, 503, 504). Not a timeout, a
   * connection that failed, or this client's own bound: those are not the endpoint's answer.
   */
  static boolean isRetryableRefusal(Outcome result, String kind) {
    if (!result.isRetryable() || kind.equals(TIMEOUT)) {
      return false;
    }
    if (kind.startsWith("HTTP ")) {
      return true;
    }
    for (Status.Code code : Status.Code.values()) {
      if (code.name().equals(kind)) {
        return true;
      }
    }
    return false;
  }
}
