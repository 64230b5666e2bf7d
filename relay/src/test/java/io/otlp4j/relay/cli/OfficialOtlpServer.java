package io.otlp4j.relay.cli;

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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A grpc-java OTLP server on the official stubs for all three signals, decoding every request with the
 * official message classes. It answers OK, or fails every call with {@link #failWith}, or never answers
 * when {@link #silent} is set.
 */
final class OfficialOtlpServer implements AutoCloseable {
  final ConcurrentLinkedQueue<ExportTraceServiceRequest> traces = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<ExportMetricsServiceRequest> metrics = new ConcurrentLinkedQueue<>();
  final ConcurrentLinkedQueue<ExportLogsServiceRequest> logs = new ConcurrentLinkedQueue<>();
  /** Every call, answered or not. */
  final AtomicInteger calls = new AtomicInteger();
  volatile Status failWith;
  volatile boolean silent;
  private final ConcurrentLinkedQueue<StreamObserver<?>> unanswered = new ConcurrentLinkedQueue<>();
  private final Server server;

  OfficialOtlpServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
            if (accept(response)) {
              traces.add(request);
              answer(response, ExportTraceServiceResponse.getDefaultInstance());
            }
          }
        })
        .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
          @Override
          public void export(ExportMetricsServiceRequest request,
              StreamObserver<ExportMetricsServiceResponse> response) {
            if (accept(response)) {
              metrics.add(request);
              answer(response, ExportMetricsServiceResponse.getDefaultInstance());
            }
          }
        })
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> response) {
            if (accept(response)) {
              logs.add(request);
              answer(response, ExportLogsServiceResponse.getDefaultInstance());
            }
          }
        })
        .build()
        .start();
  }

  private boolean accept(StreamObserver<?> response) {
    calls.incrementAndGet();
    if (silent) {
      unanswered.add(response);
      return false;
    }
    Status failure = failWith;
    if (failure != null) {
      response.onError(failure.asRuntimeException());
      return false;
    }
    return true;
  }

  private static <T> void answer(StreamObserver<T> response, T message) {
    response.onNext(message);
    response.onCompleted();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
