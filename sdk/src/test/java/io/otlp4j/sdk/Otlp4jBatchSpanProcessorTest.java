package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class Otlp4jBatchSpanProcessorTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private static Tracer tracer(SdkTracerProvider provider) {
    return provider.get("test");
  }

  private static void endSpans(Tracer tracer, int n) {
    for (int i = 0; i < n; i++) {
      tracer.spanBuilder("span-" + i).startSpan().end();
    }
  }

  @Test
  void fullQueueDropsNewestAndCountsThemInTheMeterProvider() {
    GatedSpanExporter exporter = new GatedSpanExporter(false);
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    SdkMeterProvider meters = SdkMeterProvider.builder().registerMetricReader(reader).build();
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxQueueSize(8)
            .maxExportBatchSize(8)
            .maxConcurrentExports(1)
            .scheduleDelay(Duration.ofHours(1))
            .meterProvider(meters)
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    Tracer tracer = tracer(provider);

    endSpans(tracer, 8); // a full batch: goes at once and stays in flight (gate closed)
    await().atMost(WAIT).until(() -> exporter.batches.size() == 1);
    endSpans(tracer, 8); // fills the queue: no permit for a second export
    endSpans(tracer, 5); // no room
    assertThat(processor.droppedCount()).isEqualTo(5);
    assertThat(processor.queuedCount()).isEqualTo(8);

    exporter.openGate();
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(16);
    assertThat(processor.exportedCount()).isEqualTo(16);

    Map<Boolean, Long> processed = processedSpans(reader.collectAllMetrics());
    assertThat(processed).containsEntry(true, 5L).containsEntry(false, 16L);
    provider.shutdown().join(10, TimeUnit.SECONDS);
    meters.shutdown();
  }

  private static Map<Boolean, Long> processedSpans(java.util.Collection<MetricData> metrics) {
    MetricData processed =
        metrics.stream()
            .filter(m -> m.getName().equals("processedSpans"))
            .findFirst()
            .orElseThrow();
    java.util.HashMap<Boolean, Long> out = new java.util.HashMap<>();
    for (LongPointData p : processed.getLongSumData().getPoints()) {
      assertThat(p.getAttributes().get(AttributeKey.stringKey("processorType")))
          .isEqualTo("Otlp4jBatchSpanProcessor");
      out.put(p.getAttributes().get(AttributeKey.booleanKey("dropped")), p.getValue());
    }
    return out;
  }

  @Test
  void exportsInFlightNeverExceedMaxConcurrentExports() {
    GatedSpanExporter exporter = new GatedSpanExporter(false);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxQueueSize(1024)
            .maxExportBatchSize(10)
            .maxConcurrentExports(3)
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();

    endSpans(tracer(provider), 100);
    await().atMost(WAIT).until(() -> exporter.inFlight.get() == 3);
    assertThat(processor.inFlightCount()).isEqualTo(3);
    assertThat(exporter.batches).hasSize(3); // the rest wait for a permit, not for the exporter

    exporter.openGate();
    assertThat(processor.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(100);
    assertThat(exporter.maxInFlight.get()).isEqualTo(3);
    assertThat(exporter.batches).allSatisfy(b -> assertThat(b).hasSizeLessThanOrEqualTo(10));
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void forceFlushExportsEverythingQueuedWithoutWaitingForTheScheduleDelay() {
    GatedSpanExporter exporter = new GatedSpanExporter(true);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter).scheduleDelay(Duration.ofHours(1)).build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();

    endSpans(tracer(provider), 100);
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(100);
    assertThat(exporter.batches.stream().flatMap(List::stream).map(SpanData::getName).distinct())
        .hasSize(100);
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void shutdownExportsWhatIsQueuedThenShutsTheExporterDownAndRefusesNewSpans() {
    GatedSpanExporter exporter = new GatedSpanExporter(true);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter).scheduleDelay(Duration.ofHours(1)).build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    Tracer tracer = tracer(provider);
    endSpans(tracer, 300);

    assertThat(processor.shutdown().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(300);
    assertThat(exporter.shutdownCalled).isTrue();
    assertThat(processor.shutdown().isSuccess()).as("idempotent").isTrue();

    processor.onEnd(
        (io.opentelemetry.sdk.trace.ReadableSpan) tracer.spanBuilder("late").startSpan());
    assertThat(processor.droppedCount()).isEqualTo(1);
  }

  @Test
  void shutdownThatCannotDrainInTimeFailsAndDropsTheRest() {
    GatedSpanExporter exporter = new GatedSpanExporter(false);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxExportBatchSize(10)
            .maxConcurrentExports(1)
            .scheduleDelay(Duration.ofHours(1))
            .exporterTimeout(Duration.ofHours(1))
            .shutdownTimeout(Duration.ofMillis(200))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    endSpans(tracer(provider), 50);

    assertThat(processor.shutdown().join(10, TimeUnit.SECONDS).isSuccess()).isFalse();
    assertThat(exporter.shutdownCalled).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(10); // one batch in flight, the gate never opened
  }

  @Test
  void anExportWithoutAnswerGivesItsSlotBackAfterTheExporterTimeout() {
    GatedSpanExporter exporter = new GatedSpanExporter(false);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxExportBatchSize(5)
            .maxConcurrentExports(1)
            .scheduleDelay(Duration.ofHours(1))
            .exporterTimeout(Duration.ofMillis(50))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    endSpans(tracer(provider), 10);

    await().atMost(WAIT).until(() -> exporter.batches.size() == 2); // the second batch got the slot
    await().atMost(WAIT).until(() -> processor.failedCount() == 10);
    exporter.openGate();
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void unsampledSpansAreSkippedUnlessAskedFor() {
    GatedSpanExporter skipping = new GatedSpanExporter(true);
    GatedSpanExporter keeping = new GatedSpanExporter(true);
    Otlp4jBatchSpanProcessor skip = Otlp4jBatchSpanProcessor.builder(skipping).build();
    Otlp4jBatchSpanProcessor keep =
        Otlp4jBatchSpanProcessor.builder(keeping).exportUnsampledSpans(true).build();
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setSampler(Sampler.alwaysOff())
            .addSpanProcessor(skip)
            .addSpanProcessor(keep)
            .build();
    // alwaysOff does not record either: record-only spans need a sampler that records.
    SdkTracerProvider recording =
        SdkTracerProvider.builder()
            .setSampler(new RecordOnlySampler())
            .addSpanProcessor(skip)
            .addSpanProcessor(keep)
            .build();
    endSpans(tracer(provider), 3);
    endSpans(tracer(recording), 4);

    assertThat(recording.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(skipping.spanCount()).isZero();
    assertThat(keeping.spanCount()).isEqualTo(4);
    recording.shutdown().join(10, TimeUnit.SECONDS);
    provider.close();
  }

  @Test
  void environmentVariablesSetQueueBatchAndDelay() {
    GatedSpanExporter exporter = new GatedSpanExporter(true);
    Map<String, String> env =
        Map.of(
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "100",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "7",
            "OTEL_BSP_SCHEDULE_DELAY",
            "20",
            "OTEL_BSP_EXPORT_TIMEOUT",
            "1000");
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter).fromEnvironment(env::get).build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();

    assertThat(processor.capacity()).isEqualTo(128);
    endSpans(tracer(provider), 1);
    // No flush: the 20 ms schedule delay (the default is 5 s) sends the lone span.
    await().atMost(Duration.ofSeconds(4)).until(() -> exporter.spanCount() == 1);
    endSpans(tracer(provider), 30);
    assertThat(provider.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.spanCount()).isEqualTo(31);
    assertThat(exporter.batches).allSatisfy(b -> assertThat(b).hasSizeLessThanOrEqualTo(7));
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  @Test
  void malformedSettingsAreRefusedWithTheirName() {
    GatedSpanExporter exporter = new GatedSpanExporter(true);
    assertThatThrownBy(
            () ->
                Otlp4jBatchSpanProcessor.builder(exporter)
                    .fromEnvironment(Map.of("OTEL_BSP_MAX_QUEUE_SIZE", "lots")::get))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("OTEL_BSP_MAX_QUEUE_SIZE");
    assertThatThrownBy(() -> Otlp4jBatchSpanProcessor.builder(exporter).maxConcurrentExports(0))
        .hasMessageContaining("maxConcurrentExports");
    assertThatThrownBy(
            () -> Otlp4jBatchSpanProcessor.builder(exporter).scheduleDelay(Duration.ZERO))
        .hasMessageContaining("scheduleDelay");
  }

  @Test
  void batchLargerThanQueueIsClampedToTheQueueSize() {
    GatedSpanExporter exporter = new GatedSpanExporter(true);
    Otlp4jBatchSpanProcessor processor =
        Otlp4jBatchSpanProcessor.builder(exporter)
            .maxQueueSize(16)
            .maxExportBatchSize(512)
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(processor).build();
    endSpans(tracer(provider), 16); // a full queue is a full batch: goes without a flush
    await().atMost(WAIT).until(() -> exporter.spanCount() == 16);
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }

  /** Records every span without sampling it. */
  private static final class RecordOnlySampler implements Sampler {
    @Override
    public io.opentelemetry.sdk.trace.samplers.SamplingResult shouldSample(
        io.opentelemetry.context.Context parentContext,
        String traceId,
        String name,
        io.opentelemetry.api.trace.SpanKind spanKind,
        io.opentelemetry.api.common.Attributes attributes,
        List<io.opentelemetry.sdk.trace.data.LinkData> parentLinks) {
      return io.opentelemetry.sdk.trace.samplers.SamplingResult.recordOnly();
    }

    @Override
    public String getDescription() {
      return "recordOnly";
    }
  }
}
