package io.otlp4j.core;

/**
 * Which export failures the OTLP specification allows to retry.
 *
 * <p>gRPC: {@code CANCELLED(1)}, {@code DEADLINE_EXCEEDED(4)}, {@code ABORTED(10)}, {@code
 * OUT_OF_RANGE(11)}, {@code UNAVAILABLE(14)} and {@code DATA_LOSS(15)} are retryable; {@code
 * RESOURCE_EXHAUSTED(8)} only when the server attached {@code RetryInfo} (it then promises it can
 * recover); every other code is not. HTTP: 429, 502, 503 and 504 are retryable; every other status
 * is not.
 *
 * <p><b>Thread-safety:</b> stateless.
 */
public final class OtlpRetryability {

  private OtlpRetryability() {}

  /** Whether a gRPC status {@code code} may be retried; {@code hasRetryInfo}: RetryInfo present. */
  public static boolean isRetryableGrpcStatus(int code, boolean hasRetryInfo) {
    switch (code) {
      case 1: // CANCELLED
      case 4: // DEADLINE_EXCEEDED
      case 10: // ABORTED
      case 11: // OUT_OF_RANGE
      case 14: // UNAVAILABLE
      case 15: // DATA_LOSS
        return true;
      case 8: // RESOURCE_EXHAUSTED
        return hasRetryInfo;
      default:
        return false;
    }
  }

  /** Whether an HTTP response {@code status} may be retried. */
  public static boolean isRetryableHttpStatus(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
  }
}
