package io.otlp4j.relay.config;

import io.otlp4j.relay.BatchSettings;

/** A {@code batch} processor: how the pipeline's exporter queues batch. Immutable. */
public record BatchConfig(String id, BatchSettings settings) implements ProcessorConfig {}
