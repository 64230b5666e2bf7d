package io.otlp4j.relay.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML value with the line it starts on: a map, a list, a scalar (kept as text with its token
 * kind) or null. Built from Jackson's streaming parser so every error can name its line. Immutable.
 */
public final class ConfigNode {
  private static final Pattern ENV =
      Pattern.compile("\\$\\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

  private final Object value;
  private final JsonToken kind;
  private final int line;

  private ConfigNode(Object value, JsonToken kind, int line) {
    this.value = value;
    this.kind = kind;
    this.line = line;
  }

  /** Reads the value at the parser's current token, substituting {@code ${env:VAR}} in scalars. */
  static ConfigNode read(JsonParser parser, Function<String, String> env) throws IOException {
    JsonToken token = parser.currentToken();
    int line = parser.currentTokenLocation().getLineNr();
    switch (token) {
      case START_OBJECT -> {
        Map<String, ConfigNode> map = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String key = parser.currentName();
          int keyLine = parser.currentTokenLocation().getLineNr();
          parser.nextToken();
          ConfigNode child = read(parser, env);
          // The key's line, which is where a reader looks for it.
          map.put(key, new ConfigNode(child.value, child.kind, keyLine));
        }
        return new ConfigNode(map, token, line);
      }
      case START_ARRAY -> {
        List<ConfigNode> list = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          list.add(read(parser, env));
        }
        return new ConfigNode(list, token, line);
      }
      case VALUE_NULL -> {
        return new ConfigNode(null, token, line);
      }
      default -> {
        String text = parser.getText();
        if (token == JsonToken.VALUE_STRING) {
          text = substitute(text, env);
        }
        return new ConfigNode(text, token, line);
      }
    }
  }

  static String substitute(String text, Function<String, String> env) {
    if (text.indexOf("${") < 0) {
      return text;
    }
    Matcher m = ENV.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = env.apply(m.group(1));
      if (v == null) {
        v = m.group(2) == null ? "" : m.group(2);
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The line the value (for a map entry: its key) starts on, 1-based. */
  public int line() {
    return line;
  }

  /**
   * The value: a {@code Map<String, ConfigNode>}, a {@code List<ConfigNode>}, a scalar's text, or
   * null.
   */
  public Object value() {
    return value;
  }

  /** The YAML token the value started with (a scalar's kind: string, number, boolean). */
  public JsonToken kind() {
    return kind;
  }

  public boolean isNull() {
    return value == null;
  }

  /** The entries when this is a mapping, in order; else null. */
  @SuppressWarnings("unchecked")
  public Map<String, ConfigNode> map() {
    return value instanceof Map ? (Map<String, ConfigNode>) value : null;
  }

  /** The elements when this is a list; else null. */
  @SuppressWarnings("unchecked")
  public List<ConfigNode> list() {
    return value instanceof List ? (List<ConfigNode>) value : null;
  }

  /** The text when this is a scalar; else null. */
  public String text() {
    return value instanceof String s ? s : null;
  }
}
