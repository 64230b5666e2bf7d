package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code loadbalancing} exporter in a relay with ack mode {@code delivered}: a client's answer
 * waits until every backend accepted its part of the request. Real peers: a grpc-java client, two
 * grpc-java backends on the official stubs.
 */
@ExtendWith(NettyLeakCheck.class)
class LoadBalancingRelayTest {
  @TempDir Path dir;

  private final MockOtlpServer fast = MockOtlpServer.started();
  private final MockOtlpServer slow = MockOtlpServer.started();
  private Relay relay;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (relay != null) {
      relay.shutdown(Duration.ofSeconds(5));
    }
    fast.close();
    slow.close();
  }

  @Test
  void deliveredAnswersTheClientOnlyOnceEveryBackendAcceptedItsPart() throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    slow.defaultAnswer(Answer.ok().heldUntil(release));
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
        exporters:
          loadbalancing:
            routing_key: traceID
            protocol:
              otlp: { tls: { insecure: true }, timeout: 20s }
            resolver:
              static: { hostnames: ["127.0.0.1:%d", "127.0.0.1:%d"] }
        service:
          ack_mode: delivered
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [loadbalancing] }
        """
            .formatted(fast.grpcPort(), slow.grpcPort());
    relay = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
    channel =
        NettyChannelBuilder.forAddress("127.0.0.1", relay.grpcAddress("otlp").getPort())
            .usePlaintext()
            .build();
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    Set<String> names = new HashSet<>();
    for (long t = 1; t <= 40; t++) {
      byte[] traceId = ByteBuffer.allocate(16).putLong(t * 0x9E3779B97F4A7C15L).putLong(t).array();
      for (int s = 0; s < 3; s++) {
        String name = "t" + t + "-s" + s;
        names.add(name);
        scope.addSpans(
            Span.newBuilder()
                .setName(name)
                .setTraceId(ByteString.copyFrom(traceId))
                .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(t * 8 + s).array())));
      }
    }
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
            .build();
    CompletableFuture<ExportTraceServiceResponse> answer =
        CompletableFuture.supplyAsync(
            () ->
                TraceServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .export(request));

    // The fast backend has its part, the slow one holds its own: the client is not answered yet.
    await().atMost(Duration.ofSeconds(30)).until(() -> fast.spanCount() > 0 && slow.inFlight() > 0);
    assertThat(fast.spanCount()).isLessThan(names.size());
    assertThat(answer).isNotDone();

    release.complete(null);
    answer.get(20, TimeUnit.SECONDS);
    Set<String> delivered = new HashSet<>();
    fast.spans().forEach(s -> delivered.add(s.getName()));
    slow.spans().forEach(s -> delivered.add(s.getName()));
    assertThat(delivered).isEqualTo(names);
    assertThat(fast.spanCount() + slow.spanCount()).isEqualTo(names.size());
    // Each trace on one backend only.
    Set<ByteString> atFast = new HashSet<>();
    fast.spans().forEach(s -> atFast.add(s.getTraceId()));
    slow.spans().forEach(s -> assertThat(atFast).doesNotContain(s.getTraceId()));
  }
}
