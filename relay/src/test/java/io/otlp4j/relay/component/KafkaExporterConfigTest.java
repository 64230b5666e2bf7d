package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code kafka} exporter's configuration: the Collector contrib's keys and defaults, the
 * producer settings they become, and errors that name the line.
 */
class KafkaExporterConfigTest {
  @TempDir Path dir;

  private KafkaExporterConfig read(String exporter) throws Exception {
    RelayConfig config = RelayConfig.parse(yaml(exporter), v -> null, dir);
    return (KafkaExporterConfig) config.exporters().get("kafka");
  }

  private static String yaml(String exporter) {
    return """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        exporters:
        %s
        service:
          pipelines:
            traces: { receivers: [otlp], exporters: [kafka] }
        """
        .formatted(exporter.indent(2));
  }

  @Test
  void defaultsAreTheCollectors() throws Exception {
    KafkaExporterConfig c = read("kafka:");
    assertThat(c.brokers()).isEqualTo("localhost:9092");
    assertThat(c.topics())
        .isEqualTo(
            Map.of(
                Signal.TRACES,
                "otlp_spans",
                Signal.METRICS,
                "otlp_metrics",
                Signal.LOGS,
                "otlp_logs"));
    assertThat(c.json()).isEmpty();
    assertThat(c.maxMessageBytes()).isEqualTo(1_000_000);
    assertThat(c.requiredAcks()).isEqualTo(1);
    assertThat(c.compression()).isEqualTo("none");
    assertThat(c.linger()).isEqualTo(Duration.ofMillis(10));
    assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.partitionTracesById()).isFalse();
    Map<String, Object> p = KafkaExporter.producerProperties(c, c.requiredAcks());
    assertThat(p)
        .containsEntry("bootstrap.servers", "localhost:9092")
        .containsEntry("client.id", "otel-collector")
        .containsEntry("acks", "1")
        .containsEntry("enable.idempotence", "false")
        .containsEntry("max.request.size", 1_000_000)
        .containsEntry("compression.type", "none")
        .containsEntry("linger.ms", 10L)
        .containsEntry("security.protocol", "PLAINTEXT");
  }

  @Test
  void everyKeyBecomesAProducerSetting() throws Exception {
    KafkaExporterConfig c =
        read(
            """
            kafka:
              brokers: [a:9092, b:9093]
              client_id: front
              protocol_version: 2.1.0
              rack_id: r1
              topic: legacy
              encoding: otlp_json
              traces: { topic: spans, encoding: otlp_proto }
              partition_traces_by_id: true
              partition_logs_by_resource_attributes: true
              timeout: 2s
              metadata: { refresh_interval: 1m }
              producer:
                max_message_bytes: 500000
                required_acks: all
                compression: zstd
                compression_params: { level: 3 }
                flush_max_messages: 100
                linger: 5ms
              auth:
                sasl: { mechanism: SCRAM-SHA-512, username: u, password: "p\\"w" }
            """);
    assertThat(c.brokers()).isEqualTo("a:9092,b:9093");
    assertThat(c.topics())
        .isEqualTo(Map.of(Signal.TRACES, "spans", Signal.METRICS, "legacy", Signal.LOGS, "legacy"));
    assertThat(c.json()).isEqualTo(Set.of(Signal.METRICS, Signal.LOGS));
    assertThat(c.partitioned(Signal.TRACES)).isTrue();
    assertThat(c.partitioned(Signal.METRICS)).isFalse();
    assertThat(c.partitioned(Signal.LOGS)).isTrue();
    Map<String, Object> p = KafkaExporter.producerProperties(c, c.requiredAcks());
    assertThat(p)
        .containsEntry("client.id", "front")
        .containsEntry("client.rack", "r1")
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", "true")
        .containsEntry("max.request.size", 500_000)
        .containsEntry("compression.type", "zstd")
        .containsEntry("compression.zstd.level", 3)
        .containsEntry("linger.ms", 5L)
        .containsEntry("metadata.max.age.ms", "60000")
        .containsEntry("request.timeout.ms", 2000)
        .containsEntry("delivery.timeout.ms", 2005)
        .containsEntry("max.block.ms", 2000L)
        .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
        .containsEntry("security.protocol", "SASL_PLAINTEXT")
        .containsEntry(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"u\" password=\"p\\\"w\";");
    assertThat(c.toString()).doesNotContain("p\\\"w").doesNotContain("jaas");
  }

  @Test
  void plainTextAuthOverTlsIsSaslSsl() throws Exception {
    KafkaExporterConfig c =
        read(
            """
            kafka:
              auth: { plain_text: { username: u, password: p } }
              tls: { insecure: false }
            """);
    assertThat(KafkaExporter.producerProperties(c, 1))
        .containsEntry("sasl.mechanism", "PLAIN")
        .containsEntry("security.protocol", "SASL_SSL");
  }

  @Test
  void errorsNameTheLine() {
    assertThatThrownBy(
            () ->
                read(
                    """
                    kafka:
                      brokers: [nohost]
                      traces: { encoding: jaeger_proto }
                      producer:
                        required_acks: 2
                        compression: brotli
                        compression_params: { level: 30 }
                      auth: { sasl: { mechanism: GSSAPI, username: u, password: p } }
                      include_metadata_keys: [tenant]
                      topic_from_attribute: x
                    """))
        .isInstanceOf(RelayConfigException.class)
        .hasMessageContaining("line 7: exporters.kafka.brokers: 'nohost' is not a host:port")
        .hasMessageContaining(
            "line 8: exporters.kafka.traces.encoding: 'jaeger_proto' is not supported")
        .hasMessageContaining("line 10: exporters.kafka.producer.required_acks: expected 'all'")
        .hasMessageContaining("line 11: exporters.kafka.producer.compression: compression should")
        .hasMessageContaining("line 12: exporters.kafka.producer.compression_params.level")
        .hasMessageContaining("line 13: exporters.kafka.auth.sasl.mechanism: 'GSSAPI'")
        .hasMessageContaining("line 14: exporters.kafka.include_metadata_keys: is not supported")
        .hasMessageContaining(
            "line 15: exporters.kafka.topic_from_attribute: 'topic_from_attribute' is not"
                + " supported");
  }

  @Test
  void onlyErrorsThatSendingAgainCannotFixArePermanent() {
    assertThat(KafkaExporter.isPermanent(new RecordTooLargeException("x"))).isTrue();
    assertThat(KafkaExporter.isPermanent(new TopicAuthorizationException("x"))).isTrue();
    assertThat(KafkaExporter.isPermanent(new TimeoutException("x"))).isFalse();
    assertThat(KafkaExporter.isPermanent(new NotEnoughReplicasException("x"))).isFalse();
    assertThat(KafkaExporter.isPermanent(new NetworkException("x"))).isFalse();
    assertThat(KafkaExporter.isPermanent(new IllegalStateException("producer closed"))).isFalse();
  }
}
