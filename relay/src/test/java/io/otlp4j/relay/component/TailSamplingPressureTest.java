package io.otlp4j.relay.component;

import static io.otlp4j.relay.component.TailSamplingProcessorTest.request;
import static io.otlp4j.relay.component.TailSamplingProcessorTest.span;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.component.TailSamplingProcessorFactory.TailSamplingConfig;
import io.otlp4j.relay.pipeline.Pipeline;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tail_sampling} under pressure, in a real {@link Pipeline} (queue, batch, memory budget):
 * what was acknowledged is neither lost at the decision because the budget is full of held traces,
 * nor evicted because {@code num_traces} is reached — the clients are refused retryably instead.
 */
@ExtendWith(NettyLeakCheck.class)
class TailSamplingPressureTest {
  final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
  final MetricsRegistry metrics = MetricsRegistry.create();
  final ConcurrentLinkedQueue<ExportTraceServiceRequest> exported = new ConcurrentLinkedQueue<>();
  MemoryBudget budget;
  TailSamplingProcessor processor;
  Pipeline pipeline;

  /** Decodes every request it gets with the official classes; answers accepted. */
  final RelayExporter upstream =
      new RelayExporter() {
        @Override
        public String id() {
          return "upstream";
        }

        @Override
        public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
          try {
            exported.add(ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(request)));
          } catch (Exception e) {
            throw new AssertionError(e);
          } finally {
            request.release();
          }
          return CompletableFuture.completedFuture(Outcome.accepted());
        }

        @Override
        public CompletableFuture<Void> shutdown(Duration deadline) {
          return CompletableFuture.completedFuture(null);
        }
      };

  @AfterEach
  void stop() throws Exception {
    if (pipeline != null) {
      pipeline.shutdown(Duration.ofSeconds(5)).get(10, TimeUnit.SECONDS);
    }
    budget.release(grabbed.getAndSet(0));
    assertThat(budget.usedBytes()).as("every held byte given back").isZero();
  }

  /** Bytes {@link #grabber} took, as receivers refill the budget the decision frees. */
  final AtomicLong grabbed = new AtomicLong();

  volatile boolean grab;

  /**
   * After {@code tail_sampling}: takes what is free in the budget when the first decided request
   * comes by, as concurrent clients' requests do between the release of the held copies and the
   * emitted request's reservation.
   */
  final RelayProcessor grabber =
      new RelayProcessor() {
        @Override
        public String id() {
          return "grabber";
        }

        @Override
        public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
          long free = budget.limitBytes() - budget.usedBytes();
          if (grab && grabbed.get() == 0 && free > 0 && budget.tryAcquire(free)) {
            grabbed.set(free);
          }
          return RelayProcessor.forward(request, summary);
        }
      };

  void start(long budgetBytes, String body) throws Exception {
    budget = MemoryBudget.builder(budgetBytes).build();
    TailSamplingConfig config =
        (TailSamplingConfig)
            ProcessorHarness.parse(ProcessorHarness.config("tail_sampling", body))
                .processors()
                .get("tail_sampling");
    processor =
        new TailSamplingProcessor(config, new ComponentContext(metrics, budget), clock::get, false);
    pipeline =
        Pipeline.builder("traces", Signal.TRACES)
            .ackMode(AckMode.RECEIVED)
            .memoryBudget(budget)
            .metrics(metrics)
            .processors(List.of(processor, grabber))
            .exporter(upstream, SendingQueueSettings.DEFAULTS)
            .build();
  }

  /** Sends through the pipeline as a receiver does (which releases its own reservation). */
  Outcome send(ExportTraceServiceRequest request) throws Exception {
    byte[] in = request.toByteArray();
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(in.length);
    buf.writeBytes(in);
    WalkSummary summary = OtlpWalker.create().walk(Signal.TRACES, buf);
    return pipeline
        .accept(Signal.TRACES, buf, summary)
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);
  }

  Set<Integer> exportedTraces() {
    Set<Integer> ids = new TreeSet<>();
    for (ExportTraceServiceRequest r : exported) {
      for (ResourceSpans rs : r.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span s : ss.getSpansList()) {
            byte[] b = s.getTraceId().toByteArray();
            ids.add((b[14] & 0xFF) << 8 | (b[15] & 0xFF));
          }
        }
      }
    }
    return ids;
  }

  long counter(String name, String help) {
    return metrics.counter(name, help, "processor", "tail_sampling").get();
  }

  @Test
  void whatIsHeldWhenTheBudgetIsFullIsStillExportedAfterTheDecision() throws Exception {
    // The budget fills with held traces (as a closed-loop client fills it on a fast machine):
    // before, the decision's output was then refused for memory and lost, and nothing was
    // delivered while clients kept the budget full.
    start(
        64 << 10,
        """
        decision_wait: 1s
        num_traces: 100000
        policies: [{ name: all, type: always_sample }]
        """);
    grab = true;
    List<Integer> held = new ArrayList<>();
    int refused = 0;
    for (int t = 1; t <= 2_000 && refused < 3; t++) {
      Span.Builder[] spans = new Span.Builder[4];
      for (int i = 0; i < spans.length; i++) {
        spans[i] = span(t, "span-with-a-name-long-enough-" + i);
      }
      Outcome o = send(request(spans));
      if (o.kind() == Outcome.Kind.ACCEPTED) {
        held.add(t);
      } else {
        assertThat(o.isRetryable() && o.isOverload()).as(o.toString()).isTrue();
        refused++;
      }
    }
    assertThat(refused).as("the budget refuses new requests once full").isEqualTo(3);
    assertThat(budget.isOverHighWater()).isTrue();
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    processor.tick();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(exportedTraces()).containsExactlyElementsOf(held));
    assertThat(
            counter(
                "otlp4j_processor_tail_sampling_emit_failed_spans",
                "Sampled spans the rest of the pipeline refused after the decision (lost: the"
                    + " client was answered when they were held)"))
        .isZero();
    assertThat(grabbed.get())
        .as("the budget was full again when the decision was emitted")
        .isPositive();
    budget.release(grabbed.getAndSet(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> budget.usedBytes() == 0);
    assertThat(send(request(span(5_000, "after")))).matches(Outcome::isSuccess);
  }

  @Test
  void aFullTableRefusesNewTracesRetryablyInsteadOfDroppingAcknowledgedOnes() throws Exception {
    start(
        64 << 20,
        """
        decision_wait: 10s
        num_traces: 2
        policies: [{ name: all, type: always_sample }]
        """);
    assertThat(send(request(span(1, "a")))).matches(Outcome::isSuccess);
    assertThat(send(request(span(2, "a")))).matches(Outcome::isSuccess);
    Outcome full = send(request(span(3, "a"), span(1, "b")));
    assertThat(full.isRetryable() && full.isOverload()).as(full.toString()).isTrue();
    assertThat(full.message()).contains("num_traces");
    // spans of the traces already held are still taken
    assertThat(send(request(span(1, "late")))).matches(Outcome::isSuccess);
    assertThat(processor.tracesInMemory()).isEqualTo(2);
    assertThat(
            counter(
                "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early",
                "Count of traces that needed to be dropped before the configured wait time"))
        .isZero();
    assertThat(
            counter(
                "otlp4j_processor_tail_sampling_refused_spans",
                "Spans refused (retryably) because num_traces undecided traces were held"
                    + " (block_on_overflow)"))
        .isEqualTo(2);
    clock.addAndGet(Duration.ofSeconds(10).toNanos());
    processor.tick();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(exportedTraces()).containsExactly(1, 2));
    // decided traces stay known for their late spans, and make room for new ones
    assertThat(send(request(span(1, "b")))).matches(Outcome::isSuccess);
    assertThat(send(request(span(3, "a")))).matches(Outcome::isSuccess);
    assertThat(send(request(span(4, "a")))).matches(Outcome::isSuccess);
    assertThat(send(request(span(5, "a")))).matches(Outcome::isOverload);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                exported.stream()
                    .flatMap(r -> r.getResourceSpansList().stream())
                    .flatMap(rs -> rs.getScopeSpansList().stream())
                    .flatMap(ss -> ss.getSpansList().stream())
                    .anyMatch(sp -> sp.getName().equals("b")));
  }

  @Test
  void withoutBlockOnOverflowTheOldestUndecidedTraceIsDroppedAsInTheCollector() throws Exception {
    start(
        64 << 20,
        """
        decision_wait: 10s
        num_traces: 2
        block_on_overflow: false
        policies: [{ name: all, type: always_sample }]
        """);
    assertThat(send(request(span(1, "a")))).matches(Outcome::isSuccess);
    assertThat(send(request(span(2, "a")))).matches(Outcome::isSuccess);
    assertThat(send(request(span(3, "a")))).matches(Outcome::isSuccess);
    assertThat(
            counter(
                "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early",
                "Count of traces that needed to be dropped before the configured wait time"))
        .isEqualTo(1);
    clock.addAndGet(Duration.ofSeconds(10).toNanos());
    processor.tick();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(exportedTraces()).containsExactly(2, 3));
  }
}
