package io.otlp4j.relay.config;

import java.util.Objects;

/**
 * A secret from the configuration (a bearer token): never part of a {@code toString}, an error or a
 * log line. Immutable.
 */
public final class Secret {
  private final String value;

  public Secret(String value) {
    this.value = Objects.requireNonNull(value, "value");
  }

  /** The secret itself, for the one place that sends or checks it. */
  public String reveal() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Secret other && other.value.equals(value);
  }

  @Override
  public int hashCode() {
    return value.hashCode();
  }

  @Override
  public String toString() {
    return "[redacted]";
  }
}
