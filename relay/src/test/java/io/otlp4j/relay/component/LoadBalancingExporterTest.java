package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.component.LoadBalancingExporterFactory.Config;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code loadbalancing} exporter against real gRPC backends ({@link MockOtlpServer}, decoded
 * with the official classes): trace affinity, service routing, the ring's balance and stability
 * (the Collector's layout), backends that leave with data pending, the DNS resolver and its errors,
 * the Collector's metric names, configuration errors by line.
 */
@ExtendWith(NettyLeakCheck.class)
class LoadBalancingExporterTest {
  private final List<MockOtlpServer> servers = new ArrayList<>();
  private final List<LoadBalancingExporter> exporters = new ArrayList<>();
  private final MetricsRegistry metrics = MetricsRegistry.create();
  private final Random random = new Random(42);

  @AfterEach
  void close() throws Exception {
    for (LoadBalancingExporter e : exporters) {
      e.shutdown(Duration.ofSeconds(5)).get(30, TimeUnit.SECONDS);
    }
    servers.forEach(MockOtlpServer::close);
  }

  // ------------------------------------------------------------------------------------ routing

  @Test
  void everySpanOfATraceReachesTheSameBackendAcrossManyRequests() throws Exception {
    List<MockOtlpServer> backends = backends(3);
    LoadBalancingExporter lb = exporter("routing_key: traceID", staticResolver(backends));
    byte[][] traces = traceIds(60);
    Map<String, Integer> sent = new HashMap<>();
    List<CompletableFuture<Outcome>> answers = new ArrayList<>();
    for (int r = 0; r < 40; r++) {
      // Each request: 12 spans of traces picked at random, so a trace's spans span many requests.
      ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
      ScopeSpans.Builder scope = ScopeSpans.newBuilder();
      for (int i = 0; i < 12; i++) {
        byte[] trace = traces[random.nextInt(traces.length)];
        scope.addSpans(span(trace, "r" + r + "-" + i));
        sent.merge(hex(trace), 1, Integer::sum);
      }
      req.addResourceSpans(
          ResourceSpans.newBuilder().setResource(service("a")).addScopeSpans(scope));
      answers.add(send(lb, req.build()));
    }
    for (CompletableFuture<Outcome> a : answers) {
      assertThat(a.get(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    Map<String, Set<Integer>> seenAt = new HashMap<>();
    Map<String, Integer> received = new HashMap<>();
    for (int b = 0; b < backends.size(); b++) {
      for (Span s : backends.get(b).spans()) {
        String trace = hex(s.getTraceId().toByteArray());
        seenAt.computeIfAbsent(trace, t -> new HashSet<>()).add(b);
        received.merge(trace, 1, Integer::sum);
      }
    }
    assertThat(received).isEqualTo(sent);
    assertThat(seenAt.values()).allSatisfy(at -> assertThat(at).hasSize(1));
    // Every backend has its share, and each trace is where the Collector's ring puts it.
    assertThat(backends).allSatisfy(b -> assertThat(b.spanCount()).isPositive());
    LoadBalancingRing ring = new LoadBalancingRing(lb.endpoints());
    for (byte[] t : traces) {
      if (seenAt.containsKey(hex(t))) {
        int at = seenAt.get(hex(t)).iterator().next();
        assertThat(ring.ownerOf(t)).isEqualTo(endpoint(backends.get(at)));
      }
    }
  }

  @Test
  void routingByServiceSendsEachServiceToOneBackendWithItsResourceIntact() throws Exception {
    List<MockOtlpServer> backends = backends(3);
    LoadBalancingExporter lb = exporter("routing_key: service", staticResolver(backends));
    for (int r = 0; r < 20; r++) {
      ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
      for (int s = 0; s < 8; s++) {
        ScopeSpans.Builder scope = ScopeSpans.newBuilder();
        for (int i = 0; i < 3; i++) {
          scope.addSpans(span(traceIds(1)[0], "svc" + s + "-r" + r + "-" + i));
        }
        req.addResourceSpans(
            ResourceSpans.newBuilder().setResource(service("svc" + s)).addScopeSpans(scope));
      }
      assertThat(send(lb, req.build()).get(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    Map<String, Set<Integer>> seenAt = new HashMap<>();
    long spans = 0;
    for (int b = 0; b < backends.size(); b++) {
      for (ExportTraceServiceRequest req : backends.get(b).traceRequests()) {
        for (ResourceSpans rs : req.getResourceSpansList()) {
          String svc = rs.getResource().getAttributes(0).getValue().getStringValue();
          seenAt.computeIfAbsent(svc, k -> new HashSet<>()).add(b);
          for (ScopeSpans ss : rs.getScopeSpansList()) {
            for (Span s : ss.getSpansList()) {
              assertThat(s.getName()).startsWith(svc + "-");
              spans++;
            }
          }
        }
      }
    }
    assertThat(spans).isEqualTo(20 * 8 * 3);
    assertThat(seenAt).hasSize(8);
    assertThat(seenAt.values()).allSatisfy(at -> assertThat(at).hasSize(1));
    assertThat(seenAt.values().stream().flatMap(Set::stream).distinct().count()).isGreaterThan(1);
  }

  @Test
  void metricsRoutedByNameKeepEachMetricOnOneBackend() throws Exception {
    List<MockOtlpServer> backends = backends(2);
    LoadBalancingExporter lb = exporter("routing_key: metric", staticResolver(backends));
    for (int r = 0; r < 5; r++) {
      ScopeMetrics.Builder scope = ScopeMetrics.newBuilder();
      for (int m = 0; m < 10; m++) {
        scope.addMetrics(
            Metric.newBuilder()
                .setName("m" + m)
                .setGauge(
                    Gauge.newBuilder()
                        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(r))
                        .addDataPoints(NumberDataPoint.newBuilder().setAsInt(-r))));
      }
      ExportMetricsServiceRequest req =
          ExportMetricsServiceRequest.newBuilder()
              .addResourceMetrics(
                  ResourceMetrics.newBuilder().setResource(service("a")).addScopeMetrics(scope))
              .build();
      ByteBuf buf = buffer(req.toByteArray());
      Outcome o = lb.export(io.otlp4j.wire.Signal.METRICS, buf, 20).get(30, TimeUnit.SECONDS);
      assertThat(o.isSuccess()).isTrue();
    }
    Map<String, Set<Integer>> seenAt = new HashMap<>();
    long points = 0;
    for (int b = 0; b < 2; b++) {
      for (Metric m : backends.get(b).metrics()) {
        seenAt.computeIfAbsent(m.getName(), k -> new HashSet<>()).add(b);
        points += m.getGauge().getDataPointsCount();
      }
    }
    assertThat(points).isEqualTo(5 * 10 * 2);
    assertThat(seenAt).hasSize(10);
    assertThat(seenAt.values()).allSatisfy(at -> assertThat(at).hasSize(1));
  }

  // --------------------------------------------------------------------------------------- ring

  @Test
  void fourBackendsGetRoughlyEqualShares() {
    LoadBalancingRing ring =
        new LoadBalancingRing(
            List.of("10.0.0.1:4317", "10.0.0.2:4317", "10.0.0.3:4317", "10.0.0.4:4317"));
    Map<String, Integer> shares = new HashMap<>();
    int keys = 100_000;
    for (int i = 0; i < keys; i++) {
      shares.merge(ring.ownerOf(traceIds(1)[0]), 1, Integer::sum);
    }
    assertThat(shares).hasSize(4);
    // 100 points per backend on 36,000 positions (the Collector's layout): within a third of 1/4.
    assertThat(shares.values()).allSatisfy(n -> assertThat(n).isBetween(keys / 6, keys / 3));
  }

  @Test
  void addingAThirdBackendMovesAboutAThirdOfTheKeysAllToIt_removingOneMovesOnlyItsOwn() {
    List<String> two = List.of("127.0.0.1:5001", "127.0.0.1:5002");
    List<String> three = List.of("127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003");
    LoadBalancingRing before = new LoadBalancingRing(two);
    LoadBalancingRing after = new LoadBalancingRing(three);
    int keys = 30_000;
    int moved = 0;
    for (int i = 0; i < keys; i++) {
      byte[] t = traceIds(1)[0];
      String was = before.ownerOf(t);
      String is = after.ownerOf(t);
      if (!was.equals(is)) {
        moved++;
        assertThat(is).isEqualTo("127.0.0.1:5003");
      }
      // And back: removing 5003 moves only the keys it owned, each to where it was before.
      if (!is.equals("127.0.0.1:5003")) {
        assertThat(was).isEqualTo(is);
      }
    }
    assertThat((double) moved / keys).isBetween(0.22, 0.45);
  }

  @Test
  void ringMatchesTheCollectorsLayout() {
    // Positions are crc32(endpoint + byte(i)) % 36000, a key's owner the next position clockwise.
    LoadBalancingRing ring = new LoadBalancingRing(List.of("endpoint-1"));
    assertThat(ring.ownerOf(new byte[16])).isEqualTo("endpoint-1");
    LoadBalancingRing two = new LoadBalancingRing(List.of("a", "b"));
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    int bestA = Integer.MAX_VALUE;
    int bestB = Integer.MAX_VALUE;
    byte[] key = "some-service".getBytes(StandardCharsets.UTF_8);
    crc.update(key);
    long keyPos = crc.getValue() % 36000;
    for (String e : List.of("a", "b")) {
      for (int i = 0; i < 100; i++) {
        crc.reset();
        crc.update(e.getBytes(StandardCharsets.UTF_8));
        crc.update(i);
        int pos = (int) (crc.getValue() % 36000);
        int distance = (int) Math.floorMod(pos - keyPos, 36000);
        if (e.equals("a")) {
          bestA = Math.min(bestA, distance);
        } else {
          bestB = Math.min(bestB, distance);
        }
      }
    }
    assertThat(two.ownerOf(key)).isEqualTo(bestA <= bestB ? "a" : "b");
  }

  // ------------------------------------------------------------------------- backends that leave

  enum Failure {
    /** The backend holds every request without answering. */
    STALLED,
    /** The backend is down: connections are refused and the exporter retries. */
    DOWN
  }

  @ParameterizedTest
  @EnumSource(Failure.class)
  void aBackendThatLeavesHasItsPendingDataReroutedAndNothingAcknowledgedIsLost(Failure failure)
      throws Exception {
    List<MockOtlpServer> backends = backends(2);
    MockOtlpServer staying = backends.get(0);
    MockOtlpServer leaving = backends.get(1);
    CompletableFuture<Void> never = new CompletableFuture<>();
    if (failure == Failure.STALLED) {
      leaving.defaultAnswer(Answer.ok().heldUntil(never));
    } else {
      leaving.stop();
    }
    ManualResolver resolver = new ManualResolver(metrics);
    LoadBalancingExporter lb =
        exporter(
            "routing_key: traceID",
            resolver,
            "timeout: 1s",
            "retry_on_failure: { initial_interval: 50ms, max_interval: 100ms }");
    resolver.set(endpoint(staying), endpoint(leaving));
    LoadBalancingRing ring = new LoadBalancingRing(List.of(endpoint(staying), endpoint(leaving)));
    Set<String> sent = new HashSet<>();
    List<CompletableFuture<Outcome>> answers = new ArrayList<>();
    for (int r = 0; r < 10; r++) {
      ScopeSpans.Builder scope = ScopeSpans.newBuilder();
      byte[][] traces = traceIds(10);
      // Every request must have a part on the leaving backend, or nothing keeps it pending: with
      // random ids all ten land on one backend about once in a thousand requests.
      while (Arrays.stream(traces).noneMatch(t -> ring.ownerOf(t).equals(endpoint(leaving)))) {
        traces = traceIds(10);
      }
      for (byte[] t : traces) {
        String name = "r" + r + "-" + hex(t);
        scope.addSpans(span(t, name));
        sent.add(name);
      }
      answers.add(
          send(
              lb,
              ExportTraceServiceRequest.newBuilder()
                  .addResourceSpans(
                      ResourceSpans.newBuilder().setResource(service("a")).addScopeSpans(scope))
                  .build()));
    }
    // The staying backend answers its parts; the leaving one's are pending (held or retried).
    await().atMost(Duration.ofSeconds(30)).until(() -> staying.spanCount() > 0);
    assertThat(answers).allSatisfy(a -> assertThat(a).isNotDone());
    resolver.set(endpoint(staying));
    for (CompletableFuture<Outcome> a : answers) {
      assertThat(a.get(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
    Set<String> delivered = new HashSet<>();
    staying.spans().forEach(s -> delivered.add(s.getName()));
    assertThat(delivered).isEqualTo(sent);
    assertThat(lb.endpoints()).containsExactly(endpoint(staying));
    String text = text(metrics);
    assertThat(text).contains("otelcol_loadbalancer_num_backends{resolver=\"static\"} 1.0");
    assertThat(text)
        .contains("otelcol_loadbalancer_num_backend_updates_total{resolver=\"static\"} 2");
    never.complete(null);
  }

  @Test
  void aBackendThatJoinsTakesOverAboutAThirdOfTheTraces() throws Exception {
    List<MockOtlpServer> backends = backends(3);
    ManualResolver resolver = new ManualResolver(metrics);
    LoadBalancingExporter lb = exporter("routing_key: traceID", resolver);
    resolver.set(endpoint(backends.get(0)), endpoint(backends.get(1)));
    byte[][] traces = traceIds(300);
    sendOneSpanEach(lb, traces, "before");
    resolver.set(endpoint(backends.get(0)), endpoint(backends.get(1)), endpoint(backends.get(2)));
    sendOneSpanEach(lb, traces, "after");
    Map<String, Integer> before = new HashMap<>();
    Map<String, Integer> after = new HashMap<>();
    for (int b = 0; b < 3; b++) {
      for (Span s : backends.get(b).spans()) {
        (s.getName().startsWith("before") ? before : after)
            .put(hex(s.getTraceId().toByteArray()), b);
      }
    }
    assertThat(before).hasSize(traces.length);
    assertThat(after).hasSize(traces.length);
    long moved = before.keySet().stream().filter(t -> !before.get(t).equals(after.get(t))).count();
    assertThat(moved).isBetween(traces.length / 6L, traces.length / 2L);
    before.keySet().stream()
        .filter(t -> !before.get(t).equals(after.get(t)))
        .forEach(t -> assertThat(after.get(t)).isEqualTo(2));
  }

  // --------------------------------------------------------------------------------- resolvers

  @Test
  void dnsResolverFollowsTheAnswersAndKeepsTheBackendsWhenALookupFailsOrTimesOut()
      throws Exception {
    MockOtlpServer backend = backends(1).get(0);
    AtomicReference<String> mode = new AtomicReference<>("real");
    CountDownLatch unhang = new CountDownLatch(1);
    LoadBalancingResolver.Lookup lookup =
        host -> {
          switch (mode.get()) {
            case "fail" -> throw new UnknownHostException(host);
            case "hang" -> {
              try {
                // hangs until the resolver's timeout interrupts it (30 s at most), so that a
                // resolveOnce that waited for it could not pass the 20 s bound below
                unhang.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return new InetAddress[0];
            }
            case "none" -> {
              return new InetAddress[0];
            }
            default -> {
              return Arrays.stream(InetAddress.getAllByName(host))
                  .filter(a -> a instanceof java.net.Inet4Address)
                  .toArray(InetAddress[]::new);
            }
          }
        };
    LoadBalancingResolver.Dns dns =
        new LoadBalancingResolver.Dns(
            "localhost",
            backend.grpcPort(),
            Duration.ofDays(1),
            Duration.ofMillis(200),
            lookup,
            metrics);
    LoadBalancingExporter lb = exporter("routing_key: traceID", dns);
    assertThat(lb.endpoints()).containsExactly("127.0.0.1:" + backend.grpcPort());
    sendOneSpanEach(lb, traceIds(5), "dns");
    assertThat(backend.spanCount()).isEqualTo(5);

    mode.set("fail");
    dns.resolveOnce(lb::onResolved);
    mode.set("hang");
    long start = System.nanoTime();
    dns.resolveOnce(lb::onResolved);
    // bounded by the 200 ms lookup timeout, not by the hanging lookup
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    dns.resolveOnce(lb::onResolved); // the lookup thread is still busy: refused, counted
    assertThat(lb.endpoints()).containsExactly("127.0.0.1:" + backend.grpcPort());
    unhang.countDown();
    mode.set("none");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              dns.resolveOnce(lb::onResolved);
              return lb.endpoints().isEmpty();
            });
    Outcome none = send(lb, ExportTraceServiceRequest.newBuilder().build()).get();
    assertThat(none.isRetryable()).isTrue();
    mode.set("real");
    dns.resolveOnce(lb::onResolved);
    assertThat(lb.endpoints()).containsExactly("127.0.0.1:" + backend.grpcPort());

    String text = text(metrics);
    assertThat(text)
        .contains(
            "otelcol_loadbalancer_num_resolutions_total{resolver=\"dns\",success=\"false\"} 3");
    assertThat(text)
        .contains("otelcol_loadbalancer_num_resolutions_total{resolver=\"dns\",success=\"true\"}");
    assertThat(text).contains("otelcol_loadbalancer_num_backends{resolver=\"dns\"} 1.0");
    assertThat(text)
        .contains(
            "otelcol_loadbalancer_backend_outcome_total{endpoint=\"127.0.0.1:"
                + backend.grpcPort()
                + "\",success=\"true\"} 1");
    assertThat(text).contains("otelcol_loadbalancer_backend_latency_count{endpoint=\"127.0.0.1:");
  }

  // ------------------------------------------------------------------------------- configuration

  @Test
  void configurationErrorsNameTheirLine() {
    assertThat(
            errors(
                "routing_key: spanID\nprotocol: { otlp: {} }\nresolver: { static: { hostnames: [a:1] } }"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith(
                        "line 8: exporters.loadbalancing.routing_key: unsupported routing_key 'spanID'"));
    assertThat(errors("protocol: { otlp: {} }\nresolver:\n  k8s: { service: lb-svc }"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith(
                        "line 10: exporters.loadbalancing.resolver.k8s: 'k8s' is not supported"));
    assertThat(errors("protocol: { otlp: {} }\nresolver:\n  aws_cloud_map: { namespace: n }"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith(
                        "line 10: exporters.loadbalancing.resolver.aws_cloud_map: 'aws_cloud_map' is not supported"));
    assertThat(errors("protocol: { otlp: {} }\nresolver:\n  dns: { hostname: h, interval: 0s }"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith(
                        "line 10: exporters.loadbalancing.resolver.dns.interval: must be positive"));
    assertThat(
            errors(
                "protocol: { otlp: { compression: lz77 } }\nresolver: { static: { hostnames: [a:1] } }"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith("line 8: exporters.loadbalancing.protocol.otlp.compression"));
    assertThat(errors("protocol: { otlp: {} }\nresolver: { static: { hostnames: [] } }"))
        .anySatisfy(
            e ->
                assertThat(e)
                    .startsWith(
                        "line 9: exporters.loadbalancing.resolver.static.hostnames: must list"));
    assertThat(errors("protocol: { otlp: {} }"))
        .anySatisfy(e -> assertThat(e).contains("exporters.loadbalancing.resolver: is required"));
  }

  @Test
  void defaultsAreTheCollectors() throws Exception {
    Config c =
        config(
            "protocol: { otlp: { tls: { insecure: true } } }\nresolver: { dns: { hostname: backends.local } }");
    assertThat(c.routingKey()).isEqualTo(LoadBalancingRouter.RoutingKey.TRACE_ID);
    assertThat(c.dns())
        .isEqualTo(
            new LoadBalancingExporterFactory.Dns(
                "backends.local", 4317, Duration.ofSeconds(5), Duration.ofSeconds(1)));
    assertThat(c.otlp().timeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(LoadBalancingExporterFactory.withPort("backend-1")).isEqualTo("backend-1:4317");
    assertThat(LoadBalancingExporterFactory.withPort("backend-1:55690"))
        .isEqualTo("backend-1:55690");
  }

  // ---------------------------------------------------------------------------------- helpers

  /** A resolver the test drives: {@link #set} reports a new endpoint list. */
  static final class ManualResolver extends LoadBalancingResolver {
    private Consumer<List<String>> listener;

    ManualResolver(MetricsRegistry metrics) {
      super("static", metrics);
    }

    @Override
    void start(Consumer<List<String>> listener) {
      this.listener = listener;
    }

    void set(String... endpoints) {
      resolved(true);
      listener.accept(List.of(endpoints));
    }

    @Override
    public void close() {}
  }

  private List<MockOtlpServer> backends(int n) {
    List<MockOtlpServer> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MockOtlpServer s = MockOtlpServer.started();
      servers.add(s);
      list.add(s);
    }
    return list;
  }

  private static String endpoint(MockOtlpServer s) {
    return "127.0.0.1:" + s.grpcPort();
  }

  private LoadBalancingResolver staticResolver(List<MockOtlpServer> backends) {
    return new LoadBalancingResolver.Static(
        backends.stream().map(LoadBalancingExporterTest::endpoint).toList(), metrics);
  }

  private LoadBalancingExporter exporter(
      String routing, LoadBalancingResolver resolver, String... otlp) throws RelayConfigException {
    // A generous timeout (the machine may be loaded: a timed-out attempt is retried, a duplicate).
    String extra =
        ", " + String.join(", ", otlp.length == 0 ? new String[] {"timeout: 10s"} : otlp);
    Config c =
        config(
            routing
                + "\nprotocol: { otlp: { tls: { insecure: true }"
                + extra
                + " } }\nresolver: { static: { hostnames: [placeholder:1] } }");
    ComponentContext context = new ComponentContext(metrics);
    LoadBalancingExporter lb =
        new LoadBalancingExporter(
            c.id(),
            new LoadBalancingRouter(c.routingKey()),
            endpoint -> LoadBalancingExporterFactory.backend(c, endpoint, context),
            c.otlp().timeout(),
            resolver,
            metrics);
    exporters.add(lb);
    return lb;
  }

  private static String yaml(String body) {
    return "receivers:\n  otlp:\n    protocols:\n      http: { endpoint: \"127.0.0.1:0\" }\n"
        + "exporters:\n  debug:\n"
        + "  loadbalancing:\n"
        + body.indent(4)
        + "service:\n  pipelines:\n"
        + "    traces: { receivers: [otlp], exporters: [loadbalancing] }\n";
  }

  private static Config config(String body) throws RelayConfigException {
    return (Config)
        RelayConfig.parse(yaml(body), v -> null, Path.of(".")).exporters().get("loadbalancing");
  }

  private static List<String> errors(String body) {
    try {
      RelayConfig.parse(yaml(body), v -> null, Path.of("."));
      return List.of();
    } catch (RelayConfigException e) {
      return e.errors();
    }
  }

  private static ByteBuf buffer(byte[] bytes) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(bytes.length);
    buf.writeBytes(bytes);
    return buf;
  }

  private static CompletableFuture<Outcome> send(
      LoadBalancingExporter lb, ExportTraceServiceRequest r) {
    long spans =
        r.getResourceSpansList().stream()
            .flatMap(rs -> rs.getScopeSpansList().stream())
            .mapToLong(ScopeSpans::getSpansCount)
            .sum();
    return lb.export(io.otlp4j.wire.Signal.TRACES, buffer(r.toByteArray()), spans);
  }

  private static void sendOneSpanEach(LoadBalancingExporter lb, byte[][] traces, String prefix)
      throws Exception {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (byte[] t : traces) {
      scope.addSpans(span(t, prefix + "-" + hex(t)));
    }
    Outcome o =
        send(
                lb,
                ExportTraceServiceRequest.newBuilder()
                    .addResourceSpans(
                        ResourceSpans.newBuilder().setResource(service("a")).addScopeSpans(scope))
                    .build())
            .get(30, TimeUnit.SECONDS);
    assertThat(o.isSuccess()).as(o.toString()).isTrue();
  }

  private byte[][] traceIds(int n) {
    byte[][] ids = new byte[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = new byte[16];
      random.nextBytes(ids[i]);
    }
    return ids;
  }

  private static Span span(byte[] traceId, String name) {
    return Span.newBuilder()
        .setTraceId(ByteString.copyFrom(traceId))
        .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(name.hashCode()).array()))
        .setName(name)
        .build();
  }

  private static Resource service(String name) {
    return Resource.newBuilder()
        .addAttributes(
            KeyValue.newBuilder()
                .setKey("service.name")
                .setValue(AnyValue.newBuilder().setStringValue(name)))
        .build();
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  private static String text(MetricsRegistry m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }
}
