package io.otlp4j.bench.wire;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What it costs to validate and count an encoded OTLP export request with {@link OtlpWalker},
 * against two anchors measured in the same run: protobuf-java's {@code
 * Export*ServiceRequest.parseFrom} on the same bytes (what a user would otherwise pick), and a
 * plain copy of the same bytes (memory speed: {@code System.arraycopy} for the array, Netty's
 * {@code setBytes} (Unsafe {@code copyMemory}) for direct memory).
 *
 * <h2>What is measured</h2>
 *
 * One operation is one whole request: the realistic payloads of {@link OtlpGenerator} ({@code
 * realisticTraces}, {@code realisticMetrics}, {@code realisticLogs}) with {@code items} spans, data
 * points or log records (1, 64, 512). The walker reads the request from a {@code byte[]} (as {@code
 * parseFrom} does) and from a pooled direct {@code ByteBuf} (as the relay holds it); both do the
 * full validation (structure, UTF-8 of every string, nesting) and the counting. Scores are per
 * request (microseconds per op); divide by {@code items} for the cost per item, and read the
 * request size printed at setup ({@code bytes per op}) for the throughput in MB/s. Run with {@code
 * -prof gc} to see {@code gc.alloc.rate.norm}: the walker allocates only its summary and a {@code
 * ByteBuffer} view (under 150 B per request), {@code parseFrom} the whole object tree.
 *
 * <h2>How to run</h2>
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar WalkerBenchmark -prof gc
 * # quick smoke run:
 * java -jar bench/target/benchmarks.jar WalkerBenchmark -f 1 -wi 1 -i 2 -w 1s -r 1s -prof gc
 * </pre>
 *
 * GB/s = bytes per op (printed at setup) / (µs per op x 1000). The goals: the walker at least 4
 * GB/s on the 512-span realistic request from both the array and direct memory (the copy anchors
 * say how far that is from memory speed), at least 5 times faster than {@code parseFrom}, and about
 * 0 B/op.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class WalkerBenchmark {

  @Param({"TRACES", "METRICS", "LOGS"})
  public Signal signal;

  @Param({"1", "64", "512"})
  public int items;

  private final OtlpWalker walker = OtlpWalker.create();
  private byte[] bytes;
  private ByteBuf direct;
  private byte[] copyTarget;
  private ByteBuf directCopyTarget;

  @Setup(Level.Trial)
  public void setUp() {
    Message request;
    switch (signal) {
      case TRACES:
        request = OtlpGenerator.realisticTraces(items);
        break;
      case METRICS:
        request = OtlpGenerator.realisticMetrics(items);
        break;
      default:
        request = OtlpGenerator.realisticLogs(items);
        break;
    }
    bytes = request.toByteArray();
    direct = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    copyTarget = new byte[bytes.length];
    directCopyTarget = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length);
    WalkSummary summary = walker.walk(signal, bytes);
    System.out.println(
        "\n" + signal + " items=" + items + ": bytes per op = " + bytes.length + ", " + summary);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    direct.release();
    directCopyTarget.release();
  }

  /** The walker over a byte array: validate and count. */
  @Benchmark
  public long walkerByteArray() {
    return walker.walk(signal, bytes).itemCount();
  }

  /** The walker over a pooled direct ByteBuf, as the relay holds a request: validate and count. */
  @Benchmark
  public long walkerDirectByteBuf() {
    return walker.walk(signal, direct).itemCount();
  }

  /** Memory speed: a plain copy of the request's bytes from one array to another. */
  @Benchmark
  public byte[] anchor_copyByteArray() {
    System.arraycopy(bytes, 0, copyTarget, 0, bytes.length);
    return copyTarget;
  }

  /** Memory speed: a plain copy of the request's bytes from direct memory to direct memory. */
  @Benchmark
  public ByteBuf anchor_copyDirectByteBuf() {
    return directCopyTarget.setBytes(0, direct, 0, bytes.length);
  }

  /** The anchor: protobuf-java's generated parser building the request's object tree. */
  @Benchmark
  public Object protobufParseFrom() throws InvalidProtocolBufferException {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceRequest.parseFrom(bytes);
      case METRICS:
        return ExportMetricsServiceRequest.parseFrom(bytes);
      default:
        return ExportLogsServiceRequest.parseFrom(bytes);
    }
  }
}
