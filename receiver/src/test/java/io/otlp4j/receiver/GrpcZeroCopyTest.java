package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.IllegalReferenceCountException;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.Outcome;
import io.otlp4j.grpc.ZstdCodec;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The receiver takes an uncompressed request out of grpc-java's buffers without a heap copy (one
 * copy into a direct buffer of exactly its length: {@link io.otlp4j.grpc.ReceivedMessages}), from a
 * message in one HTTP/2 frame or in many, and every buffer comes back exactly once on every path.
 * The server's connections and the copies share one unpooled allocator whose used direct memory is
 * watched: it returns to zero only when every buffer grpc-java read into, and every copy, was
 * released; a second release of a handed-over buffer throws. Compressed requests (gzip, zstd) take
 * the stream path and must arrive the same.
 */
@ExtendWith(NettyLeakCheck.class)
class GrpcZeroCopyTest {

  /** One HTTP/2 frame (16 KiB by default) holds it. */
  static final int SMALL_SPANS = 4;

  /** ~200 KB: many frames, so also larger than the 64 KiB admission chunk. */
  static final int LARGE_SPANS = 400;

  private final UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(true, false);
  private final HoldingSink sink = new HoldingSink();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private GrpcReceiver receiver;

  @AfterEach
  void tearDown() throws Exception {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    sink.releaseAll();
    if (receiver != null) {
      receiver.shutdown(Duration.ofSeconds(5));
      assertThat(receiver.memoryBudget().usedBytes()).as("budget back to 0").isZero();
    }
    awaitAllBuffersReleased();
  }

  private void start(MemoryBudget budget) {
    receiver =
        GrpcReceiver.builder(sink)
            .port(0)
            .memoryBudget(budget)
            .allocator(allocator)
            .build()
            .start();
  }

  private ManagedChannel channel() {
    ManagedChannel ch =
        NettyChannelBuilder.forAddress(receiver.address())
            .usePlaintext()
            .compressorRegistry(ZstdCodec.compressors())
            .decompressorRegistry(ZstdCodec.decompressors())
            .build();
    channels.add(ch);
    return ch;
  }

  private void awaitAllBuffersReleased() {
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(allocator.metric().usedDirectMemory())
                    .as("direct memory of the receiver's connections and copies")
                    .isZero());
  }

  static Stream<Arguments> sizesAndCompressions() {
    // small compressed requests are GrpcReceiverTest's (officialClientRequestArrivesAsTheSameBytes)
    return Stream.of(
        Arguments.of(SMALL_SPANS, null),
        Arguments.of(LARGE_SPANS, null),
        Arguments.of(LARGE_SPANS, "gzip"),
        Arguments.of(LARGE_SPANS, "zstd"));
  }

  @ParameterizedTest(name = "{0} spans, compression={1}")
  @MethodSource("sizesAndCompressions")
  void sinkOwnsTheRequestAndReleasesItExactlyOnce(int spans, String compression) throws Exception {
    start(MemoryBudget.builder(64L << 20).build());
    ManagedChannel ch = channel();
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(spans);
    GrpcReceiverTest.export(ch, Signal.TRACES, request, compression);

    assertThat(sink.held).hasSize(1);
    ByteBuf held = sink.held.get(0);
    assertThat(ByteBufUtil.getBytes(held)).isEqualTo(request.toByteArray());
    if (compression == null) {
      assertThat(held.isDirect()).as("an uncompressed request stays off the heap").isTrue();
      assertThat(allocator.metric().usedDirectMemory())
          .as("the copy comes from the receiver's allocator")
          .isGreaterThanOrEqualTo(held.readableBytes());
    }
    // the call is over: the receiver let go of everything but the sink's buffer
    assertThat(held.refCnt()).isEqualTo(1);
    sink.held.clear();
    held.release();
    assertThatThrownBy(held::release).isInstanceOf(IllegalReferenceCountException.class);
    closeChannelsAndAwaitRelease();
  }

  /**
   * A message taken out of grpc-java and then abandoned before the half-close hands it to the sink:
   * the client cancels, or its deadline passes. The receiver holds it, and must release it.
   */
  @ParameterizedTest(name = "{0} spans")
  @ValueSource(ints = {SMALL_SPANS, LARGE_SPANS})
  void requestTakenButNeverHandedOverIsReleasedOnCancelAndOnDeadline(int spans) throws Exception {
    MemoryBudget budget = MemoryBudget.builder(64L << 20).build();
    start(budget);
    ManagedChannel ch = channel();
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();

    // cancel: the message is parsed (its reservation is then exactly its length) and held
    ClientCall<byte[], byte[]> cancelled = openCall(ch, CallOptions.DEFAULT);
    CompletableFuture<Status> cancelledClose = start(cancelled);
    cancelled.sendMessage(bytes); // no half-close: the receiver keeps the message
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.usedBytes() == bytes.length);
    cancelled.cancel("test cancels", null);
    assertThat(cancelledClose.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.CANCELLED);
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.usedBytes() == 0);

    // deadline: the same, ended by the client's deadline
    ClientCall<byte[], byte[]> late =
        openCall(ch, CallOptions.DEFAULT.withDeadlineAfter(1500, TimeUnit.MILLISECONDS));
    CompletableFuture<Status> lateClose = start(late);
    late.sendMessage(bytes);
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.usedBytes() == bytes.length);
    assertThat(lateClose.get(30, TimeUnit.SECONDS).getCode())
        .isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.usedBytes() == 0);

    assertThat(sink.held).as("nothing reached the sink").isEmpty();
    closeChannelsAndAwaitRelease();
  }

  /** A budget too small for the message: refused before anything is taken. */
  @ParameterizedTest(name = "{0} spans")
  @ValueSource(ints = {SMALL_SPANS, LARGE_SPANS})
  void requestRefusedByTheBudgetLeavesNothingBehind(int spans) throws Exception {
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();
    start(MemoryBudget.builder(bytes.length / 2).build());
    ManagedChannel ch = channel();
    assertThatThrownBy(() -> GrpcReceiverTest.exportRaw(ch, Signal.TRACES, bytes))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(sink.held).isEmpty();
    closeChannelsAndAwaitRelease();
  }

  /** A malformed message: taken, walked, refused with INVALID_ARGUMENT, released. */
  @ParameterizedTest(name = "{0} spans")
  @ValueSource(ints = {SMALL_SPANS, LARGE_SPANS})
  void malformedRequestIsReleased(int spans) throws Exception {
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();
    start(MemoryBudget.builder(64L << 20).build());
    ManagedChannel ch = channel();
    byte[] truncated = Arrays.copyOf(bytes, bytes.length - 3); // cuts the last span's last field
    assertThatThrownBy(() -> GrpcReceiverTest.exportRaw(ch, Signal.TRACES, truncated))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    assertThat(sink.held).isEmpty();
    closeChannelsAndAwaitRelease();
  }

  private void closeChannelsAndAwaitRelease() throws InterruptedException {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    awaitAllBuffersReleased();
  }

  private static ClientCall<byte[], byte[]> openCall(ManagedChannel ch, CallOptions options) {
    MethodDescriptor<byte[], byte[]> md =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(
                MethodDescriptor.generateFullMethodName(Signal.TRACES.grpcService(), "Export"))
            .setRequestMarshaller(GrpcReceiverTest.RAW)
            .setResponseMarshaller(GrpcReceiverTest.RAW)
            .build();
    return ch.newCall(md, options);
  }

  private static CompletableFuture<Status> start(ClientCall<byte[], byte[]> call) {
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    return closed;
  }

  /** Keeps every request's buffer, unreleased, until the test releases it. */
  private static final class HoldingSink implements ReceiverSink {
    final List<ByteBuf> held = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<Outcome> accept(Signal signal, ByteBuf request, WalkSummary summary) {
      held.add(request);
      return CompletableFuture.completedFuture(Outcome.accepted());
    }

    void releaseAll() {
      for (ByteBuf b : held) {
        b.release();
      }
      held.clear();
    }
  }
}
