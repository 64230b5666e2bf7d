package io.otlp4j.relay.config;

import io.otlp4j.relay.component.ComponentFactory;
import io.otlp4j.relay.component.Components;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads one of the component sections ({@code receivers}, {@code processors}, {@code exporters},
 * {@code extensions}, {@code connectors}): each entry's type is its id up to a {@code /}; the
 * factory registered for that type in {@link Components} reads the entry. An unknown type is an
 * error naming it and the known types. Not thread-safe; used once.
 */
final class ComponentSectionReader {
  private final ConfigReader in;
  private final Components components;

  ComponentSectionReader(ConfigReader in, Components components) {
    this.in = in;
    this.components = components;
  }

  Map<String, ReceiverConfig> receivers(ConfigNode section) {
    return read(section, "receivers", components::receiver);
  }

  Map<String, ProcessorConfig> processors(ConfigNode section) {
    return read(section, "processors", components::processor);
  }

  Map<String, ExporterConfig> exporters(ConfigNode section) {
    return read(section, "exporters", components::exporter);
  }

  /**
   * The extensions read without errors. Every extension defined, also one with errors, is recorded
   * in the {@link ConfigReader} so a reference to it says the right thing.
   */
  Map<String, ExtensionConfig> extensions(ConfigNode section) {
    return read(section, "extensions", components::extension);
  }

  /** Connectors: none are supported; each one is an error. */
  void connectors(ConfigNode section) {
    read(section, "connectors", type -> null);
  }

  private <C extends ComponentConfig> Map<String, C> read(
      ConfigNode section,
      String where,
      Function<String, ? extends ComponentFactory<? extends C>> factories) {
    Map<String, C> out = new LinkedHashMap<>();
    if (section == null || section.isNull()) {
      return out;
    }
    Map<String, ConfigNode> m = in.map(section, where);
    if (m == null) {
      return out;
    }
    for (Map.Entry<String, ConfigNode> e : m.entrySet()) {
      String id = e.getKey();
      String type = ComponentConfig.typeOf(id);
      ComponentFactory<? extends C> factory = factories.apply(type);
      if (factory == null) {
        List<String> types = components.types(where);
        in.error(
            e.getValue().line(),
            where + "." + id,
            "unknown "
                + where.substring(0, where.length() - 1)
                + " type '"
                + type
                + "'"
                + (types.isEmpty()
                    ? " (none are supported yet)"
                    : " (known: " + String.join(", ", types) + ")"));
        continue;
      }
      C config = factory.read(id, e.getValue(), where + "." + id, in);
      if (where.equals("extensions")) {
        in.defineExtension(id, (ExtensionConfig) config);
      }
      if (config != null) {
        out.put(id, config);
      }
    }
    return out;
  }
}
