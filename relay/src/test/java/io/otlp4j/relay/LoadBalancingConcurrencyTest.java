package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scale-out example's shape with many clients at once: a front relay (receiver, then batch or
 * just the exporter queue, then the {@code loadbalancing} exporter by trace id) over three back
 * relays ({@code tail_sampling}, then {@code otlp}), each in front of a grpc-java sink on the
 * official stubs (which parse every request with protobuf-java). With several requests in flight
 * the front merges client requests, so a part holds several {@code ResourceSpans}; every client
 * must be answered OK and every span arrive exactly once, each trace at one back relay.
 *
 * <p>Regression: before fe29f2f the back relays' {@code TailSamplingScan} misread a request with
 * two or more {@code ResourceSpans} and answered such parts {@code INVALID_ARGUMENT} ("unsupported
 * wire type 4", "invalid tag ..."), which looked like malformed parts from the front; this test
 * fails that way with that commit's change reverted.
 */
@ExtendWith(NettyLeakCheck.class)
class LoadBalancingConcurrencyTest {
  private static final int CLIENTS = 12;
  private static final int ROUNDS = 6;
  private static final int SPANS = 100;
  private static final int SPANS_PER_TRACE = 10;
  // About 40 KB a request, as the CLI's synthetic requests: several HTTP/2 frames each.
  private static final String PAYLOAD = "x".repeat(400);

  @TempDir Path dir;

  private final List<MockOtlpServer> sinks =
      List.of(MockOtlpServer.started(), MockOtlpServer.started(), MockOtlpServer.started());
  private final List<Relay> backRelays = new ArrayList<>();
  private Relay relay;
  private ManagedChannel channel;
  private ExecutorService clients;

  @AfterEach
  void stop() throws Exception {
    if (clients != null) {
      clients.shutdownNow();
    }
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (relay != null) {
      relay.shutdown(Duration.ofSeconds(5));
    }
    for (Relay r : backRelays) {
      r.shutdown(Duration.ofSeconds(5));
    }
    sinks.forEach(MockOtlpServer::close);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"batch", "queue"})
  void concurrentRequestsArriveWholeAndExactlyOnce(String merging) throws Exception {
    String processors =
        merging.equals("batch")
            ? "processors: [batch], "
            : ""; // without a batch processor the exporter queue merges what waits
    int[] ports = new int[sinks.size()];
    for (int b = 0; b < ports.length; b++) {
      Relay back =
          Relay.start(
              RelayConfig.parse(
                  """
                  receivers:
                    otlp:
                      protocols:
                        grpc: { endpoint: "127.0.0.1:0" }
                  processors:
                    tail_sampling:
                      decision_wait: 100ms
                      policies: [{ name: all, type: always_sample }]
                  exporters:
                    otlp: { endpoint: "127.0.0.1:%d", tls: { insecure: true } }
                  service:
                    telemetry: { metrics: { address: "127.0.0.1:0" } }
                    pipelines:
                      traces: { receivers: [otlp], processors: [tail_sampling], exporters: [otlp] }
                  """
                      .formatted(sinks.get(b).grpcPort()),
                  v -> null,
                  dir.resolve("back-" + b)));
      backRelays.add(back);
      ports[b] = back.grpcAddress("otlp").getPort();
    }
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 250, send_batch_max_size: 400, timeout: 20ms }
        exporters:
          loadbalancing:
            routing_key: traceID
            protocol:
              otlp: { tls: { insecure: true }, timeout: 10s }
            resolver:
              static: { hostnames: ["127.0.0.1:%d", "127.0.0.1:%d", "127.0.0.1:%d"] }
        service:
          ack_mode: delivered
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], %sexporters: [loadbalancing] }
        """
            .formatted(ports[0], ports[1], ports[2], processors);
    relay = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", relay.grpcAddress("otlp").getPort())
            .usePlaintext()
            .build();
    clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<List<String>>> results = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      results.add(
          clients.submit(
              () -> {
                List<String> failures = new ArrayList<>();
                for (int r = 0; r < ROUNDS; r++) {
                  try {
                    TraceServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .export(request(client, r));
                  } catch (StatusRuntimeException e) {
                    failures.add("client " + client + " round " + r + ": " + e.getStatus());
                  }
                }
                return failures;
              }));
    }
    List<String> failures = new ArrayList<>();
    for (Future<List<String>> f : results) {
      failures.addAll(f.get(120, TimeUnit.SECONDS));
    }
    assertThat(failures).as("client answers").isEmpty();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                sinks.stream().mapToLong(MockOtlpServer::spanCount).sum()
                    >= CLIENTS * ROUNDS * SPANS);

    Map<String, Integer> arrivals = new HashMap<>();
    Map<ByteString, Integer> traceBackend = new HashMap<>();
    for (int b = 0; b < sinks.size(); b++) {
      MockOtlpServer sink = sinks.get(b);
      assertThat(sink.requestCount())
          .as("sink %d: every request parsed and accepted", b)
          .isEqualTo(sink.acceptedCount());
      for (Span s : sink.spans()) {
        arrivals.merge(s.getName(), 1, Integer::sum);
        Integer before = traceBackend.putIfAbsent(s.getTraceId(), b);
        assertThat(before == null ? b : before).as("trace at one back relay").isEqualTo(b);
      }
    }
    assertThat(arrivals).hasSize(CLIENTS * ROUNDS * SPANS);
    assertThat(arrivals.values()).containsOnly(1);
    assertThat(sinks).allSatisfy(b -> assertThat(b.spanCount()).isPositive());
  }

  /** Client {@code c}'s round {@code r}: 100 spans in 10 traces, names unique over the test. */
  private static ExportTraceServiceRequest request(int c, int r) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < SPANS; i++) {
      long trace = ((long) c * ROUNDS + r) * (SPANS / SPANS_PER_TRACE) + i / SPANS_PER_TRACE + 1;
      scope.addSpans(
          Span.newBuilder()
              .setName("c" + c + "-r" + r + "-s" + i)
              .setTraceId(
                  ByteString.copyFrom(
                      ByteBuffer.allocate(16)
                          .putLong(trace * 0x9E3779B97F4A7C15L)
                          .putLong(trace)
                          .array()))
              .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(i + 1).array()))
              .setStartTimeUnixNano(1_700_000_000_000_000_000L + i)
              .setEndTimeUnixNano(1_700_000_000_000_001_000L + i)
              .addAttributes(
                  KeyValue.newBuilder()
                      .setKey("payload")
                      .setValue(AnyValue.newBuilder().setStringValue(PAYLOAD + i))));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(
                    Resource.newBuilder()
                        .addAttributes(
                            KeyValue.newBuilder()
                                .setKey("service.name")
                                .setValue(AnyValue.newBuilder().setStringValue("client-" + c))))
                .addScopeSpans(scope))
        .build();
  }
}
