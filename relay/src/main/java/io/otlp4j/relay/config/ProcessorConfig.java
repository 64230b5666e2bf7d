package io.otlp4j.relay.config;

/** A processor's configuration, as its factory read it. Implementations are immutable. */
public interface ProcessorConfig extends ComponentConfig {}
