package io.otlp4j.bench.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * {@link WalkerBenchmark}'s comparison measured in CPU time of the measuring thread instead of wall
 * time: the walker over a {@code byte[]} and over a pooled direct {@code ByteBuf}, a plain copy of
 * the same bytes, and {@code parseFrom}, on the 512-span realistic request. On a machine shared
 * with other work, wall-time averages move by 2–10× between runs (the thread waits for a core); CPU
 * time per operation moves by a few percent, so it is the figure to compare builds with there. It
 * still counts cache and hyper-thread interference from neighbours, so a quiet machine's JMH run
 * remains the reference.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -Xms1g -Xmx1g -cp bench/target/benchmarks.jar io.otlp4j.bench.wire.WalkerCpuTime [rounds]
 * </pre>
 *
 * Prints, per round after three warm-up rounds, µs of CPU per request and GB/s (request bytes per
 * CPU second) for each; then the median of the rounds.
 */
public final class WalkerCpuTime {
  private static final String[] MODES = {"walker byte[]", "walker direct", "copy", "parseFrom"};

  private WalkerCpuTime() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    byte[] bytes = OtlpGenerator.realisticTraces(512).toByteArray();
    ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    byte[] target = new byte[bytes.length];
    OtlpWalker walker = OtlpWalker.create();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    double[][] micros = new double[MODES.length][rounds];
    long sink = 0;
    for (int round = -3; round < rounds; round++) {
      for (int mode = 0; mode < MODES.length; mode++) {
        int n = mode == 3 ? 100 : 2000;
        long start = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          switch (mode) {
            case 0:
              sink += walker.walk(Signal.TRACES, bytes).itemCount();
              break;
            case 1:
              sink += walker.walk(Signal.TRACES, direct).itemCount();
              break;
            case 2:
              System.arraycopy(bytes, 0, target, 0, bytes.length);
              sink += target[i % bytes.length];
              break;
            default:
              sink += ExportTraceServiceRequest.parseFrom(bytes).getResourceSpansCount();
              break;
          }
        }
        double us = (threads.getCurrentThreadCpuTime() - start) / 1e3 / n;
        if (round >= 0) {
          micros[mode][round] = us;
          System.out.printf(
              "round %d %-14s %9.2f us cpu/op %6.2f GB/s%n",
              round, MODES[mode], us, bytes.length / (us * 1000));
        }
      }
    }
    System.out.printf("request: %d bytes, 512 spans (sink %d)%n", bytes.length, sink);
    for (int mode = 0; mode < MODES.length; mode++) {
      double[] sorted = micros[mode].clone();
      java.util.Arrays.sort(sorted);
      double median = sorted[rounds / 2];
      System.out.printf(
          "median %-14s %9.2f us cpu/op %6.2f GB/s (min %.2f, max %.2f us)%n",
          MODES[mode], median, bytes.length / (median * 1000), sorted[0], sorted[rounds - 1]);
    }
    direct.release();
  }
}
