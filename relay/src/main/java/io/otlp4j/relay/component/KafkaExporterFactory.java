package io.otlp4j.relay.component;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.config.ClientTls;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ExporterHelperReader;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.TlsSettingsReader;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code kafka} exporter, with the Collector contrib's keys and defaults: {@code brokers}
 * (localhost:9092), {@code client_id} (otel-collector), {@code protocol_version} (accepted and
 * ignored: the Java client negotiates every API version with the broker), per-signal {@code traces}
 * / {@code metrics} / {@code logs} blocks with {@code topic} (otlp_spans, otlp_metrics, otlp_logs)
 * and {@code encoding} (otlp_proto, otlp_json), the deprecated top-level {@code topic} and {@code
 * encoding}, {@code partition_traces_by_id}, {@code partition_metrics_by_resource_attributes},
 * {@code partition_logs_by_resource_attributes}, {@code timeout} (5s), {@code retry_on_failure},
 * {@code sending_queue}, {@code producer} ({@code max_message_bytes} 1000000, {@code required_acks}
 * 1, {@code compression} none, {@code compression_params.level}, {@code flush_max_messages}, {@code
 * linger} 10ms, {@code allow_auto_topic_creation}), {@code auth} ({@code plain_text}, {@code sasl}
 * PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512, the deprecated {@code auth.tls}), {@code tls}, {@code
 * metadata.refresh_interval}, {@code rack_id}, {@code resolve_canonical_bootstrap_servers_only}.
 * Builds a {@link KafkaExporter}.
 */
final class KafkaExporterFactory implements ExporterFactory<KafkaExporterConfig> {
  static final String DEFAULT_BROKER = "localhost:9092";
  static final String DEFAULT_CLIENT_ID = "otel-collector";
  static final int DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration DEFAULT_LINGER = Duration.ofMillis(10);
  static final Map<Signal, String> DEFAULT_TOPICS =
      Map.of(Signal.TRACES, "otlp_spans", Signal.METRICS, "otlp_metrics", Signal.LOGS, "otlp_logs");

  /** The Collector's keys otlp4j does not implement. */
  private static final List<String> UNSUPPORTED =
      List.of("profiles", "topic_from_attribute", "partition_logs_by_trace_id", "batcher");

  @Override
  public String type() {
    return "kafka";
  }

  @Override
  public KafkaExporterConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        UNSUPPORTED,
        "brokers",
        "client_id",
        "protocol_version",
        "resolve_canonical_bootstrap_servers_only",
        "rack_id",
        "use_leader_epoch",
        "metadata",
        "auth",
        "tls",
        "topic",
        "encoding",
        "traces",
        "metrics",
        "logs",
        "partition_traces_by_id",
        "partition_metrics_by_resource_attributes",
        "partition_logs_by_resource_attributes",
        "include_metadata_keys",
        "timeout",
        "retry_on_failure",
        "sending_queue",
        "producer");
    SendingQueueSettings queue =
        ExporterHelperReader.sendingQueue(in, id, m.get("sending_queue"), where);
    RetryPolicy retry =
        ExporterHelperReader.retryOnFailure(
            in, m.get("retry_on_failure"), where + ".retry_on_failure");
    String brokers = brokers(in, m.get("brokers"), where + ".brokers");
    Map<String, String> props = new LinkedHashMap<>();
    ConfigNode clientId = m.get("client_id");
    props.put(
        "client.id",
        clientId == null ? DEFAULT_CLIENT_ID : in.string(clientId, where + ".client_id"));
    ConfigNode version = m.get("protocol_version");
    if (version != null) {
      in.string(version, where + ".protocol_version"); // accepted, ignored: the client negotiates
    }
    if (in.bool(
        m.get("resolve_canonical_bootstrap_servers_only"),
        where + ".resolve_canonical_bootstrap_servers_only",
        false)) {
      props.put("client.dns.lookup", "resolve_canonical_bootstrap_servers_only");
    }
    ConfigNode rack = m.get("rack_id");
    if (rack != null && rack.text() != null && !rack.text().isEmpty()) {
      props.put("client.rack", rack.text());
    }
    in.bool(m.get("use_leader_epoch"), where + ".use_leader_epoch", true); // a consumer setting
    metadata(in, m.get("metadata"), where + ".metadata", props);

    // topics and encodings: the signal's own, else the deprecated top-level one, else the default
    String topTopic = optionalString(in, m.get("topic"), where + ".topic");
    String topEncoding = encoding(in, m.get("encoding"), where + ".encoding");
    Map<Signal, String> topics = new EnumMap<>(Signal.class);
    Set<Signal> json = EnumSet.noneOf(Signal.class);
    for (Signal signal : Signal.values()) {
      String w = where + "." + signal.id();
      String topic = topTopic != null ? topTopic : DEFAULT_TOPICS.get(signal);
      String encoding = topEncoding != null ? topEncoding : "otlp_proto";
      ConfigNode s = m.get(signal.id());
      if (s != null) {
        Map<String, ConfigNode> sm = in.mapOrEmpty(s, w);
        if (sm != null) {
          in.checkKeys(sm, w, List.of("topic_from_metadata_key"), "topic", "encoding");
          String t = optionalString(in, sm.get("topic"), w + ".topic");
          topic = t != null ? t : topic;
          String e = encoding(in, sm.get("encoding"), w + ".encoding");
          encoding = e != null ? e : encoding;
        }
      }
      if (topic.isEmpty()) {
        in.error(s == null ? node.line() : s.line(), w + ".topic", "must not be empty");
      }
      topics.put(signal, topic);
      if ("otlp_json".equals(encoding)) {
        json.add(signal);
      }
    }
    boolean byTrace =
        in.bool(m.get("partition_traces_by_id"), where + ".partition_traces_by_id", false);
    boolean metricsByResource =
        in.bool(
            m.get("partition_metrics_by_resource_attributes"),
            where + ".partition_metrics_by_resource_attributes",
            false);
    boolean logsByResource =
        in.bool(
            m.get("partition_logs_by_resource_attributes"),
            where + ".partition_logs_by_resource_attributes",
            false);
    ConfigNode metadataKeys = m.get("include_metadata_keys");
    if (metadataKeys != null && !metadataKeys.isNull()) {
      List<ConfigNode> keys = metadataKeys.list();
      if (keys == null || !keys.isEmpty()) {
        in.error(
            metadataKeys.line(),
            where + ".include_metadata_keys",
            "is not supported: otlp4j's receivers do not keep client metadata (include_metadata)");
      }
    }
    Duration timeout = in.duration(m.get("timeout"), where + ".timeout", DEFAULT_TIMEOUT);
    if (timeout != null && timeout.isZero()) {
      in.error(m.get("timeout").line(), where + ".timeout", "must be positive");
    }
    Producer producer = producer(in, m.get("producer"), where + ".producer");
    auth(in, m.get("auth"), m.get("tls"), where, props);
    if (in.errorCount() > errors
        || retry == null
        || brokers == null
        || timeout == null
        || timeout.isZero()) {
      return null;
    }
    return new KafkaExporterConfig(
        id,
        brokers,
        topics,
        json,
        byTrace,
        metricsByResource,
        logsByResource,
        timeout,
        queue,
        retry,
        producer.maxMessageBytes,
        producer.requiredAcks,
        producer.compression,
        producer.level,
        producer.linger,
        props);
  }

  @Override
  public RelayExporter create(KafkaExporterConfig config, ComponentContext context) {
    RelayConfig relay = context.status().config();
    AckMode mode = relay == null ? AckMode.RECEIVED : relay.ackMode();
    // delivered and durable promise that Kafka has the data: only acks=all keeps that promise
    boolean forceAll = mode == AckMode.DELIVERED || mode == AckMode.DURABLE;
    int acks = forceAll ? -1 : config.requiredAcks();
    return new KafkaExporter(config, acks, context.metrics());
  }

  private static String brokers(ConfigReader in, ConfigNode node, String where) {
    if (node == null) {
      return DEFAULT_BROKER;
    }
    List<String> list = new ArrayList<>();
    if (node.list() != null) {
      for (ConfigNode b : node.list()) {
        String s = in.string(b, where);
        if (s != null) {
          list.add(s.trim());
        }
      }
    } else {
      String s = in.string(node, where);
      if (s != null) {
        for (String b : s.split(",", -1)) {
          list.add(b.trim());
        }
      }
    }
    for (String b : list) {
      int colon = b.lastIndexOf(':');
      boolean ok = colon > 0 && colon < b.length() - 1;
      if (ok) {
        try {
          int port = Integer.parseInt(b.substring(colon + 1));
          ok = port > 0 && port < 65536;
        } catch (NumberFormatException e) {
          ok = false;
        }
      }
      if (!ok) {
        in.error(node.line(), where, "'" + b + "' is not a host:port");
        return null;
      }
    }
    if (list.isEmpty()) {
      in.error(node.line(), where, "must name at least one broker");
      return null;
    }
    return String.join(",", list);
  }

  private static String optionalString(ConfigReader in, ConfigNode node, String where) {
    return node == null || node.isNull() ? null : in.string(node, where);
  }

  private static String encoding(ConfigReader in, ConfigNode node, String where) {
    String e = optionalString(in, node, where);
    if (e != null && !e.equals("otlp_proto") && !e.equals("otlp_json")) {
      in.error(
          node.line(), where, "'" + e + "' is not supported (supported: otlp_proto, otlp_json)");
      return null;
    }
    return e;
  }

  private static void metadata(
      ConfigReader in, ConfigNode node, String where, Map<String, String> props) {
    if (node == null || node.isNull()) {
      return;
    }
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return;
    }
    in.checkKeys(m, where, "full", "refresh_interval", "retry");
    in.bool(m.get("full"), where + ".full", true); // the Java client keeps what it uses
    Duration refresh = in.duration(m.get("refresh_interval"), where + ".refresh_interval", null);
    if (refresh != null) {
      props.put("metadata.max.age.ms", Long.toString(Math.max(1, refresh.toMillis())));
    }
    ConfigNode r = m.get("retry");
    if (r != null && !r.isNull()) {
      Map<String, ConfigNode> rm = in.map(r, where + ".retry");
      if (rm != null) {
        in.checkKeys(rm, where + ".retry", "max", "backoff");
        in.intValue(rm.get("max"), where + ".retry.max", 3, 0); // the client retries until timeout
        Duration backoff = in.duration(rm.get("backoff"), where + ".retry.backoff", null);
        if (backoff != null) {
          props.put("retry.backoff.ms", Long.toString(backoff.toMillis()));
        }
      }
    }
  }

  private record Producer(
      int maxMessageBytes, int requiredAcks, String compression, Integer level, Duration linger) {}

  private static Producer producer(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = node == null ? Map.of() : in.mapOrEmpty(node, where);
    if (m == null) {
      m = Map.of();
    }
    in.checkKeys(
        m,
        where,
        "max_message_bytes",
        "required_acks",
        "compression",
        "compression_params",
        "flush_max_messages",
        "allow_auto_topic_creation",
        "linger");
    int max =
        in.intValue(
            m.get("max_message_bytes"),
            where + ".max_message_bytes",
            DEFAULT_MAX_MESSAGE_BYTES,
            1024);
    int acks = 1;
    ConfigNode a = m.get("required_acks");
    if (a != null) {
      switch (a.isNull() ? "" : String.valueOf(a.value()).trim()) {
        case "all", "-1" -> acks = -1;
        case "0" -> acks = 0;
        case "1" -> acks = 1;
        default ->
            in.error(
                a.line(),
                where + ".required_acks",
                "expected 'all' (-1), 0, or 1; configured value is '" + a.value() + "'");
      }
    }
    String compression = "none";
    ConfigNode c = m.get("compression");
    if (c != null) {
      String text = in.string(c, where + ".compression");
      if (text != null) {
        switch (text) {
          case "none", "gzip", "snappy", "lz4", "zstd" -> compression = text;
          default ->
              in.error(
                  c.line(),
                  where + ".compression",
                  "compression should be one of 'none', 'gzip', 'snappy', 'lz4', or 'zstd'."
                      + " configured value is '"
                      + text
                      + "'");
        }
      }
    }
    Integer level = null;
    ConfigNode p = m.get("compression_params");
    if (p != null && !p.isNull()) {
      Map<String, ConfigNode> pm = in.map(p, where + ".compression_params");
      if (pm != null) {
        in.checkKeys(pm, where + ".compression_params", "level");
        ConfigNode l = pm.get("level");
        if (l != null) {
          level = compressionLevel(in, compression, l, where + ".compression_params.level");
        }
      }
    }
    in.intValue(m.get("flush_max_messages"), where + ".flush_max_messages", 10_000, 0);
    ConfigNode auto = m.get("allow_auto_topic_creation");
    if (!in.bool(auto, where + ".allow_auto_topic_creation", true)) {
      in.error(
          auto.line(),
          where + ".allow_auto_topic_creation",
          "false is not supported: the Java producer always lets the broker create a topic"
              + " (set auto.create.topics.enable=false on the broker)");
    }
    Duration linger = in.duration(m.get("linger"), where + ".linger", DEFAULT_LINGER);
    return new Producer(max, acks, compression, level, linger == null ? DEFAULT_LINGER : linger);
  }

  /** The level, checked against the codec's range as Kafka's producer checks it. */
  private static Integer compressionLevel(
      ConfigReader in, String compression, ConfigNode l, String where) {
    int level = in.intValue(l, where, Integer.MIN_VALUE, Integer.MIN_VALUE);
    if (level == Integer.MIN_VALUE) {
      return null;
    }
    int[] range =
        switch (compression) {
          case "gzip" -> new int[] {1, 9};
          case "lz4" -> new int[] {1, 17};
          case "zstd" -> new int[] {-131072, 22};
          default -> null;
        };
    if (range == null) {
      in.error(
          l.line(),
          where,
          "compression '" + compression + "' has no level (gzip, lz4 and zstd do)");
      return null;
    }
    if (level < range[0] || level > range[1]) {
      in.error(
          l.line(),
          where,
          "must be between "
              + range[0]
              + " and "
              + range[1]
              + " for "
              + compression
              + ", was "
              + level);
      return null;
    }
    return level;
  }

  /**
   * {@code auth} and {@code tls} as Kafka's {@code security.protocol}, {@code sasl.*} and {@code
   * ssl.*} settings.
   */
  private static void auth(
      ConfigReader in,
      ConfigNode authNode,
      ConfigNode tlsNode,
      String where,
      Map<String, String> props) {
    String mechanism = null;
    String user = null;
    String password = null;
    ConfigNode legacyTls = null;
    if (authNode != null && !authNode.isNull()) {
      String w = where + ".auth";
      Map<String, ConfigNode> m = in.map(authNode, w);
      if (m != null) {
        in.checkKeys(m, w, List.of("kerberos"), "plain_text", "sasl", "tls");
        legacyTls = m.get("tls");
        ConfigNode plain = m.get("plain_text");
        ConfigNode sasl = m.get("sasl");
        if (plain != null && sasl != null) {
          in.error(plain.line(), w, "plain_text and sasl cannot both be set");
        } else if (plain != null && !plain.isNull()) {
          Map<String, ConfigNode> pm = in.map(plain, w + ".plain_text");
          if (pm != null) {
            in.checkKeys(pm, w + ".plain_text", "username", "password");
            mechanism = "PLAIN";
            user = required(in, pm, plain, w + ".plain_text", "username");
            password = required(in, pm, plain, w + ".plain_text", "password");
          }
        } else if (sasl != null && !sasl.isNull()) {
          Map<String, ConfigNode> sm = in.map(sasl, w + ".sasl");
          if (sm != null) {
            in.checkKeys(
                sm,
                w + ".sasl",
                List.of("aws_msk", "oidc_file"),
                "username",
                "password",
                "mechanism",
                "version");
            ConfigNode mech = sm.get("mechanism");
            String text = mech == null ? null : in.string(mech, w + ".sasl.mechanism");
            if (mech == null) {
              in.error(sasl.line(), w + ".sasl.mechanism", "is required");
            } else if (text != null
                && !List.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512").contains(text)) {
              in.error(
                  mech.line(),
                  w + ".sasl.mechanism",
                  "'"
                      + text
                      + "' is not supported (supported: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
            } else {
              mechanism = text;
            }
            int version = in.intValue(sm.get("version"), w + ".sasl.version", 0, 0);
            if (version > 1) {
              in.error(sm.get("version").line(), w + ".sasl.version", "has to be either 0 or 1");
            }
            user = required(in, sm, sasl, w + ".sasl", "username");
            password = required(in, sm, sasl, w + ".sasl", "password");
          }
        }
      }
    }
    ConfigNode tlsSource = tlsNode != null ? tlsNode : legacyTls;
    String tlsWhere = tlsNode != null ? where + ".tls" : where + ".auth.tls";
    boolean[] insecure = {false};
    ClientTls tls = TlsSettingsReader.clientTls(in, tlsSource, tlsWhere, insecure);
    boolean useTls = tlsSource != null && !tlsSource.isNull() && !insecure[0];
    if (useTls) {
      if (tls.caFile() != null) {
        props.put("ssl.truststore.type", "PEM");
        props.put("ssl.truststore.location", tls.caFile().toString());
      }
      if (tls.certFile() != null && tls.keyFile() != null) {
        try {
          props.put("ssl.keystore.type", "PEM");
          props.put(
              "ssl.keystore.certificate.chain",
              Files.readString(tls.certFile(), StandardCharsets.US_ASCII));
          props.put("ssl.keystore.key", Files.readString(tls.keyFile(), StandardCharsets.US_ASCII));
        } catch (IOException e) {
          in.error(tlsSource.line(), tlsWhere, "cannot read cert_file / key_file: " + e);
        }
      }
    }
    if (mechanism != null && user != null && password != null) {
      String module =
          mechanism.equals("PLAIN")
              ? "org.apache.kafka.common.security.plain.PlainLoginModule"
              : "org.apache.kafka.common.security.scram.ScramLoginModule";
      props.put("sasl.mechanism", mechanism);
      props.put(
          "sasl.jaas.config",
          module
              + " required username=\""
              + jaasEscape(user)
              + "\" password=\""
              + jaasEscape(password)
              + "\";");
      props.put("security.protocol", useTls ? "SASL_SSL" : "SASL_PLAINTEXT");
    } else {
      props.put("security.protocol", useTls ? "SSL" : "PLAINTEXT");
    }
  }

  private static String required(
      ConfigReader in, Map<String, ConfigNode> m, ConfigNode parent, String where, String key) {
    ConfigNode n = m.get(key);
    String s = n == null ? null : in.string(n, where + "." + key);
    if (s == null || s.isEmpty()) {
      in.error(n == null ? parent.line() : n.line(), where + "." + key, "is required");
      return null;
    }
    return s;
  }

  private static String jaasEscape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
