package io.otlp4j.relay.alert;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A parsed rule expression: the subset of PromQL that {@link ExprParser} reads. Immutable.
 *
 * <p>Every node knows its {@link Type}; the parser refuses a tree whose types do not fit (a range
 * selector outside {@code rate}, a comparison of two scalars without {@code bool}), as Prometheus
 * does, so the evaluator never meets one.
 */
sealed interface Expr {

  /** What a node evaluates to. */
  enum Type {
    SCALAR,
    VECTOR,
    MATRIX
  }

  Type type();

  /** A number. */
  record NumberLiteral(double value) implements Expr {
    @Override
    public Type type() {
      return Type.SCALAR;
    }
  }

  /** A label matcher of a selector: {@code name op "value"}. */
  record Matcher(String name, MatchOp op, String value, Pattern regex) {
    boolean matches(String labelValue) {
      String v = labelValue == null ? "" : labelValue;
      return switch (op) {
        case EQUAL -> v.equals(value);
        case NOT_EQUAL -> !v.equals(value);
        case REGEX -> regex.matcher(v).matches();
        case NOT_REGEX -> !regex.matcher(v).matches();
      };
    }

    /** Whether the empty string matches, which a selector must not allow for every matcher. */
    boolean matchesEmpty() {
      return matches("");
    }
  }

  /** {@code =}, {@code !=}, {@code =~}, {@code !~}; regular expressions are fully anchored. */
  enum MatchOp {
    EQUAL,
    NOT_EQUAL,
    REGEX,
    NOT_REGEX
  }

  /**
   * An instant selector {@code name{matchers}}; the name, when given, is one more matcher on {@code
   * __name__}.
   */
  record VectorSelector(List<Matcher> matchers) implements Expr {
    @Override
    public Type type() {
      return Type.VECTOR;
    }

    /** The metric name when an {@code =} matcher on {@code __name__} gives it, else null. */
    String metricName() {
      for (Matcher m : matchers) {
        if (m.name().equals(Labels.NAME) && m.op() == MatchOp.EQUAL) {
          return m.value();
        }
      }
      return null;
    }
  }

  /** A range selector {@code selector[window]}: only as the argument of a function. */
  record MatrixSelector(VectorSelector selector, long windowMillis) implements Expr {
    @Override
    public Type type() {
      return Type.MATRIX;
    }
  }

  /** {@code rate} or {@code increase} of a range selector. */
  record Call(Function function, MatrixSelector argument) implements Expr {
    @Override
    public Type type() {
      return Type.VECTOR;
    }
  }

  /** The functions of the subset. */
  enum Function {
    RATE,
    INCREASE
  }

  /** {@code op by (labels) (expr)} or {@code op without (labels) (expr)}. */
  record Aggregate(AggregateOp op, List<String> grouping, boolean without, Expr argument)
      implements Expr {
    @Override
    public Type type() {
      return Type.VECTOR;
    }
  }

  /** The aggregation operators of the subset. */
  enum AggregateOp {
    SUM,
    MIN,
    MAX,
    AVG,
    COUNT
  }

  /**
   * A binary operation; {@code matching} is null between scalars or a scalar and a vector, else how
   * two vectors match ({@code on}/{@code ignoring} or the default: every label but the name).
   */
  record Binary(BinaryOp op, Expr left, Expr right, boolean returnBool, VectorMatching matching)
      implements Expr {
    @Override
    public Type type() {
      return left.type() == Type.SCALAR && right.type() == Type.SCALAR ? Type.SCALAR : Type.VECTOR;
    }
  }

  /** {@code on (labels)} ({@code on} true) or {@code ignoring (labels)}. */
  record VectorMatching(boolean on, List<String> labels) {
    static final VectorMatching DEFAULT = new VectorMatching(false, List.of());
  }

  /** The binary operators of the subset, with their PromQL spelling and precedence. */
  enum BinaryOp {
    OR("or", 1),
    AND("and", 2),
    UNLESS("unless", 2),
    EQL("==", 3),
    NEQ("!=", 3),
    GTR(">", 3),
    LSS("<", 3),
    GTE(">=", 3),
    LTE("<=", 3),
    ADD("+", 4),
    SUB("-", 4),
    MUL("*", 5),
    DIV("/", 5),
    MOD("%", 5),
    POW("^", 6);

    final String text;
    final int precedence;

    BinaryOp(String text, int precedence) {
      this.text = text;
      this.precedence = precedence;
    }

    boolean isComparison() {
      return precedence == 3;
    }

    boolean isSetOperator() {
      return precedence <= 2;
    }

    boolean rightAssociative() {
      return this == POW;
    }
  }
}
