package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.exporter.TestCertificates;
import io.otlp4j.grpc.ZstdCodec;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NettyLeakCheck.class)
class GrpcReceiverTest {

  private final RecordingSink sink = new RecordingSink();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private GrpcReceiver receiver;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    sink.releaseHeld();
    if (receiver != null) {
      receiver.shutdown(Duration.ofSeconds(5));
      assertThat(receiver.memoryBudget().usedBytes()).as("budget back to 0").isZero();
    }
  }

  private GrpcReceiver start(GrpcReceiver.Builder builder) {
    receiver = builder.port(0).build().start();
    return receiver;
  }

  private ManagedChannel channel() {
    ManagedChannel ch =
        NettyChannelBuilder.forAddress(receiver.address())
            .usePlaintext()
            .compressorRegistry(ZstdCodec.compressors())
            .decompressorRegistry(ZstdCodec.decompressors())
            .build();
    closeables.add(
        () -> {
          ch.shutdownNow();
          ch.awaitTermination(5, TimeUnit.SECONDS);
        });
    return ch;
  }

  static Message export(ManagedChannel ch, Signal signal, Message request, String compression) {
    switch (signal) {
      case TRACES:
        {
          TraceServiceGrpc.TraceServiceBlockingStub stub =
              TraceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
          return (compression == null ? stub : stub.withCompression(compression))
              .export((ExportTraceServiceRequest) request);
        }
      case METRICS:
        {
          MetricsServiceGrpc.MetricsServiceBlockingStub stub =
              MetricsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
          return (compression == null ? stub : stub.withCompression(compression))
              .export((ExportMetricsServiceRequest) request);
        }
      default:
        {
          LogsServiceGrpc.LogsServiceBlockingStub stub =
              LogsServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
          return (compression == null ? stub : stub.withCompression(compression))
              .export((ExportLogsServiceRequest) request);
        }
    }
  }

  static final MethodDescriptor.Marshaller<byte[]> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  /** Sends arbitrary bytes as a request of {@code signal}, bypassing the official marshallers. */
  static byte[] exportRaw(io.grpc.Channel ch, Signal signal, byte[] bytes) {
    MethodDescriptor<byte[], byte[]> md =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(
                MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
            .setRequestMarshaller(RAW)
            .setResponseMarshaller(RAW)
            .build();
    return ClientCalls.blockingUnaryCall(
        ch, md, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), bytes);
  }

  static Stream<Arguments> signalsAndCompressions() {
    List<Arguments> args = new ArrayList<>();
    for (Signal s : Signal.values()) {
      for (String c : new String[] {null, "gzip", "zstd"}) {
        args.add(Arguments.of(s, c));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} compression={1}")
  @MethodSource("signalsAndCompressions")
  void officialClientRequestArrivesAsTheSameBytes(Signal signal, String compression)
      throws Exception {
    MetricsRegistry registry = MetricsRegistry.create();
    start(GrpcReceiver.builder(sink).metrics(registry).name("otlp/test"));
    ManagedChannel ch = channel();
    OtlpGenerator gen =
        new OtlpGenerator(
            signal.ordinal() * 31L + (compression == null ? 0 : compression.length()));
    List<Message> sent = new ArrayList<>();
    long items = 0;
    for (int i = 0; i < 5; i++) {
      Message request = gen.request(signal);
      Message response = export(ch, signal, request, compression);
      assertThat(response.toByteArray()).as("empty response").isEmpty();
      sent.add(request);
    }
    assertThat(sink.bytesOf(signal)).hasSize(sent.size());
    for (int i = 0; i < sent.size(); i++) {
      assertThat(sink.bytesOf(signal).get(i)).isEqualTo(sent.get(i).toByteArray());
      items += sink.received.get(i).summary().itemCount();
    }
    String text = scrape(registry);
    assertThat(text)
        .contains(
            "otelcol_receiver_accepted_"
                + ReceiverMetrics.itemName(signal)
                + "_total{receiver=\"otlp/test\",transport=\"grpc\"} "
                + items
                + ".0");
    assertThat(text)
        .contains(
            "otlp4j_receiver_requests_total{outcome=\"accepted\",receiver=\"otlp/test\",transport=\"grpc\"} 5.0");
  }

  static String scrape(MetricsRegistry registry) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    registry.writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void badInputGetsItsStatusWhileAWellBehavedClientLosesNothing() throws Exception {
    int limit = 256 * 1024;
    start(GrpcReceiver.builder(sink).maxMessageBytes(limit).bearerToken("t0ken"));
    ManagedChannel ch = channel();
    Metadata auth = new Metadata();
    auth.put(GrpcReceiver.AUTHORIZATION, "Bearer t0ken");
    io.grpc.ClientInterceptor withToken = MetadataUtils.newAttachHeadersInterceptor(auth);

    int goodCount = 150;
    List<ExportLogsServiceRequest> goodRequests = new ArrayList<>();
    for (int i = 0; i < goodCount; i++) {
      goodRequests.add(
          OtlpGenerator.realisticLogs(1 + i % 5).toBuilder()
              .setResourceLogs(
                  0,
                  OtlpGenerator.realisticLogs(1).getResourceLogs(0).toBuilder()
                      .setSchemaUrl("good-" + i))
              .build());
    }
    ManagedChannel goodChannel = channel();
    CompletableFuture<Integer> good =
        CompletableFuture.supplyAsync(
            () -> {
              LogsServiceGrpc.LogsServiceBlockingStub stub =
                  LogsServiceGrpc.newBlockingStub(goodChannel)
                      .withInterceptors(withToken)
                      .withCompression("zstd");
              int ok = 0;
              for (ExportLogsServiceRequest r : goodRequests) {
                stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(r);
                ok++;
              }
              return ok;
            });

    io.grpc.Channel authed = io.grpc.ClientInterceptors.intercept(ch, withToken);
    byte[] valid = OtlpGenerator.realisticTraces(10).toByteArray();
    byte[] garbage = new byte[512];
    new java.util.Random(7).nextBytes(garbage);
    assertCode(
        () -> exportRaw(authed, Signal.TRACES, java.util.Arrays.copyOf(valid, valid.length - 5)),
        Status.Code.INVALID_ARGUMENT);
    assertCode(() -> exportRaw(authed, Signal.TRACES, garbage), Status.Code.INVALID_ARGUMENT);
    assertCode(
        () -> exportRaw(authed, Signal.METRICS, valid),
        Status.Code.INVALID_ARGUMENT); // wrong signal
    assertCode(
        () -> exportRaw(authed, Signal.TRACES, new byte[limit + 1]),
        Status.Code.RESOURCE_EXHAUSTED);
    // a compression bomb: 8 MiB of one repeated character, a few KiB on the wire
    ExportLogsServiceRequest bomb =
        ExportLogsServiceRequest.newBuilder()
            .addResourceLogs(
                io.opentelemetry.proto.logs.v1.ResourceLogs.newBuilder()
                    .addScopeLogs(
                        io.opentelemetry.proto.logs.v1.ScopeLogs.newBuilder()
                            .addLogRecords(
                                io.opentelemetry.proto.logs.v1.LogRecord.newBuilder()
                                    .setBody(
                                        io.opentelemetry.proto.common.v1.AnyValue.newBuilder()
                                            .setStringValue("x".repeat(8 << 20))))))
            .build();
    for (String compression : new String[] {"gzip", "zstd"}) {
      assertCode(
          () ->
              LogsServiceGrpc.newBlockingStub(ch)
                  .withInterceptors(withToken)
                  .withCompression(compression)
                  .withDeadlineAfter(30, TimeUnit.SECONDS)
                  .export(bomb),
          Status.Code.RESOURCE_EXHAUSTED);
    }
    assertCode(() -> exportRaw(ch, Signal.TRACES, valid), Status.Code.UNAUTHENTICATED);
    Metadata wrong = new Metadata();
    wrong.put(GrpcReceiver.AUTHORIZATION, "Bearer t0ke");
    assertCode(
        () ->
            exportRaw(
                io.grpc.ClientInterceptors.intercept(
                    ch, MetadataUtils.newAttachHeadersInterceptor(wrong)),
                Signal.TRACES,
                valid),
        Status.Code.UNAUTHENTICATED);
    MethodDescriptor<byte[], byte[]> unknown =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName("opentelemetry.proto.collector.trace.v1.TraceService/Upload")
            .setRequestMarshaller(RAW)
            .setResponseMarshaller(RAW)
            .build();
    assertCode(
        () -> ClientCalls.blockingUnaryCall(authed, unknown, CallOptions.DEFAULT, valid),
        Status.Code.UNIMPLEMENTED);
    // plain HTTP/1.1 on the gRPC port is not served
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /opentelemetry.proto.collector.trace.v1.TraceService/Export HTTP/1.1\r\nHost: x\r\n"
              + "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
      assertThat(raw.closedByServer()).isTrue();
    }

    assertThat(good.get(60, TimeUnit.SECONDS)).isEqualTo(goodCount);
    List<byte[]> arrived = sink.bytesOf(Signal.LOGS);
    assertThat(arrived).hasSize(goodCount);
    assertThat(arrived)
        .containsExactlyInAnyOrderElementsOf(
            goodRequests.stream().map(Message::toByteArray).toList());
    assertThat(sink.bytesOf(Signal.TRACES)).isEmpty();
    assertThat(sink.bytesOf(Signal.METRICS)).isEmpty();
  }

  private static void assertCode(
      org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Status.Code code) {
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(code));
  }

  @Test
  void malformedRequestIsInvalidArgumentNamingTheOffset() {
    start(GrpcReceiver.builder(sink));
    ManagedChannel ch = channel();
    byte[] good = OtlpGenerator.realisticTraces(3).toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 7);
    assertThatThrownBy(() -> exportRaw(ch, Signal.TRACES, truncated))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
              assertThat(e.getStatus().getDescription()).contains("offset");
              com.google.rpc.Status details = StatusProto.fromThrowable(e);
              assertThat(details.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
            });
    assertThat(sink.received).isEmpty();
    // the connection is still fine for a good request
    assertThat(exportRaw(ch, Signal.TRACES, good)).isEmpty();
    assertThat(sink.received).hasSize(1);
  }

  @Test
  void requestLargerThanTheLimitIsRefusedAlsoWhenItOnlyGrowsOnDecompression() {
    start(GrpcReceiver.builder(sink).maxMessageBytes(64 * 1024));
    ManagedChannel ch = channel();
    ExportLogsServiceRequest big = OtlpGenerator.realisticLogs(2000);
    assertThat(big.getSerializedSize()).isGreaterThan(64 * 1024);
    for (String compression : new String[] {null, "gzip", "zstd"}) {
      assertThatThrownBy(() -> export(ch, Signal.LOGS, big, compression))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    }
    assertThat(sink.received).isEmpty();
    export(ch, Signal.LOGS, OtlpGenerator.realisticLogs(2), "gzip");
    assertThat(sink.received).hasSize(1);
  }

  @Test
  void fullBudgetRefusesWithRetryInfoAndRecovers() throws Exception {
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(20);
    int size = request.getSerializedSize();
    MemoryBudget budget =
        MemoryBudget.builder(size * 3L).highWaterBytes(size * 3L).lowWaterBytes(size * 2L).build();
    start(GrpcReceiver.builder(sink).memoryBudget(budget).retryAfter(Duration.ofSeconds(2)));
    ManagedChannel ch = channel();
    sink.hold = true;
    List<CompletableFuture<Message>> pending = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      pending.add(CompletableFuture.supplyAsync(() -> export(ch, Signal.TRACES, request, null)));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 3);
    assertThat(budget.usedBytes()).isEqualTo(size * 3L);
    assertThatThrownBy(() -> export(ch, Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              com.google.rpc.Status status = StatusProto.fromThrowable(e);
              assertThat(status.getDetailsList()).hasSize(1);
              Any detail = status.getDetails(0);
              try {
                assertThat(detail.unpack(RetryInfo.class).getRetryDelay().getSeconds())
                    .isEqualTo(2);
              } catch (com.google.protobuf.InvalidProtocolBufferException x) {
                throw new AssertionError(x);
              }
            });
    sink.releaseHeld();
    for (CompletableFuture<Message> f : pending) {
      assertThat(f.get(30, TimeUnit.SECONDS).toByteArray()).isEmpty();
    }
    assertThat(budget.usedBytes()).isZero();
    export(ch, Signal.TRACES, request, null);
    assertThat(sink.received).hasSize(4);
  }

  @Test
  void sinkOutcomesMapToOtlpAnswers() throws Exception {
    MetricsRegistry registry = MetricsRegistry.create();
    start(GrpcReceiver.builder(sink).metrics(registry));
    ManagedChannel ch = channel();
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(5);

    sink.answer = r -> Outcome.partiallyAccepted(2, "two spans had no name");
    ExportTraceServiceResponse partial =
        (ExportTraceServiceResponse) export(ch, Signal.TRACES, request, null);
    assertThat(partial.getPartialSuccess().getRejectedSpans()).isEqualTo(2);
    assertThat(partial.getPartialSuccess().getErrorMessage()).isEqualTo("two spans had no name");

    sink.answer = r -> Outcome.retryable(Duration.ofMillis(1500), "queue full");
    assertThatThrownBy(() -> export(ch, Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(e.getStatus().getDescription()).isEqualTo("queue full");
              try {
                RetryInfo info = StatusProto.fromThrowable(e).getDetails(0).unpack(RetryInfo.class);
                assertThat(info.getRetryDelay().getSeconds()).isEqualTo(1);
                assertThat(info.getRetryDelay().getNanos()).isEqualTo(500_000_000);
              } catch (com.google.protobuf.InvalidProtocolBufferException x) {
                throw new AssertionError(x);
              }
            });

    sink.answer = r -> Outcome.overloaded(Duration.ofSeconds(2), "memory limit reached");
    assertThatThrownBy(() -> export(ch, Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
              try {
                RetryInfo info = StatusProto.fromThrowable(e).getDetails(0).unpack(RetryInfo.class);
                assertThat(info.getRetryDelay().getSeconds()).isEqualTo(2);
              } catch (com.google.protobuf.InvalidProtocolBufferException x) {
                throw new AssertionError(x);
              }
            });

    sink.answer = r -> Outcome.permanent("not for us");
    assertThatThrownBy(() -> export(ch, Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));

    sink.answer =
        r -> {
          throw new IllegalStateException("sink bug");
        };
    assertThatThrownBy(() -> export(ch, Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

    // 5 spans per request: 3 accepted of the partial one, the rest refused
    String text = scrape(registry);
    assertThat(text)
        .contains(
            "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"grpc\"} 3.0");
    assertThat(text)
        .contains(
            "otelcol_receiver_refused_spans_total{receiver=\"otlp\",transport=\"grpc\"} 22.0");
    assertThat(text)
        .contains("outcome=\"refused_retryable\",receiver=\"otlp\",transport=\"grpc\"} 3.0");
  }

  @Test
  void concurrentStreamsPerConnectionAreBounded() throws Exception {
    start(GrpcReceiver.builder(sink).maxConcurrentStreams(2));
    ManagedChannel ch = channel();
    sink.hold = true;
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(2);
    List<CompletableFuture<Message>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(CompletableFuture.supplyAsync(() -> export(ch, Signal.TRACES, request, null)));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 2);
    // the third call waits for a stream; it is neither refused nor handed on
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(30))
        .until(() -> sink.received.size() == 2);
    sink.releaseHeld();
    for (CompletableFuture<Message> call : calls) {
      assertThat(call.get(30, TimeUnit.SECONDS).toByteArray()).isEmpty();
    }
    assertThat(sink.received).hasSize(3);
  }

  @Test
  void bearerTokenIsRequired() {
    start(GrpcReceiver.builder(sink).bearerToken("s3cret"));
    ManagedChannel ch = channel();
    ExportLogsServiceRequest request = OtlpGenerator.realisticLogs(2);
    for (String header : new String[] {null, "Bearer wrong", "Basic s3cret", "Bearer s3cret2"}) {
      Metadata md = new Metadata();
      if (header != null) {
        md.put(GrpcReceiver.AUTHORIZATION, header);
      }
      assertThatThrownBy(
              () ->
                  LogsServiceGrpc.newBlockingStub(ch)
                      .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
                      .export(request))
          .isInstanceOfSatisfying(
              StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }
    Metadata md = new Metadata();
    md.put(GrpcReceiver.AUTHORIZATION, "Bearer s3cret");
    LogsServiceGrpc.newBlockingStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .export(request);
    assertThat(sink.received).hasSize(1);
    assertThat(receiver.toString()).doesNotContain("s3cret");
  }

  @Test
  void tlsAndMutualTls(@TempDir Path dir) throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    start(
        GrpcReceiver.builder(sink)
            .tls(
                ReceiverTls.server(certs.serverCert, certs.serverKey)
                    .requireClientCertificates(certs.caCert)));
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(2);

    SslContext good =
        GrpcSslContexts.forClient()
            .trustManager(certs.caCert.toFile())
            .keyManager(certs.clientCert.toFile(), certs.clientKey.toFile())
            .build();
    export(tlsChannel(good), Signal.TRACES, request, "gzip");
    assertThat(sink.received).hasSize(1);

    SslContext noClientCert =
        GrpcSslContexts.forClient().trustManager(certs.caCert.toFile()).build();
    assertThatThrownBy(() -> export(tlsChannel(noClientCert), Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));

    SslContext wrongCa =
        GrpcSslContexts.forClient()
            .trustManager(certs.otherCaCert.toFile())
            .keyManager(certs.clientCert.toFile(), certs.clientKey.toFile())
            .build();
    assertThatThrownBy(() -> export(tlsChannel(wrongCa), Signal.TRACES, request, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(sink.received).hasSize(1);
  }

  private ManagedChannel tlsChannel(SslContext ssl) {
    ManagedChannel ch =
        NettyChannelBuilder.forAddress("localhost", receiver.address().getPort())
            .sslContext(ssl)
            .build();
    closeables.add(
        () -> {
          ch.shutdownNow();
          ch.awaitTermination(5, TimeUnit.SECONDS);
        });
    return ch;
  }

  @Test
  void shutdownLetsCallsInFlightFinish() throws Exception {
    start(GrpcReceiver.builder(sink));
    ManagedChannel ch = channel();
    sink.hold = true;
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(3);
    CompletableFuture<Message> inFlight =
        CompletableFuture.supplyAsync(() -> export(ch, Signal.TRACES, request, null));
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 1);
    CompletableFuture<Boolean> shutdown =
        CompletableFuture.supplyAsync(() -> receiver.shutdown(Duration.ofSeconds(60)));
    // new calls are refused while the old one is still held
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> export(ch, Signal.TRACES, request, null))
                    .isInstanceOf(StatusRuntimeException.class));
    assertThat(shutdown).isNotDone();
    sink.releaseHeld();
    assertThat(shutdown.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(inFlight.get(30, TimeUnit.SECONDS).toByteArray()).isEmpty();
    assertThat(receiver.memoryBudget().usedBytes()).isZero();
  }

  @Test
  void builderRejectsBadSettings() {
    assertThatThrownBy(() -> GrpcReceiver.builder(sink).port(70000)).hasMessageContaining("port");
    assertThatThrownBy(() -> GrpcReceiver.builder(sink).maxMessageBytes(0))
        .hasMessageContaining("maxMessageBytes");
    assertThatThrownBy(() -> GrpcReceiver.builder(sink).bearerToken(" "))
        .hasMessageContaining("bearerToken");
    assertThatThrownBy(
            () -> ReceiverTls.server(Path.of("/nonexistent.pem"), Path.of("/nonexistent.key")))
        .hasMessageContaining("certificateChain");
    assertThat(GrpcReceiver.DEFAULT_PORT).isEqualTo(4317);
    assertThat(GrpcReceiver.DEFAULT_HOST).isEqualTo("127.0.0.1");
  }
}
