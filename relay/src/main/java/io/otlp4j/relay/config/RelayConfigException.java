package io.otlp4j.relay.config;

import java.util.List;

/** A configuration that cannot run, with every error found, each naming its line. Immutable. */
public final class RelayConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient List<String> errors;

  RelayConfigException(List<String> errors) {
    super(String.join("\n", errors));
    this.errors = List.copyOf(errors);
  }

  /** The errors, one line each ({@code line N: key: reason}). */
  public List<String> errors() {
    return errors;
  }
}
