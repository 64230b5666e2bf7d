package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ProcessorConfig;

/**
 * A processor type: reads its section and builds the step it adds to every pipeline that lists it.
 *
 * @param <C> the configuration it reads
 */
public interface ProcessorFactory<C extends ProcessorConfig> extends ComponentFactory<C> {

  /**
   * The step this processor adds to a pipeline, or null when it adds none: {@code batch} and {@code
   * memory_limiter} shape the pipeline itself (its exporter queues' batching, the relay's memory
   * budget) and are read from their configuration by the relay. Called once per pipeline that lists
   * the processor.
   */
  RelayProcessor create(C config, ComponentContext context);
}
