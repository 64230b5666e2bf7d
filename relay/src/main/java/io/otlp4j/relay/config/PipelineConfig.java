package io.otlp4j.relay.config;

import io.otlp4j.wire.Signal;
import java.util.List;

/**
 * One {@code service.pipelines} entry: its signal and the component ids it lists, in order.
 * Immutable.
 */
public record PipelineConfig(
    String id,
    Signal signal,
    List<String> receivers,
    List<String> processors,
    List<String> exporters) {
  public PipelineConfig {
    receivers = List.copyOf(receivers);
    processors = List.copyOf(processors);
    exporters = List.copyOf(exporters);
  }
}
