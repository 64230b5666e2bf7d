package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.relay.config.KafkaReceiverConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code kafka} receiver's configuration: the Collector contrib's keys and defaults, errors.
 */
class KafkaReceiverConfigTest {
  @TempDir Path dir;

  private KafkaReceiverConfig read(String receiver) throws Exception {
    RelayConfig config =
        RelayConfig.parse(
            """
            receivers:
            %s
            exporters:
              debug:
            service:
              pipelines:
                traces: { receivers: [kafka], exporters: [debug] }
            """
                .formatted(receiver.indent(2)),
            v -> null,
            dir);
    return (KafkaReceiverConfig) config.receivers().get("kafka").settings();
  }

  @Test
  void defaultsAreTheCollectorsButCommitsWaitForThePipeline() throws Exception {
    KafkaReceiverConfig c = read("kafka:");
    assertThat(c.brokers()).containsExactly("localhost:9092");
    assertThat(c.clientId()).isEqualTo("otel-collector");
    assertThat(c.groupId()).isEqualTo("otel-collector");
    assertThat(c.initialOffset()).isEqualTo("latest");
    assertThat(c.sessionTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.rebalanceStrategies()).containsExactly("cooperative-sticky");
    assertThat(c.maxFetchSize()).isEqualTo(1048576);
    assertThat(c.autocommit()).isTrue();
    assertThat(c.autocommitInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.signals().get(Signal.TRACES).topics()).containsExactly("otlp_spans");
    assertThat(c.signals().get(Signal.METRICS).topics()).containsExactly("otlp_metrics");
    assertThat(c.signals().get(Signal.LOGS).topics()).containsExactly("otlp_logs");
    assertThat(c.signals().get(Signal.TRACES).json()).isFalse();
    assertThat(c.afterPipeline()).isTrue(); // otlp4j's default: at least once
    assertThat(c.skipOnError()).isFalse();
    assertThat(c.skipOnPermanentError()).isTrue();
    assertThat(c.errorBackoff()).isNull();
    assertThat(c.headers()).isEmpty();
    assertThat(c.sasl()).isNull();
    assertThat(c.tls()).isNull();
  }

  @Test
  void readsEveryKey() throws Exception {
    KafkaReceiverConfig c =
        read(
            """
            kafka:
              brokers: [a:9092, b:9092]
              protocol_version: 2.1.0
              client_id: me
              group_id: back
              initial_offset: earliest
              session_timeout: 20s
              heartbeat_interval: 2s
              group_rebalance_strategies: [sticky, range]
              max_fetch_size: 2000000
              autocommit: { enable: false, interval: 5s }
              traces: { topics: ["^spans-.*"], exclude_topics: ["-internal$"], encoding: otlp_json }
              message_marking: { after: false, on_error: true, on_permanent_error: false }
              header_extraction: { extract_headers: true, headers: [tenant] }
              error_backoff: { enabled: true, initial_interval: 10ms, max_interval: 1s }
              auth: { sasl: { mechanism: SCRAM-SHA-512, username: u, password: p } }
            """);
    assertThat(c.brokers()).containsExactly("a:9092", "b:9092");
    assertThat(c.groupId()).isEqualTo("back");
    assertThat(c.rebalanceStrategies()).containsExactly("sticky", "range");
    assertThat(c.autocommit()).isFalse();
    KafkaReceiverConfig.Topics t = c.signals().get(Signal.TRACES);
    assertThat(t.regex()).isTrue();
    assertThat(t.json()).isTrue();
    assertThat(c.afterPipeline()).isFalse();
    assertThat(c.skipOnError()).isTrue();
    assertThat(c.skipOnPermanentError()).isFalse();
    assertThat(c.headers()).containsExactly("tenant");
    assertThat(c.errorBackoff()).isNotNull();
    assertThat(c.sasl().mechanism()).isEqualTo("SCRAM-SHA-512");
    assertThat(c.sasl().toString()).doesNotContain("password=p");
  }

  @Test
  void badValuesAreErrorsNamingTheirKey() {
    for (String bad :
        List.of(
            "kafka: { initial_offset: oldest }",
            "kafka: { group_rebalance_strategies: [fastest] }",
            "kafka: { traces: { encoding: jaeger_proto } }",
            "kafka: { traces: { topics: [spans], exclude_topics: [x] } }",
            "kafka: { traces: { topics: [\"^(\"] } }",
            "kafka: { session_timeout: 2s, heartbeat_interval: 3s }",
            "kafka: { auth: { sasl: { mechanism: GSSAPI, username: u, password: p } } }",
            "kafka: { partition_processing: { independent: true } }")) {
      assertThatThrownBy(() -> read(bad), bad).isInstanceOf(RelayConfigException.class);
    }
  }
}
