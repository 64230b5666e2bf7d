package io.otlp4j.bench.receiver;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.receiver.GrpcReceiver;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The OTLP/gRPC receiver's cost per request: a plain grpc-java client (pre-encoded bytes, the same
 * in every build) sends realistic trace requests over loopback to a {@link GrpcReceiver} whose sink
 * releases each request and accepts it at once. Each of the 2 benchmark threads keeps a window of
 * 16 calls in flight; an operation is one request. Read {@code gc.alloc.rate.norm} (bytes allocated
 * per request, client and receiver together, in one JVM): unlike the throughput it does not depend
 * on how loaded the machine is, so two builds compare on a shared machine. Run the same class from
 * the previous build's jar as the anchor.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar GrpcReceiveBenchmark -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Threads(2)
public class GrpcReceiveBenchmark {

  /** Calls each benchmark thread keeps in flight. */
  static final int WINDOW = 16;

  @State(Scope.Benchmark)
  public static class Shared {
    /** Spans per request (~427 B each): 100 is {@code otlp4j send}'s default. */
    @Param({"100"})
    public int spans;

    GrpcReceiver receiver;
    ManagedChannel channel;
    MethodDescriptor<byte[], byte[]> method;
    byte[] request;

    @Setup(Level.Trial)
    public void setUp() {
      request = OtlpGenerator.realisticTraces(spans).toByteArray();
      receiver = GrpcReceiver.builder(new ReleasingSink()).port(0).build().start();
      channel =
          NettyChannelBuilder.forAddress(receiver.address())
              .usePlaintext()
              .directExecutor()
              .build();
      method =
          MethodDescriptor.<byte[], byte[]>newBuilder()
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(
                  MethodDescriptor.generateFullMethodName(Signal.TRACES.grpcService(), "Export"))
              .setRequestMarshaller(ByteArrayMarshaller.INSTANCE)
              .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
              .build();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      receiver.shutdown(Duration.ofSeconds(5));
    }
  }

  @State(Scope.Thread)
  public static class PerThread {
    @SuppressWarnings("unchecked")
    final CompletableFuture<byte[]>[] window = new CompletableFuture[WINDOW];
  }

  @Benchmark
  @OperationsPerInvocation(WINDOW)
  public Object export(Shared shared, PerThread thread) throws Exception {
    for (int i = 0; i < WINDOW; i++) {
      CompletableFuture<byte[]> f = new CompletableFuture<>();
      thread.window[i] = f;
      ClientCalls.asyncUnaryCall(
          shared.channel.newCall(
              shared.method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)),
          shared.request,
          new StreamObserver<byte[]>() {
            private byte[] response;

            @Override
            public void onNext(byte[] value) {
              response = value;
            }

            @Override
            public void onError(Throwable t) {
              f.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
              f.complete(response);
            }
          });
    }
    byte[] last = null;
    for (CompletableFuture<byte[]> f : thread.window) {
      last = f.get();
    }
    return last;
  }

  /** Releases every request and accepts it. */
  static final class ReleasingSink implements ReceiverSink {
    @Override
    public CompletionStage<Outcome> accept(Signal signal, ByteBuf request, WalkSummary summary) {
      request.release();
      return CompletableFuture.completedFuture(Outcome.accepted());
    }
  }
}
