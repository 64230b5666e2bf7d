/** OpenTelemetry Java SDK integration: exporters, batch processors and autoconfigure providers. */
package io.otlp4j.sdk;
