package io.otlp4j.core.internal;

import java.lang.System.Logger.Level;

/**
 * Reads the threshold of an off-by-default debugging trace from a system property in milliseconds
 * (e.g. {@code -Dotlp4j.debug.slowAppendMillis=8}): the one parse shared by every such trace, so a
 * mistyped value is reported the same way everywhere and never fails the class that reads it.
 *
 * <p>Not part of the public API: free to change between releases.
 */
public final class DebugThreshold {
  private static final System.Logger LOG = System.getLogger(DebugThreshold.class.getName());

  private DebugThreshold() {}

  /**
   * The threshold {@code property} names, in nanoseconds; 0 (the trace off) where it is unset, or
   * where it is not a positive number of milliseconds (then with one WARNING naming the property
   * and its value).
   */
  public static long nanos(String property) {
    String value = System.getProperty(property);
    if (value == null || value.isBlank()) {
      return 0;
    }
    try {
      double millis = Double.parseDouble(value.trim());
      if (millis > 0 && millis * 1e6 < Long.MAX_VALUE) {
        return (long) (millis * 1e6);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    LOG.log(
        Level.WARNING,
        "-D{0}={1} ignored: a positive number of milliseconds was expected; the trace is off",
        property,
        value);
    return 0;
  }
}
