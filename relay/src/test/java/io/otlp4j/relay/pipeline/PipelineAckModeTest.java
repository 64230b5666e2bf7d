package io.otlp4j.relay.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/** How a pipeline answers in each ack mode, and what memory it holds meanwhile. */
class PipelineAckModeTest {

  /** Holds every export until the test completes it with an outcome. */
  private static final class HeldExporter implements RelayExporter {
    final String id;
    final ConcurrentLinkedQueue<CompletableFuture<Outcome>> pending = new ConcurrentLinkedQueue<>();

    HeldExporter(String id) {
      this.id = id;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
      request.release();
      CompletableFuture<Outcome> done = new CompletableFuture<>();
      pending.add(done);
      return done;
    }

    void completeAll(Outcome outcome) {
      CompletableFuture<Outcome> f;
      while ((f = pending.poll()) != null) {
        f.complete(outcome);
      }
    }

    @Override
    public CompletableFuture<Void> shutdown(Duration deadline) {
      return CompletableFuture.completedFuture(null);
    }
  }

  private final MemoryBudget budget = MemoryBudget.builder(1 << 20).build();

  private Pipeline pipeline(AckMode mode, SendingQueueSettings queue, RelayExporter... exporters) {
    return Pipeline.builder("traces", Signal.TRACES)
        .ackMode(mode)
        .memoryBudget(budget)
        .exporters(List.of(exporters), queue)
        .build();
  }

  private static CompletableFuture<Outcome> send(Pipeline pipeline) {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .addScopeSpans(
                        ScopeSpans.newBuilder()
                            .addSpans(
                                Span.newBuilder()
                                    .setName("s")
                                    .setTraceId(
                                        com.google.protobuf.ByteString.copyFrom(new byte[16]))
                                    .setSpanId(
                                        com.google.protobuf.ByteString.copyFrom(new byte[8])))))
            .build();
    ByteBuf buf = Unpooled.copiedBuffer(request.toByteArray());
    return pipeline
        .accept(Signal.TRACES, buf, OtlpWalker.create().walk(Signal.TRACES, buf))
        .toCompletableFuture();
  }

  @Test
  void deliveredAnswersOnceEveryExporterIsDoneWithTheWorstOutcomeAndReservesNothingItself() {
    HeldExporter a = new HeldExporter("a");
    HeldExporter b = new HeldExporter("b");
    Pipeline p = pipeline(AckMode.DELIVERED, SendingQueueSettings.DEFAULTS, a, b);
    CompletableFuture<Outcome> answer = send(p);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.pending.size() == 1 && b.pending.size() == 1);
    // The receiver's reservation covers the request until it is answered: no second one.
    assertThat(budget.usedBytes()).isZero();
    a.completeAll(Outcome.accepted());
    assertThat(answer).isNotDone();
    b.completeAll(Outcome.retryable(Duration.ofSeconds(7), "upstream b unavailable"));
    Outcome outcome = answer.join();
    assertThat(outcome.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(outcome.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    assertThat(outcome.message()).isEqualTo("upstream b unavailable");

    CompletableFuture<Outcome> second = send(p);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.pending.size() == 1 && b.pending.size() == 1);
    a.completeAll(Outcome.permanent("a says no"));
    b.completeAll(Outcome.retryable("b is down"));
    assertThat(second.join().kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(second.join().message()).isEqualTo("a says no");
    p.shutdown(Duration.ofSeconds(1)).join();
  }

  @Test
  void receivedAnswersAtOnceAndHoldsTheBudgetUntilExported() {
    HeldExporter a = new HeldExporter("a");
    Pipeline p = pipeline(AckMode.RECEIVED, SendingQueueSettings.DEFAULTS, a);
    assertThat(send(p).join().kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(budget.usedBytes()).isPositive();
    await().atMost(Duration.ofSeconds(30)).until(() -> a.pending.size() == 1);
    a.completeAll(Outcome.permanent("dropped upstream"));
    assertThat(budget.usedBytes()).isZero();
    p.shutdown(Duration.ofSeconds(1)).join();
  }

  @Test
  void exporterWithoutQueueIsAwaitedEvenInReceivedMode() {
    HeldExporter a = new HeldExporter("a");
    Pipeline p = pipeline(AckMode.RECEIVED, new SendingQueueSettings(false, 1, 1, null), a);
    CompletableFuture<Outcome> answer = send(p);
    // Sent at once by the receiving thread, no queue in between.
    assertThat(a.pending).hasSize(1);
    assertThat(answer).isNotDone();
    a.completeAll(Outcome.permanent("rejected upstream"));
    assertThat(answer.join().kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(budget.usedBytes()).isZero();
    p.shutdown(Duration.ofSeconds(1)).join();
  }

  @Test
  void deliveredFullQueueIsRetryableAndWaitsForTheOtherExporters() {
    HeldExporter a = new HeldExporter("a");
    HeldExporter b = new HeldExporter("b");
    Pipeline p =
        Pipeline.builder("traces", Signal.TRACES)
            .ackMode(AckMode.DELIVERED)
            .memoryBudget(budget)
            .exporter(a, new SendingQueueSettings(true, 1, 1, null))
            .exporter(b, new SendingQueueSettings(true, 1, 100, null))
            .build();
    CompletableFuture<Outcome> first = send(p); // in flight at a
    await().atMost(Duration.ofSeconds(30)).until(() -> a.pending.size() == 1);
    CompletableFuture<Outcome> second = send(p); // waits in a's queue of one
    CompletableFuture<Outcome> third = send(p); // finds a's queue full; b takes it
    await().atMost(Duration.ofSeconds(30)).until(() -> b.pending.size() >= 1);
    // b still holds the third request: its answer waits for b, then tells the client to retry.
    assertThat(third).isNotDone();
    b.completeAll(Outcome.accepted());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              b.completeAll(Outcome.accepted());
              return third.isDone();
            });
    assertThat(third.join().kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(third.join().message()).contains("exporter a's queue is full");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              a.completeAll(Outcome.accepted());
              b.completeAll(Outcome.accepted());
              return first.isDone() && second.isDone();
            });
    assertThat(first.join().kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(second.join().kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    p.shutdown(Duration.ofSeconds(1)).join();
  }
}
