package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.HostPort;
import io.otlp4j.relay.config.ReceiverConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.TlsSettingsReader;
import io.otlp4j.wire.Signal;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code otlp} receiver: {@code protocols.grpc} and {@code protocols.http} with the Collector's
 * {@code configgrpc}/{@code confighttp} server keys (endpoint, tls, auth, message and body size
 * limits, concurrent streams, URL paths).
 */
final class OtlpReceiverFactory implements ReceiverFactory {

  @Override
  public String type() {
    return "otlp";
  }

  @Override
  public ReceiverConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, "protocols");
    ConfigNode protocols = m.get("protocols");
    if (protocols == null
        || protocols.isNull()
        || (protocols.map() != null && protocols.map().isEmpty())) {
      in.error(node.line(), where + ".protocols", "must enable grpc, http or both");
      return null;
    }
    Map<String, ConfigNode> p = in.map(protocols, where + ".protocols");
    if (p == null) {
      return null;
    }
    in.checkKeys(p, where + ".protocols", "grpc", "http");
    ReceiverConfig.ServerOptions[] grpcOptions = {ReceiverConfig.ServerOptions.DEFAULTS};
    ReceiverConfig.ServerOptions[] httpOptions = {ReceiverConfig.ServerOptions.DEFAULTS};
    HostPort grpc =
        protocol(
            in,
            p.get("grpc"),
            where + ".protocols.grpc",
            RelayConfig.DEFAULT_GRPC_ENDPOINT,
            true,
            grpcOptions);
    HostPort http =
        protocol(
            in,
            p.get("http"),
            where + ".protocols.http",
            RelayConfig.DEFAULT_HTTP_ENDPOINT,
            false,
            httpOptions);
    return new ReceiverConfig(id, grpc, http, grpcOptions[0], httpOptions[0]);
  }

  /**
   * The Collector's {@code configgrpc}/{@code confighttp} server keys that otlp4j does not
   * implement.
   */
  private static final List<String> UNSUPPORTED_GRPC_SERVER_KEYS =
      List.of("read_buffer_size", "write_buffer_size", "include_metadata", "transport");

  private static final List<String> UNSUPPORTED_HTTP_SERVER_KEYS =
      List.of(
          "cors",
          "include_metadata",
          "response_headers",
          "compression_algorithms",
          "write_timeout",
          "keepalive");

  private static ReceiverConfig.ConnectionOptions httpConnections(
      ConfigReader in, Map<String, ConfigNode> m, String where) {
    return new ReceiverConfig.ConnectionOptions(
        in.intValue(m.get("max_connections"), where + ".max_connections", 0, 1),
        in.duration(m.get("read_header_timeout"), where + ".read_header_timeout", null),
        in.duration(m.get("read_timeout"), where + ".read_timeout", null),
        positive(in, m.get("idle_timeout"), where + ".idle_timeout"),
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        -1,
        -1);
  }

  /**
   * {@code keepalive.server_parameters} and {@code keepalive.enforcement_policy}, as configgrpc.
   */
  private static ReceiverConfig.ConnectionOptions grpcConnections(
      ConfigReader in, Map<String, ConfigNode> m, String where) {
    int maxConnections = in.intValue(m.get("max_connections"), where + ".max_connections", 0, 1);
    Map<String, ConfigNode> keepalive = Map.of();
    if (m.get("keepalive") != null && !m.get("keepalive").isNull()) {
      keepalive = in.mapOrEmpty(m.get("keepalive"), where + ".keepalive");
      if (keepalive == null) {
        keepalive = Map.of();
      }
      in.checkKeys(keepalive, where + ".keepalive", "server_parameters", "enforcement_policy");
    }
    String sp = where + ".keepalive.server_parameters";
    Map<String, ConfigNode> server = section(in, keepalive.get("server_parameters"), sp);
    in.checkKeys(
        server,
        sp,
        "max_connection_idle",
        "max_connection_age",
        "max_connection_age_grace",
        "time",
        "timeout");
    String ep = where + ".keepalive.enforcement_policy";
    Map<String, ConfigNode> policy = section(in, keepalive.get("enforcement_policy"), ep);
    in.checkKeys(policy, ep, "min_time", "permit_without_stream");
    ConfigNode permit = policy.get("permit_without_stream");
    return new ReceiverConfig.ConnectionOptions(
        maxConnections,
        null,
        null,
        null,
        in.duration(server.get("max_connection_idle"), sp + ".max_connection_idle", null),
        in.duration(server.get("max_connection_age"), sp + ".max_connection_age", null),
        in.duration(server.get("max_connection_age_grace"), sp + ".max_connection_age_grace", null),
        in.duration(server.get("time"), sp + ".time", null),
        in.duration(server.get("timeout"), sp + ".timeout", null),
        in.duration(policy.get("min_time"), ep + ".min_time", null),
        permit == null ? null : in.bool(permit, ep + ".permit_without_stream", false),
        in.intValue(m.get("max_control_frames"), where + ".max_control_frames", -1, 0),
        in.intValue(m.get("max_unanswered_resets"), where + ".max_unanswered_resets", -1, 0));
  }

  private static Map<String, ConfigNode> section(ConfigReader in, ConfigNode node, String where) {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    return m == null ? Map.of() : m;
  }

  /** A positive duration, or null when absent or (with an error) not positive. */
  private static java.time.Duration positive(ConfigReader in, ConfigNode node, String where) {
    java.time.Duration d = in.duration(node, where, null);
    if (d != null && (d.isZero() || d.isNegative())) {
      in.error(node.line(), where, "must be positive");
      return null;
    }
    return d;
  }

  private static HostPort protocol(
      ConfigReader in,
      ConfigNode node,
      String where,
      String defaultEndpoint,
      boolean grpc,
      ReceiverConfig.ServerOptions[] options) {
    if (node == null) {
      return null;
    }
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    List<String> known = new ArrayList<>(List.of("endpoint", "tls", "auth", "max_connections"));
    if (grpc) {
      known.addAll(
          List.of(
              "max_recv_msg_size_mib",
              "max_concurrent_streams",
              "max_concurrent_calls",
              "max_control_frames",
              "max_unanswered_resets",
              "keepalive"));
    } else {
      known.addAll(
          List.of(
              "max_request_body_size",
              "traces_url_path",
              "metrics_url_path",
              "logs_url_path",
              "read_header_timeout",
              "read_timeout",
              "idle_timeout"));
    }
    in.checkKeys(
        m,
        where,
        grpc ? UNSUPPORTED_GRPC_SERVER_KEYS : UNSUPPORTED_HTTP_SERVER_KEYS,
        known.toArray(String[]::new));
    ReceiverConfig.ServerTls tls = TlsSettingsReader.serverTls(in, m.get("tls"), where + ".tls");
    String authenticator = in.authenticator(m.get("auth"), where + ".auth");
    int maxBytes = 0;
    int maxStreams = 0;
    int maxCalls = 0;
    Map<Signal, String> urlPaths = new EnumMap<>(Signal.class);
    if (grpc) {
      int mib = in.intValue(m.get("max_recv_msg_size_mib"), where + ".max_recv_msg_size_mib", 0, 1);
      if (mib > 2047) {
        in.error(
            m.get("max_recv_msg_size_mib").line(),
            where + ".max_recv_msg_size_mib",
            "must be at most 2047, was " + mib);
      } else {
        maxBytes = mib * 1024 * 1024;
      }
      maxStreams =
          in.intValue(m.get("max_concurrent_streams"), where + ".max_concurrent_streams", 0, 1);
      maxCalls = in.intValue(m.get("max_concurrent_calls"), where + ".max_concurrent_calls", 0, 1);
    } else {
      long bytes =
          in.longValue(m.get("max_request_body_size"), where + ".max_request_body_size", 0, 1);
      if (bytes > Integer.MAX_VALUE - 8) {
        in.error(
            m.get("max_request_body_size").line(),
            where + ".max_request_body_size",
            "must be below 2 GiB, was " + bytes);
      } else {
        maxBytes = (int) bytes;
      }
      for (Signal signal : Signal.values()) {
        String key = signal.id() + "_url_path";
        ConfigNode path = m.get(key);
        String text = path == null ? null : in.string(path, where + "." + key);
        if (text == null) {
          continue;
        }
        // As the Collector: a missing leading slash is added.
        String sanitized = text.startsWith("/") ? text : "/" + text;
        if (text.isEmpty() || sanitized.indexOf('?') >= 0 || sanitized.indexOf('#') >= 0) {
          in.error(path.line(), where + "." + key, "'" + text + "' is not a URL path");
        } else if (urlPaths.containsValue(sanitized)) {
          in.error(
              path.line(),
              where + "." + key,
              "'" + sanitized + "' is already another signal's path");
        } else {
          urlPaths.put(signal, sanitized);
        }
      }
    }
    options[0] =
        new ReceiverConfig.ServerOptions(
            tls,
            authenticator,
            in.bearerToken(authenticator),
            maxBytes,
            maxStreams,
            Map.copyOf(urlPaths),
            maxCalls,
            grpc ? grpcConnections(in, m, where) : httpConnections(in, m, where));
    ConfigNode endpoint = m.get("endpoint");
    String text = endpoint == null ? defaultEndpoint : in.string(endpoint, where + ".endpoint");
    return text == null
        ? null
        : in.hostPort(text, where + ".endpoint", endpoint == null ? node.line() : endpoint.line());
  }
}
