package io.otlp4j.relay.component;

import io.otlp4j.wire.ValueView;
import java.math.BigDecimal;

/**
 * The text forms of attribute values that the Collector's processors compare and write, so that a
 * configuration matches and converts the same values as it does there.
 */
final class ValueText {
  private ValueText() {}

  /**
   * A value as the Collector's {@code AsString} writes it, for the scalar types; null for an array,
   * a map or bytes (not written here). A string value is its view (no copy); other types allocate.
   */
  static CharSequence asString(ValueView v) {
    return switch (v.type()) {
      case STRING -> v.stringValue();
      case INT -> Long.toString(v.intValue());
      case DOUBLE -> asString(v.doubleValue());
      case BOOL -> v.boolValue() ? "true" : "false";
      case EMPTY, ABSENT -> "";
      default -> null;
    };
  }

  /**
   * A double as the Collector's {@code AsString}: the shortest decimal, an exponent below 1e-6 and
   * from 1e21.
   */
  static String asString(double d) {
    if (Double.isNaN(d)) {
      return "json: unsupported value: NaN";
    }
    if (Double.isInfinite(d)) {
      return "json: unsupported value: " + (d > 0 ? "+Inf" : "-Inf");
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0" : "0";
    }
    double abs = Math.abs(d);
    if (abs < 1e-6 || abs >= 1e21) {
      BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
      String digits = bd.unscaledValue().abs().toString();
      int exponent = digits.length() - 1 - bd.scale();
      String mantissa =
          digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return (d < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.abs(exponent);
    }
    return plain(d);
  }

  /**
   * A double as Go's {@code strconv.FormatFloat(d, 'f', -1, 64)}: the shortest decimal, no
   * exponent.
   */
  static String plain(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "+Inf" : "-Inf";
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0" : "0";
    }
    return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
  }

  /**
   * A scalar as the Collector's attribute matchers compare it with a regular expression (string,
   * bool, {@code 'f'}-formatted double, int); null for other types, which never match.
   */
  static CharSequence forRegexp(ValueView v) {
    return switch (v.type()) {
      case STRING -> v.stringValue();
      case INT -> Long.toString(v.intValue());
      case DOUBLE -> plain(v.doubleValue());
      case BOOL -> v.boolValue() ? "true" : "false";
      default -> null;
    };
  }

  /**
   * Go's {@code strconv.ParseFloat(s, 64)} for the forms it accepts (decimal, exponent, inf, nan);
   * null if not.
   */
  static Double parseGoFloat(String s) {
    String t = s.startsWith("+") || s.startsWith("-") ? s.substring(1) : s;
    String lower = t.toLowerCase(java.util.Locale.ROOT);
    boolean negative = s.startsWith("-");
    if (lower.equals("inf") || lower.equals("infinity")) {
      return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    if (lower.equals("nan")) {
      return Double.NaN;
    }
    if (t.isEmpty() || !t.matches("(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
      return null;
    }
    return Double.parseDouble(s);
  }
}
