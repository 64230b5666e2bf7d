package io.otlp4j.relay.kafka;

import io.otlp4j.relay.config.ClientTls;
import io.otlp4j.relay.config.KafkaReceiverConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.StickyAssignor;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** The Java consumer's properties for a {@link KafkaReceiverConfig}. Stateless. */
final class KafkaConsumerProperties {
  private static final Map<String, String> ASSIGNORS =
      Map.of(
          "range", RangeAssignor.class.getName(),
          "roundrobin", RoundRobinAssignor.class.getName(),
          "sticky", StickyAssignor.class.getName(),
          "cooperative-sticky", CooperativeStickyAssignor.class.getName());

  private KafkaConsumerProperties() {}

  static Properties of(KafkaReceiverConfig c) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, String.join(",", c.brokers()));
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, c.clientId());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, c.groupId());
    if (!c.groupInstanceId().isEmpty()) {
      p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, c.groupInstanceId());
    }
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, c.initialOffset());
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) c.sessionTimeout().toMillis());
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) c.heartbeatInterval().toMillis());
    List<String> assignors = new ArrayList<>();
    for (String s : c.rebalanceStrategies()) {
      assignors.add(ASSIGNORS.get(s));
    }
    p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, String.join(",", assignors));
    p.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, c.minFetchSize());
    if (c.maxFetchSize() > 0) {
      p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, c.maxFetchSize());
    }
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) c.maxFetchWait().toMillis());
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, c.maxPartitionFetchSize());
    // Offsets are committed by the receiver, only for records the pipeline accepted.
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    security(p, c.sasl(), c.tls());
    return p;
  }

  /** {@code auth.sasl} and {@code tls} as the Java client's security settings. */
  static void security(Properties p, KafkaReceiverConfig.Sasl sasl, ClientTls tls) {
    String protocol =
        sasl == null
            ? (tls == null ? "PLAINTEXT" : "SSL")
            : (tls == null ? "SASL_PLAINTEXT" : "SASL_SSL");
    p.put("security.protocol", protocol);
    if (sasl != null) {
      p.put("sasl.mechanism", sasl.mechanism());
      String module =
          sasl.mechanism().equals("PLAIN")
              ? "org.apache.kafka.common.security.plain.PlainLoginModule"
              : "org.apache.kafka.common.security.scram.ScramLoginModule";
      p.put(
          "sasl.jaas.config",
          module
              + " required username=\""
              + jaasEscape(sasl.username())
              + "\" password=\""
              + jaasEscape(sasl.password().reveal())
              + "\";");
    }
    if (tls != null) {
      if (tls.caFile() != null) {
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", tls.caFile().toString());
      }
      if (tls.certFile() != null) {
        p.put("ssl.keystore.type", "PEM");
        p.put("ssl.keystore.certificate.chain", read(tls.certFile()));
        p.put("ssl.keystore.key", read(tls.keyFile()));
      }
    }
  }

  private static String jaasEscape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
