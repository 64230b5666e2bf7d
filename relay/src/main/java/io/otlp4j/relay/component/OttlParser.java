package io.otlp4j.relay.component;

import io.otlp4j.relay.component.OttlCondition.Bool;
import io.otlp4j.relay.component.OttlCondition.Field;
import io.otlp4j.relay.component.OttlCondition.Level;
import io.otlp4j.relay.component.OttlCondition.Value;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the subset of OTTL conditions that covers the filter processor's common cases into an
 * {@link OttlCondition}:
 *
 * <ul>
 *   <li>paths {@code attributes["k"]}, {@code resource.attributes["k"]}, {@code
 *       instrumentation_scope.name} / {@code .version} (also {@code scope.}), {@code name}, {@code
 *       kind}, {@code status.code}, {@code start_time_unix_nano}, {@code end_time_unix_nano},
 *       {@code duration} (end − start, otlp4j's), {@code severity_number}, {@code severity_text},
 *       {@code body}, {@code metric.name}, {@code metric.type}, {@code span.name} … — relative to
 *       the context, or with a context prefix ({@code span.}, {@code spanevent.}, {@code metric.},
 *       {@code datapoint.}, {@code log.}, {@code resource.});
 *   <li>literals: strings, ints, floats, {@code true}, {@code false}, {@code nil}, and the enum
 *       constants ({@code SPAN_KIND_*}, {@code STATUS_CODE_*}, {@code SEVERITY_NUMBER_*}, {@code
 *       METRIC_DATA_TYPE_*});
 *   <li>{@code ==}, {@code !=}, {@code <}, {@code <=}, {@code >}, {@code >=}, {@code -} between two
 *       values, {@code and}, {@code or}, {@code not}, parentheses;
 *   <li>functions {@code IsMatch(value, "regex")}, {@code IsString}, {@code IsInt}, {@code
 *       IsDouble}, {@code IsBool}; in the metric context the filter processor's {@code
 *       HasAttrKeyOnDatapoint("key")} and {@code HasAttrOnDatapoint("key", "value")}.
 * </ul>
 *
 * Anything else is an {@link IllegalArgumentException} that says what is supported. Not
 * thread-safe; one per condition.
 */
final class OttlParser {
  static final String SUPPORTED =
      "paths attributes[\"k\"], resource.attributes[\"k\"], instrumentation_scope.name, "
          + "name, kind, status.code, duration, start_time_unix_nano, end_time_unix_nano, severity_number, "
          + "severity_text, body, metric.name, metric.type (with or without a context prefix); ==, !=, <, <=, >, >=, "
          + "-, and, or, not, ( ); IsMatch, IsString, IsInt, IsDouble, IsBool; HasAttrKeyOnDatapoint, "
          + "HasAttrOnDatapoint (metric context); string, number, bool, nil and enum literals";

  private static final Map<String, Level> PREFIXES =
      Map.of(
          "resource",
          Level.RESOURCE,
          "instrumentation_scope",
          Level.SCOPE,
          "scope",
          Level.SCOPE,
          "span",
          Level.SPAN,
          "spanevent",
          Level.SPANEVENT,
          "metric",
          Level.METRIC,
          "datapoint",
          Level.DATAPOINT,
          "log",
          Level.LOG);

  private final String text;
  private final List<String> tokens = new ArrayList<>();
  private int at;
  private int slots;

  /** The context paths without a prefix belong to; null when every path must have a prefix. */
  private final Level context;

  private final MatchScratch.Patterns patterns;
  private final List<Level> levels = new ArrayList<>();

  /** A datapoint function the condition calls (metric context only), or null. */
  private String datapointFunction;

  private OttlParser(String text, Level context, MatchScratch.Patterns patterns) {
    this.text = text;
    this.context = context;
    this.patterns = patterns;
  }

  /**
   * Compiles {@code text}.
   *
   * @param context the context of unprefixed paths, or null to infer it from the prefixed paths
   * @param allowed the contexts the condition may have (the signal's)
   * @throws IllegalArgumentException what is wrong, and what is supported
   */
  static OttlCondition parse(
      String text, Level context, List<Level> allowed, MatchScratch.Patterns patterns) {
    OttlParser p = new OttlParser(text, context, patterns);
    p.tokenize();
    Bool root = p.or();
    if (p.at < p.tokens.size()) {
      throw new IllegalArgumentException(
          "unexpected '" + p.tokens.get(p.at) + "' in condition '" + text + "'");
    }
    Level c = context;
    if (c == null) {
      for (Level l : p.levels) {
        if (c == null || l.depth > c.depth) {
          c = l;
        }
      }
      if (c == null) {
        throw new IllegalArgumentException(
            "condition '"
                + text
                + "' reads no path with a context prefix ("
                + String.join(
                    ", ",
                    allowed.stream().map(l -> l.name().toLowerCase(java.util.Locale.ROOT)).toList())
                + ")");
      }
    }
    if (p.datapointFunction != null && c != Level.METRIC) {
      throw new IllegalArgumentException(
          "'"
              + p.datapointFunction
              + "' in condition '"
              + text
              + "' is only available in the metric context, not the "
              + c.name().toLowerCase(java.util.Locale.ROOT)
              + " context");
    }
    if (!allowed.contains(c)) {
      throw new IllegalArgumentException(
          "condition '"
              + text
              + "' is in the "
              + c.name().toLowerCase(java.util.Locale.ROOT)
              + " context, not one of this signal's ("
              + String.join(
                  ", ",
                  allowed.stream().map(l -> l.name().toLowerCase(java.util.Locale.ROOT)).toList())
              + ")");
    }
    for (Level l : p.levels) {
      if (!c.reaches(l)) {
        throw new IllegalArgumentException(
            "condition '"
                + text
                + "' reads "
                + l.name().toLowerCase(java.util.Locale.ROOT)
                + " paths, which a "
                + c.name().toLowerCase(java.util.Locale.ROOT)
                + " does not have");
      }
    }
    return new OttlCondition(text, c, root, p.slots);
  }

  // ------------------------------------------------------------------------------------ tokens

  private void tokenize() {
    int n = text.length();
    int i = 0;
    while (i < n) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '"') {
        StringBuilder s = new StringBuilder("\"");
        i++;
        while (i < n && text.charAt(i) != '"') {
          char x = text.charAt(i++);
          if (x == '\\' && i < n) {
            char y = text.charAt(i++);
            s.append(
                switch (y) {
                  case 'n' -> '\n';
                  case 't' -> '\t';
                  default -> y;
                });
          } else {
            s.append(x);
          }
        }
        if (i >= n) {
          throw new IllegalArgumentException("unterminated string in condition '" + text + "'");
        }
        i++;
        tokens.add(s.toString());
      } else if (Character.isLetter(c) || c == '_') {
        int start = i;
        while (i < n && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
          i++;
        }
        tokens.add(text.substring(start, i));
      } else if (Character.isDigit(c)) {
        int start = i;
        while (i < n
            && (Character.isDigit(text.charAt(i))
                || text.charAt(i) == '.'
                || text.charAt(i) == 'e'
                || text.charAt(i) == 'E'
                || ((text.charAt(i) == '-' || text.charAt(i) == '+')
                    && (text.charAt(i - 1) == 'e' || text.charAt(i - 1) == 'E')))) {
          i++;
        }
        tokens.add(text.substring(start, i));
      } else if ((c == '=' || c == '!' || c == '<' || c == '>')
          && i + 1 < n
          && text.charAt(i + 1) == '=') {
        tokens.add(text.substring(i, i + 2));
        i += 2;
      } else if ("()[].,<>-".indexOf(c) >= 0) {
        tokens.add(String.valueOf(c));
        i++;
      } else {
        throw new IllegalArgumentException(
            "unexpected '" + c + "' in condition '" + text + "' (supported: " + SUPPORTED + ")");
      }
    }
  }

  private String peek() {
    return at < tokens.size() ? tokens.get(at) : "";
  }

  private String next() {
    if (at >= tokens.size()) {
      throw new IllegalArgumentException("condition '" + text + "' ends early");
    }
    return tokens.get(at++);
  }

  private void expect(String token) {
    String t = next();
    if (!t.equals(token)) {
      throw new IllegalArgumentException(
          "expected '" + token + "' but found '" + t + "' in condition '" + text + "'");
    }
  }

  // ------------------------------------------------------------------------------------ grammar

  private Bool or() {
    List<Bool> terms = new ArrayList<>();
    terms.add(and());
    while (peek().equals("or")) {
      at++;
      terms.add(and());
    }
    return terms.size() == 1 ? terms.get(0) : new OttlCondition.Or(terms.toArray(new Bool[0]));
  }

  private Bool and() {
    List<Bool> terms = new ArrayList<>();
    terms.add(not());
    while (peek().equals("and")) {
      at++;
      terms.add(not());
    }
    return terms.size() == 1 ? terms.get(0) : new OttlCondition.And(terms.toArray(new Bool[0]));
  }

  /** A string literal argument of {@code function}, its text. */
  private String stringArgument(String function) {
    String token = next();
    if (!token.startsWith("\"")) {
      throw new IllegalArgumentException(
          function + " takes string arguments in condition '" + text + "'");
    }
    return token.substring(1);
  }

  private Bool not() {
    if (peek().equals("not")) {
      at++;
      return new OttlCondition.Not(not());
    }
    return primary();
  }

  private Bool primary() {
    if (peek().equals("(")) {
      // A parenthesised condition, unless it turns out to be a value compared with something.
      int save = at;
      at++;
      Bool inner = or();
      expect(")");
      if (!isComparison(peek())) {
        return inner;
      }
      at = save;
    }
    String t = peek();
    switch (t) {
      case "IsMatch" -> {
        at++;
        expect("(");
        Value target = value();
        expect(",");
        String regex = next();
        if (!regex.startsWith("\"")) {
          throw new IllegalArgumentException(
              "IsMatch takes a string pattern in condition '" + text + "'");
        }
        expect(")");
        return new OttlCondition.IsMatch(
            target, patterns.add(GoRegex.compile(regex.substring(1)).pattern()));
      }
      case "HasAttrKeyOnDatapoint", "HasAttrOnDatapoint" -> {
        at++;
        expect("(");
        String key = stringArgument(t);
        String value = null;
        if (t.equals("HasAttrOnDatapoint")) {
          expect(",");
          value = stringArgument(t);
        }
        expect(")");
        datapointFunction = t;
        levels.add(Level.METRIC);
        return new OttlCondition.DatapointAttribute(key, value);
      }
      case "IsString", "IsInt", "IsDouble", "IsBool" -> {
        at++;
        expect("(");
        Value target = value();
        expect(")");
        int type =
            switch (t) {
              case "IsString" -> OttlCondition.STRING;
              case "IsInt" -> OttlCondition.INT;
              case "IsDouble" -> OttlCondition.DOUBLE;
              default -> OttlCondition.BOOL;
            };
        return new OttlCondition.IsType(target, type);
      }
      default -> {
        Value left = value();
        String op = peek();
        if (!isComparison(op)) {
          return new OttlCondition.Truth(left);
        }
        at++;
        Value right = value();
        int code =
            switch (op) {
              case "==" -> OttlCondition.EQ;
              case "!=" -> OttlCondition.NE;
              case "<" -> OttlCondition.LT;
              case "<=" -> OttlCondition.LE;
              case ">" -> OttlCondition.GT;
              default -> OttlCondition.GE;
            };
        return new OttlCondition.Compare(left, code, right);
      }
    }
  }

  private static boolean isComparison(String t) {
    return switch (t) {
      case "==", "!=", "<", "<=", ">", ">=" -> true;
      default -> false;
    };
  }

  private Value value() {
    Value v = term();
    while (peek().equals("-")) {
      at++;
      v = new OttlCondition.Difference(slots++, v, term());
    }
    return v;
  }

  private Value term() {
    String t = next();
    if (t.equals("(")) {
      Value v = value();
      expect(")");
      return v;
    }
    if (t.startsWith("\"")) {
      return new OttlCondition.Literal(slots++, OttlCondition.STRING, t.substring(1), 0, 0, false);
    }
    if (t.equals("-") && !peek().isEmpty() && Character.isDigit(peek().charAt(0))) {
      return number("-" + next());
    }
    if (Character.isDigit(t.charAt(0))) {
      return number(t);
    }
    switch (t) {
      case "true", "false" -> {
        return new OttlCondition.Literal(slots++, OttlCondition.BOOL, null, 0, 0, t.equals("true"));
      }
      case "nil" -> {
        return new OttlCondition.Literal(slots++, OttlCondition.NIL, null, 0, 0, false);
      }
      default -> {}
    }
    Integer e = OttlEnums.value(t);
    if (e != null) {
      return new OttlCondition.Literal(slots++, OttlCondition.INT, null, e, 0, false);
    }
    if (!Character.isLowerCase(t.charAt(0))) {
      throw new IllegalArgumentException(
          "'"
              + t
              + "' in condition '"
              + text
              + "' is not supported (supported: "
              + SUPPORTED
              + ")");
    }
    return path(t);
  }

  private Value number(String t) {
    try {
      if (t.contains(".") || t.contains("e") || t.contains("E")) {
        return new OttlCondition.Literal(
            slots++, OttlCondition.DOUBLE, null, 0, Double.parseDouble(t), false);
      }
      return new OttlCondition.Literal(
          slots++, OttlCondition.INT, null, Long.parseLong(t), 0, false);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + t + "' is not a number in condition '" + text + "'");
    }
  }

  private Value path(String first) {
    List<String> segments = new ArrayList<>();
    segments.add(first);
    while (peek().equals(".")) {
      at++;
      segments.add(next());
    }
    String key = null;
    if (peek().equals("[")) {
      at++;
      String k = next();
      if (!k.startsWith("\"")) {
        throw new IllegalArgumentException("a key must be a string in condition '" + text + "'");
      }
      key = k.substring(1);
      expect("]");
      if (peek().equals("[")) {
        throw new IllegalArgumentException(
            "nested keys are not supported in condition '"
                + text
                + "' (supported: "
                + SUPPORTED
                + ")");
      }
    }
    String whole = String.join(".", segments) + (key == null ? "" : "[\"" + key + "\"]");
    Level level = PREFIXES.get(segments.get(0));
    if (level != null && segments.size() > 1) {
      segments.remove(0);
    } else if (context == null) {
      throw new IllegalArgumentException(
          "path '"
              + whole
              + "' in condition '"
              + text
              + "' needs a context prefix "
              + "(span., spanevent., metric., datapoint., log., resource.)");
    } else {
      level = context;
    }
    String field = String.join(".", segments);
    Field f =
        switch (field) {
          case "attributes" -> level == Level.METRIC ? null : Field.ATTRIBUTE;
          case "name" ->
              level == Level.RESOURCE || level == Level.DATAPOINT || level == Level.LOG
                  ? null
                  : Field.NAME;
          case "version" -> level == Level.SCOPE ? Field.VERSION : null;
          case "kind" -> level == Level.SPAN ? Field.KIND : null;
          case "status.code" -> level == Level.SPAN ? Field.STATUS_CODE : null;
          case "start_time_unix_nano" -> level == Level.SPAN ? Field.START : null;
          case "end_time_unix_nano" -> level == Level.SPAN ? Field.END : null;
          case "duration" -> level == Level.SPAN ? Field.DURATION : null;
          case "severity_number" -> level == Level.LOG ? Field.SEVERITY_NUMBER : null;
          case "severity_text" -> level == Level.LOG ? Field.SEVERITY_TEXT : null;
          case "body" -> level == Level.LOG ? Field.BODY : null;
          case "type" -> level == Level.METRIC ? Field.METRIC_TYPE : null;
          default -> null;
        };
    if (f == null || (f == Field.ATTRIBUTE) != (key != null)) {
      throw new IllegalArgumentException(
          "path '"
              + whole
              + "' in condition '"
              + text
              + "' is not supported"
              + " (supported: "
              + SUPPORTED
              + ")");
    }
    levels.add(level);
    return new OttlCondition.Path(
        slots++, level, f, key == null ? null : key.getBytes(StandardCharsets.UTF_8));
  }
}
