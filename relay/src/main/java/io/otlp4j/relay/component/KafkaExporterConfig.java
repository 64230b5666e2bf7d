package io.otlp4j.relay.component;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.config.ExporterConfig;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Map;

/**
 * A {@code kafka} exporter, as {@link KafkaExporterFactory} read it. Immutable.
 *
 * @param topics the topic of each signal
 * @param json the signals whose {@code encoding} is {@code otlp_json} (the others: {@code
 *     otlp_proto})
 * @param requiredAcks {@code 0}, {@code 1} or {@code -1} (all) as configured; {@code delivered} and
 *     {@code durable} ack modes raise it to all when the exporter is built
 * @param compressionLevel the {@code compression_params.level}, or null for the codec's default
 * @param producerProperties the security and client settings ({@code client.id}, {@code
 *     security.protocol}, SASL, TLS, {@code client.rack}, {@code metadata.max.age.ms}), ready for
 *     the Kafka producer; secrets in them are revealed only there
 */
record KafkaExporterConfig(
    String id,
    String brokers,
    Map<Signal, String> topics,
    java.util.Set<Signal> json,
    boolean partitionTracesById,
    boolean partitionMetricsByResource,
    boolean partitionLogsByResource,
    Duration timeout,
    SendingQueueSettings sendingQueue,
    RetryPolicy retryOnFailure,
    int maxMessageBytes,
    int requiredAcks,
    String compression,
    Integer compressionLevel,
    Duration linger,
    Map<String, String> producerProperties)
    implements ExporterConfig {

  KafkaExporterConfig {
    topics = Map.copyOf(topics);
    json = java.util.Set.copyOf(json);
    producerProperties = Map.copyOf(producerProperties);
  }

  /** Whether requests of {@code signal} are cut into one record per resource or per trace. */
  boolean partitioned(Signal signal) {
    return switch (signal) {
      case TRACES -> partitionTracesById;
      case METRICS -> partitionMetricsByResource;
      case LOGS -> partitionLogsByResource;
    };
  }

  @Override
  public String toString() {
    // producerProperties may hold a SASL password: never printed
    return "KafkaExporterConfig{" + id + ", brokers=" + brokers + ", topics=" + topics + "}";
  }
}
