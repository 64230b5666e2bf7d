package io.otlp4j.relay.component;

import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.config.ExporterConfig;

/**
 * An exporter type: reads its section and builds the exporter. One exporter is built per exporter
 * id and shared by the pipelines that list it; the relay queues for it as its {@link
 * ExporterConfig#sendingQueue() sending_queue} says and shuts it down at the end.
 *
 * @param <C> the configuration it reads
 */
public interface ExporterFactory<C extends ExporterConfig> extends ComponentFactory<C> {

  /** Builds the exporter; an exception here stops the relay's start with its message. */
  RelayExporter create(C config, ComponentContext context);
}
