package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the span processor holds at its limits (issue #18): the queue by count, the exports in
 * flight by their encoded bytes and by count, and nothing of a batch once its export started. In
 * front of otlp4j's real exporter and a real OTLP/gRPC server that holds its answers.
 */
class ProcessorMemoryBoundTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final int BATCH = 10;

  private static MockOtlpServer server;
  private CompletableFuture<Void> gate;

  @BeforeAll
  static void startServer() {
    server = MockOtlpServer.started();
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @AfterEach
  void release() {
    if (gate != null) {
      gate.complete(null);
    }
    server.defaultAnswer(Answer.ok());
    server.clear();
  }

  private void holdAnswers() {
    gate = new CompletableFuture<>();
    server.defaultAnswer(Answer.ok().heldUntil(gate));
  }

  private static Otlp4jSpanExporter exporter() {
    return Otlp4jSpanExporter.builder().protocol("grpc").endpoint(server.grpcEndpoint()).build();
  }

  private static void endSpans(Tracer tracer, int n) {
    for (int i = 0; i < n; i++) {
      tracer.spanBuilder("same-size").startSpan().end(); // every batch encodes to the same size
    }
  }

  /** Waits until {@code inFlight} exports are in flight and stay so while the rest is queued. */
  private static void awaitSteady(Otlp4jBatchSpanProcessor processor, int inFlight, int queued) {
    await().atMost(WAIT).until(() -> processor.inFlightCount() == inFlight);
    await()
        .during(Duration.ofMillis(300))
        .atMost(WAIT)
        .until(() -> processor.inFlightCount() == inFlight && processor.queuedCount() == queued);
  }

  @Test
  void exportsInFlightStopAtTheByteBudgetAndTheFullQueueDropsAndCounts() {
    holdAnswers();
    // One batch's encoded size, from a processor whose budget lets one export go at a time.
    Otlp4jBatchSpanProcessor one =
        Otlp4jBatchSpanProcessor.builder(exporter())
            .maxQueueSize(64)
            .maxExportBatchSize(BATCH)
            .maxInFlightBytes(1)
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(one).build();
    Tracer tracer = provider.get("test");
    endSpans(tracer, BATCH);
    awaitSteady(one, 1, 0);
    endSpans(tracer, 90); // the queue takes 64, 26 dropped: no second export under the budget
    awaitSteady(one, 1, 64);
    assertThat(one.droppedCount()).isEqualTo(26);
    long batchBytes = one.inFlightBytes();
    assertThat(batchBytes).isPositive();
    gate.complete(null);
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(one.inFlightBytes()).isZero();
    assertThat(server.spanCount()).isEqualTo(74);
    provider.shutdown().join(10, TimeUnit.SECONDS);

    server.clear();
    holdAnswers();
    // A budget of 2.5 batches: the third export starts under it (2 batches < 2.5), no fourth.
    Otlp4jBatchSpanProcessor three =
        Otlp4jBatchSpanProcessor.builder(exporter())
            .maxQueueSize(64)
            .maxExportBatchSize(BATCH)
            .maxInFlightBytes(batchBytes * 5 / 2)
            .scheduleDelay(Duration.ofHours(1))
            .build();
    provider = SdkTracerProvider.builder().addSpanProcessor(three).build();
    tracer = provider.get("test");
    endSpans(tracer, 3 * BATCH);
    awaitSteady(three, 3, 0);
    endSpans(tracer, 70); // the queue takes 64, 6 dropped
    awaitSteady(three, 3, 64);
    assertThat(three.inFlightBytes()).isEqualTo(3 * batchBytes);
    assertThat(three.droppedCount()).isEqualTo(6);
    gate.complete(null);
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(server.spanCount()).isEqualTo(94);
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void exportsInFlightGrowWithTheBacklogUpToSixteenInFrontOfOtlp4jsExporterByDefault() {
    holdAnswers();
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter())
            .maxQueueSize(256)
            .maxExportBatchSize(BATCH)
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    Tracer tracer = provider.get("test");
    endSpans(tracer, 3 * BATCH);
    awaitSteady(processor, 3, 0); // three full batches, three exports: no more than the backlog
    endSpans(tracer, 200);
    awaitSteady(processor, Otlp4jBatchProcessorBuilder.DEFAULT_MAX_CONCURRENT_EXPORTS_SIZED, 70);
    assertThat(processor.droppedCount()).isZero();
    gate.complete(null);
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(server.spanCount()).isEqualTo(230);
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void exportsInFlightStayAtFourInFrontOfAnExporterThatReportsNoSizes() {
    GatedSpanExporter exporter = new GatedSpanExporter(false);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxQueueSize(256)
            .maxExportBatchSize(BATCH)
            .maxInFlightBytes(1) // not applied: this exporter reports no sizes
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    endSpans(provider.get("test"), 200);
    awaitSteady(processor, Otlp4jBatchProcessorBuilder.DEFAULT_MAX_CONCURRENT_EXPORTS, 160);
    assertThat(processor.inFlightBytes()).isZero();
    exporter.openGate();
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(200);
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void spansOfAnExportInFlightAreNotReferencedByTheProcessor() {
    List<WeakReference<ReadableSpan>> ended = new CopyOnWriteArrayList<>();
    AtomicInteger exports = new AtomicInteger();
    SpanExporter neverAnswersKeepsNothing =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            exports.incrementAndGet();
            return new CompletableResultCode();
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
          }
        };
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(neverAnswersKeepsNothing)
            .maxExportBatchSize(BATCH)
            .exporterTimeout(Duration.ofHours(1))
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .addSpanProcessor(new WeakRecorder(ended))
            .addSpanProcessor(processor)
            .build();
    endSpans(provider.get("test"), BATCH);
    await().atMost(WAIT).until(() -> exports.get() == 1 && processor.inFlightCount() == 1);

    await()
        .atMost(WAIT)
        .until(
            () -> {
              System.gc();
              return ended.stream().allMatch(r -> r.get() == null);
            });
    assertThat(ended).hasSize(BATCH);
    assertThat(processor.inFlightCount()).isEqualTo(1); // still in flight: never answered
    provider.shutdown(); // the export never answers: shutdown's result would wait, not needed
  }

  @Test
  void maxInFlightBytesMustBePositive() {
    GatedSpanExporter exporter = new GatedSpanExporter(true);
    assertThatThrownBy(() -> Otlp4jBatchSpanProcessor.builder(exporter).maxInFlightBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxInFlightBytes");
  }

  /** Records a weak reference to every ended span. */
  private static final class WeakRecorder implements SpanProcessor {
    private final List<WeakReference<ReadableSpan>> ended;

    WeakRecorder(List<WeakReference<ReadableSpan>> ended) {
      this.ended = ended;
    }

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {}

    @Override
    public boolean isStartRequired() {
      return false;
    }

    @Override
    public void onEnd(ReadableSpan span) {
      ended.add(new WeakReference<>(span));
    }

    @Override
    public boolean isEndRequired() {
      return true;
    }
  }
}
