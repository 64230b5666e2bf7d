package io.otlp4j.relay.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One read of a configuration: the errors found so far, each naming its YAML line ({@code line N:
 * key: reason}), and the readers of values that add one when a value is wrong. A reader that finds
 * an error adds it and returns a default or null, so that every error is reported together.
 *
 * <p>It also remembers what components refer to across sections: the extensions defined (an
 * authenticator a component names must be one), the authenticators used and the {@code
 * sending_queue.storage} each exporter names, checked once {@code service.extensions} is read.
 *
 * <p>Not thread-safe; used once, by one thread.
 */
public final class ConfigReader {
  private final Path baseDir;
  private final List<String> errors = new ArrayList<>();

  /**
   * Every extension defined under {@code extensions}, by id (its config, or null when it had
   * errors).
   */
  private final Map<String, ExtensionConfig> extensions = new LinkedHashMap<>();

  private final List<Use> authenticatorUses = new ArrayList<>();

  /** Exporter id → the line of its {@code sending_queue.storage}. */
  private final Map<String, Integer> storageLines = new LinkedHashMap<>();

  /**
   * A reference to an extension from a component: where it is, for the error if it is not enabled.
   */
  record Use(String id, String where, int line) {}

  ConfigReader(Path baseDir) {
    this.baseDir = baseDir;
  }

  /** {@code line N: where: message}, the shape of every configuration error. */
  public static String at(int line, String where, String message) {
    return "line " + line + ": " + where + ": " + message;
  }

  /** Adds an error at {@code line}. */
  public void error(int line, String where, String message) {
    errors.add(at(line, where, message));
  }

  List<String> errors() {
    return errors;
  }

  /**
   * How many errors were found so far (a reader compares before and after to tell whether it added
   * one).
   */
  public int errorCount() {
    return errors.size();
  }

  /** The configuration file's directory: relative paths resolve against it. */
  public Path baseDir() {
    return baseDir;
  }

  // ------------------------------------------------------------------------------------ structure

  /** The entries of a mapping, or null (and an error) when {@code node} is not one. */
  public Map<String, ConfigNode> map(ConfigNode node, String where) {
    Map<String, ConfigNode> m = node.map();
    if (m == null) {
      error(node.line(), where, "must be a mapping");
    }
    return m;
  }

  /** As {@link #map}, with an empty mapping for a key given no value ({@code debug:}). */
  public Map<String, ConfigNode> mapOrEmpty(ConfigNode node, String where) {
    return node.isNull() ? Map.of() : map(node, where);
  }

  /** An error for every key of {@code m} not in {@code known}, listing the known keys. */
  public void checkKeys(Map<String, ConfigNode> m, String where, String... known) {
    Set<String> k = Set.of(known);
    for (Map.Entry<String, ConfigNode> e : m.entrySet()) {
      if (!k.contains(e.getKey())) {
        String path = where.equals("the configuration") ? e.getKey() : where + "." + e.getKey();
        error(
            e.getValue().line(),
            path,
            "unknown key '" + e.getKey() + "' (known: " + String.join(", ", known) + ")");
      }
    }
  }

  /**
   * As {@link #checkKeys(Map, String, String...)}, naming the keys in {@code unsupported} (the
   * Collector's, not implemented by otlp4j) as such rather than as unknown.
   */
  public void checkKeys(
      Map<String, ConfigNode> m, String where, List<String> unsupported, String... known) {
    Map<String, ConfigNode> rest = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigNode> e : m.entrySet()) {
      if (unsupported.contains(e.getKey())) {
        error(
            e.getValue().line(),
            where + "." + e.getKey(),
            "'" + e.getKey() + "' is not supported by otlp4j");
      } else {
        rest.put(e.getKey(), e.getValue());
      }
    }
    checkKeys(rest, where, known);
  }

  // --------------------------------------------------------------------------------------- scalars

  /** A scalar's text, or null (and an error) when {@code node} is not a scalar. */
  public String string(ConfigNode node, String where) {
    String t = node.text();
    if (t == null) {
      error(node.line(), where, "must be a string");
    }
    return t;
  }

  /**
   * A whole number of at least {@code min}; {@code defaultValue} when absent or (with an error)
   * wrong.
   */
  public int intValue(ConfigNode node, String where, int defaultValue, int min) {
    if (node == null) {
      return defaultValue;
    }
    try {
      int v = Integer.parseInt(String.valueOf(node.value()).trim());
      if (v < min) {
        error(node.line(), where, "must be at least " + min + ", was " + v);
        return defaultValue;
      }
      return v;
    } catch (NumberFormatException e) {
      error(node.line(), where, "must be a whole number, was '" + node.value() + "'");
      return defaultValue;
    }
  }

  /** As {@link #intValue}, for 64-bit numbers. */
  public long longValue(ConfigNode node, String where, long defaultValue, long min) {
    if (node == null) {
      return defaultValue;
    }
    try {
      long v = Long.parseLong(String.valueOf(node.value()).trim());
      if (v < min) {
        error(node.line(), where, "must be at least " + min + ", was " + v);
        return defaultValue;
      }
      return v;
    } catch (NumberFormatException e) {
      error(node.line(), where, "must be a whole number, was '" + node.value() + "'");
      return defaultValue;
    }
  }

  /**
   * A number in {@code [min, max]}; {@code defaultValue} when absent, NaN (and an error) when
   * wrong.
   */
  public double number(ConfigNode node, String where, double defaultValue, double min, double max) {
    if (node == null) {
      return defaultValue;
    }
    try {
      double v = Double.parseDouble(String.valueOf(node.value()).trim());
      if (!(v >= min && v <= max)) {
        error(
            node.line(),
            where,
            "must be between "
                + ConfigValues.format(min)
                + " and "
                + ConfigValues.format(max)
                + ", was "
                + node.value());
        return Double.NaN;
      }
      return v;
    } catch (NumberFormatException e) {
      error(node.line(), where, "must be a number, was '" + node.value() + "'");
      return Double.NaN;
    }
  }

  /** {@code true} or {@code false}; {@code defaultValue} when absent or (with an error) wrong. */
  public boolean bool(ConfigNode node, String where, boolean defaultValue) {
    if (node == null) {
      return defaultValue;
    }
    String t = String.valueOf(node.value()).trim().toLowerCase(Locale.ROOT);
    if (t.equals("true") || t.equals("false")) {
      return Boolean.parseBoolean(t);
    }
    error(node.line(), where, "must be true or false, was '" + node.value() + "'");
    return defaultValue;
  }

  /**
   * A Go duration ({@link ConfigValues#parseDuration}); {@code defaultValue} when absent, null when
   * wrong.
   */
  public Duration duration(ConfigNode node, String where, Duration defaultValue) {
    if (node == null) {
      return defaultValue;
    }
    Duration d = ConfigValues.parseDuration(String.valueOf(node.value()).trim());
    if (d == null) {
      error(
          node.line(),
          where,
          "must be a duration such as 200ms, 5s or 1m30s, was '" + node.value() + "'");
    }
    return d;
  }

  /**
   * A listening address ({@link ConfigValues#hostPort}); null (and an error) when it is not one.
   */
  public HostPort hostPort(String text, String where, int line) {
    return ConfigValues.hostPort(text, where, line, errors);
  }

  /**
   * Whether {@code endpoint} is a valid endpoint ({@link ConfigValues#endpointProblem}); else an
   * error.
   */
  public boolean checkEndpoint(String endpoint, boolean http, int line, String where) {
    String problem = ConfigValues.endpointProblem(endpoint, http);
    if (problem != null) {
      error(line, where, problem);
    }
    return problem == null;
  }

  /**
   * A readable file's path, resolved against the configuration's directory; null (and an error) if
   * not.
   */
  public Path file(ConfigNode node, String where) {
    if (node == null) {
      return null;
    }
    String text = string(node, where);
    if (text == null || text.isEmpty()) {
      if (text != null) {
        error(node.line(), where, "must not be empty");
      }
      return null;
    }
    Path path = baseDir.resolve(text);
    if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
      error(node.line(), where, "'" + text + "' is not a readable file");
      return null;
    }
    return path;
  }

  // ------------------------------------------------------------------------- across sections

  void defineExtension(String id, ExtensionConfig config) {
    extensions.put(id, config);
  }

  Map<String, ExtensionConfig> extensions() {
    return extensions;
  }

  /**
   * {@code auth: {authenticator: <extension id>}}: the authenticator's id, or null (with an error
   * when the id names no authenticator). The extension must also be listed in {@code
   * service.extensions}, which is checked once that is read.
   */
  public String authenticator(ConfigNode node, String where) {
    if (node == null || node.isNull()) {
      return null;
    }
    Map<String, ConfigNode> m = map(node, where);
    if (m == null) {
      return null;
    }
    checkKeys(m, where, "authenticator");
    ConfigNode a = m.get("authenticator");
    if (a == null) {
      error(node.line(), where + ".authenticator", "is required");
      return null;
    }
    String id = string(a, where + ".authenticator");
    if (id == null) {
      return null;
    }
    if (!(extensions.get(id) instanceof BearerTokenAuthConfig)) {
      error(
          a.line(),
          where + ".authenticator",
          extensions.containsKey(id)
              ? "extension '" + id + "' is not an authenticator (supported: bearertokenauth)"
              : "extension '" + id + "' is not defined");
      return null;
    }
    authenticatorUses.add(new Use(id, where + ".authenticator", a.line()));
    return id;
  }

  /**
   * The token of authenticator {@code id} (as {@link #authenticator} returned it), or null for
   * null.
   */
  public Secret bearerToken(String id) {
    return id != null && extensions.get(id) instanceof BearerTokenAuthConfig auth
        ? auth.token()
        : null;
  }

  List<Use> authenticatorUses() {
    return authenticatorUses;
  }

  /** Remembers that exporter {@code exporterId}'s queue names a storage at {@code line}. */
  void storageUsed(String exporterId, int line) {
    storageLines.put(exporterId, line);
  }

  Map<String, Integer> storageLines() {
    return storageLines;
  }
}
