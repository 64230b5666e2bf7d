package io.otlp4j.relay.config;

import io.otlp4j.wire.ResourceRewrite;

/** A {@code resource} processor: the rewrite of every request's resource attributes. Immutable. */
public record ResourceConfig(String id, ResourceRewrite rewrite) implements ProcessorConfig {}
