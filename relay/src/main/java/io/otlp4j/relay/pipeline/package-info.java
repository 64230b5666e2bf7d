/**
 * The relay's pipelines: a {@link io.otlp4j.relay.pipeline.Pipeline} takes a received request
 * (memory budget, processors), hands it to one queue per exporter (in memory: {@code
 * ExporterQueue}; on disk: a {@code DurableExportLoop} per exporter over the pipeline's durable
 * queue), and answers the client as the ack mode says with the one {@link io.otlp4j.core.Outcome}.
 * Both queues make batches into requests with one {@code BatchAssembler} and count items with one
 * {@code CountingExporter}.
 */
package io.otlp4j.relay.pipeline;
