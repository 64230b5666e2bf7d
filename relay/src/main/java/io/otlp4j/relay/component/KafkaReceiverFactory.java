package io.otlp4j.relay.component;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.relay.config.ClientTls;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ExporterHelperReader;
import io.otlp4j.relay.config.KafkaReceiverConfig;
import io.otlp4j.relay.config.ReceiverConfig;
import io.otlp4j.relay.config.Secret;
import io.otlp4j.relay.config.TlsSettingsReader;
import io.otlp4j.relay.kafka.KafkaReceiver;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code kafka} receiver, with the Collector contrib's keys and defaults ({@code
 * receiver/kafkareceiver} and {@code configkafka}): {@code brokers} (localhost:9092), {@code
 * client_id} and {@code group_id} (otel-collector), {@code initial_offset} (latest), {@code
 * session_timeout} (10s), {@code heartbeat_interval} (3s), {@code group_rebalance_strategies},
 * fetch sizes, {@code autocommit} (enabled, 1s), per-signal {@code traces}/{@code metrics}/{@code
 * logs} with {@code topics} (otlp_spans, otlp_metrics, otlp_logs; {@code ^} for a pattern, then
 * {@code exclude_topics}) and {@code encoding} (otlp_proto, otlp_json), {@code message_marking},
 * {@code header_extraction}, {@code error_backoff}, {@code auth.sasl} and {@code tls}.
 *
 * <p>Two defaults differ from the Collector's, on purpose: {@code message_marking.after} is true
 * (an offset is committed only after the pipeline accepted the record, in the relay's ack mode: at
 * least once), and {@code on_permanent_error} is true (a record that can never be accepted, such as
 * one that is not OTLP, is counted and skipped rather than stopping its partition), unless set.
 */
final class KafkaReceiverFactory implements ReceiverFactory {

  static final List<String> DEFAULT_BROKERS = List.of("localhost:9092");
  static final String DEFAULT_CLIENT_ID = "otel-collector";
  static final String DEFAULT_GROUP_ID = "otel-collector";

  private static final Map<Signal, String> DEFAULT_TOPICS =
      Map.of(Signal.TRACES, "otlp_spans", Signal.METRICS, "otlp_metrics", Signal.LOGS, "otlp_logs");

  private static final Set<String> STRATEGIES =
      Set.of("range", "roundrobin", "sticky", "cooperative-sticky");

  @Override
  public String type() {
    return "kafka";
  }

  @Override
  public RelayReceiver start(
      ReceiverConfig config,
      Map<Signal, ReceiverSink> sinks,
      Map<Signal, Duration> maxHold,
      ComponentContext context) {
    return KafkaReceiver.start(
        (KafkaReceiverConfig) config.settings(),
        sinks,
        maxHold,
        context.memoryBudget(),
        context.metrics());
  }

  @Override
  public ReceiverConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        List.of(
            "profiles",
            "partition_processing",
            "telemetry",
            "rack_id",
            "conn_idle_timeout",
            "use_leader_epoch",
            "resolve_canonical_bootstrap_servers_only"),
        "brokers",
        "protocol_version",
        "client_id",
        "group_id",
        "group_instance_id",
        "initial_offset",
        "session_timeout",
        "heartbeat_interval",
        "group_rebalance_strategies",
        "group_rebalance_strategy",
        "min_fetch_size",
        "default_fetch_size",
        "max_fetch_size",
        "max_fetch_wait",
        "max_partition_fetch_size",
        "autocommit",
        "traces",
        "metrics",
        "logs",
        "message_marking",
        "header_extraction",
        "error_backoff",
        "auth",
        "tls",
        "metadata");
    List<String> brokers = strings(in, m.get("brokers"), where + ".brokers", DEFAULT_BROKERS);
    if (brokers.isEmpty()) {
      in.error(node.line(), where + ".brokers", "must name at least one broker");
    }
    // protocol_version: the Java client negotiates each request's version with the broker, so the
    // key is accepted and has no effect. metadata.*: the Java client's own defaults apply.
    String clientId = text(in, m.get("client_id"), where + ".client_id", DEFAULT_CLIENT_ID);
    String groupId = text(in, m.get("group_id"), where + ".group_id", DEFAULT_GROUP_ID);
    String instance = text(in, m.get("group_instance_id"), where + ".group_instance_id", "");
    String initial = text(in, m.get("initial_offset"), where + ".initial_offset", "latest");
    if (!initial.equals("latest") && !initial.equals("earliest")) {
      in.error(
          m.get("initial_offset").line(),
          where + ".initial_offset",
          "must be 'latest' or 'earliest', was '" + initial + "'");
    }
    Duration session =
        in.duration(m.get("session_timeout"), where + ".session_timeout", Duration.ofSeconds(10));
    Duration heartbeat =
        in.duration(
            m.get("heartbeat_interval"), where + ".heartbeat_interval", Duration.ofSeconds(3));
    List<String> strategies = strategies(in, m, where);
    int minFetch = in.intValue(m.get("min_fetch_size"), where + ".min_fetch_size", 1, 1);
    in.intValue(m.get("default_fetch_size"), where + ".default_fetch_size", 1048576, 1);
    int maxFetch = in.intValue(m.get("max_fetch_size"), where + ".max_fetch_size", 1048576, 0);
    Duration fetchWait =
        in.duration(m.get("max_fetch_wait"), where + ".max_fetch_wait", Duration.ofMillis(250));
    int partitionFetch =
        in.intValue(
            m.get("max_partition_fetch_size"), where + ".max_partition_fetch_size", 1048576, 1);
    boolean autocommit = true;
    Duration commitInterval = Duration.ofSeconds(1);
    if (m.get("autocommit") != null) {
      Map<String, ConfigNode> a = in.mapOrEmpty(m.get("autocommit"), where + ".autocommit");
      if (a != null) {
        in.checkKeys(a, where + ".autocommit", "enable", "interval");
        autocommit = in.bool(a.get("enable"), where + ".autocommit.enable", true);
        commitInterval =
            in.duration(a.get("interval"), where + ".autocommit.interval", commitInterval);
      }
    }
    Map<Signal, KafkaReceiverConfig.Topics> signals = new EnumMap<>(Signal.class);
    for (Signal s : Signal.values()) {
      KafkaReceiverConfig.Topics t = topics(in, m.get(s.id()), where + "." + s.id(), s);
      if (t != null) {
        signals.put(s, t);
      }
    }
    boolean[] marking = marking(in, m.get("message_marking"), where + ".message_marking");
    List<String> headers = headers(in, m.get("header_extraction"), where + ".header_extraction");
    RetryPolicy backoff = null;
    ConfigNode eb = m.get("error_backoff");
    if (eb != null && !eb.isNull() && eb.map() != null) {
      // The Collector's error_backoff is off unless enabled: true.
      RetryPolicy p = ExporterHelperReader.retryOnFailure(in, eb, where + ".error_backoff");
      if (in.bool(eb.map().get("enabled"), where + ".error_backoff.enabled", false)) {
        backoff = p;
      }
    } else if (eb != null && !eb.isNull()) {
      in.error(eb.line(), where + ".error_backoff", "must be a mapping");
    }
    KafkaReceiverConfig.Sasl sasl = null;
    ClientTls tls = null;
    ConfigNode auth = m.get("auth");
    if (auth != null && !auth.isNull()) {
      Map<String, ConfigNode> a = in.map(auth, where + ".auth");
      if (a != null) {
        in.checkKeys(a, where + ".auth", List.of("kerberos"), "sasl", "plain_text", "tls");
        sasl = sasl(in, a, where + ".auth");
        if (a.get("tls") != null && m.get("tls") == null) {
          tls = clientTls(in, a.get("tls"), where + ".auth.tls");
        }
      }
    }
    if (m.get("tls") != null) {
      tls = clientTls(in, m.get("tls"), where + ".tls");
    }
    if (in.errorCount() > errors || session == null || heartbeat == null || fetchWait == null) {
      return null;
    }
    if (heartbeat.compareTo(session) >= 0) {
      in.error(
          m.containsKey("heartbeat_interval") ? m.get("heartbeat_interval").line() : node.line(),
          where + ".heartbeat_interval",
          "must be below session_timeout (" + session + "), was " + heartbeat);
      return null;
    }
    KafkaReceiverConfig k =
        new KafkaReceiverConfig(
            id,
            List.copyOf(brokers),
            clientId,
            groupId,
            instance,
            initial,
            session,
            heartbeat,
            strategies,
            minFetch,
            maxFetch,
            fetchWait,
            partitionFetch,
            autocommit,
            commitInterval,
            Map.copyOf(signals),
            marking[0],
            marking[1],
            marking[2],
            backoff,
            headers,
            sasl,
            tls);
    return ReceiverConfig.of(id, k);
  }

  private static List<String> strategies(ConfigReader in, Map<String, ConfigNode> m, String where) {
    ConfigNode list = m.get("group_rebalance_strategies");
    ConfigNode one = m.get("group_rebalance_strategy");
    if (list != null && one != null) {
      in.error(
          one.line(),
          where + ".group_rebalance_strategy",
          "cannot be set with group_rebalance_strategies");
      return List.of();
    }
    List<String> names =
        list != null
            ? strings(in, list, where + ".group_rebalance_strategies", List.of())
            : one != null
                ? List.of(text(in, one, where + ".group_rebalance_strategy", ""))
                : List.of("cooperative-sticky"); // the Collector's (franz-go's) default
    for (String s : names) {
      if (!STRATEGIES.contains(s)) {
        in.error(
            (list != null ? list : one).line(),
            where + ".group_rebalance_strategies",
            "'"
                + s
                + "' is not one of range, roundrobin, sticky, cooperative-sticky (a balancer"
                + " extension is not supported by otlp4j)");
      }
    }
    return List.copyOf(names);
  }

  private static KafkaReceiverConfig.Topics topics(
      ConfigReader in, ConfigNode node, String where, Signal signal) {
    Map<String, ConfigNode> m = node == null ? Map.of() : in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, "topics", "topic", "encoding", "exclude_topics", "exclude_topic");
    if (m.get("topic") != null && m.get("topics") != null) {
      in.error(m.get("topic").line(), where, "both topic and topics cannot be set");
    }
    if (m.get("exclude_topic") != null && m.get("exclude_topics") != null) {
      in.error(
          m.get("exclude_topic").line(),
          where,
          "both exclude_topic and exclude_topics cannot be set");
    }
    List<String> topics =
        m.get("topic") != null
            ? List.of(text(in, m.get("topic"), where + ".topic", ""))
            : strings(in, m.get("topics"), where + ".topics", List.of(DEFAULT_TOPICS.get(signal)));
    List<String> exclude =
        m.get("exclude_topic") != null
            ? List.of(text(in, m.get("exclude_topic"), where + ".exclude_topic", ""))
            : strings(in, m.get("exclude_topics"), where + ".exclude_topics", List.of());
    String encoding = text(in, m.get("encoding"), where + ".encoding", "otlp_proto");
    if (!encoding.equals("otlp_proto") && !encoding.equals("otlp_json")) {
      in.error(
          m.get("encoding").line(),
          where + ".encoding",
          "'" + encoding + "' is not supported by otlp4j (otlp_proto, otlp_json)");
    }
    KafkaReceiverConfig.Topics t =
        new KafkaReceiverConfig.Topics(
            List.copyOf(topics), List.copyOf(exclude), encoding.equals("otlp_json"));
    int line = node == null ? 0 : node.line();
    if (topics.isEmpty() || topics.stream().anyMatch(String::isEmpty)) {
      in.error(line, where + ".topics", "must name at least one topic, none empty");
    }
    if (!exclude.isEmpty() && !t.regex()) {
      in.error(
          line,
          where + ".exclude_topics",
          "is configured but none of the topics is a pattern (must start with '^')");
    }
    if (t.regex() && !topics.stream().allMatch(s -> s.startsWith("^"))) {
      in.error(line, where + ".topics", "mixes patterns ('^...') and names: use one kind");
    }
    for (String p : t.regex() ? concat(topics, exclude) : exclude) {
      try {
        if (p.isEmpty()) {
          in.error(line, where + ".exclude_topics", "contains an empty pattern");
        } else {
          Pattern.compile(p);
        }
      } catch (PatternSyntaxException e) {
        in.error(line, where, "'" + p + "' is not a regular expression: " + e.getDescription());
      }
    }
    return t;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** {after, on_error, on_permanent_error} with otlp4j's defaults (see the class comment). */
  private static boolean[] marking(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = node == null ? Map.of() : in.mapOrEmpty(node, where);
    if (m == null) {
      return new boolean[] {true, false, true};
    }
    in.checkKeys(m, where, "after", "on_error", "on_permanent_error");
    boolean after = in.bool(m.get("after"), where + ".after", true);
    boolean onError = in.bool(m.get("on_error"), where + ".on_error", false);
    boolean onPermanent = in.bool(m.get("on_permanent_error"), where + ".on_permanent_error", true);
    return new boolean[] {after, onError, onPermanent};
  }

  private static List<String> headers(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = node == null ? Map.of() : in.mapOrEmpty(node, where);
    if (m == null) {
      return List.of();
    }
    in.checkKeys(m, where, "extract_headers", "headers");
    boolean extract = in.bool(m.get("extract_headers"), where + ".extract_headers", false);
    List<String> headers = strings(in, m.get("headers"), where + ".headers", List.of());
    return extract ? List.copyOf(headers) : List.of();
  }

  private static KafkaReceiverConfig.Sasl sasl(
      ConfigReader in, Map<String, ConfigNode> auth, String where) {
    ConfigNode plain = auth.get("plain_text");
    ConfigNode sasl = auth.get("sasl");
    if (plain != null && sasl != null) {
      in.error(plain.line(), where + ".plain_text", "cannot be set with sasl");
      return null;
    }
    ConfigNode node = sasl != null ? sasl : plain;
    if (node == null || node.isNull()) {
      return null;
    }
    String w = where + (sasl != null ? ".sasl" : ".plain_text");
    Map<String, ConfigNode> m = in.map(node, w);
    if (m == null) {
      return null;
    }
    if (sasl != null) {
      in.checkKeys(
          m,
          w,
          List.of("aws_msk", "oauthbearer_token_source", "oidc_file"),
          "username",
          "password",
          "mechanism",
          "version");
    } else {
      in.checkKeys(m, w, "username", "password");
    }
    String mechanism = sasl != null ? text(in, m.get("mechanism"), w + ".mechanism", "") : "PLAIN";
    if (!Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512").contains(mechanism)) {
      in.error(
          node.line(),
          w + ".mechanism",
          "'" + mechanism + "' is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512");
      return null;
    }
    String user = text(in, m.get("username"), w + ".username", "");
    String password = text(in, m.get("password"), w + ".password", "");
    if (user.isEmpty() || password.isEmpty()) {
      in.error(node.line(), w, "username and password are required");
      return null;
    }
    return new KafkaReceiverConfig.Sasl(mechanism, user, new Secret(password));
  }

  private static ClientTls clientTls(ConfigReader in, ConfigNode node, String where) {
    boolean[] insecure = {false};
    ClientTls tls = TlsSettingsReader.clientTls(in, node, where, insecure);
    // configtls: insecure: true means no TLS at all.
    return insecure[0] ? null : tls;
  }

  private static String text(ConfigReader in, ConfigNode node, String where, String dflt) {
    if (node == null) {
      return dflt;
    }
    String t = in.string(node, where);
    return t == null ? dflt : t;
  }

  /** A list of strings (a single string is a list of one); {@code dflt} when absent. */
  private static List<String> strings(
      ConfigReader in, ConfigNode node, String where, List<String> dflt) {
    if (node == null) {
      return dflt;
    }
    List<ConfigNode> list = node.list();
    if (list == null) {
      String t = in.string(node, where);
      return t == null ? dflt : List.of(t);
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String t = in.string(list.get(i), where + "[" + i + "]");
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }
}
