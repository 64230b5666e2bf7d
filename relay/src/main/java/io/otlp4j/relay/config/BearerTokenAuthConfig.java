package io.otlp4j.relay.config;

/** A {@code bearertokenauth} extension: the token (never in a {@code toString}). Immutable. */
public record BearerTokenAuthConfig(String id, Secret token) implements ExtensionConfig {}
