package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.testing.ChildJvm;
import io.otlp4j.testing.KafkaBroker;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The {@code examples/scale-out} topology with real child-JVM relays, from the example's own
 * configuration files: the OpenTelemetry Java SDK sends traces to two front-tier relays (otlp in →
 * kafka out, {@code partition_traces_by_id}) → a real Kafka broker → two back-tier relays in one
 * consumer group (kafka in → tail_sampling → resource → otlp out) → an OTLP sink. Mid-stream a
 * back-tier relay is SIGKILLed and started again, and the broker is stopped and restarted: every
 * span the front tier acknowledged arrives at the sink, every trace arrives whole at one back-tier
 * relay, and duplicates stay within what was in flight around the faults.
 *
 * <p>Runs in the {@code kafka-scale-out} group only ({@code -Pkafka-scale-out}): it starts five
 * JVMs and takes about a minute, beyond the default build's budget.
 */
@Tag("kafka-scale-out")
class KafkaScaleOutTest {
  private static final Path EXAMPLE = Path.of("..", "examples", "scale-out").toAbsolutePath();
  private static final Pattern GRPC =
      Pattern.compile("OTLP/gRPC receiver otlp listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final int TRACES = 1500;
  private static final int SPANS_PER_TRACE = 4;

  /**
   * What a fault can make be read again: spans acknowledged up to decision_wait (1 s) + its timer
   * (1 s) + autocommit (1 s) + a poll and an export before it, rounded up.
   */
  private static final long IN_FLIGHT_BEFORE_NANOS = TimeUnit.SECONDS.toNanos(4);

  /** And those acknowledged just after it, before the consumers noticed. */
  private static final long IN_FLIGHT_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final List<ChildJvm> relays = new ArrayList<>();
  private final Map<String, Long> acknowledged = new ConcurrentHashMap<>(); // span id → when
  private KafkaBroker broker;
  private MockOtlpServer sink;

  @AfterEach
  void stop() throws Exception {
    for (ChildJvm relay : relays) {
      relay.close();
    }
    if (sink != null) {
      sink.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void everyAcknowledgedSpanArrivesWholeTracesAtOneBackTierThroughAKillAndABrokerRestart()
      throws Exception {
    broker = KafkaBroker.builder().property("group.min.session.timeout.ms", "1000").start();
    broker.createTopic("scale_spans", 4);
    sink = MockOtlpServer.started();
    Map<String, String> common =
        Map.of(
            "KAFKA_BROKERS", broker.bootstrapServers(),
            "KAFKA_TOPIC", "scale_spans",
            "KAFKA_SESSION_TIMEOUT", "2s",
            "KAFKA_HEARTBEAT", "500ms",
            "DECISION_WAIT", "1s",
            "SAMPLING_PERCENTAGE", "100",
            "SINK_ENDPOINT", sink.grpcEndpoint(),
            "ADMIN_PORT", "0");
    ChildJvm back1 = back("back-1", common);
    back("back-2", common);
    int front1 = front(common);
    int front2 = front(common);

    SdkTracerProvider[] providers = {sdk(front1), sdk(front2)};
    Tracer[] tracers = {providers[0].get("scale-out"), providers[1].get("scale-out")};
    long killedAt = 0;
    long brokerDownFrom = 0;
    long brokerUpAt = 0;
    for (int t = 0; t < TRACES; t++) {
      Tracer tracer = tracers[t % 2];
      Span root = tracer.spanBuilder("root-" + t).startSpan();
      try (Scope s = root.makeCurrent()) {
        for (int c = 1; c < SPANS_PER_TRACE; c++) {
          tracer.spanBuilder("child-" + t + "-" + c).startSpan().end();
        }
      } finally {
        root.end();
      }
      if (t == TRACES / 4) {
        killedAt = System.nanoTime();
        back1.kill(); // SIGKILL, mid-stream
        back("back-1", common);
      }
      if (t == 3 * TRACES / 4) {
        brokerDownFrom = System.nanoTime();
        broker.stop();
        broker.restart();
        brokerUpAt = System.nanoTime();
      }
      Thread.sleep(10);
    }
    for (SdkTracerProvider p : providers) {
      p.forceFlush().join(30, TimeUnit.SECONDS);
    }
    assertThat(acknowledged).hasSizeGreaterThan(TRACES * SPANS_PER_TRACE / 2);

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(arrived().keySet()).containsAll(acknowledged.keySet()));
    Map<String, List<Copy>> arrived = arrived();
    // Whole traces at one back-tier relay: for every trace, one relay passed on all its spans.
    Map<String, Set<String>> spansOfTrace = new HashMap<>();
    Map<String, Map<String, Set<String>>> spansOfTraceAt = new HashMap<>();
    for (Map.Entry<String, List<Copy>> e : arrived.entrySet()) {
      for (Copy c : e.getValue()) {
        spansOfTrace.computeIfAbsent(c.traceId, k -> new HashSet<>()).add(e.getKey());
        spansOfTraceAt
            .computeIfAbsent(c.traceId, k -> new HashMap<>())
            .computeIfAbsent(c.backTier, k -> new HashSet<>())
            .add(e.getKey());
      }
    }
    int split = 0;
    for (Map.Entry<String, Set<String>> e : spansOfTrace.entrySet()) {
      boolean whole =
          spansOfTraceAt.get(e.getKey()).values().stream().anyMatch(s -> s.equals(e.getValue()));
      if (!whole) {
        split++;
      }
    }
    assertThat(split).as("traces no back-tier relay saw whole").isZero();
    assertThat(spansOfTraceAt.values().stream().flatMap(m -> m.keySet().stream()))
        .contains("back-1", "back-2");
    // Duplicates: only records read again after a fault, so within the spans in flight then.
    long copies = arrived.values().stream().mapToLong(List::size).sum();
    long duplicates = copies - arrived.size();
    long k = killedAt;
    long down = brokerDownFrom;
    long up = brokerUpAt;
    long inFlight =
        acknowledged.values().stream()
            .filter(
                at ->
                    (at > k - IN_FLIGHT_BEFORE_NANOS && at <= k + IN_FLIGHT_AFTER_NANOS)
                        || (at > down - IN_FLIGHT_BEFORE_NANOS && at <= up + IN_FLIGHT_AFTER_NANOS))
            .count();
    System.out.printf(
        "scale-out: %d spans acknowledged, %d arrived (%d copies, %d duplicates, bound %d)%n",
        acknowledged.size(), arrived.size(), copies, duplicates, inFlight);
    assertThat(duplicates).isLessThanOrEqualTo(inFlight);
    for (SdkTracerProvider p : providers) {
      p.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  private record Copy(String traceId, String backTier) {}

  /** Every span at the sink (by span id), with its trace and the back-tier relay that sent it. */
  private Map<String, List<Copy>> arrived() throws Exception {
    Map<String, List<Copy>> spans = new HashMap<>();
    for (var r : sink.accepted(Signal.TRACES)) {
      ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(r.body());
      for (ResourceSpans rs : req.getResourceSpansList()) {
        String back =
            rs.getResource().getAttributesList().stream()
                .filter(kv -> kv.getKey().equals("otlp4j.back_tier"))
                .map(KeyValue::getValue)
                .map(v -> v.getStringValue())
                .findFirst()
                .orElse("?");
        rs.getScopeSpansList().stream()
            .flatMap(ss -> ss.getSpansList().stream())
            .forEach(
                s ->
                    spans
                        .computeIfAbsent(hex(s.getSpanId().toByteArray()), x -> new ArrayList<>())
                        .add(new Copy(hex(s.getTraceId().toByteArray()), back)));
      }
    }
    return spans;
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  /** An SDK sending to a front relay; every span of a batch the relay acknowledged is recorded. */
  private SdkTracerProvider sdk(int port) {
    OtlpGrpcSpanExporter otlp =
        OtlpGrpcSpanExporter.builder()
            .setEndpoint("http://127.0.0.1:" + port)
            .setTimeout(Duration.ofSeconds(10))
            .build();
    SpanExporter recording =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            CompletableResultCode r = otlp.export(spans);
            r.whenComplete(
                () -> {
                  if (r.isSuccess()) {
                    long now = System.nanoTime();
                    spans.forEach(s -> acknowledged.put(s.getSpanId(), now));
                  }
                });
            return r;
          }

          @Override
          public CompletableResultCode flush() {
            return otlp.flush();
          }

          @Override
          public CompletableResultCode shutdown() {
            return otlp.shutdown();
          }
        };
    return SdkTracerProvider.builder()
        .addSpanProcessor(
            BatchSpanProcessor.builder(recording)
                .setScheduleDelay(Duration.ofMillis(50))
                .setMaxExportBatchSize(256)
                .build())
        .build();
  }

  private ChildJvm back(String name, Map<String, String> env) throws Exception {
    Map<String, String> e = new HashMap<>(env);
    e.put("BACK_NAME", name);
    ChildJvm back = start(EXAMPLE.resolve("back.yaml"), e);
    back.awaitLine(line -> line.contains("Kafka receiver kafka consuming"), Duration.ofSeconds(60));
    return back;
  }

  private int front(Map<String, String> env) throws Exception {
    Map<String, String> e = new HashMap<>(env);
    e.put("FRONT_GRPC_PORT", "0");
    e.put("FRONT_HTTP_PORT", "0");
    ChildJvm front = start(EXAMPLE.resolve("front.yaml"), e);
    return Integer.parseInt(front.awaitMatch(GRPC, Duration.ofSeconds(60)).group(1));
  }

  /** {@code otlp4j run --config config} in a child JVM. */
  private ChildJvm start(Path config, Map<String, String> env) {
    ChildJvm relay =
        ChildJvm.builder(Main.class)
            .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m")
            .args("run", "--config", config.toString())
            .environment(env)
            .start();
    relays.add(relay);
    return relay;
  }
}
