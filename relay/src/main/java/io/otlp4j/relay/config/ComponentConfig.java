package io.otlp4j.relay.config;

/**
 * What every component's configuration has: its id from the configuration, such as {@code
 * otlp/upstream}.
 */
public interface ComponentConfig {
  String id();

  /** The type part of an id: {@code otlp} for {@code otlp/upstream}. */
  static String typeOf(String id) {
    int slash = id.indexOf('/');
    return slash < 0 ? id : id.substring(0, slash);
  }
}
