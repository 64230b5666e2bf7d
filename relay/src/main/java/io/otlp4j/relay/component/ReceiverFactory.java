package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ReceiverConfig;

/**
 * A receiver type. Its configuration is read here; the relay builds the servers from it (both share
 * the relay's memory budget and hand requests to the pipelines).
 */
public interface ReceiverFactory extends ComponentFactory<ReceiverConfig> {}
