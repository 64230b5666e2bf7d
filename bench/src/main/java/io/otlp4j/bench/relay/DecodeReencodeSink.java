package io.otlp4j.bench.relay;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.core.Outcome;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What a naive Java relay does with every request, put in front of otlp4j's own pipeline: decode it
 * into protobuf-java's object tree ({@code Export*ServiceRequest.parseFrom}) and encode it again
 * ({@code toByteArray}) before handing the new bytes on. Everything else (receiver, walk, memory
 * budget, queue, batcher, exporter) is the relay's, so the difference to the relay is exactly the
 * decode/re-encode.
 *
 * <p><b>Buffer ownership:</b> {@link #accept} takes ownership of the request (as {@link
 * ReceiverSink} says) and releases it once decoded; the re-encoded bytes go on to {@code next} in a
 * new heap buffer whose ownership is transferred.
 *
 * <p>Thread-safe if {@code next} is.
 */
final class DecodeReencodeSink implements ReceiverSink {
  private final ReceiverSink next;

  DecodeReencodeSink(ReceiverSink next) {
    this.next = Objects.requireNonNull(next, "next");
  }

  @Override
  public CompletionStage<Outcome> accept(Signal signal, ByteBuf request, WalkSummary summary) {
    byte[] reencoded;
    try {
      reencoded = decode(signal, request).toByteArray();
    } catch (InvalidProtocolBufferException e) {
      return CompletableFuture.completedFuture(Outcome.permanent(e.getMessage()));
    } finally {
      request.release();
    }
    return next.accept(signal, Unpooled.wrappedBuffer(reencoded), summary);
  }

  /** Decodes {@code request} (not released here) with the official generated classes. */
  static MessageLite decode(Signal signal, ByteBuf request) throws InvalidProtocolBufferException {
    java.nio.ByteBuffer in = request.nioBuffer();
    return switch (signal) {
      case TRACES -> ExportTraceServiceRequest.parseFrom(in);
      case METRICS -> ExportMetricsServiceRequest.parseFrom(in);
      case LOGS -> ExportLogsServiceRequest.parseFrom(in);
    };
  }
}
