package io.otlp4j.relay.component;

import java.util.Locale;

/**
 * Go's {@code strconv.ParseFloat(s, 64)} for the strings a {@code sampling.priority} attribute
 * holds: decimal and hexadecimal floating point, {@code inf}, {@code infinity} and {@code nan} in
 * any case, with an optional sign; no white space, no Java suffixes ({@code 1d}, {@code 2f}). What
 * Go refuses (including a value out of range) reads as NaN, which neither equals nor exceeds 0.
 */
final class GoFloat {
  private GoFloat() {}

  static double parse(CharSequence text) {
    String s = text.toString(); // rare: only a string-valued priority attribute
    if (s.isEmpty()) {
      return Double.NaN;
    }
    String body = s.charAt(0) == '+' || s.charAt(0) == '-' ? s.substring(1) : s;
    String lower = body.toLowerCase(Locale.ROOT);
    if (lower.equals("inf") || lower.equals("infinity")) {
      return s.charAt(0) == '-' ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    if (lower.equals("nan")) {
      return Double.NaN;
    }
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      boolean ok =
          (c >= '0' && c <= '9')
              || c == '.'
              || c == 'e'
              || c == 'E'
              || c == '+'
              || c == '-'
              || ((lower.startsWith("0x"))
                  && (c == 'x'
                      || c == 'X'
                      || c == 'p'
                      || c == 'P'
                      || (c >= 'a' && c <= 'f')
                      || (c >= 'A' && c <= 'F')));
      if (!ok) {
        return Double.NaN;
      }
    }
    try {
      double d = Double.parseDouble(s);
      return Double.isInfinite(d) ? Double.NaN : d; // Go: out of range is an error
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }
}
