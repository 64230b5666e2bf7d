package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The value test of one attribute policy ({@code string_attribute}, {@code numeric_attribute},
 * {@code boolean_attribute}) over an encoded {@code AnyValue}, with the Collector's conversions: a
 * value of another type reads as {@code ""}, {@code 0} or {@code false} (pdata's {@code Str()},
 * {@code Int()}, {@code Bool()}), and a span's empty string never matches a string policy (a
 * resource's may, as in the Collector). Immutable and thread-safe.
 */
final class TailSamplingMatcher {
  /** {@code AnyValue} field numbers, which {@link TailSamplingScan} reports as the value's type. */
  static final int EMPTY = 0;

  static final int STRING = 1;
  static final int BOOL = 2;
  static final int INT = 3;

  enum Kind {
    STRING,
    NUMERIC,
    BOOLEAN
  }

  final Kind kind;
  final byte[] key;
  private final byte[][] exact; // string, exact values (never empty)
  private final Pattern[] regexes; // string, enabled_regex_matching
  private final long min;
  private final long max;
  private final boolean value;

  private TailSamplingMatcher(
      Kind kind, String key, byte[][] exact, Pattern[] regexes, long min, long max, boolean value) {
    this.kind = kind;
    this.key = key.getBytes(StandardCharsets.UTF_8);
    this.exact = exact;
    this.regexes = regexes;
    this.min = min;
    this.max = max;
    this.value = value;
  }

  /** Exact values (empty ones never match, as in the Collector). */
  static TailSamplingMatcher exact(String key, java.util.List<String> values) {
    byte[][] v =
        values.stream()
            .filter(s -> !s.isEmpty())
            .map(s -> s.getBytes(StandardCharsets.UTF_8))
            .toArray(byte[][]::new);
    return new TailSamplingMatcher(Kind.STRING, key, v, null, 0, 0, false);
  }

  /** Go regular expressions, matched unanchored as Go's {@code MatchString}. */
  static TailSamplingMatcher regex(String key, Pattern[] patterns) {
    return new TailSamplingMatcher(Kind.STRING, key, null, patterns, 0, 0, false);
  }

  /** {@code [min, max]}, inclusive. */
  static TailSamplingMatcher numeric(String key, long min, long max) {
    return new TailSamplingMatcher(Kind.NUMERIC, key, null, null, min, max, false);
  }

  static TailSamplingMatcher bool(String key, boolean value) {
    return new TailSamplingMatcher(Kind.BOOLEAN, key, null, null, 0, 0, value);
  }

  /**
   * Whether the value matches.
   *
   * @param type the {@code AnyValue} field that holds the value ({@link #EMPTY} when none)
   * @param off where a string value's bytes start in {@code buf} (absolute index)
   * @param len a string value's length
   * @param number a bool or int value
   * @param onSpan whether the attribute is a span's (an empty string is then skipped)
   */
  boolean matches(ByteBuf buf, int type, int off, int len, long number, boolean onSpan) {
    switch (kind) {
      case NUMERIC -> {
        long v = type == INT ? number : 0;
        return v >= min && v <= max;
      }
      case BOOLEAN -> {
        boolean v = type == BOOL && number != 0;
        return v == value;
      }
      default -> {
        if (type != STRING) {
          len = 0;
        }
        if (len == 0 && onSpan) {
          return false;
        }
        if (exact != null) {
          for (byte[] e : exact) {
            if (e.length == len && equalBytes(buf, off, e)) {
              return true;
            }
          }
          return false;
        }
        String s = len == 0 ? "" : buf.toString(off, len, StandardCharsets.UTF_8);
        for (Pattern p : regexes) {
          if (p.matcher(s).find()) {
            return true;
          }
        }
        return false;
      }
    }
  }

  static boolean equalBytes(ByteBuf buf, int off, byte[] e) {
    for (int i = 0; i < e.length; i++) {
      if (buf.getByte(off + i) != e[i]) {
        return false;
      }
    }
    return true;
  }
}
