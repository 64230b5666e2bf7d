package io.otlp4j.relay.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

class PipelineTest {
  private static final BatchSettings UNBATCHED_QUEUE_OF_4 =
      BatchSettings.UNBATCHED.withQueueSize(4);

  /** Records what it is sent (decoded with the official classes); completes when told to. */
  private static final class FakeExporter implements RelayExporter {
    final String id;
    final boolean hold;
    final ConcurrentLinkedQueue<ExportTraceServiceRequest> received = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<CompletableFuture<Outcome>> pending = new ConcurrentLinkedQueue<>();

    FakeExporter(String id, boolean hold) {
      this.id = id;
      this.hold = hold;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
      try {
        received.add(ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(request)));
      } catch (Exception e) {
        throw new AssertionError(e);
      } finally {
        request.release();
      }
      CompletableFuture<Outcome> done = new CompletableFuture<>();
      if (hold) {
        pending.add(done);
      } else {
        done.complete(Outcome.accepted());
      }
      return done;
    }

    void completeAll() {
      CompletableFuture<Outcome> f;
      while ((f = pending.poll()) != null) {
        f.complete(Outcome.accepted());
      }
    }

    long spans() {
      return received.stream()
          .flatMap(r -> r.getResourceSpansList().stream())
          .flatMap(rs -> rs.getScopeSpansList().stream())
          .mapToLong(ScopeSpans::getSpansCount)
          .sum();
    }

    @Override
    public CompletableFuture<Void> shutdown(Duration deadline) {
      return CompletableFuture.completedFuture(null);
    }
  }

  private static ExportTraceServiceRequest request(int spans) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      scope.addSpans(
          Span.newBuilder()
              .setName("s" + i)
              .setTraceId(com.google.protobuf.ByteString.copyFrom(new byte[16]))
              .setSpanId(
                  com.google.protobuf.ByteString.copyFrom(
                      new byte[] {0, 0, 0, 0, 0, 0, 0, (byte) (i + 1)})));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
        .build();
  }

  private static Outcome send(
      Pipeline pipeline, ExportTraceServiceRequest request, List<ByteBuf> sent) {
    ByteBuf buf = Unpooled.copiedBuffer(request.toByteArray());
    sent.add(buf);
    return pipeline
        .accept(Signal.TRACES, buf, OtlpWalker.create().walk(Signal.TRACES, buf))
        .toCompletableFuture()
        .join();
  }

  @Test
  void slowExporterFillsOnlyItsOwnQueueAndEveryBufferIsReleasedOnce() {
    FakeExporter fast = new FakeExporter("fast", false);
    FakeExporter slow = new FakeExporter("slow", true);
    MemoryBudget budget = MemoryBudget.builder(1 << 20).build();
    // Each exporter's own queue: the fast one drains at once, the slow one holds.
    Pipeline fastPipeline =
        new Pipeline(
            "traces",
            Signal.TRACES,
            budget,
            List.of(),
            List.of(fast, slow),
            UNBATCHED_QUEUE_OF_4,
            MetricsRegistry.create());
    List<ByteBuf> sent = new ArrayList<>();
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      outcomes.add(send(fastPipeline, request(2), sent));
      int expected = i + 1;
      // Paced to the fast exporter, whose queue so never fills; the slow one's does.
      await().atMost(Duration.ofSeconds(30)).until(() -> fast.received.size() == expected);
    }
    // The slow exporter holds a batch in flight plus a full queue: later requests are refused,
    // retryably.
    assertThat(outcomes).anySatisfy(o -> assertThat(o.kind()).isEqualTo(Outcome.Kind.RETRYABLE));
    assertThat(outcomes.get(0).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    long accepted = outcomes.stream().filter(o -> o.kind() == Outcome.Kind.ACCEPTED).count();
    // The fast exporter got every request (refused ones too: fan-out queues them where there is
    // room).
    assertThat(fast.spans()).isEqualTo(80);
    assertThat(budget.usedBytes()).isPositive();

    slow.completeAll();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              slow.completeAll();
              return slow.spans() >= accepted * 2 && budget.usedBytes() == 0;
            });
    assertThat(fastPipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
    slow.completeAll();
    assertThat(sent).allSatisfy(b -> assertThat(b.refCnt()).isZero());
  }

  @Test
  void requestOverTheMemoryBudgetIsRefusedRetryablyAndReleased() {
    FakeExporter exporter = new FakeExporter("held", true);
    ExportTraceServiceRequest big = request(50);
    MemoryBudget budget = MemoryBudget.builder(big.getSerializedSize() + 10).build();
    Pipeline pipeline =
        new Pipeline(
            "traces",
            Signal.TRACES,
            budget,
            List.of(),
            List.of(exporter),
            UNBATCHED_QUEUE_OF_4,
            MetricsRegistry.create());
    List<ByteBuf> sent = new ArrayList<>();
    assertThat(send(pipeline, big, sent).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    Outcome refused = send(pipeline, big, sent);
    assertThat(refused.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(refused.message()).contains("memory limit");
    assertThat(sent.get(1).refCnt()).isZero();

    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.pending.size() == 1);
    exporter.completeAll();
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.usedBytes() == 0);
    assertThat(send(pipeline, big, sent).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              exporter.completeAll();
              return exporter.spans() == 100 && budget.usedBytes() == 0;
            });
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
    assertThat(sent).allSatisfy(b -> assertThat(b.refCnt()).isZero());
  }

  @Test
  void batchesAreMergedAndSplitAtSendBatchMaxSize() {
    FakeExporter exporter = new FakeExporter("file", false);
    Pipeline pipeline =
        new Pipeline(
            "traces",
            Signal.TRACES,
            MemoryBudget.builder(1 << 20).build(),
            List.of(),
            List.of(exporter),
            new BatchSettings(10, 12, Duration.ofMillis(20), 100, true),
            MetricsRegistry.create());
    List<ByteBuf> sent = new ArrayList<>();
    send(pipeline, request(4), sent);
    send(pipeline, request(4), sent);
    send(pipeline, request(30), sent);
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.spans() == 38);
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
    List<Integer> sizes =
        exporter.received.stream()
            .map(
                r ->
                    r.getResourceSpansList().stream()
                        .flatMap(rs -> rs.getScopeSpansList().stream())
                        .mapToInt(ScopeSpans::getSpansCount)
                        .sum())
            .toList();
    // 4 + 4 merged into one request; the 30 alone (over send_batch_size), cut into parts of at most
    // 12.
    assertThat(sizes).containsExactly(8, 12, 12, 6);
    assertThat(sent).allSatisfy(b -> assertThat(b.refCnt()).isZero());
  }
}
