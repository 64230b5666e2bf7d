package io.otlp4j.relay.alert;

import io.otlp4j.relay.alert.Expr.AggregateOp;
import io.otlp4j.relay.alert.Expr.BinaryOp;
import io.otlp4j.relay.alert.Expr.MatchOp;
import io.otlp4j.relay.alert.Expr.Matcher;
import io.otlp4j.relay.alert.Expr.VectorMatching;
import io.otlp4j.relay.alert.Expr.VectorSelector;
import io.otlp4j.relay.config.ConfigValues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Parses the subset of PromQL that alert rules may use ({@link #SUBSET}) into an {@link Expr}, by
 * recursive descent with PromQL's operator precedence; anything outside the subset is an {@link
 * ExprException} that names what and where. Stateless (one instance per parse).
 */
final class ExprParser {

  /** The subset, as errors and the README state it. */
  static final String SUBSET =
      "instant selectors name{label=\"v\", label!=\"v\", label=~\"re\", label!~\"re\"}; rate() and"
          + " increase() of a range selector name{...}[5m]; sum, min, max, avg, count with by (...)"
          + " or without (...); + - * / % ^ and == != > < >= <= (with or without bool) between"
          + " numbers and vectors, on (...) / ignoring (...) between two vectors; and, or, unless;"
          + " parentheses";

  private static final Set<String> UNSUPPORTED_KEYWORDS =
      Set.of("offset", "group_left", "group_right", "atan2", "@");

  private final String text;
  private int pos;

  private ExprParser(String text) {
    this.text = text;
  }

  /**
   * Parses {@code text}, which must evaluate to an instant vector (an alert's condition).
   *
   * @throws ExprException naming the problem and the character where it is
   */
  static Expr parseAlertCondition(String text) {
    Expr e = parse(text);
    if (e.type() != Expr.Type.VECTOR) {
      throw new ExprException(
          "the expression must give an instant vector, not a " + typeName(e.type()), 1);
    }
    return e;
  }

  /** Parses {@code text}; throws {@link ExprException} when it is not in the subset. */
  static Expr parse(String text) {
    ExprParser p = new ExprParser(text);
    p.skipSpace();
    if (p.pos >= text.length()) {
      throw new ExprException("the expression is empty", 1);
    }
    Expr e = p.expression(0);
    p.skipSpace();
    if (p.pos < text.length()) {
      throw p.error("unexpected " + p.describeNext());
    }
    return e;
  }

  // ------------------------------------------------------------------------------- operators

  private Expr expression(int minPrecedence) {
    Expr left = unary();
    while (true) {
      int start = pos;
      BinaryOp op = binaryOp();
      if (op == null || op.precedence < minPrecedence) {
        pos = start;
        return left;
      }
      boolean returnBool = false;
      if (keyword("bool")) {
        if (!op.isComparison()) {
          throw error("bool is only allowed after a comparison operator");
        }
        returnBool = true;
      }
      VectorMatching matching = null;
      int matchingAt = pos;
      if (keyword("on")) {
        matching = new VectorMatching(true, labelList());
      } else if (keyword("ignoring")) {
        matching = new VectorMatching(false, labelList());
      }
      rejectUnsupportedWord();
      Expr right = expression(op.rightAssociative() ? op.precedence : op.precedence + 1);
      left = binary(op, left, right, returnBool, matching, start, matchingAt);
    }
  }

  private Expr binary(
      BinaryOp op,
      Expr left,
      Expr right,
      boolean returnBool,
      VectorMatching matching,
      int opAt,
      int matchingAt) {
    if (left.type() == Expr.Type.MATRIX || right.type() == Expr.Type.MATRIX) {
      throw errorAt(
          opAt,
          "a range vector can only be the argument of rate() or increase(), not of '"
              + op.text
              + "'");
    }
    boolean bothVectors = left.type() == Expr.Type.VECTOR && right.type() == Expr.Type.VECTOR;
    if (op.isSetOperator() && !bothVectors) {
      throw errorAt(opAt, "'" + op.text + "' needs a vector on both sides");
    }
    if (op.isComparison()
        && left.type() == Expr.Type.SCALAR
        && right.type() == Expr.Type.SCALAR
        && !returnBool) {
      throw errorAt(opAt, "a comparison between two numbers needs bool");
    }
    if (matching != null && !bothVectors) {
      throw errorAt(matchingAt, "on/ignoring only applies between two vectors");
    }
    if (bothVectors && matching == null) {
      matching = VectorMatching.DEFAULT;
    }
    return new Expr.Binary(op, left, right, returnBool, matching);
  }

  private BinaryOp binaryOp() {
    skipSpace();
    if (pos >= text.length()) {
      return null;
    }
    for (String word : new String[] {"and", "or", "unless"}) {
      if (peekWord(word)) {
        pos += word.length();
        return BinaryOp.valueOf(word.toUpperCase(Locale.ROOT));
      }
    }
    if (peekWord("atan2")) {
      throw error("the operator atan2 is not supported");
    }
    for (BinaryOp op : new BinaryOp[] {BinaryOp.EQL, BinaryOp.NEQ, BinaryOp.GTE, BinaryOp.LTE}) {
      if (text.startsWith(op.text, pos)) {
        pos += 2;
        return op;
      }
    }
    char c = text.charAt(pos);
    BinaryOp op =
        switch (c) {
          case '>' -> BinaryOp.GTR;
          case '<' -> BinaryOp.LSS;
          case '+' -> BinaryOp.ADD;
          case '-' -> BinaryOp.SUB;
          case '*' -> BinaryOp.MUL;
          case '/' -> BinaryOp.DIV;
          case '%' -> BinaryOp.MOD;
          case '^' -> BinaryOp.POW;
          default -> null;
        };
    if (op != null) {
      pos++;
    }
    return op;
  }

  private Expr unary() {
    skipSpace();
    if (pos < text.length() && (text.charAt(pos) == '-' || text.charAt(pos) == '+')) {
      boolean minus = text.charAt(pos) == '-';
      pos++;
      Expr operand = expression(BinaryOp.POW.precedence);
      if (operand.type() == Expr.Type.MATRIX) {
        throw error("a range vector cannot be negated");
      }
      if (!minus) {
        return operand;
      }
      if (operand instanceof Expr.NumberLiteral n) {
        return new Expr.NumberLiteral(-n.value());
      }
      return new Expr.Binary(BinaryOp.MUL, new Expr.NumberLiteral(-1), operand, false, null);
    }
    return postfix(primary());
  }

  // -------------------------------------------------------------------------------- primaries

  private Expr primary() {
    skipSpace();
    if (pos >= text.length()) {
      throw error("the expression ends where a value was expected");
    }
    char c = text.charAt(pos);
    if (c == '(') {
      pos++;
      Expr inner = expression(0);
      expect(')');
      return inner;
    }
    if (c == '{') {
      return selector(null);
    }
    if (Character.isDigit(c) || c == '.') {
      return number();
    }
    if (isIdentStart(c)) {
      int start = pos;
      String word = identifier();
      String lower = word.toLowerCase(Locale.ROOT);
      if (lower.equals("inf") || lower.equals("nan")) {
        return new Expr.NumberLiteral(lower.equals("inf") ? Double.POSITIVE_INFINITY : Double.NaN);
      }
      AggregateOp agg = aggregateOp(word);
      if (agg != null && (peekChar('(') || peekWord("by") || peekWord("without"))) {
        return aggregate(agg);
      }
      if (peekChar('(')) {
        return call(word, start);
      }
      if (UNSUPPORTED_KEYWORDS.contains(word)) {
        throw errorAt(start, "'" + word + "' is not supported");
      }
      return selector(word);
    }
    throw error("unexpected " + describeNext());
  }

  private Expr postfix(Expr e) {
    skipSpace();
    if (pos < text.length() && text.charAt(pos) == '[') {
      if (!(e instanceof VectorSelector selector)) {
        throw error("subqueries ([range:step] after an expression) are not supported");
      }
      pos++;
      skipSpace();
      int start = pos;
      while (pos < text.length() && text.charAt(pos) != ']' && text.charAt(pos) != ':') {
        pos++;
      }
      if (pos >= text.length()) {
        throw errorAt(start, "the range has no closing ']'");
      }
      if (text.charAt(pos) == ':') {
        throw error("subqueries ([range:step]) are not supported");
      }
      String window = text.substring(start, pos).trim();
      pos++;
      Duration d = ConfigValues.parseDuration(window);
      if (d == null || d.isZero() || window.equals("0")) {
        throw errorAt(start, "'" + window + "' is not a range such as 5m or 30s");
      }
      e = new Expr.MatrixSelector(selector, d.toMillis());
    }
    rejectUnsupportedWord();
    return e;
  }

  private void rejectUnsupportedWord() {
    skipSpace();
    if (peekWord("offset") || peekChar('@')) {
      throw error("offset and @ modifiers are not supported");
    }
    if (peekWord("group_left") || peekWord("group_right")) {
      throw error("group_left/group_right (many-to-one matching) are not supported");
    }
  }

  private Expr number() {
    int start = pos;
    while (pos < text.length()
        && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
      char c = text.charAt(pos);
      if ((c == 'e' || c == 'E')
          && pos + 1 < text.length()
          && (text.charAt(pos + 1) == '+' || text.charAt(pos + 1) == '-')) {
        pos++;
      }
      pos++;
    }
    String literal = text.substring(start, pos);
    try {
      return new Expr.NumberLiteral(Double.parseDouble(literal));
    } catch (NumberFormatException e) {
      Duration d = ConfigValues.parseDuration(literal);
      if (d != null) {
        throw errorAt(start, "a duration (" + literal + ") is only allowed inside [...]");
      }
      throw errorAt(start, "'" + literal + "' is not a number");
    }
  }

  private Expr call(String name, int start) {
    Expr.Function f =
        switch (name) {
          case "rate" -> Expr.Function.RATE;
          case "increase" -> Expr.Function.INCREASE;
          default -> throw errorAt(start, "the function " + name + "() is not supported");
        };
    expect('(');
    Expr arg = expression(0);
    expect(')');
    if (!(arg instanceof Expr.MatrixSelector m)) {
      throw errorAt(start, name + "() needs a range selector such as name{...}[5m]");
    }
    return new Expr.Call(f, m);
  }

  private Expr aggregate(AggregateOp op) {
    List<String> grouping = List.of();
    boolean without = false;
    boolean groupingSeen = false;
    if (keyword("by")) {
      grouping = labelList();
      groupingSeen = true;
    } else if (keyword("without")) {
      grouping = labelList();
      without = true;
      groupingSeen = true;
    }
    expect('(');
    int argAt = pos;
    Expr arg = expression(0);
    if (peekChar(',')) {
      throw error("aggregations with a parameter (topk, quantile...) are not supported");
    }
    expect(')');
    if (arg.type() != Expr.Type.VECTOR) {
      throw errorAt(argAt, op.name().toLowerCase(Locale.ROOT) + "() needs an instant vector");
    }
    if (!groupingSeen) {
      if (keyword("by")) {
        grouping = labelList();
      } else if (keyword("without")) {
        grouping = labelList();
        without = true;
      }
    }
    return new Expr.Aggregate(op, grouping, without, arg);
  }

  private static AggregateOp aggregateOp(String word) {
    return switch (word) {
      case "sum" -> AggregateOp.SUM;
      case "min" -> AggregateOp.MIN;
      case "max" -> AggregateOp.MAX;
      case "avg" -> AggregateOp.AVG;
      case "count" -> AggregateOp.COUNT;
      default -> null;
    };
  }

  private VectorSelector selector(String name) {
    List<Matcher> matchers = new ArrayList<>();
    if (name != null) {
      matchers.add(new Matcher(Labels.NAME, MatchOp.EQUAL, name, null));
    }
    skipSpace();
    int braceAt = pos;
    if (peekChar('{')) {
      pos++;
      skipSpace();
      while (!peekChar('}')) {
        skipSpace();
        int at = pos;
        if (pos >= text.length() || !isIdentStart(text.charAt(pos))) {
          throw error("a label name was expected, not " + describeNext());
        }
        String label = identifier();
        if (label.indexOf(':') >= 0) {
          throw errorAt(at, "'" + label + "' is not a label name");
        }
        skipSpace();
        MatchOp op;
        if (text.startsWith("=~", pos)) {
          op = MatchOp.REGEX;
        } else if (text.startsWith("!~", pos)) {
          op = MatchOp.NOT_REGEX;
        } else if (text.startsWith("!=", pos)) {
          op = MatchOp.NOT_EQUAL;
        } else if (peekChar('=')) {
          op = MatchOp.EQUAL;
        } else {
          throw error("a matcher (=, !=, =~, !~) was expected, not " + describeNext());
        }
        pos += op == MatchOp.EQUAL ? 1 : 2;
        skipSpace();
        int valueAt = pos;
        String value = string();
        Pattern regex = null;
        if (op == MatchOp.REGEX || op == MatchOp.NOT_REGEX) {
          try {
            regex = Pattern.compile(value);
          } catch (PatternSyntaxException e) {
            throw errorAt(valueAt, "'" + value + "' is not a valid regular expression");
          }
        }
        matchers.add(new Matcher(label, op, value, regex));
        skipSpace();
        if (peekChar(',')) {
          pos++;
          skipSpace();
        } else if (!peekChar('}')) {
          throw error("',' or '}' was expected, not " + describeNext());
        }
      }
      pos++;
    }
    if (matchers.isEmpty() || matchers.stream().allMatch(Matcher::matchesEmpty)) {
      throw errorAt(
          braceAt,
          "a selector needs a metric name or a matcher that does not match the empty value");
    }
    return new VectorSelector(List.copyOf(matchers));
  }

  private List<String> labelList() {
    expect('(');
    List<String> labels = new ArrayList<>();
    skipSpace();
    while (!peekChar(')')) {
      skipSpace();
      if (pos >= text.length() || !isIdentStart(text.charAt(pos))) {
        throw error("a label name was expected, not " + describeNext());
      }
      labels.add(identifier());
      skipSpace();
      if (peekChar(',')) {
        pos++;
        skipSpace();
      } else if (!peekChar(')')) {
        throw error("',' or ')' was expected, not " + describeNext());
      }
    }
    pos++;
    return List.copyOf(labels);
  }

  // ----------------------------------------------------------------------------------- lexing

  private String string() {
    if (pos >= text.length()) {
      throw error("a quoted string was expected");
    }
    char quote = text.charAt(pos);
    if (quote != '"' && quote != '\'' && quote != '`') {
      throw error("a quoted string was expected, not " + describeNext());
    }
    int start = pos++;
    StringBuilder out = new StringBuilder();
    while (pos < text.length() && text.charAt(pos) != quote) {
      char c = text.charAt(pos++);
      if (c == '\\' && quote != '`' && pos < text.length()) {
        char next = text.charAt(pos++);
        switch (next) {
          case 'n' -> out.append('\n');
          case 't' -> out.append('\t');
          case '\\', '"', '\'' -> out.append(next);
          default -> out.append('\\').append(next); // a regex escape such as \. stays as it is
        }
      } else {
        out.append(c);
      }
    }
    if (pos >= text.length()) {
      throw errorAt(start, "the string has no closing " + quote);
    }
    pos++;
    return out.toString();
  }

  private String identifier() {
    int start = pos;
    while (pos < text.length()
        && (Character.isLetterOrDigit(text.charAt(pos))
            || text.charAt(pos) == '_'
            || text.charAt(pos) == ':')) {
      pos++;
    }
    return text.substring(start, pos);
  }

  private static boolean isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  }

  private boolean keyword(String word) {
    skipSpace();
    if (peekWord(word)) {
      pos += word.length();
      return true;
    }
    return false;
  }

  private boolean peekWord(String word) {
    skipSpace();
    if (!text.startsWith(word, pos)) {
      return false;
    }
    int end = pos + word.length();
    return end >= text.length()
        || !(Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_');
  }

  private boolean peekChar(char c) {
    skipSpace();
    return pos < text.length() && text.charAt(pos) == c;
  }

  private void expect(char c) {
    if (!peekChar(c)) {
      throw error("'" + c + "' was expected, not " + describeNext());
    }
    pos++;
  }

  private void skipSpace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == '#') {
        while (pos < text.length() && text.charAt(pos) != '\n') {
          pos++;
        }
      } else if (Character.isWhitespace(c)) {
        pos++;
      } else {
        return;
      }
    }
  }

  private String describeNext() {
    if (pos >= text.length()) {
      return "the end of the expression";
    }
    int end = pos + 1;
    while (end < text.length()
        && end - pos < 20
        && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')
        && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
      end++;
    }
    return "'" + text.substring(pos, end) + "'";
  }

  private ExprException error(String message) {
    return errorAt(pos, message);
  }

  private static ExprException errorAt(int at, String message) {
    return new ExprException(message, at + 1);
  }

  private static String typeName(Expr.Type type) {
    return switch (type) {
      case SCALAR -> "number";
      case VECTOR -> "instant vector";
      case MATRIX -> "range vector";
    };
  }
}
