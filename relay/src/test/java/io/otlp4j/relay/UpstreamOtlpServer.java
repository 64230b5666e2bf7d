package io.otlp4j.relay;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
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
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A grpc-java OTLP server for all three signals on the official stubs, recording every request it
 * accepts. It can refuse requests with a gRPC status ({@link #failWith}), hold them until released
 * ({@link #hold}), and be started on a port that was chosen while it was down.
 */
final class UpstreamOtlpServer implements AutoCloseable {
  final ConcurrentLinkedQueue<ExportTraceServiceRequest> traces = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<ExportMetricsServiceRequest> metrics = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<ExportLogsServiceRequest> logs = new ConcurrentLinkedQueue<>();
  /** Requests that reached the server, whatever it answered. */
  final java.util.concurrent.atomic.AtomicInteger arrived = new java.util.concurrent.atomic.AtomicInteger();
  /** When set, every request is answered with this status and not recorded. */
  volatile Status failWith;
  /** When set, every request waits for it (at most 30 s) before it is answered. */
  volatile CountDownLatch hold;
  private final Server server;

  private UpstreamOtlpServer(int port) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
            answer(request, traces::add, response, ExportTraceServiceResponse.getDefaultInstance());
          }
        })
        .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
          @Override
          public void export(ExportMetricsServiceRequest request,
              StreamObserver<ExportMetricsServiceResponse> response) {
            answer(request, metrics::add, response, ExportMetricsServiceResponse.getDefaultInstance());
          }
        })
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> response) {
            answer(request, logs::add, response, ExportLogsServiceResponse.getDefaultInstance());
          }
        })
        .build()
        .start();
  }

  /** A server on any free port. */
  static UpstreamOtlpServer start() throws IOException {
    return new UpstreamOtlpServer(0);
  }

  /** A server on {@code port} (one from {@link #freePort()}, say, for an upstream that comes up late). */
  static UpstreamOtlpServer start(int port) throws IOException {
    return new UpstreamOtlpServer(port);
  }

  /** A port nothing listens on now. */
  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private <T, R> void answer(T request, Consumer<T> record, StreamObserver<R> response, R ok) {
    arrived.incrementAndGet();
    CountDownLatch h = hold;
    if (h != null) {
      try {
        h.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Status status = failWith;
    if (status != null) {
      response.onError(status.asRuntimeException());
      return;
    }
    record.accept(request);
    response.onNext(ok);
    response.onCompleted();
  }

  int port() {
    return server.getPort();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getPort();
  }

  List<Span> spans() {
    List<Span> out = new ArrayList<>();
    for (ExportTraceServiceRequest r : traces) {
      for (ResourceSpans rs : r.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          out.addAll(ss.getSpansList());
        }
      }
    }
    return out;
  }

  List<Metric> metrics() {
    List<Metric> out = new ArrayList<>();
    for (ExportMetricsServiceRequest r : metrics) {
      for (ResourceMetrics rm : r.getResourceMetricsList()) {
        for (ScopeMetrics sm : rm.getScopeMetricsList()) {
          out.addAll(sm.getMetricsList());
        }
      }
    }
    return out;
  }

  List<LogRecord> logRecords() {
    List<LogRecord> out = new ArrayList<>();
    for (ExportLogsServiceRequest r : logs) {
      for (ResourceLogs rl : r.getResourceLogsList()) {
        for (ScopeLogs sl : rl.getScopeLogsList()) {
          out.addAll(sl.getLogRecordsList());
        }
      }
    }
    return out;
  }

  @Override
  public void close() throws InterruptedException {
    CountDownLatch h = hold;
    if (h != null) {
      h.countDown();
    }
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
