package io.otlp4j.bench.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.otlp4j.wire.RequestMerger;
import io.otlp4j.wire.RequestSplitter;
import io.otlp4j.wire.ResourceRewrite;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.ArrayList;
import java.util.List;
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
 * What it costs to cut a request into parts ({@link RequestSplitter}), to merge requests into one
 * ({@link RequestMerger}) and to rewrite resource attributes ({@link ResourceRewrite}), all
 * zero-copy for the items, on a realistic trace request held in a pooled direct {@code ByteBuf}.
 *
 * <h2>What is measured</h2>
 *
 * <ul>
 *   <li>{@code split}: a request of {@code spans} spans cut into parts of {@code spansPerPart}
 *       spans (including its validation by the walker), and the parts released;
 *   <li>{@code merge}: the same request's bytes as eight separate requests merged into one
 *       composite buffer, and released;
 *   <li>{@code rewrite}: {@code service.name} upserted and {@code host.name} deleted in every
 *       resource (including validation), and the result released.
 * </ul>
 *
 * Each operation handles the whole request once, so its size is the bytes per op, printed at setup:
 * cost per MB = score (µs/op) × 1,048,576 / bytes per op. {@code -prof gc} shows the allocation per
 * op (composite buffers and slices, independent of the items' size).
 *
 * <h2>How to run</h2>
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar SplitMergeBenchmark -prof gc
 * # quick smoke run:
 * java -jar bench/target/benchmarks.jar SplitMergeBenchmark -f 1 -wi 1 -i 2 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class SplitMergeBenchmark {

  @Param({"512"})
  public int spans;

  @Param({"64"})
  public int spansPerPart;

  private ByteBuf request;
  private final List<ByteBuf> pieces = new ArrayList<>();
  private RequestSplitter splitter;
  private final ResourceRewrite rewrite =
      ResourceRewrite.builder()
          .upsert("service.name", "renamed-service")
          .delete("host.name")
          .build();

  @Setup(Level.Trial)
  public void setUp() {
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();
    request = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    splitter = RequestSplitter.builder().maxItems(spansPerPart).build();
    for (ByteBuf part :
        RequestSplitter.builder()
            .maxItems(Math.max(1, spans / 8))
            .build()
            .split(Signal.TRACES, request)) {
      ByteBuf copy =
          PooledByteBufAllocator.DEFAULT.directBuffer(part.readableBytes()).writeBytes(part);
      part.release();
      pieces.add(copy);
    }
    System.out.println(
        "\nspans="
            + spans
            + ": bytes per op = "
            + bytes.length
            + " (merge: "
            + pieces.size()
            + " requests)");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    request.release();
    pieces.forEach(ByteBuf::release);
    pieces.clear();
  }

  @Benchmark
  public int split() {
    List<ByteBuf> parts = splitter.split(Signal.TRACES, request);
    int n = parts.size();
    for (ByteBuf part : parts) {
      part.release();
    }
    return n;
  }

  @Benchmark
  public int merge() {
    CompositeByteBuf merged = RequestMerger.merge(PooledByteBufAllocator.DEFAULT, pieces);
    int n = merged.readableBytes();
    merged.release();
    return n;
  }

  @Benchmark
  public int rewrite() {
    ByteBuf out = rewrite.apply(Signal.TRACES, request);
    int n = out.readableBytes();
    out.release();
    return n;
  }
}
