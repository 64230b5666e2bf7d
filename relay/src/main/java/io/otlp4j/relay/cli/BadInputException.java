package io.otlp4j.relay.cli;

/** Input the command cannot use; printed as one line, exit code 2. */
final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadInputException(String message) {
    super(message, null, false, false);
  }
}
