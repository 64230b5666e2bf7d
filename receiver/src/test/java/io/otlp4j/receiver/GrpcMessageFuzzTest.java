package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.Codec;
import io.grpc.CompressorRegistry;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.netty.buffer.ByteBufUtil;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.Outcome;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.grpc.ZstdCodec;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Coverage-guided fuzzing of the OTLP/gRPC receiver's message handling, end to end through a real
 * {@link GrpcReceiver} (grpc-java on Netty, loopback) and a grpc-java client: the request message
 * (its marshaller, grpc-java's deframer and decompressors, the walk, the dispatch), sent as is,
 * compressed for real with gzip or zstd, or as arbitrary bytes flagged as gzip- or zstd-compressed.
 *
 * <p>Properties, for every input: the call ends with {@code OK}, {@code INVALID_ARGUMENT} or {@code
 * RESOURCE_EXHAUSTED} (too large), never {@code UNKNOWN}, {@code INTERNAL} or another status of our
 * own failure; a valid request sent as is or compressed for real is answered {@code OK} and reaches
 * the sink byte for byte; whatever reaches the sink parses with protobuf-java; the memory budget is
 * back to zero after each call.
 */
class GrpcMessageFuzzTest {
  private static final int MAX_MESSAGE_BYTES = 256 * 1024;
  private static final Set<Status.Code> DOCUMENTED =
      Set.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT, Status.Code.RESOURCE_EXHAUSTED);
  private static final AtomicReference<byte[]> RECEIVED = new AtomicReference<>();
  private static final MemoryBudget BUDGET = MemoryBudget.builder(64L << 20).build();
  private static final GrpcReceiver RECEIVER;
  private static final ManagedChannel REAL;
  private static final ManagedChannel FLAGGED;

  static {
    BugDetectors.allowNetworkConnections((host, port) -> true); // loopback only, see below
    RECEIVER =
        GrpcReceiver.builder(
                (signal, request, summary) -> {
                  try {
                    RECEIVED.set(ByteBufUtil.getBytes(request));
                  } finally {
                    request.release();
                  }
                  return CompletableFuture.completedFuture(Outcome.accepted());
                })
            .host("127.0.0.1")
            .port(0)
            .maxMessageBytes(MAX_MESSAGE_BYTES)
            .memoryBudget(BUDGET)
            .build()
            .start();
    int port = RECEIVER.address().getPort();
    REAL =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .compressorRegistry(ZstdCodec.compressors())
            .build();
    CompressorRegistry flagged = CompressorRegistry.newEmptyInstance();
    flagged.register(new Passthrough("gzip"));
    flagged.register(new Passthrough("zstd"));
    FLAGGED =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .compressorRegistry(flagged)
            .build();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  REAL.shutdownNow();
                  FLAGGED.shutdownNow();
                  RECEIVER.shutdown(Duration.ofSeconds(1));
                }));
  }

  @FuzzTest(maxDuration = "5m")
  void export(FuzzedDataProvider data) {
    Signal signal = Signal.values()[data.consumeInt(0, 2)];
    int mode = data.consumeInt(0, 4); // as is, gzip, zstd, flagged gzip, flagged zstd
    byte[] payload = data.consumeRemainingAsBytes();
    boolean valid;
    try {
      OtlpWalker.create().walk(signal, payload);
      valid = true;
    } catch (WireFormatException e) {
      valid = false;
    }
    MethodDescriptor<byte[], byte[]> method =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(
                MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
            .setRequestMarshaller(ByteArrayMarshaller.INSTANCE)
            .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
            .build();
    CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
    if (mode == 1 || mode == 3) {
      options = options.withCompression("gzip");
    } else if (mode == 2 || mode == 4) {
      options = options.withCompression("zstd");
    }
    RECEIVED.set(null);
    Status status;
    try {
      ClientCalls.blockingUnaryCall(mode >= 3 ? FLAGGED : REAL, method, options, payload);
      status = Status.OK;
    } catch (StatusRuntimeException e) {
      status = e.getStatus();
    }
    assertThat(DOCUMENTED)
        .as("status %s: %s", status.getCode(), status.getDescription())
        .contains(status.getCode());
    byte[] received = RECEIVED.get();
    if (status.isOk()) {
      assertThat(received).as("an OK without a request in the sink").isNotNull();
      parse(signal, received);
      if (mode <= 2) {
        assertThat(received).isEqualTo(payload);
      }
    }
    if (valid && mode <= 2 && payload.length <= MAX_MESSAGE_BYTES) {
      assertThat(status.getCode()).as("a valid request: %s", status).isEqualTo(Status.Code.OK);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(1))
        .untilAsserted(() -> assertThat(BUDGET.usedBytes()).as("budget held").isZero());
  }

  private static void parse(Signal signal, byte[] bytes) {
    try {
      switch (signal) {
        case TRACES -> ExportTraceServiceRequest.parseFrom(bytes);
        case METRICS -> ExportMetricsServiceRequest.parseFrom(bytes);
        default -> ExportLogsServiceRequest.parseFrom(bytes);
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("the sink got what protobuf-java refuses", e);
    }
  }

  /** A "compressor" that sends the bytes as they are under a codec's name: arbitrary input. */
  private static final class Passthrough implements Codec {
    private final String name;

    Passthrough(String name) {
      this.name = name;
    }

    @Override
    public String getMessageEncoding() {
      return name;
    }

    @Override
    public OutputStream compress(OutputStream os) {
      return os;
    }

    @Override
    public InputStream decompress(InputStream is) {
      return is;
    }
  }
}
