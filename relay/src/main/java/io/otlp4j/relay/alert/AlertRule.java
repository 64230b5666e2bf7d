package io.otlp4j.relay.alert;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One alerting rule in Prometheus's shape ({@code alert}, {@code expr}, {@code for}, {@code
 * labels}, {@code annotations}), its expression parsed ({@link ExprParser}). Immutable.
 */
public final class AlertRule {
  private final String name;
  private final String exprText;
  private final Expr expr;
  private final Duration holdDuration;
  private final Map<String, String> labels;
  private final Map<String, String> annotations;

  private AlertRule(
      String name,
      String exprText,
      Expr expr,
      Duration holdDuration,
      Map<String, String> labels,
      Map<String, String> annotations) {
    this.name = name;
    this.exprText = exprText;
    this.expr = expr;
    this.holdDuration = holdDuration;
    this.labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    this.annotations = Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
  }

  /**
   * A rule; {@code expr} must be in the supported subset and the templates of {@code labels} and
   * {@code annotations} in theirs.
   *
   * @throws IllegalArgumentException naming what is wrong (for an expression, with the character)
   */
  public static AlertRule of(
      String name,
      String expr,
      Duration holdDuration,
      Map<String, String> labels,
      Map<String, String> annotations) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(expr, "expr");
    Objects.requireNonNull(holdDuration, "holdDuration");
    if (!name.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
      throw new IllegalArgumentException(
          "alert name '"
              + name
              + "' is not a valid label value for alertname ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (holdDuration.isNegative()) {
      throw new IllegalArgumentException("for must not be negative");
    }
    Expr parsed;
    try {
      parsed = ExprParser.parseAlertCondition(expr);
    } catch (ExprException e) {
      throw new IllegalArgumentException(
          "at character " + e.position() + " of the expression: " + e.getMessage(), e);
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      if (!e.getKey().matches("[a-zA-Z_][a-zA-Z0-9_]*") || e.getKey().startsWith("__")) {
        throw new IllegalArgumentException("'" + e.getKey() + "' is not a valid label name");
      }
      check("label " + e.getKey(), e.getValue());
    }
    annotations.forEach((k, v) -> check("annotation " + k, v));
    return new AlertRule(name, expr.strip(), parsed, holdDuration, labels, annotations);
  }

  private static void check(String what, String text) {
    String problem = Templates.problem(text);
    if (problem != null) {
      throw new IllegalArgumentException(what + ": " + problem);
    }
  }

  /** The alert's name ({@code alert}, the {@code alertname} label). */
  public String name() {
    return name;
  }

  /** The expression as written. */
  public String exprText() {
    return exprText;
  }

  Expr expr() {
    return expr;
  }

  /** How long the condition must hold before the alert fires ({@code for}). */
  public Duration holdDuration() {
    return holdDuration;
  }

  /** Labels added to every alert of this rule (may hold templates). */
  public Map<String, String> labels() {
    return labels;
  }

  /** Annotations of every alert of this rule (may hold templates). */
  public Map<String, String> annotations() {
    return annotations;
  }

  @Override
  public String toString() {
    return "AlertRule{" + name + ": " + exprText + " for " + holdDuration + "}";
  }
}
