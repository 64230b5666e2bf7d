package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.wire.ElementView;
import io.otlp4j.wire.TextView;
import io.otlp4j.wire.ValueView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A compiled {@code include} or {@code exclude} section of the Collector's {@code attributes}
 * processor (its {@code filterconfig.MatchProperties}): {@code match_type} strict or regexp
 * (unanchored, as Go's {@code MatchString}) over {@code services}, {@code span_names}, {@code
 * span_kinds}, {@code attributes}, {@code resources}, {@code libraries}, {@code log_bodies}, {@code
 * log_severity_texts}, {@code log_severity_number} and {@code metric_names}. Every property given
 * must match; within a list of names one entry must, of {@code attributes}, {@code resources} and
 * {@code libraries} every entry must.
 *
 * <p>Matching reads the element's fields from the request's bytes and allocates nothing for string
 * values (a number compared with a regular expression is formatted first). Immutable, thread-safe.
 */
final class MatchProperties {
  static final String[] SPAN_KINDS = {
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER"
  };
  private static final byte[] SERVICE_NAME = "service.name".getBytes(StandardCharsets.UTF_8);
  private static final String NIL_SERVICE_NAME = "<nil-service-name>";
  static final List<String> KEYS =
      List.of(
          "match_type",
          "regexp",
          "services",
          "span_names",
          "span_kinds",
          "attributes",
          "resources",
          "libraries",
          "log_bodies",
          "log_severity_texts",
          "log_severity_number",
          "metric_names");

  private final TextSet services;
  private final TextSet spanNames;
  private final TextSet spanKinds;
  private final TextSet logBodies;
  private final TextSet severityTexts;
  private final TextSet metricNames;
  private final Condition[] attributes;
  private final Condition[] resources;
  private final TextSet[] libraryNames;
  private final TextSet[] libraryVersions;

  /** log_severity_number's min, or -1 without one. */
  private final int severityMin;

  private final boolean severityMatchUndefined;

  private MatchProperties(Builder b) {
    services = b.services;
    spanNames = b.spanNames;
    spanKinds = b.spanKinds;
    logBodies = b.logBodies;
    severityTexts = b.severityTexts;
    metricNames = b.metricNames;
    attributes = b.attributes.toArray(new Condition[0]);
    resources = b.resources.toArray(new Condition[0]);
    libraryNames = b.libraryNames.toArray(new TextSet[0]);
    libraryVersions = b.libraryVersions.toArray(new TextSet[0]);
    severityMin = b.severityMin;
    severityMatchUndefined = b.severityMatchUndefined;
  }

  /** Whether a span matches (the Collector's {@code filterspan}). */
  boolean matchesSpan(ElementView span, MatchScratch s) {
    ElementView scope = span.parent();
    ElementView resource = scope.parent();
    if (services != null) {
      ValueView service = resource.attribute(SERVICE_NAME, s.value);
      CharSequence name = service.isPresent() ? ValueText.asString(service) : NIL_SERVICE_NAME;
      if (name == null || !services.matches(name, s)) {
        return false;
      }
    }
    if (spanNames != null && !spanNames.matches(span.name(), s)) {
      return false;
    }
    if (spanKinds != null) {
      int kind = span.spanKind();
      if (!spanKinds.matches(kind >= 0 && kind < SPAN_KINDS.length ? SPAN_KINDS[kind] : "", s)) {
        return false;
      }
    }
    return matchesCommon(span, scope, resource, s);
  }

  /** Whether a log record matches (the Collector's {@code filterlog}). */
  boolean matchesLogRecord(ElementView record, MatchScratch s) {
    if (logBodies != null) {
      CharSequence body = ValueText.asString(record.body());
      if (body == null || !logBodies.matches(body, s)) {
        return false;
      }
    }
    if (severityTexts != null && !severityTexts.matches(record.severityText(), s)) {
      return false;
    }
    if (severityMin >= 0) {
      int n = record.severityNumber();
      if (n == 0 ? !severityMatchUndefined : n < severityMin) {
        return false;
      }
    }
    ElementView scope = record.parent();
    return matchesCommon(record, scope, scope.parent(), s);
  }

  /**
   * Whether a metric matches (the Collector's {@code filtermetric}: {@code metric_names} and {@code
   * resources}).
   */
  boolean matchesMetric(ElementView metric, MatchScratch s) {
    if (metricNames != null && !metricNames.matches(metric.name(), s)) {
      return false;
    }
    return all(resources, metric.parent().parent(), s);
  }

  private boolean matchesCommon(
      ElementView item, ElementView scope, ElementView resource, MatchScratch s) {
    for (int i = 0; i < libraryNames.length; i++) {
      if (!libraryNames[i].matches(scope.name(), s)) {
        return false;
      }
      if (libraryVersions[i] != null && !libraryVersions[i].matches(scope.version(), s)) {
        return false;
      }
    }
    return all(resources, resource, s) && all(attributes, item, s);
  }

  private static boolean all(Condition[] conditions, ElementView element, MatchScratch s) {
    for (Condition c : conditions) {
      if (!c.matches(element, s)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Names compared exactly ({@code strict}) or patterns looked for ({@code regexp}); one must
   * match.
   */
  record TextSet(String[] strict, int[] patternIds) {
    boolean matches(CharSequence text, MatchScratch s) {
      if (strict != null) {
        for (String v : strict) {
          if (text instanceof TextView t
              ? t.contentEquals(v)
              : CharSequence.compare(text, v) == 0) {
            return true;
          }
        }
        return false;
      }
      for (int id : patternIds) {
        if (s.find(id, text)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * One {@code {key, value}} entry: the key must be there, with the value (strict) or matching it
   * (regexp).
   */
  record Condition(byte[] key, Object expected, int patternId) {
    boolean matches(ElementView element, MatchScratch s) {
      ValueView v = element.attribute(key, s.value);
      if (!v.isPresent()) {
        return false;
      }
      if (patternId >= 0) {
        CharSequence text = ValueText.forRegexp(v);
        return text != null && s.find(patternId, text);
      }
      if (expected == null) {
        return true;
      }
      return switch (v.type()) {
        case STRING -> expected instanceof String e && v.stringValue().contentEquals(e);
        case INT -> expected instanceof Long e && v.intValue() == e;
        case DOUBLE -> expected instanceof Double e && v.doubleValue() == e;
        case BOOL -> expected instanceof Boolean e && v.boolValue() == e;
        default -> false;
      };
    }
  }

  // ------------------------------------------------------------------------------------ reading

  private static final class Builder {
    TextSet services;
    TextSet spanNames;
    TextSet spanKinds;
    TextSet logBodies;
    TextSet severityTexts;
    TextSet metricNames;
    final List<Condition> attributes = new ArrayList<>();
    final List<Condition> resources = new ArrayList<>();
    final List<TextSet> libraryNames = new ArrayList<>();
    final List<TextSet> libraryVersions = new ArrayList<>();
    int severityMin = -1;
    boolean severityMatchUndefined;
  }

  /**
   * Reads an {@code include} / {@code exclude} section; null (with errors in {@code in}) when it is
   * wrong.
   *
   * @param patterns where its regular expressions are collected
   */
  static MatchProperties read(
      ConfigNode node, String where, ConfigReader in, MatchScratch.Patterns patterns) {
    return read(node, where, in, patterns, Map.of());
  }

  /**
   * As {@link #read(ConfigNode, String, ConfigReader, MatchScratch.Patterns)}, for a section whose
   * keys have other names (the filter processor's {@code logs} and {@code metrics} sections):
   * {@code names} maps each of its keys to the {@code attributes} processor's; only those keys (and
   * {@code match_type}) are known.
   */
  static MatchProperties read(
      ConfigNode node,
      String where,
      ConfigReader in,
      MatchScratch.Patterns patterns,
      Map<String, String> names) {
    Map<String, ConfigNode> given = in.map(node, where);
    if (given == null) {
      return null;
    }
    int errors = in.errorCount();
    Map<String, ConfigNode> m = given;
    if (names.isEmpty()) {
      in.checkKeys(m, where, KEYS.toArray(new String[0]));
    } else {
      List<String> known = new ArrayList<>(names.keySet());
      known.add("match_type");
      in.checkKeys(given, where, known.toArray(new String[0]));
      m = new java.util.LinkedHashMap<>();
      for (Map.Entry<String, ConfigNode> e : given.entrySet()) {
        m.put(names.getOrDefault(e.getKey(), e.getKey()), e.getValue());
      }
    }
    ConfigNode matchType = m.get("match_type");
    String type = matchType == null ? null : matchType.text();
    if (!"strict".equals(type) && !"regexp".equals(type)) {
      in.error(
          matchType == null ? node.line() : matchType.line(),
          where + ".match_type",
          (type == null ? "is required" : "unrecognized match_type '" + type + "'")
              + " (strict, regexp)");
      return null;
    }
    boolean regexp = type.equals("regexp");
    Builder b = new Builder();
    b.services = texts(m.get("services"), where + ".services", regexp, in, patterns);
    b.spanNames = texts(m.get("span_names"), where + ".span_names", regexp, in, patterns);
    b.spanKinds = texts(m.get("span_kinds"), where + ".span_kinds", regexp, in, patterns);
    b.logBodies = texts(m.get("log_bodies"), where + ".log_bodies", regexp, in, patterns);
    b.severityTexts =
        texts(m.get("log_severity_texts"), where + ".log_severity_texts", regexp, in, patterns);
    b.metricNames = texts(m.get("metric_names"), where + ".metric_names", regexp, in, patterns);
    if (b.spanKinds != null && !regexp) {
      for (String k : b.spanKinds.strict()) {
        if (!List.of(SPAN_KINDS).subList(1, SPAN_KINDS.length).contains(k)) {
          in.error(
              m.get("span_kinds").line(),
              where + ".span_kinds",
              "'"
                  + k
                  + "' is not a span kind (one of "
                  + String.join(", ", List.of(SPAN_KINDS).subList(1, SPAN_KINDS.length))
                  + ")");
        }
      }
    }
    conditions(m.get("attributes"), where + ".attributes", regexp, in, patterns, b.attributes);
    conditions(m.get("resources"), where + ".resources", regexp, in, patterns, b.resources);
    libraries(m.get("libraries"), where + ".libraries", regexp, in, patterns, b);
    severity(m.get("log_severity_number"), where + ".log_severity_number", in, b);
    boolean any =
        b.services != null
            || b.spanNames != null
            || b.spanKinds != null
            || b.logBodies != null
            || b.severityTexts != null
            || b.metricNames != null
            || !b.attributes.isEmpty()
            || !b.resources.isEmpty()
            || !b.libraryNames.isEmpty()
            || b.severityMin >= 0;
    if (!any && in.errorCount() == errors) {
      in.error(
          node.line(),
          where,
          "at least one of " + String.join(", ", KEYS.subList(2, KEYS.size())) + " must be given");
    }
    return in.errorCount() == errors ? new MatchProperties(b) : null;
  }

  private static TextSet texts(
      ConfigNode node,
      String where,
      boolean regexp,
      ConfigReader in,
      MatchScratch.Patterns patterns) {
    if (node == null || node.isNull()) {
      return null;
    }
    List<ConfigNode> list = node.list();
    if (list == null) {
      in.error(node.line(), where, "must be a list of strings");
      return null;
    }
    if (list.isEmpty()) {
      return null;
    }
    List<String> values = new ArrayList<>();
    for (ConfigNode n : list) {
      String t = in.string(n, where);
      if (t != null) {
        values.add(t);
      }
    }
    if (!regexp) {
      return new TextSet(values.toArray(new String[0]), null);
    }
    int[] ids = new int[values.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] =
          pattern(
              values.get(i), list.get(Math.min(i, list.size() - 1)).line(), where, in, patterns);
    }
    return new TextSet(null, ids);
  }

  private static int pattern(
      String regex, int line, String where, ConfigReader in, MatchScratch.Patterns patterns) {
    try {
      return patterns.add(GoRegex.compile(regex).pattern());
    } catch (IllegalArgumentException e) {
      in.error(line, where, e.getMessage());
      return -1;
    }
  }

  private static void conditions(
      ConfigNode node,
      String where,
      boolean regexp,
      ConfigReader in,
      MatchScratch.Patterns patterns,
      List<Condition> into) {
    if (node == null || node.isNull()) {
      return;
    }
    if (node.list() == null) {
      in.error(node.line(), where, "must be a list of {key, value}");
      return;
    }
    int index = 0;
    for (ConfigNode c : node.list()) {
      String w = where + "[" + index++ + "]";
      Map<String, ConfigNode> m = in.map(c, w);
      if (m == null) {
        continue;
      }
      in.checkKeys(m, w, "key", "value");
      String key = m.get("key") == null ? null : m.get("key").text();
      if (key == null || key.isEmpty()) {
        in.error(c.line(), w + ".key", "can't have empty key in the list of attributes");
        continue;
      }
      byte[] k = key.getBytes(StandardCharsets.UTF_8);
      ConfigNode v = m.get("value");
      if (v == null || v.isNull()) {
        into.add(new Condition(k, null, -1));
      } else if (v.text() == null) {
        in.error(v.line(), w + ".value", "must be a string, number or boolean");
      } else if (regexp) {
        if (v.kind() != com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
          in.error(
              v.line(), w + ".value", "match_type=regexp for '" + key + "' only supports a string");
        } else {
          into.add(new Condition(k, null, pattern(v.text(), v.line(), w + ".value", in, patterns)));
        }
      } else {
        Object expected = AttributeActions.scalar(v, w + ".value", in);
        if (expected != null) {
          into.add(new Condition(k, expected, -1));
        }
      }
    }
  }

  private static void libraries(
      ConfigNode node,
      String where,
      boolean regexp,
      ConfigReader in,
      MatchScratch.Patterns patterns,
      Builder b) {
    if (node == null || node.isNull()) {
      return;
    }
    if (node.list() == null) {
      in.error(node.line(), where, "must be a list of {name, version}");
      return;
    }
    int index = 0;
    for (ConfigNode c : node.list()) {
      String w = where + "[" + index++ + "]";
      Map<String, ConfigNode> m = in.map(c, w);
      if (m == null) {
        continue;
      }
      in.checkKeys(m, w, "name", "version");
      String name = m.get("name") == null ? "" : in.string(m.get("name"), w + ".name");
      ConfigNode version = m.get("version");
      String v = version == null || version.isNull() ? null : in.string(version, w + ".version");
      b.libraryNames.add(
          one(name == null ? "" : name, c.line(), w + ".name", regexp, in, patterns));
      b.libraryVersions.add(
          v == null ? null : one(v, version.line(), w + ".version", regexp, in, patterns));
    }
  }

  private static TextSet one(
      String value,
      int line,
      String where,
      boolean regexp,
      ConfigReader in,
      MatchScratch.Patterns patterns) {
    return regexp
        ? new TextSet(null, new int[] {pattern(value, line, where, in, patterns)})
        : new TextSet(new String[] {value}, null);
  }

  private static void severity(ConfigNode node, String where, ConfigReader in, Builder b) {
    if (node == null || node.isNull()) {
      return;
    }
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return;
    }
    in.checkKeys(m, where, "min", "match_undefined");
    ConfigNode min = m.get("min");
    int n = min == null || min.text() == null ? -1 : severityNumber(min.text());
    if (n < 0) {
      in.error(
          min == null ? node.line() : min.line(),
          where + ".min",
          "must be a severity (TRACE, TRACE2..4, DEBUG, INFO, WARN, ERROR, FATAL and their 2..4, or 1..24)");
      return;
    }
    b.severityMin = n;
    b.severityMatchUndefined = in.bool(m.get("match_undefined"), where + ".match_undefined", false);
  }

  /**
   * A severity name (TRACE .. FATAL4, any case) or number as {@code log_severity_number.min} takes
   * it; -1 if none.
   */
  static int severityNumber(String text) {
    String[] names = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    String t = text.trim().toUpperCase(Locale.ROOT);
    for (int i = 0; i < names.length; i++) {
      if (t.startsWith(names[i])) {
        String rest = t.substring(names[i].length());
        if (rest.isEmpty()) {
          return 4 * i + 1;
        }
        if (rest.length() == 1 && rest.charAt(0) >= '2' && rest.charAt(0) <= '4') {
          return 4 * i + rest.charAt(0) - '0';
        }
      }
    }
    try {
      int n = Integer.parseInt(t);
      return n >= 0 && n <= 24 ? n : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
