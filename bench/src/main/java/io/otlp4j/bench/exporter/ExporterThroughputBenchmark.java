package io.otlp4j.bench.exporter;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.core.Outcome;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Export throughput over loopback to a discard server, OTLP/gRPC and OTLP/HTTP (protobuf, no
 * compression), against the physical limit measured in the same run: a plain blocking socket writer
 * pushing the same bytes to a discard sink ({@code transport=SOCKET}). Each of the 4 benchmark
 * threads keeps a window of 16 exports in flight and waits for all their answers (the socket writer
 * waits for nothing); an operation is one export, so {@code ops/s} is requests/s and the {@code
 * bytes} counter is payload bytes/s (divide by 2^20 for MiB/s). The goal: at 64 KiB, gRPC and HTTP
 * reach at least half the socket's bytes/s.
 *
 * <p>Allocation per export: run with {@code -prof gc} and read {@code gc.alloc.rate.norm} (bytes
 * per operation): it should not grow with {@code payloadBytes}, as the payload is never copied onto
 * the heap. The discard servers run in the same JVM, so the figure includes their per-request
 * allocation too.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar ExporterThroughputBenchmark -prof gc
 * # smoke: java -jar bench/target/benchmarks.jar ExporterThroughputBenchmark -f 1 -wi 1 -i 2 -w 1s -r 1s
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Threads(4)
public class ExporterThroughputBenchmark {

  /** What sends the bytes. */
  public enum Transport {
    GRPC,
    HTTP_PROTOBUF,
    SOCKET
  }

  @State(Scope.Benchmark)
  public static class Shared {
    @Param({"4096", "65536", "1048576"})
    public int payloadBytes;

    @Param({"GRPC", "HTTP_PROTOBUF", "SOCKET"})
    public Transport transport;

    DiscardServers servers;
    OtlpExporter exporter;
    ByteBuf payload;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
      servers = new DiscardServers();
      byte[] bytes = new byte[payloadBytes];
      new Random(1).nextBytes(bytes); // the discard servers never parse it
      payload = ByteBufAllocator.DEFAULT.directBuffer(payloadBytes).writeBytes(bytes);
      if (transport != Transport.SOCKET) {
        Protocol protocol = transport == Transport.GRPC ? Protocol.GRPC : Protocol.HTTP_PROTOBUF;
        int port = protocol == Protocol.GRPC ? servers.grpcPort() : servers.httpPort();
        exporter =
            OtlpExporter.builder()
                .protocol(protocol)
                .endpoint("http://127.0.0.1:" + port)
                .grpcChannels(2)
                .maxConnections(8)
                .ioThreads(2)
                .build();
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
      if (exporter != null) {
        exporter.close();
      }
      payload.release();
      servers.close();
    }
  }

  /** Per-thread socket for the baseline, and the bytes counter. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class PerThread {
    public long bytes;
    SocketChannel socket;
    final CompletableFuture<?>[] window = new CompletableFuture<?>[WINDOW];

    @Setup(Level.Trial)
    public void open(Shared shared) throws IOException {
      if (shared.transport == Transport.SOCKET) {
        socket = SocketChannel.open(new InetSocketAddress("127.0.0.1", shared.servers.sinkPort()));
        socket.socket().setTcpNoDelay(true);
      }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      if (socket != null) {
        socket.close();
      }
    }
  }

  /**
   * Exports each benchmark thread keeps in flight: the exporter pipelines, as a batcher upstream of
   * it would.
   */
  static final int WINDOW = 16;

  @Benchmark
  @OperationsPerInvocation(WINDOW)
  public Object export(Shared shared, PerThread thread) throws Exception {
    if (shared.transport == Transport.SOCKET) {
      ByteBuffer b = null;
      for (int i = 0; i < WINDOW; i++) {
        b = shared.payload.nioBuffer();
        while (b.hasRemaining()) {
          thread.socket.write(b);
        }
      }
      thread.bytes += (long) WINDOW * shared.payloadBytes;
      return b;
    }
    CompletableFuture<?>[] window = thread.window;
    for (int i = 0; i < WINDOW; i++) {
      window[i] = shared.exporter.export(Signal.TRACES, shared.payload.retainedDuplicate(), 1);
    }
    Outcome last = null;
    for (CompletableFuture<?> f : window) {
      last = (Outcome) f.get();
      if (!last.isSuccess()) {
        throw new IllegalStateException(last.toString());
      }
    }
    thread.bytes += (long) WINDOW * shared.payloadBytes;
    return last;
  }
}
