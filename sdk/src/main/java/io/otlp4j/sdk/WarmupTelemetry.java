package io.otlp4j.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongUpDownCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.ReadWriteLogRecord;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.CollectionRegistration;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Synthetic telemetry for {@link ExporterWarmup}: made by private instances of the SDK's own
 * providers, so that the marshaler is compiled for the SDK's real data classes ({@code
 * toSpanData()}'s, the metric storage's, {@code toLogRecordData()}'s) and not for a stand-in that
 * the application's data would later deoptimize. The shapes cover every attribute type, events,
 * links, statuses, span kinds, trace context on logs, and sums, gauges and histograms.
 *
 * <p>Nothing made here leaves the process: the providers have no exporter, only a processor or
 * reader that keeps what they produce, and are shut down before this returns.
 *
 * <p>Stateless; thread-safe.
 */
final class WarmupTelemetry {

  /** Items per synthetic batch: the batch processors' default batch size. */
  static final int BATCH = 512;

  private static final Resource RESOURCE =
      Resource.create(
          Attributes.builder()
              .put("service.name", "otlp4j-warmup")
              .put("service.instance.id", "warmup")
              .put("process.pid", 1L)
              .build());
  private static final String SCOPE = "io.otlp4j.sdk.warmup";
  private static final AttributeKey<String> ROUTE = AttributeKey.stringKey("http.route");
  private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.status_code");
  private static final AttributeKey<Double> RATIO = AttributeKey.doubleKey("app.ratio");
  private static final AttributeKey<Boolean> HIT = AttributeKey.booleanKey("app.cache_hit");
  private static final AttributeKey<List<String>> TAGS = AttributeKey.stringArrayKey("app.tags");
  private static final AttributeKey<List<Long>> IDS = AttributeKey.longArrayKey("app.ids");

  private WarmupTelemetry() {}

  private static Attributes attributes(int i) {
    return Attributes.builder()
        .put(ROUTE, "/api/v1/items/{id}")
        .put("url.path", "/api/v1/items/" + i)
        .put(STATUS, 200L + (i % 5 == 0 ? 300 : 0))
        .put(RATIO, i / 7.0)
        .put(HIT, (i & 1) == 0)
        .put(TAGS, List.of("a", "b"))
        .put(IDS, List.of((long) i, i + 1L))
        .build();
  }

  /** {@link #BATCH} ended spans, as {@code ReadableSpan.toSpanData()} makes them. */
  static List<SpanData> spans() {
    List<SpanData> out = new ArrayList<>(BATCH);
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(RESOURCE)
            .addSpanProcessor(
                new SpanProcessor() {
                  @Override
                  public void onStart(Context parentContext, ReadWriteSpan span) {}

                  @Override
                  public boolean isStartRequired() {
                    return false;
                  }

                  @Override
                  public void onEnd(ReadableSpan span) {
                    out.add(span.toSpanData());
                  }

                  @Override
                  public boolean isEndRequired() {
                    return true;
                  }
                })
            .build();
    try {
      Tracer[] tracers = {provider.get(SCOPE), provider.get(SCOPE + ".client", "1.0")};
      SpanKind[] kinds = SpanKind.values();
      Span parent = null;
      for (int i = 0; out.size() < BATCH; i++) {
        var builder =
            tracers[i & 1]
                .spanBuilder(i % 3 == 0 ? "GET /api/v1/items/{id}" : "SELECT items")
                .setSpanKind(kinds[i % kinds.length])
                .setAllAttributes(attributes(i));
        if (parent != null && i % 4 != 0) {
          builder.setParent(Context.root().with(parent));
        }
        if (parent != null && i % 16 == 1) {
          builder.addLink(parent.getSpanContext(), Attributes.of(HIT, true));
        }
        Span span = builder.startSpan();
        if (i % 8 == 0) {
          span.addEvent("cache.miss", Attributes.of(ROUTE, "/items", STATUS, (long) i));
        }
        if (i % 10 == 0) {
          span.setStatus(StatusCode.ERROR, "synthetic");
        } else if (i % 10 == 1) {
          span.setStatus(StatusCode.OK);
        }
        span.end();
        if (i % 4 == 0) {
          parent = span;
        }
      }
    } finally {
      provider.shutdown().join(1, TimeUnit.SECONDS);
    }
    return out;
  }

  /** {@link #BATCH} log records, as {@code ReadWriteLogRecord.toLogRecordData()} makes them. */
  static List<LogRecordData> logs() {
    List<LogRecordData> out = new ArrayList<>(BATCH);
    LogRecordProcessor keep = (context, record) -> out.add(keepData(record));
    SdkLoggerProvider provider =
        SdkLoggerProvider.builder().setResource(RESOURCE).addLogRecordProcessor(keep).build();
    SdkTracerProvider tracing = SdkTracerProvider.builder().setResource(RESOURCE).build();
    try {
      Logger[] loggers = {provider.get(SCOPE), provider.get(SCOPE + ".audit")};
      Severity[] severities = {Severity.INFO, Severity.WARN, Severity.DEBUG, Severity.ERROR};
      Span span = tracing.get(SCOPE).spanBuilder("request").startSpan();
      Context traced = Context.root().with(span);
      for (int i = 0; out.size() < BATCH; i++) {
        Severity severity = severities[i % severities.length];
        var builder =
            loggers[i & 1]
                .logRecordBuilder()
                .setSeverity(severity)
                .setSeverityText(severity.name())
                .setBody("synthetic log line " + i + " for /api/v1/items/{id}")
                .setAllAttributes(attributes(i))
                .setTimestamp(1_700_000_000_000L + i, TimeUnit.MILLISECONDS);
        if ((i & 1) == 0) {
          builder.setContext(traced);
        }
        builder.emit();
      }
      span.end();
    } finally {
      provider.shutdown().join(1, TimeUnit.SECONDS);
      tracing.shutdown().join(1, TimeUnit.SECONDS);
    }
    return out;
  }

  private static LogRecordData keepData(ReadWriteLogRecord record) {
    return record.toLogRecordData();
  }

  /**
   * The metrics of a few sums, a gauge and a histogram recorded under many attribute sets, as the
   * SDK's metric storage collects them (cumulative).
   */
  static Collection<MetricData> metrics() {
    Reader reader = new Reader();
    SdkMeterProvider provider =
        SdkMeterProvider.builder().setResource(RESOURCE).registerMetricReader(reader).build();
    try {
      Meter meter = provider.get(SCOPE);
      LongCounter requests = meter.counterBuilder("http.server.requests").build();
      LongUpDownCounter active = meter.upDownCounterBuilder("http.server.active").build();
      DoubleHistogram duration =
          meter.histogramBuilder("http.server.duration").setUnit("s").build();
      var gauge = meter.gaugeBuilder("app.queue.fill").build();
      var bytes = meter.counterBuilder("app.bytes").ofDoubles().build();
      for (int i = 0; i < BATCH; i++) {
        Attributes a =
            Attributes.of(ROUTE, "/api/v1/items/" + (i % 64), STATUS, 200L + (i % 4) * 100L);
        requests.add(1 + i % 3, a);
        active.add((i & 1) == 0 ? 1 : -1, a);
        duration.record(i / 1000.0, a);
        gauge.set(i / 512.0, a);
        bytes.add(i * 1.5, a);
      }
      return reader.registration.collectAllMetrics();
    } finally {
      provider.shutdown().join(1, TimeUnit.SECONDS);
    }
  }

  /** A reader that only lets this class collect, once. */
  private static final class Reader implements MetricReader {
    volatile CollectionRegistration registration = CollectionRegistration.noop();

    @Override
    public void register(CollectionRegistration registration) {
      this.registration = registration;
    }

    @Override
    public AggregationTemporality getAggregationTemporality(InstrumentType instrumentType) {
      return AggregationTemporality.CUMULATIVE;
    }

    @Override
    public CompletableResultCode forceFlush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
