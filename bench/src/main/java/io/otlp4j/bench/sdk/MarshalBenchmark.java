package io.otlp4j.bench.sdk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
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
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.internal.marshal.Marshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.logs.LowAllocationLogsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.LowAllocationMetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.metrics.MetricsRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.traces.LowAllocationTraceRequestMarshaler;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.otlp4j.sdk.internal.OtlpMarshaler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What it costs to turn one batch of the OpenTelemetry SDK's telemetry into the bytes of an OTLP
 * export request: otlp4j's {@link OtlpMarshaler} against the SDK's own marshalers from
 * opentelemetry-exporter-otlp-common, the {@code LowAllocation*RequestMarshaler} its exporters use
 * by default ({@code MemoryMode.REUSABLE_DATA}) and the object-tree {@code *RequestMarshaler}
 * ({@code IMMUTABLE_DATA}).
 *
 * <h2>What is measured</h2>
 *
 * One operation encodes one batch of 512 items, produced once at setup by a real SDK provider:
 *
 * <ul>
 *   <li>{@code TRACES}: 512 spans from a {@code SdkTracerProvider} — one resource (service, host,
 *       process and SDK attributes), two scopes, ten attributes per span, two or three events, a
 *       parent, and an error status on some;
 *   <li>{@code METRICS}: 512 data points from a {@code SdkMeterProvider} — counters, up-down
 *       counters and histograms, each with 128 attribute sets;
 *   <li>{@code LOGS}: 512 log records from a {@code SdkLoggerProvider} — string bodies, severity,
 *       five attributes and the trace context of a current span.
 * </ul>
 *
 * Every implementation writes into a reusable output that is cleared before each operation: otlp4j
 * into a heap {@code ByteBuf} ({@code otlp4j}) or into a new pooled buffer that is released ({@code
 * otlp4jPooled}, the path the exporters take); the SDK's into a {@code ByteArrayOutputStream} (the
 * low-allocation marshaler is reset and reused, as its exporters do). Run with {@code -prof gc} and
 * read {@code gc.alloc.rate.norm} for the bytes allocated per batch.
 *
 * <h2>How to run</h2>
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar MarshalBenchmark -prof gc
 * # quick smoke run:
 * java -jar bench/target/benchmarks.jar MarshalBenchmark -f 1 -wi 1 -i 2 -w 1s -r 1s -prof gc
 * </pre>
 *
 * The goal: otlp4j faster than {@code sdkLowAllocation} and fewer bytes allocated per batch.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class MarshalBenchmark {
  static final int ITEMS = 512;

  public enum Signal {
    TRACES,
    METRICS,
    LOGS
  }

  @Param({"TRACES", "METRICS", "LOGS"})
  public Signal signal;

  @Param({"otlp4j", "otlp4jPooled", "sdkLowAllocation", "sdk"})
  public String marshaler;

  private List<SpanData> spans;
  private List<MetricData> metrics;
  private List<LogRecordData> logs;

  private ByteBuf heap;
  private final ByteArrayOutputStream stream = new ByteArrayOutputStream(1 << 20);
  private final LowAllocationTraceRequestMarshaler lowTraces =
      new LowAllocationTraceRequestMarshaler();
  private final LowAllocationMetricsRequestMarshaler lowMetrics =
      new LowAllocationMetricsRequestMarshaler();
  private final LowAllocationLogsRequestMarshaler lowLogs = new LowAllocationLogsRequestMarshaler();

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    heap = Unpooled.buffer(1 << 20);
    switch (signal) {
      case TRACES:
        spans = realisticSpans(ITEMS);
        break;
      case METRICS:
        metrics = realisticMetrics(ITEMS);
        break;
      default:
        logs = realisticLogs(ITEMS);
        break;
    }
    stream.reset();
    encode();
    System.out.printf(
        "%n%s %s: %d items, %d bytes per request%n",
        signal, marshaler, ITEMS, Math.max(heap.readableBytes(), stream.size()));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    heap.release();
  }

  @Benchmark
  public int encode() throws IOException {
    switch (signal) {
      case TRACES:
        switch (marshaler) {
          case "otlp4j":
            heap.clear();
            return OtlpMarshaler.encodeSpans(spans, heap);
          case "otlp4jPooled":
            return releaseReturningSize(
                OtlpMarshaler.encodeSpans(spans, PooledByteBufAllocator.DEFAULT));
          case "sdkLowAllocation":
            lowTraces.initialize(spans);
            try {
              return write(lowTraces);
            } finally {
              lowTraces.reset();
            }
          default:
            return write(TraceRequestMarshaler.create(spans));
        }
      case METRICS:
        switch (marshaler) {
          case "otlp4j":
            heap.clear();
            return OtlpMarshaler.encodeMetrics(metrics, heap);
          case "otlp4jPooled":
            return releaseReturningSize(
                OtlpMarshaler.encodeMetrics(metrics, PooledByteBufAllocator.DEFAULT));
          case "sdkLowAllocation":
            lowMetrics.initialize(metrics);
            try {
              return write(lowMetrics);
            } finally {
              lowMetrics.reset();
            }
          default:
            return write(MetricsRequestMarshaler.create(metrics));
        }
      default:
        switch (marshaler) {
          case "otlp4j":
            heap.clear();
            return OtlpMarshaler.encodeLogs(logs, heap);
          case "otlp4jPooled":
            return releaseReturningSize(
                OtlpMarshaler.encodeLogs(logs, PooledByteBufAllocator.DEFAULT));
          case "sdkLowAllocation":
            lowLogs.initialize(logs);
            try {
              return write(lowLogs);
            } finally {
              lowLogs.reset();
            }
          default:
            return write(LogsRequestMarshaler.create(logs));
        }
    }
  }

  private int write(Marshaler m) throws IOException {
    stream.reset();
    m.writeBinaryTo(stream);
    return stream.size();
  }

  private static int releaseReturningSize(ByteBuf buf) {
    int size = buf.readableBytes();
    buf.release();
    return size;
  }

  // ---------------------------------------------------------------- realistic data from the real
  // SDK

  static Resource resource() {
    return Resource.getDefault()
        .merge(
            Resource.create(
                Attributes.builder()
                    .put("service.name", "checkout")
                    .put("service.version", "2.14.3")
                    .put("service.instance.id", "6f1c1f0e-8d4b-4d7e-9a59-0c8f3b1e2a77")
                    .put("deployment.environment.name", "production")
                    .put("host.name", "ip-10-0-12-34.eu-west-1.compute.internal")
                    .put("host.arch", "amd64")
                    .put("process.pid", 4242L)
                    .put("process.runtime.name", "OpenJDK Runtime Environment")
                    .build()));
  }

  /** {@code n} finished spans of a realistic shape, as a {@code SdkTracerProvider} records them. */
  static List<SpanData> realisticSpans(int n) {
    InMemorySpanExporter exporter = InMemorySpanExporter.create();
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(resource())
            .addSpanProcessor(SimpleSpanProcessor.create(exporter))
            .build();
    try {
      Tracer http =
          provider
              .tracerBuilder("io.opentelemetry.netty-4.1")
              .setInstrumentationVersion("2.10.0")
              .build();
      Tracer jdbc =
          provider
              .tracerBuilder("io.opentelemetry.jdbc")
              .setInstrumentationVersion("2.10.0")
              .build();
      for (int i = 0; i < n; i += 2) {
        Span server =
            http.spanBuilder("GET /api/orders/{id}")
                .setSpanKind(SpanKind.SERVER)
                .setAttribute("http.request.method", "GET")
                .setAttribute("http.route", "/api/orders/{id}")
                .setAttribute("url.path", "/api/orders/" + (100000 + i))
                .setAttribute("url.scheme", "https")
                .setAttribute("server.address", "shop.example.com")
                .setAttribute("server.port", 443L)
                .setAttribute("client.address", "203.0.113." + (i % 250))
                .setAttribute(
                    "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36")
                .setAttribute("network.protocol.version", "1.1")
                .setAttribute("http.response.status_code", i % 17 == 0 ? 500L : 200L)
                .startSpan();
        server.addEvent("request.received", Attributes.of(AttributeKey.longKey("bytes"), 512L + i));
        Span query =
            jdbc.spanBuilder("SELECT orders")
                .setSpanKind(SpanKind.CLIENT)
                .setParent(Context.current().with(server))
                .setAttribute("db.system", "postgresql")
                .setAttribute("db.namespace", "orders")
                .setAttribute("db.operation.name", "SELECT")
                .setAttribute("db.query.text", "SELECT id, status, total FROM orders WHERE id = ?")
                .setAttribute("server.address", "orders-db.internal")
                .setAttribute("server.port", 5432L)
                .setAttribute("db.response.returned_rows", (long) (i % 5))
                .setAttribute("thread.name", "http-nio-8080-exec-" + (i % 16))
                .setAttribute("thread.id", 40L + i % 16)
                .setAttribute("code.function", "OrderRepository.findById")
                .startSpan();
        query
            .addEvent("connection.acquired")
            .addEvent(
                "statement.executed", Attributes.of(AttributeKey.longKey("rows"), (long) (i % 5)));
        query.end();
        if (i % 17 == 0) {
          server.recordException(new IllegalStateException("order " + i + " not found"));
          server.setStatus(StatusCode.ERROR, "order not found");
        }
        server.addEvent("response.sent");
        server.end();
      }
      List<SpanData> spans = new ArrayList<>(exporter.getFinishedSpanItems());
      return spans.subList(0, n);
    } finally {
      provider.close();
    }
  }

  /**
   * {@code n} data points from counters, up-down counters and histograms of a {@code
   * SdkMeterProvider}.
   */
  static List<MetricData> realisticMetrics(int n) {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    SdkMeterProvider provider =
        SdkMeterProvider.builder().setResource(resource()).registerMetricReader(reader).build();
    try {
      Meter meter =
          provider
              .meterBuilder("io.opentelemetry.netty-4.1")
              .setInstrumentationVersion("2.10.0")
              .build();
      LongCounter requests =
          meter.counterBuilder("http.server.requests").setUnit("{request}").build();
      LongUpDownCounter active =
          meter.upDownCounterBuilder("http.server.active_requests").setUnit("{request}").build();
      DoubleHistogram duration =
          meter.histogramBuilder("http.server.request.duration").setUnit("s").build();
      int setsPerInstrument = n / 4;
      for (int i = 0; i < setsPerInstrument; i++) {
        Attributes attributes =
            Attributes.builder()
                .put("http.request.method", i % 2 == 0 ? "GET" : "POST")
                .put("http.route", "/api/route/" + i)
                .put("http.response.status_code", 200L + (i % 3) * 100L)
                .put("url.scheme", "https")
                .build();
        requests.add(i + 1, attributes);
        active.add(i % 7 - 3, attributes);
        for (int r = 0; r < 20; r++) {
          duration.record(0.001 * (r * 37 % 1000), attributes);
        }
      }
      // A fourth instrument's worth of points from a second histogram.
      DoubleHistogram size =
          meter.histogramBuilder("http.server.response.body.size").setUnit("By").build();
      for (int i = 0; i < setsPerInstrument; i++) {
        size.record(
            100.0 * i, Attributes.of(AttributeKey.stringKey("http.route"), "/api/route/" + i));
      }
      Collection<MetricData> collected = reader.collectAllMetrics();
      return new ArrayList<>(collected);
    } finally {
      provider.close();
    }
  }

  /** {@code n} log records from a {@code SdkLoggerProvider}, emitted inside a span. */
  @SuppressWarnings("try") // the scope only makes a span current
  static List<LogRecordData> realisticLogs(int n) {
    InMemoryLogRecordExporter exporter = InMemoryLogRecordExporter.create();
    SdkLoggerProvider provider =
        SdkLoggerProvider.builder()
            .setResource(resource())
            .addLogRecordProcessor(SimpleLogRecordProcessor.create(exporter))
            .build();
    SdkTracerProvider tracerProvider = SdkTracerProvider.builder().build();
    try {
      Logger logger = provider.loggerBuilder("com.example.checkout.OrderService").build();
      Span span = tracerProvider.get("t").spanBuilder("work").startSpan();
      try (Scope ignored = span.makeCurrent()) {
        for (int i = 0; i < n; i++) {
          logger
              .logRecordBuilder()
              .setSeverity(i % 10 == 0 ? Severity.WARN : Severity.INFO)
              .setSeverityText(i % 10 == 0 ? "WARN" : "INFO")
              .setBody(
                  "Order "
                      + (100000 + i)
                      + " processed in "
                      + (i % 97)
                      + " ms for customer c-"
                      + (i % 1000))
              .setAttribute(AttributeKey.stringKey("thread.name"), "http-nio-8080-exec-" + (i % 16))
              .setAttribute(AttributeKey.longKey("thread.id"), 40L + i % 16)
              .setAttribute(
                  AttributeKey.stringKey("code.namespace"), "com.example.checkout.OrderService")
              .setAttribute(AttributeKey.stringKey("code.function"), "process")
              .setAttribute(AttributeKey.longKey("order.items"), (long) (i % 9))
              .emit();
        }
      } finally {
        span.end();
      }
      return new ArrayList<>(exporter.getFinishedLogRecordItems());
    } finally {
      provider.close();
      tracerProvider.close();
    }
  }
}
