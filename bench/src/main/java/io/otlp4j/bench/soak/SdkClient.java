package io.otlp4j.bench.soak;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The OpenTelemetry Java SDK as a client: a tracer whose spans each carry a unique {@value
 * Ledger#ID_ATTRIBUTE}, a {@link BatchSpanProcessor} (batches of {@value #BATCH} spans, one export
 * at a time) and the SDK's own OTLP/gRPC exporter with its retry policy (5 attempts, 0.5 to 5 s
 * apart, every I/O error retried, those that may have reached the relay counted), sending to the
 * relay's gRPC port. A wrapper records the ids of every batch whose export the SDK reports a
 * success for: those were acknowledged by the relay.
 *
 * <p>Spans are made on one timer thread at a steady rate. Thread-safe.
 */
final class SdkClient implements AutoCloseable {
  static final int BATCH = 100;
  private static final AttributeKey<Long> ID = AttributeKey.longKey(Ledger.ID_ATTRIBUTE);
  private static final AttributeKey<String> PAYLOAD = AttributeKey.stringKey("soak.payload");
  private static final String FILLER = "x".repeat(200);

  private final Ledger ledger;
  private final SdkTracerProvider provider;
  private final Tracer tracer;
  private final ScheduledExecutorService timer;
  private final AtomicLong exportFailures = new AtomicLong();
  private final AtomicLong ambiguousFailures = new AtomicLong();
  private double owed;

  SdkClient(Ledger ledger, int grpcPort, int spansPerSecond) {
    this.ledger = ledger;
    SpanExporter otlp =
        OtlpGrpcSpanExporter.builder()
            .setEndpoint("http://127.0.0.1:" + grpcPort)
            .setTimeout(Duration.ofSeconds(10))
            .setRetryPolicy(
                RetryPolicy.builder()
                    .setMaxAttempts(5)
                    .setInitialBackoff(Duration.ofMillis(500))
                    .setMaxBackoff(Duration.ofSeconds(5))
                    .setRetryExceptionPredicate(this::retryAfter)
                    .build())
            .build();
    provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(AttributeKey.stringKey("service.name"), "soak-sdk"))))
            .addSpanProcessor(
                BatchSpanProcessor.builder(new Acknowledging(otlp))
                    .setMaxExportBatchSize(BATCH)
                    .setMaxQueueSize(8192)
                    .setScheduleDelay(Duration.ofMillis(200))
                    .setExporterTimeout(Duration.ofSeconds(90))
                    .build())
            .build();
    tracer = provider.get("io.otlp4j.bench.soak");
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "soak-sdk-spans");
              t.setDaemon(true);
              return t;
            });
    double perTick = spansPerSecond / 50.0;
    timer.scheduleAtFixedRate(() -> tick(perTick), 20, 20, TimeUnit.MILLISECONDS);
  }

  private void tick(double perTick) {
    owed += perTick;
    while (owed >= 1) {
      owed--;
      tracer
          .spanBuilder("soak-op")
          .setAttribute(ID, ledger.nextSdkId())
          .setAttribute(PAYLOAD, FILLER)
          .startSpan()
          .end();
    }
  }

  /**
   * The SDK's retry policy: every I/O failure is retried. One that is not a refused connection may
   * have reached the relay, which may have stored the batch: its retry may be a duplicate, counted.
   */
  private boolean retryAfter(java.io.IOException e) {
    if (!(e instanceof java.net.ConnectException)) {
      ambiguousFailures.incrementAndGet();
    }
    return true;
  }

  /** Attempts that failed with an I/O error other than a refused connection (maybe delivered). */
  long ambiguousFailures() {
    return ambiguousFailures.get();
  }

  /** Exports (each a batch after all its retries) that the SDK reported as failed. */
  long exportFailures() {
    return exportFailures.get();
  }

  /** Stops making spans. */
  void stopSpans() throws InterruptedException {
    timer.shutdown();
    timer.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** Stops making spans, flushes what the processor holds (up to two minutes) and shuts down. */
  @Override
  public void close() throws InterruptedException {
    stopSpans();
    provider.forceFlush().join(120, TimeUnit.SECONDS);
    provider.shutdown().join(30, TimeUnit.SECONDS);
  }

  /** Records the ids of each batch the wrapped exporter succeeded with. */
  private final class Acknowledging implements SpanExporter {
    private final SpanExporter delegate;

    Acknowledging(SpanExporter delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      long[] ids = new long[spans.size()];
      int i = 0;
      for (SpanData span : spans) {
        Long id = span.getAttributes().get(ID);
        ids[i++] = id == null ? -1 : id;
      }
      CompletableResultCode result = delegate.export(spans);
      result.whenComplete(
          () -> {
            if (result.isSuccess()) {
              ledger.sdkAcknowledged(ids);
            } else {
              exportFailures.incrementAndGet();
            }
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }
}
