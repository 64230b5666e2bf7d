package io.otlp4j.relay.config;

import io.otlp4j.relay.DebugExporter;
import io.otlp4j.relay.SendingQueueSettings;

/** A {@code debug} exporter. Immutable. */
public record DebugExporterConfig(
    String id, SendingQueueSettings sendingQueue, DebugExporter.Verbosity verbosity)
    implements ExporterConfig {}
