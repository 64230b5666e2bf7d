package io.otlp4j.relay.config;

/** An extension's configuration, as its factory read it. Implementations are immutable. */
public interface ExtensionConfig extends ComponentConfig {}
