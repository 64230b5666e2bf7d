package io.otlp4j.relay.component;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.UpstreamExporter;
import io.otlp4j.relay.component.LoadBalancingRouter.RoutingKey;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ConfigValues;
import io.otlp4j.relay.config.ExporterConfig;
import io.otlp4j.relay.config.ExporterHelperReader;
import io.otlp4j.relay.config.OtlpExporterConfig;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Collector's {@code loadbalancing} exporter: {@code routing_key} ({@code traceID} default,
 * {@code service}, {@code resource}, {@code metric}), {@code protocol.otlp} (the {@code otlp}
 * exporter's keys, its endpoint each backend's), {@code resolver.static.hostnames} or {@code
 * resolver.dns} ({@code hostname}, {@code port} 4317, {@code interval} 5s, {@code timeout} 1s), and
 * the {@code sending_queue} and {@code retry_on_failure} of every exporter. Builds a {@link
 * LoadBalancingExporter}.
 */
final class LoadBalancingExporterFactory
    implements ExporterFactory<LoadBalancingExporterFactory.Config> {
  static final String TYPE = "loadbalancing";

  /** The Collector's {@code resolver.dns} defaults. */
  static final int DEFAULT_DNS_PORT = 4317;

  static final Duration DEFAULT_DNS_INTERVAL = Duration.ofSeconds(5);
  static final Duration DEFAULT_DNS_TIMEOUT = Duration.ofSeconds(1);

  /** {@code resolver.dns}. */
  record Dns(String hostname, int port, Duration interval, Duration timeout) {}

  /**
   * A {@code loadbalancing} exporter: exactly one of {@code hostnames} (static) and {@code dns} is
   * set. Immutable.
   */
  record Config(
      String id,
      RoutingKey routingKey,
      OtlpExporterConfig otlp,
      boolean otlpQueueGiven,
      List<String> hostnames,
      Dns dns,
      SendingQueueSettings sendingQueue,
      RetryPolicy retry)
      implements ExporterConfig {

    @Override
    public RetryPolicy retryOnFailure() {
      return retry;
    }
  }

  private final LoadBalancingResolver.Lookup lookup;

  LoadBalancingExporterFactory() {
    this(InetAddress::getAllByName);
  }

  /** With a lookup of the test's instead of the JDK's DNS resolution. */
  LoadBalancingExporterFactory(LoadBalancingResolver.Lookup lookup) {
    this.lookup = lookup;
  }

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public Config read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    int errors = in.errorCount();
    in.checkKeys(
        m,
        where,
        List.of("timeout"),
        "routing_key",
        "protocol",
        "resolver",
        "sending_queue",
        "retry_on_failure");
    RoutingKey key = RoutingKey.TRACE_ID;
    ConfigNode rk = m.get("routing_key");
    if (rk != null && !rk.isNull()) {
      String text = in.string(rk, where + ".routing_key");
      if (text != null && !text.isEmpty()) {
        key = RoutingKey.fromId(text);
        if (key == null) {
          in.error(
              rk.line(),
              where + ".routing_key",
              "unsupported routing_key '"
                  + text
                  + "' (supported: traceID, service, resource, metric)");
        }
      }
    }
    OtlpExporterConfig otlp = null;
    boolean otlpQueueGiven = false;
    ConfigNode protocol = m.get("protocol");
    if (protocol == null) {
      in.error(node.line(), where + ".protocol", "is required (protocol.otlp)");
    } else {
      Map<String, ConfigNode> pm = in.map(protocol, where + ".protocol");
      if (pm != null) {
        in.checkKeys(pm, where + ".protocol", "otlp");
        ConfigNode o = pm.get("otlp");
        if (o == null) {
          in.error(protocol.line(), where + ".protocol.otlp", "is required");
        } else {
          String w = where + ".protocol.otlp";
          otlp = new OtlpExporterFactory(OtlpExporterFactory.OTLP).read(id, o, w, in, false);
          Map<String, ConfigNode> om = o.map();
          ConfigNode q = om == null ? null : om.get("sending_queue");
          otlpQueueGiven = q != null;
          if (otlp != null && otlp.sendingQueue().durable()) {
            in.error(
                q.line(),
                w + ".sending_queue.storage",
                "a backend's queue is in memory; put the storage on "
                    + where
                    + ".sending_queue instead");
          }
        }
      }
    }
    List<String> hostnames = null;
    Dns dns = null;
    ConfigNode r = m.get("resolver");
    if (r == null) {
      in.error(node.line(), where + ".resolver", "is required (static or dns)");
    } else {
      Map<String, ConfigNode> rm = in.map(r, where + ".resolver");
      if (rm != null) {
        String w = where + ".resolver";
        in.checkKeys(rm, w, List.of("k8s", "aws_cloud_map"), "static", "dns");
        if (rm.containsKey("static") && rm.containsKey("dns")) {
          in.error(r.line(), w, "give one resolver, static or dns, not both");
        } else if (rm.containsKey("static")) {
          hostnames = staticHostnames(in, rm.get("static"), w + ".static");
        } else if (rm.containsKey("dns")) {
          dns = dns(in, rm.get("dns"), w + ".dns");
        } else if (!rm.containsKey("k8s") && !rm.containsKey("aws_cloud_map")) {
          in.error(r.line(), w, "is required (static or dns)");
        }
      }
    }
    SendingQueueSettings queue =
        ExporterHelperReader.sendingQueue(in, id, m.get("sending_queue"), where);
    RetryPolicy retry =
        m.get("retry_on_failure") == null
            ? (otlp == null ? null : otlp.retry())
            : ExporterHelperReader.retryOnFailure(
                in, m.get("retry_on_failure"), where + ".retry_on_failure");
    if (in.errorCount() > errors
        || otlp == null
        || key == null
        || retry == null
        || (hostnames == null && dns == null)) {
      return null;
    }
    return new Config(id, key, otlp, otlpQueueGiven, hostnames, dns, queue, retry);
  }

  private static List<String> staticHostnames(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, "hostnames");
    ConfigNode h = m.get("hostnames");
    List<ConfigNode> list = h == null ? null : h.list();
    if (list == null || list.isEmpty()) {
      in.error(
          h == null ? node.line() : h.line(), where + ".hostnames", "must list at least one host");
      return null;
    }
    List<String> hosts = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      ConfigNode e = list.get(i);
      String host = in.string(e, where + ".hostnames[" + i + "]");
      if (host != null
          && in.checkEndpoint(withPort(host), false, e.line(), where + ".hostnames[" + i + "]")) {
        hosts.add(host);
      }
    }
    return hosts;
  }

  private static Dns dns(ConfigReader in, ConfigNode node, String where) {
    Map<String, ConfigNode> m = in.map(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, List.of("quarantine"), "hostname", "port", "interval", "timeout");
    ConfigNode h = m.get("hostname");
    String hostname = h == null ? null : in.string(h, where + ".hostname");
    if (h == null || (hostname != null && hostname.isBlank())) {
      in.error(h == null ? node.line() : h.line(), where + ".hostname", "is required");
      hostname = null;
    }
    ConfigNode p = m.get("port");
    int port = DEFAULT_DNS_PORT;
    if (p != null) {
      port = in.intValue(p, where + ".port", DEFAULT_DNS_PORT, 1);
      if (port > 65535) {
        in.error(p.line(), where + ".port", "must be at most 65535, was " + port);
      }
    }
    Duration interval = in.duration(m.get("interval"), where + ".interval", DEFAULT_DNS_INTERVAL);
    Duration timeout = in.duration(m.get("timeout"), where + ".timeout", DEFAULT_DNS_TIMEOUT);
    for (String k : new String[] {"interval", "timeout"}) {
      Duration d = k.equals("interval") ? interval : timeout;
      if (d != null && (d.isZero() || d.isNegative())) {
        in.error(m.get(k).line(), where + "." + k, "must be positive");
        return null;
      }
    }
    if (hostname == null || interval == null || timeout == null) {
      return null;
    }
    return new Dns(hostname, port, interval, timeout);
  }

  /** {@code host} with the default OTLP/gRPC port when it names none, as the Collector does. */
  static String withPort(String host) {
    String target = ConfigValues.grpcTarget(host);
    boolean hasPort = target.startsWith("[") ? target.contains("]:") : target.lastIndexOf(':') > 0;
    return hasPort || target.contains("://") ? target : target + ":" + DEFAULT_DNS_PORT;
  }

  @Override
  public RelayExporter create(Config c, ComponentContext context) {
    MetricsRegistry metrics = context.metrics();
    LoadBalancingResolver resolver =
        c.dns() != null
            ? new LoadBalancingResolver.Dns(
                c.dns().hostname(),
                c.dns().port(),
                c.dns().interval(),
                c.dns().timeout(),
                lookup,
                metrics)
            : new LoadBalancingResolver.Static(c.hostnames(), metrics);
    return new LoadBalancingExporter(
        c.id(),
        new LoadBalancingRouter(c.routingKey()),
        endpoint -> backend(c, endpoint, context),
        c.otlp().timeout(),
        resolver,
        metrics);
  }

  /**
   * One backend's {@code otlp} exporter: the template with the backend's endpoint, its own breaker,
   * in-flight bound and retries, and self-metrics of its own (a backend that leaves takes its
   * series with it; the {@code loadbalancing} exporter's are the relay's).
   */
  static RelayExporter backend(Config c, String endpoint, ComponentContext context) {
    String name = c.id() + "[" + endpoint + "]";
    OtlpExporter.Builder b =
        OtlpExporterFactory.builder(c.otlp(), context)
            .name(name)
            .endpoint(withPort(endpoint))
            .metricsRegistry(MetricsRegistry.create());
    if (c.otlpQueueGiven()) {
      SendingQueueSettings q = c.otlp().sendingQueue();
      b.maxInFlight(q.numConsumers(), q.queueSize());
    }
    return new UpstreamExporter(name, b.build());
  }
}
