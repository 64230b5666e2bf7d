package io.otlp4j.sdk;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Server;
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
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * A real OTLP sink on 127.0.0.1 for tests: a grpc-java server built on opentelemetry-proto's service
 * stubs and a JDK HttpServer for OTLP/HTTP protobuf, both decoding every request with the official
 * message classes and keeping it, tagged with how it arrived; spans are also counted by span id, so a
 * test can check that each arrived exactly once.
 */
final class CaptureServer implements AutoCloseable {

  /** One request as received. */
  record Captured<T extends Message>(String transport, T request) {}

  final List<Captured<ExportTraceServiceRequest>> traces = new CopyOnWriteArrayList<>();
  final List<Captured<ExportMetricsServiceRequest>> metrics = new CopyOnWriteArrayList<>();
  final List<Captured<ExportLogsServiceRequest>> logs = new CopyOnWriteArrayList<>();
  final Map<com.google.protobuf.ByteString, AtomicLong> spansById = new ConcurrentHashMap<>();
  final AtomicLong spans = new AtomicLong();
  private final Server grpc;
  private final HttpServer http;
  private final ExecutorService httpExecutor = Executors.newFixedThreadPool(4);

  CaptureServer() throws IOException {
    grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest request,
              StreamObserver<ExportTraceServiceResponse> response) {
            onTraces("grpc", request);
            response.onNext(ExportTraceServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
          @Override
          public void export(ExportMetricsServiceRequest request,
              StreamObserver<ExportMetricsServiceResponse> response) {
            metrics.add(new Captured<>("grpc", request));
            response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .addService(new LogsServiceGrpc.LogsServiceImplBase() {
          @Override
          public void export(ExportLogsServiceRequest request,
              StreamObserver<ExportLogsServiceResponse> response) {
            logs.add(new Captured<>("grpc", request));
            response.onNext(ExportLogsServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .build().start();
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    http.setExecutor(httpExecutor);
    http.createContext("/v1/traces", ex -> handle(ex, body -> onTraces("http",
        ExportTraceServiceRequest.parseFrom(body)), ExportTraceServiceResponse.getDefaultInstance()));
    http.createContext("/v1/metrics", ex -> handle(ex, body -> metrics.add(new Captured<>("http",
        ExportMetricsServiceRequest.parseFrom(body))), ExportMetricsServiceResponse.getDefaultInstance()));
    http.createContext("/v1/logs", ex -> handle(ex, body -> logs.add(new Captured<>("http",
        ExportLogsServiceRequest.parseFrom(body))), ExportLogsServiceResponse.getDefaultInstance()));
    http.start();
  }

  private void onTraces(String transport, ExportTraceServiceRequest request) {
    traces.add(new Captured<>(transport, request));
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span span : ss.getSpansList()) {
          spans.incrementAndGet();
          spansById.computeIfAbsent(span.getSpanId(), k -> new AtomicLong()).incrementAndGet();
        }
      }
    }
  }

  private interface BodyConsumer {
    void accept(byte[] body) throws InvalidProtocolBufferException;
  }

  private static void handle(HttpExchange exchange, BodyConsumer consumer, Message response)
      throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
      if ("gzip".equalsIgnoreCase(encoding)) {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
          body = in.readAllBytes();
        }
      }
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      if (!"POST".equals(exchange.getRequestMethod()) || type == null
          || !type.startsWith("application/x-protobuf")) {
        exchange.sendResponseHeaders(415, -1);
        return;
      }
      try {
        consumer.accept(body);
      } catch (InvalidProtocolBufferException e) {
        exchange.sendResponseHeaders(400, -1);
        return;
      }
      byte[] answer = response.toByteArray();
      exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
      exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
      if (answer.length > 0) {
        exchange.getResponseBody().write(answer);
      }
    } catch (RuntimeException e) {
      throw new UncheckedIOException(new IOException(e));
    }
  }

  int grpcPort() {
    return grpc.getPort();
  }

  int httpPort() {
    return http.getAddress().getPort();
  }

  String grpcEndpoint() {
    return "http://127.0.0.1:" + grpcPort();
  }

  String httpEndpoint() {
    return "http://127.0.0.1:" + httpPort();
  }

  void clear() {
    traces.clear();
    metrics.clear();
    logs.clear();
    spansById.clear();
    spans.set(0);
  }

  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow();
    http.stop(0);
    httpExecutor.shutdownNow();
    grpc.awaitTermination(10, TimeUnit.SECONDS);
    httpExecutor.awaitTermination(10, TimeUnit.SECONDS);
  }
}
