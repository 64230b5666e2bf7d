package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.ProtoWriter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Requests whose content is hostile, each sent to a real OTLP/HTTP and a real OTLP/gRPC receiver:
 * every one gets its documented answer (accepted and passed on byte for byte, or {@code
 * INVALID_ARGUMENT} / 400 naming the offset), nothing crashes (no stack overflow, no integer
 * overflow into a negative size), the memory budget is back to 0 afterwards and a well-behaved
 * request sent right after on another connection is served.
 */
@ExtendWith(NettyLeakCheck.class)
class HostileRequestContentTest {

  private static final RecordingSink SINK = new RecordingSink();
  private static HttpReceiver http;
  private static GrpcReceiver grpc;
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void start() {
    http = HttpReceiver.builder(SINK).port(0).build().start();
    grpc = GrpcReceiver.builder(SINK).port(0).build().start();
  }

  @AfterAll
  static void stop() {
    http.shutdown(Duration.ofSeconds(5));
    grpc.shutdown(Duration.ofSeconds(5));
  }

  enum Answer {
    ACCEPTED,
    INVALID_ARGUMENT
  }

  static Stream<Arguments> cases() {
    Stream.Builder<Arguments> cases = Stream.builder();
    for (String transport : new String[] {"http", "grpc"}) {
      // 10^6 attributes on one span (empty KeyValues: 2 bytes each, 2 MB, within both limits).
      cases.add(Arguments.of(transport, "10^6 attributes", millionAttributes(), Answer.ACCEPTED));
      // Counts at 2^64 - 1: a uint32 dropped count as a 10-byte varint (protobuf-java keeps the
      // low 32 bits) and a histogram's fixed64 count and bucket counts: values, not sizes; passed
      // on as they are.
      cases.add(Arguments.of(transport, "counts at 2^64-1", overflowingCounts(), Answer.ACCEPTED));
      // Lengths that overflow int: 2^32 - 1 in five bytes, 2^63 in ten, and an eleven-byte varint.
      cases.add(
          Arguments.of(
              transport,
              "length 2^32-1",
              bytes(0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3),
              Answer.INVALID_ARGUMENT));
      cases.add(
          Arguments.of(
              transport,
              "length 2^63",
              bytes(0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0),
              Answer.INVALID_ARGUMENT));
      cases.add(
          Arguments.of(
              transport,
              "11-byte varint length",
              bytes(0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0),
              Answer.INVALID_ARGUMENT));
      // Deep nesting: AnyValue arrays and kvlists, within the limit and far beyond it.
      cases.add(
          Arguments.of(
              transport,
              "arrays 25 deep",
              Mutator.deeplyNestedAnyValue(Signal.TRACES, 25),
              Answer.ACCEPTED));
      cases.add(
          Arguments.of(
              transport,
              "arrays 100,000 deep",
              Mutator.deeplyNestedAnyValue(Signal.TRACES, 100_000),
              Answer.INVALID_ARGUMENT));
      cases.add(Arguments.of(transport, "kvlists 15 deep", nestedKvlists(15), Answer.ACCEPTED));
      cases.add(
          Arguments.of(transport, "kvlists 300 deep", nestedKvlists(300), Answer.INVALID_ARGUMENT));
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("cases")
  void hostileContentGetsItsAnswerAndOthersAreServed(
      String transport, String name, byte[] request, Answer expected) throws Exception {
    int before = SINK.received.size();
    Answer answer = send(transport, request);
    assertThat(answer).as(name).isEqualTo(expected);
    if (expected == Answer.ACCEPTED) {
      assertThat(SINK.received).hasSize(before + 1);
      assertThat(SINK.received.get(before).bytes())
          .as("passed on byte for byte")
          .isEqualTo(request);
    } else {
      assertThat(SINK.received).hasSize(before);
    }
    // A well-behaved request, on the other transport's connection too, is served right after.
    byte[] good = OtlpGenerator.realisticTraces(3).toByteArray();
    assertThat(send("http", good)).isEqualTo(Answer.ACCEPTED);
    assertThat(send("grpc", good)).isEqualTo(Answer.ACCEPTED);
    assertThat(http.memoryBudget().usedBytes()).isZero();
    assertThat(grpc.memoryBudget().usedBytes()).isZero();
  }

  private static Answer send(String transport, byte[] request) throws Exception {
    if (transport.equals("http")) {
      HttpResponse<byte[]> r =
          HttpReceiverTest.post(
              CLIENT,
              URI.create("http://127.0.0.1:" + http.address().getPort() + "/v1/traces"),
              "application/x-protobuf",
              null,
              request);
      return switch (r.statusCode()) {
        case 200 -> Answer.ACCEPTED;
        case 400 -> Answer.INVALID_ARGUMENT;
        default -> throw new AssertionError("HTTP " + r.statusCode());
      };
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress(grpc.address()).usePlaintext().build();
    try {
      MethodDescriptor<byte[], byte[]> method =
          MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(
                  MethodDescriptor.generateFullMethodName(Signal.TRACES.grpcService(), "Export"))
              .setRequestMarshaller(ByteArrayMarshaller.INSTANCE)
              .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
              .build();
      try {
        ClientCalls.blockingUnaryCall(
            channel, method, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
        return Answer.ACCEPTED;
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode())
            .as(e.getStatus().toString())
            .isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("offset");
        return Answer.INVALID_ARGUMENT;
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  /** One span with 10^6 empty attributes (field 9, length 0), in one resource and scope. */
  static byte[] millionAttributes() {
    byte[] span = new byte[2 + 2 * 1_000_000];
    span[0] = 0x2A; // name
    span[1] = 0;
    for (int i = 2; i < span.length; i += 2) {
      span[i] = 0x4A; // attributes, empty KeyValue
    }
    ProtoWriter w = new ProtoWriter(span.length + 64);
    w.begin(1).begin(2).bytes(2, span).end().end();
    return w.toByteArray();
  }

  /**
   * A span whose dropped_attributes_count is a 10-byte varint of 2^64 - 1, and its official form.
   */
  static byte[] overflowingCounts() {
    ProtoWriter span = new ProtoWriter(64);
    span.string(5, "overflow");
    span.tag(10, ProtoWriter.WIRETYPE_VARINT); // dropped_attributes_count (uint32)
    span.raw(bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01), 0, 10);
    byte[] spanBytes = span.toByteArray();
    ProtoWriter w = new ProtoWriter(128);
    w.begin(1).begin(2).bytes(2, spanBytes).end().end();
    byte[] out = w.toByteArray();
    try {
      // protobuf-java reads it as -1 (all 32 bits set).
      assertThat(
              ExportTraceServiceRequest.parseFrom(out)
                  .getResourceSpans(0)
                  .getScopeSpans(0)
                  .getSpans(0)
                  .getDroppedAttributesCount())
          .isEqualTo(-1);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return out;
  }

  /** A span with one attribute whose value nests {@code depth} kvlists. */
  static byte[] nestedKvlists(int depth) {
    ProtoWriter w = new ProtoWriter(16 * depth + 64);
    w.begin(1).begin(2).begin(2).string(5, "kvlists");
    w.begin(9).string(1, "deep");
    for (int i = 0; i < depth; i++) {
      w.begin(2).begin(6).begin(1).string(1, "k"); // value: AnyValue{kvlist: {values: KeyValue}}
    }
    w.begin(2).string(1, "leaf").end();
    for (int i = 0; i < depth; i++) {
      w.end().end().end();
    }
    w.end().end().end().end();
    byte[] out = w.toByteArray();
    // Within protobuf-java's own limit (100), the official classes agree it is a valid request.
    if (3 * depth + 5 < 100) {
      try {
        KeyValue kv =
            ExportTraceServiceRequest.parseFrom(out)
                .getResourceSpans(0)
                .getScopeSpans(0)
                .getSpans(0)
                .getAttributes(0);
        AnyValue v = kv.getValue();
        for (int i = 0; i < depth; i++) {
          v = v.getKvlistValue().getValues(0).getValue();
        }
        assertThat(v.getStringValue()).isEqualTo("leaf");
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    return out;
  }
}
