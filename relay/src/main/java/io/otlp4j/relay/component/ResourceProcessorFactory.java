package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ResourceConfig;
import io.otlp4j.wire.ResourceRewrite;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.List;
import java.util.Map;

/**
 * The {@code resource} processor: {@code attributes} entries of {@code key}, {@code value} or
 * {@code from_attribute}, and {@code action} (insert, update, upsert, delete), applied to every
 * request's resources by rewriting only the resource headers.
 */
final class ResourceProcessorFactory implements ProcessorFactory<ResourceConfig> {

  @Override
  public String type() {
    return "resource";
  }

  private static final String RESOURCE_ACTIONS = "insert, update, upsert, delete";

  /**
   * An entry with {@code from_attribute}: insert, update or upsert with another attribute's value.
   */
  private static void fromAttribute(
      ConfigReader in,
      ResourceRewrite.Builder rewrite,
      String key,
      String action,
      ConfigNode from,
      ConfigNode value,
      int actionLine,
      String w) {
    String source = from.text();
    if (source == null || source.isEmpty()) {
      in.error(from.line(), w + ".from_attribute", "must be an attribute name");
      return;
    }
    if (value != null) {
      in.error(value.line(), w + ".value", "give value or from_attribute, not both");
      return;
    }
    switch (action) {
      case "insert" -> rewrite.insertFromAttribute(key, source);
      case "update" -> rewrite.updateFromAttribute(key, source);
      case "upsert" -> rewrite.upsertFromAttribute(key, source);
      default ->
          in.error(
              actionLine,
              w + ".action",
              "'" + action + "' does not take from_attribute (insert, update, upsert do)");
    }
  }

  /** One {@code attributes} entry of the {@code resource} processor, added to {@code rewrite}. */
  private static void resourceAction(
      ConfigReader in,
      ResourceRewrite.Builder rewrite,
      String key,
      String action,
      ConfigNode v,
      int actionLine,
      int line,
      String w) {
    switch (action) {
      case "delete" -> rewrite.delete(key);
      case "insert", "update", "upsert" -> {
        if (v == null || v.isNull() || v.text() == null) {
          in.error(
              v == null ? line : v.line(),
              w + ".value",
              "is required for " + action + " (a string, number or boolean)");
          return;
        }
        switch (v.kind()) {
          case VALUE_NUMBER_INT -> {
            try {
              long n = Long.parseLong(v.text());
              switch (action) {
                case "insert" -> rewrite.insert(key, n);
                case "update" -> rewrite.update(key, n);
                default -> rewrite.upsert(key, n);
              }
            } catch (NumberFormatException e) {
              in.error(v.line(), w + ".value", "'" + v.text() + "' does not fit a 64-bit integer");
            }
          }
          case VALUE_NUMBER_FLOAT -> {
            double d = Double.parseDouble(v.text());
            switch (action) {
              case "insert" -> rewrite.insert(key, d);
              case "update" -> rewrite.update(key, d);
              default -> rewrite.upsert(key, d);
            }
          }
          case VALUE_TRUE, VALUE_FALSE -> {
            boolean b = Boolean.parseBoolean(v.text());
            switch (action) {
              case "insert" -> rewrite.insert(key, b);
              case "update" -> rewrite.update(key, b);
              default -> rewrite.upsert(key, b);
            }
          }
          default -> {
            switch (action) {
              case "insert" -> rewrite.insert(key, v.text());
              case "update" -> rewrite.update(key, v.text());
              default -> rewrite.upsert(key, v.text());
            }
          }
        }
      }
      case "hash", "extract", "convert" ->
          in.error(
              actionLine,
              w + ".action",
              "'" + action + "' is not supported by otlp4j (supported: " + RESOURCE_ACTIONS + ")");
      default ->
          in.error(
              actionLine,
              w + ".action",
              "unknown action '" + action + "' (supported: " + RESOURCE_ACTIONS + ")");
    }
  }

  @Override
  public ResourceConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int line = node.line();
    in.checkKeys(m, where, "attributes");
    ConfigNode attributes = m.get("attributes");
    if (attributes == null || attributes.list() == null || attributes.list().isEmpty()) {
      in.error(
          attributes == null ? line : attributes.line(),
          where + ".attributes",
          "must be a non-empty list of {key, value, action}");
      return null;
    }
    ResourceRewrite.Builder rewrite = ResourceRewrite.builder();
    int index = 0;
    for (ConfigNode a : attributes.list()) {
      String w = where + ".attributes[" + index++ + "]";
      Map<String, ConfigNode> am = in.map(a, w);
      if (am == null) {
        continue;
      }
      in.checkKeys(
          am,
          w,
          List.of("from_context", "pattern", "converted_type"),
          "key",
          "value",
          "action",
          "from_attribute");
      String key = am.get("key") == null ? null : in.string(am.get("key"), w + ".key");
      String action = am.get("action") == null ? null : in.string(am.get("action"), w + ".action");
      if (key == null || key.isEmpty()) {
        in.error(a.line(), w + ".key", "is required");
        continue;
      }
      if (action == null) {
        in.error(a.line(), w + ".action", "is required (" + RESOURCE_ACTIONS + ")");
        continue;
      }
      ConfigNode from = am.get("from_attribute");
      if (from != null) {
        fromAttribute(in, rewrite, key, action, from, am.get("value"), am.get("action").line(), w);
      } else {
        resourceAction(
            in, rewrite, key, action, am.get("value"), am.get("action").line(), a.line(), w);
      }
    }
    return new ResourceConfig(id, rewrite.build());
  }

  @Override
  public RelayProcessor create(ResourceConfig config, ComponentContext context) {
    return new ResourceProcessor(
        config.id(), config.rewrite(), new ProcessorCounts(context.metrics(), config.id()));
  }

  /**
   * Applies a {@link ResourceRewrite}; the item counts do not change, so the summary is passed on.
   */
  private record ResourceProcessor(String id, ResourceRewrite rewrite, ProcessorCounts counts)
      implements RelayProcessor {
    @Override
    public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
      try {
        // apply leaves request to us and returns a buffer of its own (slices of request retained);
        // the receiver walked the request already, so it is not walked again.
        ByteBuf rewritten = rewrite.apply(signal, request, summary);
        counts.count(signal, summary.itemCount(), summary.itemCount());
        return RelayProcessor.forward(rewritten, summary);
      } finally {
        request.release();
      }
    }
  }
}
