package io.otlp4j.bench.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Measures the memory the SDK's own {@code BatchSpanProcessor} holds with a full default queue
 * (2048 spans), for the span shape of {@link SdkPipelineScenario}: the bound otlp4j's processor
 * keeps to (issue #18). Heap in use after a full GC, before and after: (1) 2048 × 10 ended spans
 * held as {@code ReadableSpan}s (what a queue holds), per span; (2) the same spans' {@code
 * SpanData} on top; (3) their OTLP encoding; (4) a real {@code BatchSpanProcessor} with default
 * settings in front of an exporter that never answers, after 10,000 spans ended: its full queue,
 * the batch it is exporting, and whatever else it holds.
 *
 * <pre>
 * java -XX:+UseSerialGC -cp bench/target/benchmarks.jar io.otlp4j.bench.sdk.SdkQueueMemoryProbe
 * </pre>
 */
public final class SdkQueueMemoryProbe {

  private static final AttributeKey<Long> ITEM = AttributeKey.longKey("app.item_id");
  private static final int SPANS = 2048 * 10;

  private SdkQueueMemoryProbe() {}

  public static void main(String[] args) {
    List<ReadableSpan> held = new ArrayList<>(SPANS);
    SdkTracerProvider collecting =
        provider(
            new SpanProcessor() {
              @Override
              public void onStart(Context parentContext, ReadWriteSpan span) {}

              @Override
              public boolean isStartRequired() {
                return false;
              }

              @Override
              public void onEnd(ReadableSpan span) {
                held.add(span);
              }

              @Override
              public boolean isEndRequired() {
                return true;
              }
            });
    Tracer tracer = collecting.get("io.otlp4j.bench");
    produce(tracer, 1000); // warm the classes up before the baseline
    held.clear();
    long base = usedAfterGc();
    produce(tracer, SPANS);
    long spans = usedAfterGc() - base;
    List<SpanData> data = new ArrayList<>(SPANS);
    for (ReadableSpan s : held) {
      data.add(s.toSpanData());
    }
    long withData = usedAfterGc() - base;
    long encoded = TraceRequestMarshaler.create(data).getBinarySerializedSize();
    double perSpan = (double) spans / SPANS;
    double perData = (double) (withData - spans) / SPANS;
    System.out.printf(
        Locale.ROOT,
        "ReadableSpan (queued): %.0f B/span; 2048 spans: %.0f B%n"
            + "SpanData on top: %.0f B/span%n"
            + "OTLP encoding: %.1f B/span (%d spans: %d B)%n",
        perSpan,
        perSpan * 2048,
        perData,
        (double) encoded / SPANS,
        SPANS,
        encoded);
    if (held.size() + data.size() == 0) {
      throw new AssertionError(); // keeps both lists reachable until here
    }
    held.clear();
    data.clear();
    collecting.close();

    SpanExporter neverAnswers =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
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
    long before = usedAfterGc();
    BatchSpanProcessor sdk = BatchSpanProcessor.builder(neverAnswers).build();
    SdkTracerProvider sdkProvider = provider(sdk);
    produce(sdkProvider.get("io.otlp4j.bench"), 10_000);
    long full = usedAfterGc() - before;
    System.out.printf(
        Locale.ROOT,
        "SDK BatchSpanProcessor, defaults, exporter never answers, 10,000 spans ended: %d B held%n",
        full);
    sdkProvider.shutdown();
  }

  private static SdkTracerProvider provider(SpanProcessor processor) {
    return SdkTracerProvider.builder()
        .setResource(
            Resource.getDefault()
                .merge(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "x"))))
        .addSpanProcessor(processor)
        .build();
  }

  private static void produce(Tracer tracer, int count) {
    for (long n = 0; n < count; n++) {
      tracer
          .spanBuilder("GET /api/v1/items/{id}")
          .setSpanKind(SpanKind.SERVER)
          .setAllAttributes(SdkPipelineScenario.SPAN_ATTRIBUTES)
          .setAttribute(ITEM, n)
          .startSpan()
          .end();
    }
  }

  private static long usedAfterGc() {
    for (int i = 0; i < 4; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
