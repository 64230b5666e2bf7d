package io.otlp4j.relay;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/** A grpc-java OTLP trace server on the official stubs, recording every request it is sent. */
final class UpstreamTraceServer implements AutoCloseable {
  final ConcurrentLinkedQueue<ExportTraceServiceRequest> requests = new ConcurrentLinkedQueue<>();
  private final Server server;

  UpstreamTraceServer() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
            requests.add(request);
            response.onNext(ExportTraceServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        })
        .build()
        .start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getPort();
  }

  /** Every span received, with its resource and scope, in arrival order. */
  List<ReceivedSpan> spans() {
    List<ReceivedSpan> spans = new ArrayList<>();
    for (ExportTraceServiceRequest request : requests) {
      for (ResourceSpans rs : request.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span span : ss.getSpansList()) {
            spans.add(new ReceivedSpan(rs, ss, span));
          }
        }
      }
    }
    return spans;
  }

  record ReceivedSpan(ResourceSpans resource, ScopeSpans scope, Span span) {}

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
