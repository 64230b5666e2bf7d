package io.otlp4j.relay.cli;

import io.otlp4j.wire.Signal;
import picocli.CommandLine;

/** Reads {@code --signal traces|metrics|logs}; picocli reports a bad value as a usage error. */
final class SignalConverter implements CommandLine.ITypeConverter<Signal> {
  @Override
  public Signal convert(String value) {
    try {
      return Signal.fromId(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
