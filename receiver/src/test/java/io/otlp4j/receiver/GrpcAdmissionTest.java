package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.rpc.RetryInfo;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Admission before buffering on the gRPC receiver, against a real grpc-java client: what the server
 * reads off the wire is measured by a second stream tracer (the bytes grpc-java moved into its
 * message buffers on streams still open), independently of the receiver's own accounting.
 */
@ExtendWith(NettyLeakCheck.class)
class GrpcAdmissionTest {

  private final RecordingSink sink = new RecordingSink();
  private final WireBytes wire = new WireBytes();
  private GrpcReceiver receiver;
  private ManagedChannel channel;

  @AfterEach
  void tearDown() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    sink.releaseHeld();
    if (receiver != null) {
      receiver.shutdown(Duration.ofSeconds(5));
      assertThat(receiver.memoryBudget().usedBytes()).as("budget back to 0").isZero();
    }
  }

  private void start(GrpcReceiver.Builder builder) {
    receiver = builder.port(0).observeStreams(wire).build().start();
    channel =
        NettyChannelBuilder.forAddress(receiver.address())
            .usePlaintext()
            .maxInboundMessageSize(64 * 1024 * 1024)
            .build();
  }

  /** A request of at most {@code bytes}, and not much less. */
  private static ExportTraceServiceRequest requestOfAbout(int bytes) {
    ExportTraceServiceRequest sample = OtlpGenerator.realisticTraces(100);
    int spans = Math.max(1, (int) ((long) bytes * 100 / sample.getSerializedSize()));
    ExportTraceServiceRequest r = OtlpGenerator.realisticTraces(spans);
    while (r.getSerializedSize() > bytes) {
      spans = Math.max(1, spans * 97 / 100);
      r = OtlpGenerator.realisticTraces(spans);
    }
    return r;
  }

  private static int countSpans(ExportTraceServiceRequest r) {
    return r.getResourceSpansList().stream()
        .flatMap(rs -> rs.getScopeSpansList().stream())
        .mapToInt(ss -> ss.getSpansCount())
        .sum();
  }

  private static void assertRetryableRefusal(Throwable error, long retrySeconds) {
    assertThat(error).isInstanceOf(StatusRuntimeException.class);
    StatusRuntimeException e = (StatusRuntimeException) error;
    assertThat(e.getStatus().getCode())
        .as(e.getStatus().toString())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("google.rpc.Status in grpc-status-details-bin").isNotNull();
    try {
      assertThat(status.getDetails(0).unpack(RetryInfo.class).getRetryDelay().getSeconds())
          .isEqualTo(retrySeconds);
    } catch (com.google.protobuf.InvalidProtocolBufferException x) {
      throw new AssertionError(x);
    }
  }

  @Test
  void aFloodOfLargeCallsOnOneConnectionIsRefusedAtOnceAndNeverBufferedPastTheBudget()
      throws Exception {
    long limit = 8L * 1024 * 1024;
    MemoryBudget budget = MemoryBudget.builder(limit).build();
    int maxMessage = 4 * 1024 * 1024;
    start(GrpcReceiver.builder(sink).memoryBudget(budget).maxMessageBytes(maxMessage));
    ExportTraceServiceRequest big = requestOfAbout(maxMessage - 64 * 1024);
    sink.hold = true; // admitted requests stay in the budget until released

    int calls = 24;
    List<ListenableFuture<ExportTraceServiceResponse>> futures = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      futures.add(
          TraceServiceGrpc.newFutureStub(channel)
              .withDeadlineAfter(20, TimeUnit.SECONDS)
              .export(big));
    }
    // every call is either held by the sink (admitted) or answered (refused), well before the
    // deadline
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                sink.heldCount() + futures.stream().filter(ListenableFuture::isDone).count()
                    == calls);
    int refused = 0;
    for (ListenableFuture<ExportTraceServiceResponse> f : futures) {
      if (f.isDone()) {
        refused++;
        ExecutionException e =
            org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
        assertRetryableRefusal(e.getCause(), GrpcReceiver.DEFAULT_RETRY_AFTER.getSeconds());
      }
    }
    assertThat(sink.heldCount())
        .as("admitted")
        .isBetween(1, (int) (limit / big.getSerializedSize()));
    assertThat(refused).isEqualTo(calls - sink.heldCount());
    // what grpc-java held in message buffers at any moment: the budget plus one flow-control window
    // of
    // bytes that were on their way when a call was refused
    assertThat(wire.peak())
        .as("peak bytes buffered by the server")
        .isLessThanOrEqualTo(limit + GrpcReceiver.FLOW_CONTROL_WINDOW);

    sink.releaseHeld();
    for (ListenableFuture<ExportTraceServiceResponse> f : futures) {
      if (!f.isDone() || !isFailed(f)) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isNotNull();
      }
    }
    // the refused clients retry and get in now that the budget has room
    GrpcReceiverTest.export(channel, Signal.TRACES, big, null);
  }

  private static boolean isFailed(ListenableFuture<?> f) {
    try {
      f.get();
      return false;
    } catch (Exception e) {
      return true;
    }
  }

  /**
   * Issue 12's flood, scaled down 32x for CI (the 64 x 16 MiB calls against {@code
   * limit_mib: 256}): 64 concurrent maximum-size calls on ONE connection against a budget of eight
   * such messages, while the sink holds each admitted request for a while. Reserved only as their
   * bytes arrived, the 64 partial messages shared the budget and starved each other (almost none
   * completed, the rest were refused after their bytes were read); reserved whole once they outgrow
   * {@link GrpcAdmission#EXACT_BYTES}, several complete, every other call is refused at once with
   * {@code RESOURCE_EXHAUSTED} and {@code RetryInfo}, and a well-behaved client sending small
   * requests on its own connection, retrying its refusals, loses nothing.
   */
  @Test
  void aFloodOfMaximumSizeCallsOnOneConnectionCompletesSomeAndRefusesTheRestRetryably()
      throws Exception {
    long limit = 8L * 1024 * 1024;
    int maxMessage = 1024 * 1024;
    MemoryBudget budget = MemoryBudget.builder(limit).build();
    start(GrpcReceiver.builder(sink).memoryBudget(budget).maxMessageBytes(maxMessage));
    sink.delay = Duration.ofMillis(50); // a pipeline that holds each request for a while
    ExportTraceServiceRequest big = requestOfAbout(maxMessage - 16 * 1024);
    ManagedChannel good = NettyChannelBuilder.forAddress(receiver.address()).usePlaintext().build();
    try {
      List<ExportTraceServiceRequest> acknowledged = new CopyOnWriteArrayList<>();
      CompletableFuture<Integer> wellBehaved =
          CompletableFuture.supplyAsync(
              () -> {
                int refusals = 0;
                for (int i = 1; i <= 20; i++) {
                  ExportTraceServiceRequest small = OtlpGenerator.realisticTraces(i);
                  for (int attempt = 0; ; attempt++) {
                    try {
                      GrpcReceiverTest.export(good, Signal.TRACES, small, null);
                      acknowledged.add(small);
                      break;
                    } catch (StatusRuntimeException e) {
                      assertRetryableRefusal(e, GrpcReceiver.DEFAULT_RETRY_AFTER.getSeconds());
                      assertThat(attempt).as("attempts of request %d", i).isLessThan(500);
                      refusals++;
                      // sooner than RetryInfo asks (1 s), to keep the test short
                      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
                    }
                  }
                }
                return refusals;
              });

      int calls = 64;
      List<ListenableFuture<ExportTraceServiceResponse>> flood = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        flood.add(
            TraceServiceGrpc.newFutureStub(channel)
                .withDeadlineAfter(60, TimeUnit.SECONDS)
                .export(big));
      }
      // every flood call is answered, well before its deadline (a refusal is immediate)
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> flood.stream().allMatch(ListenableFuture::isDone));
      int completed = 0;
      for (ListenableFuture<ExportTraceServiceResponse> f : flood) {
        try {
          assertThat(f.get()).isNotNull();
          completed++;
        } catch (ExecutionException e) {
          assertRetryableRefusal(e.getCause(), GrpcReceiver.DEFAULT_RETRY_AFTER.getSeconds());
        }
      }
      // eight whole messages fit the budget at once (seven under its 90 % high-water mark), and
      // more once the sink answers; partial reservations let almost none through
      assertThat(completed).as("flood calls completed").isGreaterThanOrEqualTo(4);
      assertThat(sink.received.stream().filter(r -> r.bytes().length == big.getSerializedSize()))
          .hasSize(completed);
      // refused before buffering: a refused call had at most EXACT_BYTES of its message read
      // before the read that the budget refused (partial reservations let refused calls read
      // hundreds of KiB each first, bytes read for nothing)
      int refusedCalls = calls - completed;
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> refusedStreams(wire).size() >= refusedCalls);
      List<WireBytes.Stream> refusedStreams = refusedStreams(wire);
      assertThat(refusedStreams)
          .allSatisfy(
              st ->
                  assertThat(st.readBeforeRefusal())
                      .as("bytes of a refused call read before the read the budget refused")
                      .isLessThanOrEqualTo(GrpcAdmission.EXACT_BYTES));

      int refusals = wellBehaved.get(60, TimeUnit.SECONDS);
      assertThat(acknowledged).hasSize(20);
      for (ExportTraceServiceRequest r : acknowledged) {
        byte[] bytes = r.toByteArray();
        assertThat(sink.received).anyMatch(x -> java.util.Arrays.equals(x.bytes(), bytes));
      }
      System.out.printf(
          "flood of %d: %d completed, the rest refused; well-behaved client refused %d times%n",
          calls, completed, refusals);
    } finally {
      good.shutdownNow();
      good.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static List<WireBytes.Stream> refusedStreams(WireBytes wire) {
    return wire.closed().stream()
        .filter(st -> st.status().getCode() == Status.Code.RESOURCE_EXHAUSTED)
        .toList();
  }

  @Test
  void theDefaultMessageLimitIsTheCollectorsFourMebibytes() {
    assertThat(GrpcReceiver.DEFAULT_MAX_MESSAGE_BYTES).isEqualTo(4 * 1024 * 1024);
    start(GrpcReceiver.builder(sink));
    ExportTraceServiceRequest fits =
        requestOfAbout(GrpcReceiver.DEFAULT_MAX_MESSAGE_BYTES - 16 * 1024);
    GrpcReceiverTest.export(channel, Signal.TRACES, fits, null);
    ExportTraceServiceRequest tooBig =
        requestOfAbout(GrpcReceiver.DEFAULT_MAX_MESSAGE_BYTES + 512 * 1024);
    if (tooBig.getSerializedSize() <= GrpcReceiver.DEFAULT_MAX_MESSAGE_BYTES) {
      tooBig = OtlpGenerator.realisticTraces(countSpans(tooBig) * 2);
    }
    assertThat(tooBig.getSerializedSize()).isGreaterThan(GrpcReceiver.DEFAULT_MAX_MESSAGE_BYTES);
    ExportTraceServiceRequest finalTooBig = tooBig;
    assertThatThrownBy(() -> GrpcReceiverTest.export(channel, Signal.TRACES, finalTooBig, null))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(sink.received).hasSize(1);
  }

  @Test
  void callsOverTheServerWideBoundAreRefusedBeforeTheirMessageIsRead() throws Exception {
    start(GrpcReceiver.builder(sink).maxConcurrentCalls(2).retryAfter(Duration.ofSeconds(3)));
    ExportTraceServiceRequest small = OtlpGenerator.realisticTraces(5);
    sink.hold = true;
    List<ListenableFuture<ExportTraceServiceResponse>> held = new ArrayList<>();
    // two connections: the bound is across all of them, not per connection
    ManagedChannel second =
        NettyChannelBuilder.forAddress(receiver.address()).usePlaintext().build();
    try {
      held.add(
          TraceServiceGrpc.newFutureStub(channel)
              .withDeadlineAfter(20, TimeUnit.SECONDS)
              .export(small));
      held.add(
          TraceServiceGrpc.newFutureStub(second)
              .withDeadlineAfter(20, TimeUnit.SECONDS)
              .export(small));
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 2);
      long before = wire.total();
      for (ManagedChannel ch : List.of(channel, second)) {
        assertThatThrownBy(() -> GrpcReceiverTest.export(ch, Signal.TRACES, small, null))
            .satisfies(e -> assertRetryableRefusal(e, 3))
            .hasMessageContaining("too many concurrent calls");
      }
      assertThat(wire.total()).as("no byte of a refused call was read").isEqualTo(before);
      sink.releaseHeld();
      for (ListenableFuture<ExportTraceServiceResponse> f : held) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isNotNull();
      }
      GrpcReceiverTest.export(second, Signal.TRACES, small, null);
      assertThat(sink.received).hasSize(3);
    } finally {
      second.shutdownNow();
      second.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Bytes grpc-java moved into message buffers on streams still open; the peak of that sum; and,
   * for every closed stream, what it read and how it ended.
   */
  static final class WireBytes extends ServerStreamTracer.Factory {
    private final AtomicLong open = new AtomicLong();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();
    private final List<Stream> closed = new CopyOnWriteArrayList<>();

    /**
     * A closed stream: the bytes read off it, the largest single read, the bytes read before the
     * read that the admission refused (all of them when it refused none), its status. What
     * grpc-java still moves into the stream's buffer after the refusal, from frames that arrived
     * with the refused one, is not held in the budget and not counted there.
     */
    record Stream(long bytes, long largestRead, long readBeforeRefusal, Status status) {}

    @Override
    public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
      return new ServerStreamTracer() {
        private final AtomicLong mine = new AtomicLong();
        private final AtomicLong read = new AtomicLong();
        private final AtomicLong largest = new AtomicLong();
        private final AtomicLong beforeRefusal = new AtomicLong();
        private volatile GrpcAdmission.Call admission;
        private volatile boolean refusalSeen;

        @Override
        public Context filterContext(Context context) {
          // the receiver's admission tracer comes first: it published its call in the context,
          // and it has seen every read before this tracer sees it
          admission = GrpcAdmission.CALL.get(context);
          return context;
        }

        @Override
        public void inboundWireSize(long bytes) {
          if (!refusalSeen) {
            GrpcAdmission.Call a = admission;
            if (a != null && a.refused()) {
              refusalSeen = true; // this read is the one the budget refused
            } else {
              beforeRefusal.addAndGet(bytes);
            }
          }
          mine.addAndGet(bytes);
          read.addAndGet(bytes);
          largest.accumulateAndGet(bytes, Math::max);
          total.addAndGet(bytes);
          peak.accumulateAndGet(open.addAndGet(bytes), Math::max);
        }

        @Override
        public void streamClosed(Status status) {
          open.addAndGet(-mine.getAndSet(0));
          closed.add(new Stream(read.get(), largest.get(), beforeRefusal.get(), status));
        }
      };
    }

    List<Stream> closed() {
      return closed;
    }

    long peak() {
      return peak.get();
    }

    long total() {
      return total.get();
    }
  }
}
