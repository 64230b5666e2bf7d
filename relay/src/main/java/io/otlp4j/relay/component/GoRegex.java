package io.otlp4j.relay.component;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A regular expression written for the Collector (Go's RE2 syntax) compiled with {@link Pattern}:
 * Go's named groups {@code (?P<name>...)} and names Java does not allow ({@code http_method})
 * become plain groups whose names are kept here, in order. Matching is unanchored, as Go's {@code
 * MatchString}: use {@link java.util.regex.Matcher#find()}. Immutable.
 *
 * @param pattern the compiled expression
 * @param groupNames the name of each capturing group in order (null for an unnamed one)
 */
record GoRegex(Pattern pattern, List<String> groupNames) {

  /**
   * Compiles {@code regex}.
   *
   * @throws IllegalArgumentException naming what is wrong with it
   */
  static GoRegex compile(String regex) {
    StringBuilder out = new StringBuilder(regex.length());
    List<String> names = new ArrayList<>();
    int n = regex.length();
    boolean inClass = false;
    for (int i = 0; i < n; i++) {
      char c = regex.charAt(i);
      if (c == '\\') {
        out.append(c);
        if (i + 1 < n) {
          out.append(regex.charAt(++i));
        }
        continue;
      }
      if (inClass) {
        if (c == ']') {
          inClass = false;
        }
        out.append(c);
        continue;
      }
      if (c == '[') {
        inClass = true;
        out.append(c);
        // a ']' right after '[' or '[^' is a literal
        if (i + 1 < n && regex.charAt(i + 1) == '^') {
          out.append(regex.charAt(++i));
        }
        if (i + 1 < n && regex.charAt(i + 1) == ']') {
          out.append(regex.charAt(++i));
        }
        continue;
      }
      if (c == '(') {
        int nameStart = -1;
        if (regex.startsWith("?P<", i + 1)) {
          nameStart = i + 4;
        } else if (regex.startsWith("?<", i + 1)
            && !regex.startsWith("?<=", i + 1)
            && !regex.startsWith("?<!", i + 1)) {
          nameStart = i + 3;
        }
        if (nameStart >= 0) {
          int close = regex.indexOf('>', nameStart);
          if (close < 0) {
            throw new IllegalArgumentException("unterminated group name in '" + regex + "'");
          }
          names.add(regex.substring(nameStart, close));
          out.append('(');
          i = close;
          continue;
        }
        if (!(i + 1 < n && regex.charAt(i + 1) == '?')) {
          names.add(null);
        }
      }
      out.append(c);
    }
    try {
      Pattern p = Pattern.compile(out.toString());
      int groups = p.matcher("").groupCount();
      if (groups != names.size()) {
        throw new IllegalArgumentException("could not tell its groups apart in '" + regex + "'");
      }
      return new GoRegex(p, Collections.unmodifiableList(names));
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "invalid regular expression '" + regex + "': " + e.getDescription(), e);
    }
  }
}
