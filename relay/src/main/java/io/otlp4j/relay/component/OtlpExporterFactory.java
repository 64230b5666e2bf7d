package io.otlp4j.relay.component;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.UpstreamExporter;
import io.otlp4j.relay.config.ClientTls;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ConfigValues;
import io.otlp4j.relay.config.ExporterHelperReader;
import io.otlp4j.relay.config.OtlpExporterConfig;
import io.otlp4j.relay.config.Secret;
import io.otlp4j.relay.config.TlsSettingsReader;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code otlp} (OTLP/gRPC) and {@code otlphttp} (OTLP/HTTP protobuf) exporters: endpoint, tls,
 * headers, compression, timeout, auth, otlphttp's per-signal endpoints, and the {@code
 * sending_queue} and {@code retry_on_failure} every exporter has. Builds an {@link
 * UpstreamExporter} over an {@link OtlpExporter}.
 */
final class OtlpExporterFactory implements ExporterFactory<OtlpExporterConfig> {
  static final String OTLP = "otlp";
  static final String OTLPHTTP = "otlphttp";

  private final boolean http;

  /**
   * @param type {@link #OTLP} or {@link #OTLPHTTP}
   */
  OtlpExporterFactory(String type) {
    if (!type.equals(OTLP) && !type.equals(OTLPHTTP)) {
      throw new IllegalArgumentException("not an OTLP exporter type: " + type);
    }
    this.http = type.equals(OTLPHTTP);
  }

  @Override
  public String type() {
    return http ? OTLPHTTP : OTLP;
  }

  private static String[] concat(String[] keys, String... more) {
    String[] all = Arrays.copyOf(keys, keys.length + more.length);
    System.arraycopy(more, 0, all, keys.length, more.length);
    return all;
  }

  private static final String[] OTLP_EXPORTER_KEYS = {
    "endpoint",
    "tls",
    "headers",
    "compression",
    "timeout",
    "auth",
    "traces_endpoint",
    "metrics_endpoint",
    "logs_endpoint",
    "encoding"
  };

  /**
   * The Collector's client keys otlp4j does not implement (its own pool and keepalive settings
   * apply).
   */
  private static final List<String> OTLP_EXPORTER_UNSUPPORTED =
      List.of(
          "keepalive",
          "read_buffer_size",
          "write_buffer_size",
          "wait_for_ready",
          "balancer_name",
          "authority",
          "proxy_url",
          "max_idle_conns",
          "max_idle_conns_per_host",
          "max_conns_per_host",
          "idle_conn_timeout",
          "disable_keep_alives",
          "http2_read_idle_timeout",
          "http2_ping_timeout",
          "cookies",
          "profiles_endpoint",
          "batcher");

  @Override
  public OtlpExporterConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    return read(id, node, where, in, true);
  }

  /**
   * As {@link #read}; with {@code endpointRequired} false a missing {@code endpoint} is no error
   * (the {@code loadbalancing} exporter's {@code protocol.otlp} template, whose endpoint is each
   * backend's).
   */
  OtlpExporterConfig read(
      String id, ConfigNode node, String where, ConfigReader in, boolean endpointRequired) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(
        m,
        where,
        OTLP_EXPORTER_UNSUPPORTED,
        concat(OTLP_EXPORTER_KEYS, "sending_queue", "retry_on_failure"));
    SendingQueueSettings queue =
        ExporterHelperReader.sendingQueue(in, id, m.get("sending_queue"), where);
    RetryPolicy retry =
        ExporterHelperReader.retryOnFailure(
            in, m.get("retry_on_failure"), where + ".retry_on_failure");
    ConfigNode e = m.get("endpoint");
    Map<Signal, String> signalEndpoints = new EnumMap<>(Signal.class);
    if (http) {
      for (Signal signal : Signal.values()) {
        ConfigNode se = m.get(signal.id() + "_endpoint");
        String url = se == null ? null : in.string(se, where + "." + signal.id() + "_endpoint");
        if (url != null
            && in.checkEndpoint(url, true, se.line(), where + "." + signal.id() + "_endpoint")) {
          signalEndpoints.put(signal, url);
        }
      }
      ConfigNode encoding = m.get("encoding");
      if (encoding != null && !"proto".equals(encoding.text())) {
        in.error(
            encoding.line(),
            where + ".encoding",
            "'" + encoding.value() + "' is not supported (supported: proto)");
      }
    } else {
      for (String key :
          new String[] {"traces_endpoint", "metrics_endpoint", "logs_endpoint", "encoding"}) {
        if (m.get(key) != null) {
          in.error(
              m.get(key).line(), where + "." + key, "unknown key '" + key + "' (an otlphttp key)");
        }
      }
    }
    String endpoint = null;
    if (e == null) {
      if (endpointRequired && (!http || signalEndpoints.size() < Signal.values().length)) {
        in.error(node.line(), where + ".endpoint", "is required");
        return null;
      }
    } else {
      endpoint = in.string(e, where + ".endpoint");
      if (endpoint != null) {
        if (!http) {
          endpoint = ConfigValues.grpcTarget(endpoint);
        }
        if (!in.checkEndpoint(endpoint, http, e.line(), where + ".endpoint")) {
          endpoint = null;
        }
      }
    }
    boolean[] insecure = {false};
    ClientTls tls = TlsSettingsReader.clientTls(in, m.get("tls"), where + ".tls", insecure);
    Map<String, String> headers = new LinkedHashMap<>();
    ConfigNode h = m.get("headers");
    if (h != null && !h.isNull()) {
      Map<String, ConfigNode> hm = in.map(h, where + ".headers");
      if (hm != null) {
        hm.forEach(
            (k, v) -> {
              String value = v.isNull() ? null : v.text();
              if (value == null) {
                in.error(v.line(), where + ".headers." + k, "must be a string");
              } else {
                headers.put(k, value);
              }
            });
      }
    }
    Compression compression = Compression.GZIP;
    ConfigNode c = m.get("compression");
    if (c != null) {
      String name = c.isNull() ? "" : in.string(c, where + ".compression");
      if (name != null) {
        switch (name.toLowerCase(Locale.ROOT)) {
          case "gzip" -> compression = Compression.GZIP;
          case "zstd" -> compression = Compression.ZSTD;
          case "none", "" -> compression = Compression.NONE;
          default ->
              in.error(
                  c.line(),
                  where + ".compression",
                  "unknown compression '" + name + "' (supported: gzip, zstd, none)");
        }
      }
    }
    // The Collector's defaults: 5 s for otlp (exporterhelper), 30 s for otlphttp (its HTTP client).
    Duration timeout =
        in.duration(
            m.get("timeout"),
            where + ".timeout",
            http ? Duration.ofSeconds(30) : Duration.ofSeconds(5));
    if (timeout != null && timeout.isZero()) {
      in.error(m.get("timeout").line(), where + ".timeout", "must be positive");
      timeout = null;
    }
    String authenticator = in.authenticator(m.get("auth"), where + ".auth");
    Secret authorization = authenticator == null ? null : in.bearerToken(authenticator);
    if ((endpoint == null && e != null) || timeout == null || retry == null) {
      return null;
    }
    return new OtlpExporterConfig(
        id,
        http,
        endpoint,
        insecure[0],
        headers,
        compression,
        timeout,
        queue,
        retry,
        tls,
        signalEndpoints,
        authorization);
  }

  @Override
  public RelayExporter create(OtlpExporterConfig o, ComponentContext context) {
    return new UpstreamExporter(o.id(), builder(o, context).build());
  }

  /** The {@link OtlpExporter} that {@code o} configures, as a builder to adjust before building. */
  static OtlpExporter.Builder builder(OtlpExporterConfig o, ComponentContext context) {
    OtlpExporter.Builder b =
        OtlpExporter.builder()
            .name(o.id())
            .protocol(o.http() ? Protocol.HTTP_PROTOBUF : Protocol.GRPC)
            .insecure(o.insecure())
            .compression(o.compression())
            .timeout(o.timeout())
            .retryPolicy(o.retry())
            .metricsRegistry(context.metrics());
    if (o.endpoint() != null) {
      b.endpoint(o.endpoint());
    }
    o.signalEndpoints().forEach(b::endpoint);
    o.headers().forEach(b::header);
    if (o.authorization() != null) {
      b.header("authorization", "Bearer " + o.authorization().reveal());
    }
    ClientTls tls = o.tls();
    if (tls.caFile() != null) {
      b.trustedCertificates(tls.caFile());
    }
    if (tls.certFile() != null && tls.keyFile() != null) {
      b.clientCertificate(tls.certFile(), tls.keyFile());
    }
    return b;
  }
}
