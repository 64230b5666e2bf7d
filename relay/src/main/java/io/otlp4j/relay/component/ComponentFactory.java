package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ComponentConfig;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;

/**
 * What every component factory does, as the Collector's factories do: it names its type and reads
 * its own configuration section. Implementations are stateless and thread-safe.
 *
 * @param <C> the configuration it reads
 */
public interface ComponentFactory<C extends ComponentConfig> {

  /** The Collector's type name, such as {@code otlp}, {@code batch} or {@code file_storage}. */
  String type();

  /**
   * Reads component {@code id}'s section (with a {@code /name} suffix when the configuration gives
   * one). Every problem goes to {@code in} with its line ({@link ConfigReader#error}); never throws
   * for a bad configuration.
   *
   * @param node the section's value: a mapping, or null-valued when the component is listed with no
   *     value (it then takes its defaults)
   * @param where the section's path for errors, such as {@code exporters.otlp/upstream}
   * @return the configuration, or null when the section had errors
   */
  C read(String id, ConfigNode node, String where, ConfigReader in);
}
