package io.otlp4j.relay.alert;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The relay's alerting, read from {@code service.telemetry.alerts}:
 *
 * <pre>{@code
 * alerts:
 *   evaluation_interval: 15s        # default 15s
 *   rules: default                  # or none, or a list of rules in Prometheus's shape
 *   alertmanager: { endpoint: http://127.0.0.1:9093 }
 *   webhook: { endpoint: http://127.0.0.1:5001/hook }
 * }</pre>
 *
 * A list of rules may name {@code default} as one of its items to include the default rules. With
 * no {@code alerts} key the default rules are evaluated and nothing is notified. Immutable.
 *
 * @param evaluationInterval how often the rules are evaluated
 * @param rules the rules, in order
 * @param alertmanager the Alertmanager's base URL, or null
 * @param webhook the webhook's URL, or null
 */
public record AlertsConfig(
    Duration evaluationInterval, List<AlertRule> rules, URI alertmanager, URI webhook) {

  /** How often rules are evaluated when {@code evaluation_interval} is not given. */
  public static final Duration DEFAULT_EVALUATION_INTERVAL = Duration.ofSeconds(15);

  /** The default rules every 15 s, notifying nobody. */
  public static final AlertsConfig DEFAULTS =
      new AlertsConfig(DEFAULT_EVALUATION_INTERVAL, DefaultRules.rules(), null, null);

  public AlertsConfig {
    Objects.requireNonNull(evaluationInterval, "evaluationInterval");
    if (evaluationInterval.isZero() || evaluationInterval.isNegative()) {
      throw new IllegalArgumentException("evaluationInterval must be positive");
    }
    rules = List.copyOf(rules);
  }

  private static final String WHERE = "service.telemetry.alerts";

  /**
   * Reads {@code service.telemetry.alerts} ({@code node} null when absent); errors, each with its
   * line, go to {@code in}, and the defaults stand in for what was wrong.
   */
  public static AlertsConfig read(ConfigReader in, ConfigNode node) {
    if (node == null || node.isNull()) {
      return DEFAULTS;
    }
    Map<String, ConfigNode> m = in.map(node, WHERE);
    if (m == null) {
      return DEFAULTS;
    }
    in.checkKeys(m, WHERE, "evaluation_interval", "rules", "alertmanager", "webhook");
    Duration interval =
        in.duration(
            m.get("evaluation_interval"),
            WHERE + ".evaluation_interval",
            DEFAULT_EVALUATION_INTERVAL);
    if (interval == null || interval.isZero()) {
      if (interval != null) {
        in.error(
            m.get("evaluation_interval").line(),
            WHERE + ".evaluation_interval",
            "must be more than 0");
      }
      interval = DEFAULT_EVALUATION_INTERVAL;
    }
    List<AlertRule> rules = rules(in, m.get("rules"));
    URI alertmanager = endpoint(in, m.get("alertmanager"), WHERE + ".alertmanager");
    URI webhook = endpoint(in, m.get("webhook"), WHERE + ".webhook");
    return new AlertsConfig(interval, rules, alertmanager, webhook);
  }

  private static List<AlertRule> rules(ConfigReader in, ConfigNode node) {
    String where = WHERE + ".rules";
    if (node == null || node.isNull()) {
      return DefaultRules.rules();
    }
    if (node.text() != null) {
      switch (node.text()) {
        case "default":
          return DefaultRules.rules();
        case "none":
          return List.of();
        default:
          in.error(
              node.line(),
              where,
              "must be default, none or a list of rules (alert, expr, for, labels, annotations),"
                  + " was '"
                  + node.text()
                  + "'");
          return List.of();
      }
    }
    if (node.list() == null) {
      in.error(node.line(), where, "must be default, none or a list of rules");
      return List.of();
    }
    List<AlertRule> rules = new ArrayList<>();
    int i = 0;
    for (ConfigNode item : node.list()) {
      String w = where + "[" + i++ + "]";
      if ("default".equals(item.text())) {
        rules.addAll(DefaultRules.rules());
        continue;
      }
      AlertRule r = rule(in, item, w);
      if (r != null) {
        rules.add(r);
      }
    }
    return rules;
  }

  private static AlertRule rule(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return null;
    }
    if (m.containsKey("record")) {
      in.error(m.get("record").line(), where + ".record", "recording rules are not supported");
      return null;
    }
    in.checkKeys(
        m, where, List.of("keep_firing_for"), "alert", "expr", "for", "labels", "annotations");
    int errors = in.errorCount();
    ConfigNode alert = m.get("alert");
    ConfigNode expr = m.get("expr");
    if (alert == null) {
      in.error(node.line(), where + ".alert", "is required");
    }
    if (expr == null) {
      in.error(node.line(), where + ".expr", "is required");
    }
    String name = alert == null ? null : in.string(alert, where + ".alert");
    String exprText = expr == null ? null : in.string(expr, where + ".expr");
    Duration hold = in.duration(m.get("for"), where + ".for", Duration.ZERO);
    Map<String, String> labels = strings(in, m.get("labels"), where + ".labels");
    Map<String, String> annotations = strings(in, m.get("annotations"), where + ".annotations");
    if (in.errorCount() > errors || name == null || exprText == null || hold == null) {
      return null;
    }
    try {
      ExprParser.parseAlertCondition(exprText);
    } catch (ExprException e) {
      in.error(
          expr.line(),
          where + ".expr",
          "at character "
              + e.position()
              + ": "
              + e.getMessage()
              + " (supported: "
              + ExprParser.SUBSET
              + ")");
      return null;
    }
    try {
      return AlertRule.of(name, exprText, hold, labels, annotations);
    } catch (IllegalArgumentException e) {
      in.error(node.line(), where, e.getMessage());
      return null;
    }
  }

  private static Map<String, String> strings(ConfigReader in, ConfigNode node, String where) {
    Map<String, String> out = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return out;
    }
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return out;
    }
    m.forEach(
        (k, v) -> {
          String text = v.text();
          if (text == null) {
            in.error(v.line(), where + "." + k, "must be a string");
          } else {
            String problem = Templates.problem(text);
            if (problem != null) {
              in.error(v.line(), where + "." + k, problem);
            }
            out.put(k, text);
          }
        });
    return out;
  }

  private static URI endpoint(ConfigReader in, ConfigNode node, String where) {
    if (node == null || node.isNull()) {
      return null;
    }
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, "endpoint");
    ConfigNode e = m.get("endpoint");
    if (e == null) {
      in.error(node.line(), where + ".endpoint", "is required");
      return null;
    }
    String text = in.string(e, where + ".endpoint");
    if (text == null) {
      return null;
    }
    if (!text.contains("://")) {
      in.error(e.line(), where + ".endpoint", "'" + text + "' must be an http:// or https:// URL");
      return null;
    }
    if (!in.checkEndpoint(text, true, e.line(), where + ".endpoint")) {
      return null;
    }
    return URI.create(text);
  }
}
