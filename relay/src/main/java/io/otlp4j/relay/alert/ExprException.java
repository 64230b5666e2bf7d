package io.otlp4j.relay.alert;

/**
 * An expression outside the supported subset of PromQL, or a mistake in one: the message says what,
 * {@link #position()} where (1-based character). Immutable.
 */
final class ExprException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int position;

  ExprException(String message, int position) {
    super(message);
    this.position = position;
  }

  /** The 1-based character of the expression where the problem is. */
  int position() {
    return position;
  }
}
