package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.wire.AttributeList;
import io.otlp4j.wire.EncodedAttribute;
import io.otlp4j.wire.TextView;
import io.otlp4j.wire.ValueView;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * The compiled {@code actions} of an {@code attributes} processor (the Collector's {@code
 * attraction}): insert, update, upsert (with {@code value} or {@code from_attribute}, and {@code
 * default_value} where the source attribute is missing), delete and hash (by {@code key} and/or
 * {@code pattern}), extract (named groups of {@code pattern} into string attributes) and convert
 * ({@code converted_type} int, double, string), applied in order to one attribute list.
 *
 * <p>A configured value is encoded once, when the configuration is read; applying an action to an
 * element it does not change allocates nothing (keys are compared as bytes, patterns through the
 * edit's reusable matchers). Only a new value made from the element (copied, hashed, extracted,
 * converted) is encoded per element. Immutable, thread-safe.
 */
final class AttributeActions {
  static final String ACTIONS = "insert, update, upsert, delete, hash, extract, convert";
  private static final List<String> KEYS =
      List.of(
          "key",
          "value",
          "from_attribute",
          "from_context",
          "pattern",
          "action",
          "converted_type",
          "default_value");
  private static final HexFormat HEX = HexFormat.of();

  enum Op {
    INSERT,
    UPDATE,
    UPSERT,
    DELETE,
    HASH,
    EXTRACT,
    CONVERT
  }

  /** One action; fields not used by its {@code op} are null / -1. */
  record Action(
      Op op,
      String key,
      byte[] keyUtf8,
      EncodedAttribute value,
      byte[] fromAttribute,
      int patternId,
      String[] groupNames,
      String convertedType,
      EncodedAttribute defaultValue) {}

  private final Action[] actions;

  private AttributeActions(List<Action> actions) {
    this.actions = actions.toArray(new Action[0]);
  }

  int size() {
    return actions.length;
  }

  /** Applies every action, in order, to {@code list}. */
  void apply(AttributeList list, MatchScratch s) {
    for (Action a : actions) {
      switch (a.op) {
        case INSERT, UPDATE, UPSERT -> set(a, list);
        case DELETE -> {
          int i = list.indexOf(a.keyUtf8);
          if (i >= 0) {
            list.remove(i);
          }
          if (a.patternId >= 0) {
            for (int j = list.size() - 1; j >= 0; j--) {
              if (s.find(a.patternId, list.key(j))) {
                list.remove(j);
              }
            }
          }
        }
        case HASH -> {
          int i = list.indexOf(a.keyUtf8);
          if (i >= 0) {
            list.set(i, EncodedAttribute.of(a.key, hash(list.value(i))));
          }
          if (a.patternId >= 0) {
            for (int j = 0; j < list.size(); j++) {
              TextView key = list.key(j);
              if (s.find(a.patternId, key)) {
                String k = key.toString();
                list.set(j, EncodedAttribute.of(k, hash(list.value(j))));
              }
            }
          }
        }
        case EXTRACT -> extract(a, list, s);
        case CONVERT -> convert(a, list);
        default -> throw new AssertionError(a.op);
      }
    }
  }

  private static void set(Action a, AttributeList list) {
    if (a.value != null) {
      switch (a.op) {
        case INSERT -> list.insert(a.value);
        case UPDATE -> list.update(a.value);
        default -> list.upsert(a.value);
      }
      return;
    }
    int from = list.indexOf(a.fromAttribute);
    if (from < 0) {
      if (a.defaultValue != null) {
        switch (a.op) {
          case INSERT -> list.insert(a.defaultValue);
          case UPDATE -> list.update(a.defaultValue);
          default -> list.upsert(a.defaultValue);
        }
      }
      return;
    }
    int target = list.indexOf(a.keyUtf8);
    if (target < 0 && a.op != Op.UPDATE) {
      list.add(EncodedAttribute.of(a.key, list.value(from)));
    } else if (target >= 0 && a.op != Op.INSERT) {
      list.set(target, EncodedAttribute.of(a.key, list.value(from)));
    }
  }

  private static void extract(Action a, AttributeList list, MatchScratch s) {
    int i = list.indexOf(a.keyUtf8);
    if (i < 0) {
      return;
    }
    ValueView v = list.value(i);
    if (v.type() != ValueView.Type.STRING) {
      return;
    }
    Matcher m = s.matcher(a.patternId, v.stringValue());
    if (!m.find()) {
      return;
    }
    // Taken out before the list changes: the matched text is a view into the element.
    String[] values = new String[a.groupNames.length];
    for (int g = 0; g < values.length; g++) {
      String group = m.group(g + 1);
      values[g] = group == null ? "" : group;
    }
    for (int g = 0; g < values.length; g++) {
      list.upsert(EncodedAttribute.of(a.groupNames[g], values[g]));
    }
  }

  private static void convert(Action a, AttributeList list) {
    int i = list.indexOf(a.keyUtf8);
    if (i < 0) {
      return;
    }
    ValueView v = list.value(i);
    EncodedAttribute converted =
        switch (a.convertedType) {
          case "int" ->
              switch (v.type()) {
                case DOUBLE -> EncodedAttribute.of(a.key, (long) v.doubleValue());
                case BOOL -> EncodedAttribute.of(a.key, v.boolValue() ? 1L : 0L);
                case STRING -> {
                  try {
                    yield EncodedAttribute.of(a.key, Long.parseLong(v.stringValue().toString()));
                  } catch (NumberFormatException e) {
                    yield null; // the Collector leaves the value as it is
                  }
                }
                default -> null;
              };
          case "double" ->
              switch (v.type()) {
                case INT -> EncodedAttribute.of(a.key, (double) v.intValue());
                case BOOL -> EncodedAttribute.of(a.key, v.boolValue() ? 1.0 : 0.0);
                case STRING -> {
                  Double d = ValueText.parseGoFloat(v.stringValue().toString());
                  yield d == null ? null : EncodedAttribute.of(a.key, d);
                }
                default -> null;
              };
          default -> {
            if (v.type() == ValueView.Type.STRING) {
              yield null;
            }
            CharSequence text = ValueText.asString(v);
            yield text == null ? null : EncodedAttribute.of(a.key, text.toString());
          }
        };
    if (converted != null) {
      list.set(i, converted);
    }
  }

  /**
   * The Collector's SHA-256 hash of a value, as lowercase hex; the empty string for other than
   * scalars.
   */
  static String hash(ValueView v) {
    byte[] bytes =
        switch (v.type()) {
          case STRING -> v.stringValue().toString().getBytes(StandardCharsets.UTF_8);
          case BOOL -> new byte[] {(byte) (v.boolValue() ? 1 : 0)};
          case INT -> littleEndian(v.intValue());
          case DOUBLE -> littleEndian(Double.doubleToRawLongBits(v.doubleValue()));
          default -> new byte[0];
        };
    if (bytes.length == 0) {
      return "";
    }
    try {
      return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static byte[] littleEndian(long x) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (x >>> (8 * i));
    }
    return b;
  }

  // ------------------------------------------------------------------------------------ reading

  /**
   * Reads {@code actions}; null (with errors in {@code in}) when any is wrong. The Collector's
   * checks, with its YAML line.
   */
  static AttributeActions read(
      ConfigNode node, String where, ConfigReader in, MatchScratch.Patterns patterns) {
    if (node == null || node.list() == null || node.list().isEmpty()) {
      in.error(
          node == null ? 0 : node.line(),
          where,
          "missing required field \"actions\" (a non-empty list)");
      return null;
    }
    int errors = in.errorCount();
    List<Action> actions = new ArrayList<>();
    int index = 0;
    for (ConfigNode a : node.list()) {
      String w = where + "[" + index++ + "]";
      Map<String, ConfigNode> m = in.map(a, w);
      if (m != null) {
        Action action = action(a, m, w, in, patterns);
        if (action != null) {
          actions.add(action);
        }
      }
    }
    return in.errorCount() == errors ? new AttributeActions(actions) : null;
  }

  private static Action action(
      ConfigNode node,
      Map<String, ConfigNode> m,
      String w,
      ConfigReader in,
      MatchScratch.Patterns patterns) {
    in.checkKeys(m, w, KEYS.toArray(new String[0]));
    String key = text(m, "key", w, in);
    String name = text(m, "action", w, in);
    String pattern = text(m, "pattern", w, in);
    String from = text(m, "from_attribute", w, in);
    String converted = text(m, "converted_type", w, in);
    ConfigNode value = m.get("value");
    boolean hasValue = value != null && !value.isNull();
    ConfigNode defaultNode = m.get("default_value");
    boolean hasDefault = defaultNode != null && !defaultNode.isNull();
    int line = node.line();
    if (name == null || name.isEmpty()) {
      in.error(line, w + ".action", "is required (" + ACTIONS + ")");
      return null;
    }
    int actionLine = m.get("action").line();
    Op op;
    try {
      op = Op.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      in.error(actionLine, w + ".action", "unsupported action '" + name + "' (" + ACTIONS + ")");
      return null;
    }
    if (m.get("from_context") != null) {
      in.error(
          m.get("from_context").line(),
          w + ".from_context",
          "is not supported by otlp4j: its processors "
              + "do not see the client's request (client metadata, auth, address); use value or from_attribute");
      return null;
    }
    boolean byPattern = op == Op.DELETE || op == Op.HASH;
    if (byPattern ? key == null && pattern == null : key == null) {
      in.error(
          line,
          w + ".key",
          byPattern
              ? "missing required field (at least one of \"key\" and \"pattern\")"
              : "missing required field \"key\"");
      return null;
    }
    int sources = (hasValue ? 1 : 0) + (from != null ? 1 : 0);
    if (hasDefault && op != Op.INSERT && op != Op.UPDATE && op != Op.UPSERT) {
      in.error(
          defaultNode.line(), w + ".default_value", "is only used by insert, update and upsert");
      return null;
    }
    switch (op) {
      case INSERT, UPDATE, UPSERT -> {
        if (sources == 0 && hasDefault) { // the default is all there is: it is always used
          Object v = scalar(defaultNode, w + ".default_value", in);
          return v == null
              ? null
              : new Action(op, key, utf8(key), encoded(key, v), null, -1, null, null, null);
        } else if (sources == 0) {
          in.error(
              line,
              w,
              "missing required field \"value\", \"from_attribute\" or \"default_value\" for action \""
                  + name
                  + "\"");
        } else if (sources > 1) {
          in.error(line, w, "multiple value sources (give one of value, from_attribute)");
        } else if (pattern != null || converted != null) {
          in.error(
              m.get(pattern != null ? "pattern" : "converted_type").line(),
              w,
              "action \""
                  + name
                  + "\" does not use \""
                  + (pattern != null ? "pattern" : "converted_type")
                  + "\"");
        } else if (hasValue) {
          Object v = scalar(value, w + ".value", in);
          return v == null
              ? null
              : new Action(op, key, utf8(key), encoded(key, v), null, -1, null, null, null);
        } else {
          EncodedAttribute fallback = null;
          if (hasDefault) {
            Object d = scalar(defaultNode, w + ".default_value", in);
            if (d == null) {
              return null;
            }
            fallback = encoded(key, d);
          }
          return new Action(op, key, utf8(key), null, utf8(from), -1, null, null, fallback);
        }
        return null;
      }
      case DELETE, HASH -> {
        if (sources > 0 || converted != null) {
          in.error(
              line,
              w,
              "action \""
                  + name
                  + "\" does not use value sources, \"from_attribute\" or "
                  + "\"converted_type\"");
          return null;
        }
        int id = -1;
        if (pattern != null) {
          id = compile(pattern, m.get("pattern").line(), w + ".pattern", in, patterns);
          if (id < 0) {
            return null;
          }
        }
        return new Action(
            op,
            key == null ? "" : key,
            utf8(key == null ? "" : key),
            null,
            null,
            id,
            null,
            null,
            null);
      }
      case EXTRACT -> {
        if (sources > 0 || converted != null) {
          in.error(line, w, "action \"extract\" does not use a value source or \"converted_type\"");
          return null;
        }
        if (pattern == null) {
          in.error(
              line, w + ".pattern", "missing required field \"pattern\" for action \"extract\"");
          return null;
        }
        GoRegex regex;
        try {
          regex = GoRegex.compile(pattern);
        } catch (IllegalArgumentException e) {
          in.error(m.get("pattern").line(), w + ".pattern", e.getMessage());
          return null;
        }
        if (regex.groupNames().isEmpty()) {
          in.error(m.get("pattern").line(), w + ".pattern", "contains no named matcher groups");
          return null;
        }
        if (regex.groupNames().contains(null)) {
          in.error(
              m.get("pattern").line(),
              w + ".pattern",
              "contains at least one unnamed matcher group");
          return null;
        }
        return new Action(
            op,
            key,
            utf8(key),
            null,
            null,
            patterns.add(regex.pattern()),
            regex.groupNames().toArray(new String[0]),
            null,
            null);
      }
      default -> { // CONVERT
        if (sources > 0 || pattern != null) {
          in.error(line, w, "action \"convert\" does not use value sources or \"pattern\"");
          return null;
        }
        if (converted == null) {
          in.error(
              line,
              w + ".converted_type",
              "missing required field \"converted_type\" (int, double, string)");
          return null;
        }
        if (!List.of("int", "double", "string").contains(converted)) {
          in.error(
              m.get("converted_type").line(),
              w + ".converted_type",
              "invalid value \"" + converted + "\" (int, double, string)");
          return null;
        }
        return new Action(op, key, utf8(key), null, null, -1, null, converted, null);
      }
    }
  }

  private static int compile(
      String regex, int line, String where, ConfigReader in, MatchScratch.Patterns patterns) {
    try {
      return patterns.add(GoRegex.compile(regex).pattern());
    } catch (IllegalArgumentException e) {
      in.error(line, where, e.getMessage());
      return -1;
    }
  }

  private static String text(Map<String, ConfigNode> m, String key, String w, ConfigReader in) {
    ConfigNode n = m.get(key);
    if (n == null || n.isNull()) {
      return null;
    }
    String t = in.string(n, w + "." + key);
    return t == null || t.isEmpty() ? null : t;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static EncodedAttribute encoded(String key, Object v) {
    if (v instanceof Long l) {
      return EncodedAttribute.of(key, l);
    }
    if (v instanceof Double d) {
      return EncodedAttribute.of(key, d);
    }
    if (v instanceof Boolean b) {
      return EncodedAttribute.of(key, b);
    }
    return EncodedAttribute.of(key, (String) v);
  }

  /**
   * A YAML scalar as the Collector types it: Long, Double, Boolean or String; null (with an error)
   * otherwise.
   */
  static Object scalar(ConfigNode v, String where, ConfigReader in) {
    if (v.text() == null) {
      in.error(
          v.line(),
          where,
          "must be a string, number or boolean (otlp4j takes no list or map values here)");
      return null;
    }
    return switch (v.kind()) {
      case VALUE_NUMBER_INT -> {
        BigInteger n = new BigInteger(v.text());
        if (n.bitLength() > 63) {
          in.error(v.line(), where, "'" + v.text() + "' does not fit a 64-bit integer");
          yield null;
        }
        yield n.longValue();
      }
      case VALUE_NUMBER_FLOAT -> Double.parseDouble(v.text());
      // YAML 1.1 reads yes/no/on/off as booleans; the Collector's YAML 1.2 only true/false (any of
      // 3 cases)
      case VALUE_TRUE, VALUE_FALSE ->
          List.of("true", "True", "TRUE", "false", "False", "FALSE").contains(v.text())
              ? (Object) Boolean.valueOf(v.text().equalsIgnoreCase("true"))
              : v.text();
      default -> v.text();
    };
  }
}
