package io.otlp4j.relay.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.queue.DurableQueue;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.UpstreamExporter;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Our own failures never drop data, and the durable loop is the one retry owner of what it keeps on
 * disk: an exporter that throws (an {@link Error} included) or reports a local failure gets the
 * same batch again and nothing is committed until the upstream has it; the upstream's RetryInfo /
 * Retry-After delay is what the loop waits; a loop stopped with a batch in flight leaves it on
 * disk.
 */
class ExportFailureTest {
  @TempDir Path dir;

  private final MetricsRegistry metrics = MetricsRegistry.create();
  private final List<AutoCloseable> closeAfter = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
  }

  /**
   * Answers each export with a scripted behaviour (deliver once the script is used up); records
   * what it got.
   */
  private static final class ScriptedExporter implements RelayExporter {
    final ConcurrentLinkedQueue<Function<ByteBuf, CompletableFuture<Outcome>>> script =
        new ConcurrentLinkedQueue<>();
    final List<byte[]> delivered = new CopyOnWriteArrayList<>();
    final AtomicInteger calls = new AtomicInteger();
    final String id;

    ScriptedExporter(String id) {
      this.id = id;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
      calls.incrementAndGet();
      Function<ByteBuf, CompletableFuture<Outcome>> next = script.poll();
      if (next != null) {
        return next.apply(request);
      }
      try {
        delivered.add(ByteBufUtil.getBytes(request));
      } finally {
        request.release();
      }
      return CompletableFuture.completedFuture(Outcome.accepted());
    }

    /**
     * Throws {@code t} without releasing: a bug in our own code (the loop keeps its own reference).
     */
    void throwing(Throwable t, boolean releaseFirst) {
      script.add(
          request -> {
            if (releaseFirst) {
              request.release();
            }
            if (t instanceof Error e) {
              throw e;
            }
            throw (RuntimeException) t;
          });
    }

    void answering(Outcome outcome) {
      script.add(
          request -> {
            request.release();
            return CompletableFuture.completedFuture(outcome);
          });
    }

    @Override
    public CompletableFuture<Void> shutdown(Duration deadline) {
      return CompletableFuture.completedFuture(null);
    }

    List<String> spanNames() throws Exception {
      List<String> names = new ArrayList<>();
      for (byte[] call : delivered) {
        ExportTraceServiceRequest r = ExportTraceServiceRequest.parseFrom(call);
        r.getResourceSpansList()
            .forEach(
                rs ->
                    rs.getScopeSpansList().stream()
                        .map(ScopeSpans::getSpansList)
                        .forEach(spans -> spans.forEach(s -> names.add(s.getName()))));
      }
      return names;
    }
  }

  private static final RetryPolicy FAST =
      RetryPolicy.builder()
          .initialDelay(Duration.ofMillis(5))
          .maxDelay(Duration.ofMillis(10))
          .maxAttempts(Integer.MAX_VALUE)
          .build();

  private Pipeline durablePipeline(RelayExporter exporter) throws Exception {
    DurableQueue queue =
        DurableQueue.builder(dir.resolve("traces")).consumers(exporter.id()).open();
    return Pipeline.builder("traces", Signal.TRACES)
        .ackMode(AckMode.DURABLE)
        .memoryBudget(MemoryBudget.builder(1 << 20).build())
        .metrics(metrics)
        .batch(new BatchSettings(4, 4, Duration.ofMillis(10), 100, true))
        .exporter(exporter, new SendingQueueSettings(true, 1, 1, "file_storage"))
        .durableBackoff(exporter, FAST)
        .durableQueue(queue, 1 << 30)
        .build();
  }

  private static Outcome send(Pipeline pipeline, String name, int spans) throws Exception {
    ByteBuf buf = Unpooled.copiedBuffer(TestSpans.spans(name, spans, 10).toByteArray());
    return pipeline
        .accept(Signal.TRACES, buf, OtlpWalker.create().walk(Signal.TRACES, buf))
        .toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  private long localFailures(String exporterId) {
    return metrics
        .counter(
            OtlpExporter.LOCAL_FAILURES_METRIC,
            OtlpExporter.LOCAL_FAILURES_HELP,
            "exporter",
            exporterId)
        .get();
  }

  @Test
  void anExporterThatThrowsAnErrorIsRetriedByTheDurableLoopAndNothingIsLost() throws Exception {
    ScriptedExporter exporter = new ScriptedExporter("throws");
    exporter.throwing(new OutOfMemoryError("injected: cannot allocate"), true);
    exporter.throwing(new IllegalStateException("injected bug"), true);
    Pipeline pipeline = durablePipeline(exporter);
    assertThat(send(pipeline, "a", 2).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.delivered.size() == 1);
    assertThat(exporter.spanNames()).containsExactly("a-0", "a-1");
    assertThat(exporter.calls.get()).isEqualTo(3);
    assertThat(localFailures("throws")).isEqualTo(2);
    // and the loop goes on with later data
    assertThat(send(pipeline, "b", 1).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.spanNames().contains("b-0"));
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }

  @Test
  void aLocalFailureIsRetriedAndNeverCommittedAsARejection() throws Exception {
    ScriptedExporter exporter = new ScriptedExporter("local");
    exporter.answering(Outcome.localFailure("our bug", new IllegalStateException("injected")));
    exporter.answering(
        Outcome.localFailure("our bug again", new IllegalStateException("injected")));
    Pipeline pipeline = durablePipeline(exporter);
    MetricsRegistry.Counter failed =
        metrics.counter(
            "otelcol_exporter_send_failed_spans",
            "Number of spans in failed attempts to send to destination.",
            "exporter",
            "local");
    assertThat(send(pipeline, "a", 3).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.delivered.size() == 1);
    assertThat(exporter.spanNames()).containsExactly("a-0", "a-1", "a-2");
    assertThat(failed.get()).isZero();
    assertThat(localFailures("local")).isEqualTo(2);
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }

  @Test
  void anExporterThatThrowsInTheInMemoryQueueGetsTheSameBytesAgainAndTheClientIsAnswered()
      throws Exception {
    ScriptedExporter exporter = new ScriptedExporter("memory");
    exporter.throwing(new OutOfMemoryError("injected: cannot allocate"), true);
    Pipeline pipeline =
        Pipeline.builder("traces", Signal.TRACES)
            .ackMode(AckMode.DELIVERED)
            .memoryBudget(MemoryBudget.builder(1 << 20).build())
            .metrics(metrics)
            .exporter(exporter, SendingQueueSettings.inMemory(100))
            .build();
    Outcome answer = send(pipeline, "m", 2);
    assertThat(answer.kind()).as(answer.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(exporter.spanNames()).containsExactly("m-0", "m-1");
    assertThat(exporter.calls.get()).isEqualTo(2);
    assertThat(localFailures("memory")).isEqualTo(1);
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }

  @Test
  void aDurableLoopStoppedWithABatchInFlightKeepsItOnDiskForTheNextStart() throws Exception {
    ScriptedExporter first = new ScriptedExporter("stopped");
    CompletableFuture<Outcome> held = new CompletableFuture<>();
    first.script.add(
        request -> {
          request.release();
          return held;
        });
    Pipeline pipeline = durablePipeline(first);
    assertThat(send(pipeline, "s", 2).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> first.calls.get() == 1);
    assertThat(pipeline.shutdown(Duration.ofMillis(100)).join())
        .isFalse(); // the export outlived the stop
    held.complete(Outcome.accepted()); // too late: the loop let go of the batch, uncommitted

    ScriptedExporter second = new ScriptedExporter("stopped");
    Pipeline restarted = durablePipeline(second);
    await().atMost(Duration.ofSeconds(30)).until(() -> second.delivered.size() == 1);
    assertThat(second.spanNames()).containsExactly("s-0", "s-1");
    assertThat(restarted.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }

  /** Allocates {@code okAllocations} buffers, then throws {@code fault} for every later one. */
  private static final class FailingAllocator extends io.netty.buffer.AbstractByteBufAllocator {
    final AtomicInteger okAllocations;
    final java.util.function.Supplier<RuntimeException> runtime;
    final boolean error;

    FailingAllocator(int okAllocations, boolean error) {
      super(false);
      this.okAllocations = new AtomicInteger(okAllocations);
      this.runtime = () -> new IllegalStateException("injected: the allocator failed");
      this.error = error;
    }

    private void maybeFail() {
      if (okAllocations.getAndDecrement() <= 0) {
        if (error) {
          throw new OutOfMemoryError("injected: cannot allocate");
        }
        throw runtime.get();
      }
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      maybeFail();
      return new io.netty.buffer.UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      maybeFail();
      return new io.netty.buffer.UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    @Override
    public io.netty.buffer.CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
      maybeFail();
      return super.compositeHeapBuffer(maxNumComponents);
    }

    @Override
    public io.netty.buffer.CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
      maybeFail();
      return super.compositeDirectBuffer(maxNumComponents);
    }
  }

  /**
   * A processor applying {@code rewrite} the way the resource processor does (it owns the request).
   */
  private static io.otlp4j.relay.component.RelayProcessor rewriting(
      io.otlp4j.wire.ResourceRewrite rewrite) {
    return new io.otlp4j.relay.component.RelayProcessor() {
      @Override
      public String id() {
        return "resource";
      }

      @Override
      public Result process(Signal signal, ByteBuf request, io.otlp4j.wire.WalkSummary summary) {
        try {
          return io.otlp4j.relay.component.RelayProcessor.forward(
              rewrite.apply(signal, request, summary), summary);
        } finally {
          request.release();
        }
      }
    };
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aProcessorThatFailsInOurOwnCodeLeaksNothingAndTheClientMaySendAgain(boolean error)
      throws Exception {
    ScriptedExporter exporter = new ScriptedExporter("after-processor");
    Pipeline pipeline =
        Pipeline.builder("traces", Signal.TRACES)
            .ackMode(AckMode.RECEIVED)
            .memoryBudget(MemoryBudget.builder(1 << 20).build())
            .metrics(metrics)
            .processors(
                List.of(
                    rewriting(io.otlp4j.wire.ResourceRewrite.builder().upsert("k", "v").build())))
            .exporter(exporter, SendingQueueSettings.inMemory(100))
            .build();
    byte[] bytes = TestSpans.spans("p", 2, 10).toByteArray();
    // The request's own buffer comes from the allocator; the processor's allocation then fails.
    ByteBuf request = new FailingAllocator(1, error).heapBuffer(bytes.length).writeBytes(bytes);
    Outcome answer =
        pipeline
            .accept(Signal.TRACES, request, OtlpWalker.create().walk(Signal.TRACES, request))
            .toCompletableFuture()
            .get(30, TimeUnit.SECONDS);
    assertThat(answer.kind()).as(answer.toString()).isEqualTo(Outcome.Kind.LOCAL_FAILURE);
    assertThat(answer.isRetryable()).isTrue();
    assertThat(request.refCnt()).as("the request's buffer was released").isZero();
    assertThat(exporter.calls.get()).isZero();
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }

  // ---------------------------------------------------------------------- the upstream's retry
  // delay

  /** A scheduler that records every delay it is asked for and runs the task at once. */
  private static final class RecordingScheduler extends ScheduledThreadPoolExecutor {
    final List<Long> delays = new CopyOnWriteArrayList<>();

    RecordingScheduler() {
      super(
          1,
          r -> {
            Thread t = new Thread(r, "recording-scheduler");
            t.setDaemon(true);
            return t;
          });
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      delays.add(unit.toNanos(delay));
      return super.schedule(command, 0, unit);
    }
  }

  enum Upstream {
    GRPC_RETRY_INFO,
    HTTP_RETRY_AFTER
  }

  @ParameterizedTest
  @EnumSource(Upstream.class)
  void theUpstreamsRetryDelayIsWhatTheDurableLoopWaits(Upstream kind) throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String endpoint = kind == Upstream.GRPC_RETRY_INFO ? grpcUpstream(calls) : httpUpstream(calls);
    OtlpExporter otlp =
        OtlpExporter.builder()
            .protocol(kind == Upstream.GRPC_RETRY_INFO ? Protocol.GRPC : Protocol.HTTP_PROTOBUF)
            .endpoint(endpoint)
            .name("up")
            .metricsRegistry(metrics)
            .ioThreads(1)
            .retryPolicy(
                RetryPolicy.builder()
                    .initialDelay(Duration.ofMillis(5))
                    .maxDelay(Duration.ofMillis(10))
                    .maxAttempts(5)
                    .maxElapsed(Duration.ofMinutes(1))
                    .build())
            .build();
    UpstreamExporter exporter = new UpstreamExporter("up", otlp);
    RecordingScheduler scheduler = new RecordingScheduler();
    DurableQueue queue = DurableQueue.builder(dir.resolve("q")).consumers("up").open();
    try {
      ByteBuf request = Unpooled.copiedBuffer(TestSpans.spans("d", 2, 10).toByteArray());
      try {
        assertThat(queue.append((byte) Signal.TRACES.ordinal(), 2, request).join().appended())
            .isTrue();
      } finally {
        request.release();
      }
      DurableExportLoop loop =
          new DurableExportLoop(
              "traces",
              Signal.TRACES,
              CountingExporter.wrap(exporter, Signal.TRACES, metrics),
              queue.consumer("up"),
              new BatchSettings(4, 4, Duration.ofMillis(10), 100, true),
              FAST,
              scheduler,
              metrics);
      loop.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> calls.get() == 2);
      // One attempt per call (the exporter did not retry on its own), then the loop's retry after
      // the
      // upstream's delay, not its own 5-10 ms backoff.
      long expected = Duration.ofSeconds(kind == Upstream.GRPC_RETRY_INFO ? 2 : 3).toNanos();
      assertThat(scheduler.delays).contains(expected);
      assertThat(loop.stop(Duration.ofSeconds(5)).join()).isTrue();
    } finally {
      exporter.shutdown(Duration.ofSeconds(1)).join();
      scheduler.shutdownNow();
      queue.close();
    }
  }

  /** A gRPC upstream answering UNAVAILABLE with RetryInfo 2 s once, then OK. */
  private String grpcUpstream(AtomicInteger calls) throws Exception {
    Server server =
        ServerBuilder.forPort(0)
            .addService(
                new TraceServiceGrpc.TraceServiceImplBase() {
                  @Override
                  public void export(
                      ExportTraceServiceRequest request,
                      StreamObserver<ExportTraceServiceResponse> out) {
                    if (calls.incrementAndGet() == 1) {
                      out.onError(
                          StatusProto.toStatusRuntimeException(
                              com.google.rpc.Status.newBuilder()
                                  .setCode(Status.Code.UNAVAILABLE.value())
                                  .setMessage("try later")
                                  .addDetails(
                                      Any.pack(
                                          RetryInfo.newBuilder()
                                              .setRetryDelay(
                                                  com.google.protobuf.Duration.newBuilder()
                                                      .setSeconds(2))
                                              .build()))
                                  .build()));
                      return;
                    }
                    out.onNext(ExportTraceServiceResponse.getDefaultInstance());
                    out.onCompleted();
                  }
                })
            .build()
            .start();
    closeAfter.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return "http://127.0.0.1:" + server.getPort();
  }

  /** An HTTP upstream answering 503 with Retry-After: 3 once, then 200. */
  private String httpUpstream(AtomicInteger calls) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          if (calls.incrementAndGet() == 1) {
            exchange.getResponseHeaders().set("Retry-After", "3");
            exchange.sendResponseHeaders(503, -1);
          } else {
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, -1);
          }
          exchange.close();
        });
    server.start();
    closeAfter.add(() -> server.stop(0));
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }
}
