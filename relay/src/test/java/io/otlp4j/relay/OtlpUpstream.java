package io.otlp4j.relay;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A scriptable OTLP/gRPC upstream for relay tests: a real grpc-java server on the official
 * opentelemetry-proto stubs (all three services), which decodes every request with the official
 * classes and records it once it answers OK.
 *
 * <p>Scripts: {@link #failWith} answers every call with a chosen status; {@link #delay} answers after
 * a delay; {@link #hold} keeps calls unanswered until {@link #release}; {@link #stop} takes the server
 * down and {@link #start} brings it back on the same port. A call the client cancelled (its deadline
 * passed) is not recorded. Thread-safe.
 */
final class OtlpUpstream implements AutoCloseable {
  final Queue<ExportTraceServiceRequest> traces = new ConcurrentLinkedQueue<>();
  final Queue<ExportMetricsServiceRequest> metrics = new ConcurrentLinkedQueue<>();
  final Queue<ExportLogsServiceRequest> logs = new ConcurrentLinkedQueue<>();
  /** Every call that reached a handler, answered or not. */
  final AtomicInteger calls = new AtomicInteger();

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "upstream-timer");
    t.setDaemon(true);
    return t;
  });
  private final AtomicInteger held = new AtomicInteger();
  private volatile Status failure;
  private volatile Duration delay = Duration.ZERO;
  private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
  private volatile Server server;
  private volatile int port;

  private OtlpUpstream() {}

  /** An upstream listening on a free port of 127.0.0.1. */
  static OtlpUpstream started() {
    OtlpUpstream upstream = new OtlpUpstream();
    upstream.start();
    return upstream;
  }

  /** Starts (again) on the port of the first start: an upstream that was down comes back where it was. */
  synchronized void start() {
    if (server != null) {
      throw new IllegalStateException("already running");
    }
    try {
      server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
          .maxInboundMessageSize(256 * 1024 * 1024)
          .addService(new TraceServiceGrpc.TraceServiceImplBase() {
            @Override
            public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
              handle(request, ExportTraceServiceResponse.getDefaultInstance(), out, traces);
            }
          })
          .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
            @Override
            public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> out) {
              handle(request, ExportMetricsServiceResponse.getDefaultInstance(), out, metrics);
            }
          })
          .addService(new LogsServiceGrpc.LogsServiceImplBase() {
            @Override
            public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> out) {
              handle(request, ExportLogsServiceResponse.getDefaultInstance(), out, logs);
            }
          })
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the upstream to port " + port, e);
    }
    port = server.getPort();
  }

  /** Takes the server down: calls in flight are cancelled, new connections are refused. */
  synchronized void stop() throws InterruptedException {
    Server s = server;
    server = null;
    if (s != null) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Answers every later call with {@code status} (null: answer OK again). */
  void failWith(Status status) {
    failure = status;
  }

  /** Answers every later call after {@code d}. */
  void delay(Duration d) {
    delay = d;
  }

  /** Leaves every later call unanswered until {@link #release}. */
  void hold() {
    gate = new CompletableFuture<>();
  }

  /** Answers the held calls, and later ones at once. */
  void release() {
    CompletableFuture<Void> g = gate;
    gate = CompletableFuture.completedFuture(null);
    g.complete(null);
  }

  /** Calls waiting for {@link #release}. */
  int heldCount() {
    return held.get();
  }

  String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  private <Q, R> void handle(Q request, R response, StreamObserver<R> out, Queue<Q> record) {
    calls.incrementAndGet();
    Status fail = failure;
    if (fail != null) {
      out.onError(fail.asRuntimeException());
      return;
    }
    ServerCallStreamObserver<R> call = (ServerCallStreamObserver<R>) out;
    Runnable answer = () -> {
      if (call.isCancelled()) {
        return; // the client gave up: it will send again, so this copy does not count
      }
      try {
        record.add(request);
        out.onNext(response);
        out.onCompleted();
      } catch (StatusRuntimeException cancelled) {
        record.remove(request);
      }
    };
    CompletableFuture<Void> g = gate;
    Duration d = delay;
    if (!g.isDone()) {
      held.incrementAndGet();
      g.thenRunAsync(() -> {
        held.decrementAndGet();
        answer.run();
      }, timer);
    } else if (!d.isZero()) {
      timer.schedule(answer, d.toNanos(), TimeUnit.NANOSECONDS);
    } else {
      answer.run();
    }
  }

  /** Every span received, in arrival order. */
  List<Span> spans() {
    return traces.stream().flatMap(r -> r.getResourceSpansList().stream())
        .flatMap(rs -> rs.getScopeSpansList().stream()).flatMap(ss -> ss.getSpansList().stream()).toList();
  }

  /** How often each span name arrived. */
  Map<String, Long> spanNameCounts() {
    return spans().stream().collect(Collectors.groupingBy(Span::getName, Collectors.counting()));
  }

  /** Every log record received. */
  List<LogRecord> logRecords() {
    return logs.stream().flatMap(r -> r.getResourceLogsList().stream())
        .flatMap(rl -> rl.getScopeLogsList().stream()).flatMap(sl -> sl.getLogRecordsList().stream()).toList();
  }

  /** How often each log record body (a string) arrived. */
  Map<String, Long> logBodyCounts() {
    return logRecords().stream().collect(Collectors.groupingBy(r -> r.getBody().getStringValue(),
        Collectors.counting()));
  }

  /** Data points received, over every metric type. */
  long metricPoints() {
    return metrics.stream().flatMap(r -> r.getResourceMetricsList().stream())
        .flatMap(rm -> rm.getScopeMetricsList().stream()).flatMap(sm -> sm.getMetricsList().stream())
        .mapToLong(OtlpUpstream::points).sum();
  }

  /** How often each metric name arrived (one count per data point). */
  Map<String, Long> metricPointCounts() {
    return metrics.stream().flatMap(r -> r.getResourceMetricsList().stream())
        .flatMap(rm -> rm.getScopeMetricsList().stream()).flatMap(sm -> sm.getMetricsList().stream())
        .collect(Collectors.groupingBy(Metric::getName, Collectors.summingLong(OtlpUpstream::points)));
  }

  static long points(Metric m) {
    return switch (m.getDataCase()) {
      case GAUGE -> m.getGauge().getDataPointsCount();
      case SUM -> m.getSum().getDataPointsCount();
      case HISTOGRAM -> m.getHistogram().getDataPointsCount();
      case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
      case SUMMARY -> m.getSummary().getDataPointsCount();
      default -> 0;
    };
  }

  /** Names that arrived more than once. */
  static <K> Map<K, Long> duplicates(Map<K, Long> counts) {
    return counts.entrySet().stream().filter(e -> e.getValue() != 1)
        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
  }

  static Map<String, Long> onceEach(java.util.Collection<String> names) {
    return names.stream().collect(Collectors.toMap(Function.identity(), n -> 1L));
  }

  @Override
  public void close() throws InterruptedException {
    release();
    stop();
    timer.shutdownNow();
  }
}
