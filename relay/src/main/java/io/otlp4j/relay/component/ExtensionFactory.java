package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ExtensionConfig;

/**
 * An extension type: reads its section. Extensions are read before every other section, so
 * components can refer to them ({@code auth.authenticator}, {@code sending_queue.storage}); only
 * those listed in {@code service.extensions} are used.
 *
 * @param <C> the configuration it reads
 */
public interface ExtensionFactory<C extends ExtensionConfig> extends ComponentFactory<C> {

  /**
   * Starts what the extension runs in the relay (a server, a timer), or returns null when it runs
   * nothing of its own (the built-in ones: their configuration is used by other components). Called
   * once per enabled extension at start; the relay closes what it returns at shutdown.
   */
  default AutoCloseable start(C config, ComponentContext context) {
    return null;
  }
}
