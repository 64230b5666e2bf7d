/**
 * OpenTelemetry Java SDK integration: exporters, batch processors and autoconfigure providers.
 *
 * <h2>Why two kinds of self-metrics</h2>
 *
 * The batch processors report through the SDK's {@code MeterProvider} ({@code processedSpans},
 * {@code queueSize}), as the SDK's own {@code BatchSpanProcessor} does: they replace it inside an
 * application's SDK, and an application that watched those instruments keeps them under the same
 * names, exported wherever its metrics already go. The exporters' transport, {@code
 * io.otlp4j.exporter.OtlpExporter}, is shared with the relay, which has no SDK and serves a
 * Prometheus {@code /metrics}: it counts into core's {@code MetricsRegistry} ({@code
 * otelcol_exporter_*} and {@code otlp4j_exporter_*}, the Collector's names), given to the exporter
 * builder with {@code metricsRegistry(...)}. Reporting the transport through a {@code
 * MeterProvider} as well would put the SDK's API under the exporter module and the relay; bridging
 * the registry into a {@code MeterProvider} (one asynchronous instrument per series) is possible
 * later without changing either side.
 */
package io.otlp4j.sdk;
