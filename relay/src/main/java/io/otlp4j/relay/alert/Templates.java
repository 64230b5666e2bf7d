package io.otlp4j.relay.alert;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The subset of Prometheus's alert templates (Go templates) that annotations and labels may use:
 * {@code {{ $labels.NAME }}}, {@code {{ $value }}}, and {@code humanize}, {@code
 * humanizePercentage} and {@code humanizeDuration} of {@code $value}, written either as {@code {{
 * humanize $value }}} or {@code {{ $value | humanize }}}. Anything else inside {@code {{ }}} is
 * refused when the rule is read ({@link #problem}). Stateless.
 */
final class Templates {
  private static final Pattern ACTION =
      Pattern.compile("\\{\\{-?\\s*(.*?)\\s*-?}}", Pattern.DOTALL);
  private static final Pattern LABEL = Pattern.compile("\\$labels\\.([a-zA-Z_][a-zA-Z0-9_]*)");
  private static final Pattern FUNCTION_FIRST =
      Pattern.compile("(humanize|humanizePercentage|humanizeDuration)\\s+\\$value");
  private static final Pattern PIPE =
      Pattern.compile("\\$value\\s*\\|\\s*(humanize|humanizePercentage|humanizeDuration)");

  /** What templates may contain, for errors and the README. */
  static final String SUBSET =
      "{{ $labels.NAME }}, {{ $value }}, {{ humanize $value }}, {{ humanizePercentage $value }},"
          + " {{ humanizeDuration $value }} (or $value | humanize...)";

  private Templates() {}

  /** Why {@code text} uses a template outside the subset, or null when it does not. */
  static String problem(String text) {
    Matcher m = ACTION.matcher(text);
    while (m.find()) {
      String action = m.group(1);
      if (!(LABEL.matcher(action).matches()
          || action.equals("$value")
          || FUNCTION_FIRST.matcher(action).matches()
          || PIPE.matcher(action).matches())) {
        return "the template {{ " + action + " }} is not supported (supported: " + SUBSET + ")";
      }
    }
    if (text.replaceAll(ACTION.pattern(), "").contains("{{")) {
      return "a template action {{ has no closing }}";
    }
    return null;
  }

  /** {@code text} with its actions replaced ({@link #problem} must have found none wrong). */
  static String render(String text, Map<String, String> labels, double value) {
    if (!text.contains("{{")) {
      return text;
    }
    Matcher m = ACTION.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String action = m.group(1);
      String replacement;
      Matcher label = LABEL.matcher(action);
      if (label.matches()) {
        replacement = labels.getOrDefault(label.group(1), "");
      } else if (action.equals("$value")) {
        replacement = formatValue(value);
      } else {
        Matcher f = FUNCTION_FIRST.matcher(action);
        Matcher p = PIPE.matcher(action);
        String function = f.matches() ? f.group(1) : p.matches() ? p.group(1) : "";
        replacement =
            switch (function) {
              case "humanize" -> humanize(value);
              case "humanizePercentage" -> significant(value * 100) + "%";
              case "humanizeDuration" -> humanizeDuration(value);
              default -> m.group();
            };
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** {@code $value} as Go prints a float64 ({@code 3}, {@code 0.25}, {@code 1e+21}). */
  static String formatValue(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e21) {
      return Long.toString((long) v);
    }
    return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** Prometheus's {@code humanize}: SI prefixes in steps of 1000, four significant digits. */
  static String humanize(double v) {
    if (v == 0 || Double.isNaN(v) || Double.isInfinite(v)) {
      return formatValue(v);
    }
    String[] big = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
    String[] small = {"", "m", "u", "n", "p", "f", "a", "z", "y"};
    if (Math.abs(v) >= 1) {
      int i = 0;
      while (Math.abs(v) >= 1000 && i < big.length - 1) {
        v /= 1000;
        i++;
      }
      return significant(v) + big[i];
    }
    int i = 0;
    while (Math.abs(v) < 1 && i < small.length - 1) {
      v *= 1000;
      i++;
    }
    return significant(v) + small[i];
  }

  /** Prometheus's {@code humanizeDuration} of seconds: {@code 1d 2h 3m 4s}, {@code 250ms}. */
  static String humanizeDuration(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return formatValue(v);
    }
    if (v == 0) {
      return "0s";
    }
    String sign = v < 0 ? "-" : "";
    v = Math.abs(v);
    if (v >= 1) {
      long d = (long) v;
      long seconds = d % 60;
      long minutes = (d / 60) % 60;
      long hours = (d / 3600) % 24;
      long days = d / 86400;
      if (days != 0) {
        return sign + days + "d " + hours + "h " + minutes + "m " + seconds + "s";
      }
      if (hours != 0) {
        return sign + hours + "h " + minutes + "m " + seconds + "s";
      }
      if (minutes != 0) {
        return sign + minutes + "m " + seconds + "s";
      }
      return sign + significant(v) + "s";
    }
    String[] prefixes = {"m", "u", "n", "p", "f", "a", "z", "y"};
    for (String p : prefixes) {
      v *= 1000;
      if (v >= 1) {
        return sign + significant(v) + p + "s";
      }
    }
    return sign + significant(v) + "ys";
  }

  /** Go's {@code %.4g} for the magnitudes humanize produces: four significant digits, no zeros. */
  private static String significant(double v) {
    return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
  }
}
