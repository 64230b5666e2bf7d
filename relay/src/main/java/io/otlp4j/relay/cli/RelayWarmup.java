package io.otlp4j.relay.cli;

import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.Relay;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Warms the JVM's compiler for the embedded default before {@code otlp4j run} takes traffic: a
 * private copy of the default relay (same ack mode, every file in a temporary directory, every
 * listener on an ephemeral loopback port) is sent synthetic requests over OTLP/gRPC and OTLP/HTTP
 * as {@code otlp4j send} sends them, drained into its own files and stopped; the directory is
 * deleted; then the relay is started for real. Nothing of the warm-up reaches the user's data
 * directory or any upstream.
 *
 * <h2>Why</h2>
 *
 * A relay that takes traffic the moment it starts runs its first seconds interpreted and through
 * the first-tier compiler, and the second tier then competes with the traffic for the cores: on the
 * 2-core development machine the relay's compiler took 1.8 s of CPU in the first 15 s at 10,000
 * spans/s, and the p99 of those seconds was the main job's p99. Here that work happens before the
 * listeners bind (and so before {@code /healthz} answers), while the machine has nothing else to
 * do.
 *
 * <h2>Bounds</h2>
 *
 * At most {@link #REQUESTS} requests of {@link #SPANS} items, and never longer than the budget (the
 * {@code --warmup} duration) in all: the sending stops at half of it, the wait for the compiler to
 * settle ({@link #quietCompiler}) at the end of it. A warm-up that fails (a port, a disk) is logged
 * in one line and skipped: it never stops the relay from starting.
 */
final class RelayWarmup {

  /** Requests sent at most, gRPC and HTTP together. */
  static final int REQUESTS = 3_000;

  /** Spans per request: what {@code otlp4j send} sends by default. */
  static final int SPANS = 100;

  /** Requests in flight at once. */
  static final int CONCURRENCY = 8;

  /** One in this many requests goes over OTLP/HTTP, the rest over OTLP/gRPC. */
  static final int HTTP_SHARE = 4;

  /** What the warm-up did. */
  record Result(long requests, long failed, Duration took, boolean compilerSettled) {}

  private RelayWarmup() {}

  /**
   * Runs the warm-up for the embedded default in {@code mode}, within {@code budget}; throws only
   * if the private relay could not start or its directory could not be made.
   */
  static Result run(AckMode mode, Duration budget) throws IOException, InterruptedException {
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    long sendDeadline = start + budget.toNanos() / 2;
    Path dir = Files.createTempDirectory("otlp4j-warmup-");
    long sent = 0;
    long failed = 0;
    try {
      Relay relay =
          Relay.start(RelayConfig.defaults(dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", mode));
      try {
        int http = REQUESTS / HTTP_SHARE;
        long[] grpc =
            send(Protocol.GRPC, relay.grpcAddress("otlp").getPort(), REQUESTS - http, sendDeadline);
        long[] overHttp =
            send(Protocol.HTTP_PROTOBUF, relay.httpAddress("otlp").getPort(), http, sendDeadline);
        sent = grpc[0] + overHttp[0];
        failed = grpc[1] + overHttp[1];
      } finally {
        // Drains the queue into the private files: the file exporter's transcoding warms too.
        relay.shutdown(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
      }
    } catch (UncheckedIOException | IllegalStateException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      deleteTree(dir);
    }
    boolean settled = quietCompiler(deadline);
    return new Result(sent, failed, Duration.ofNanos(System.nanoTime() - start), settled);
  }

  /** Sends up to {@code requests} closed-loop; returns {sent, failed}. */
  private static long[] send(Protocol protocol, int port, int requests, long deadlineNanos)
      throws InterruptedException {
    long left = deadlineNanos - System.nanoTime();
    if (requests <= 0 || left <= 0) {
      return new long[2];
    }
    OtlpExporter exporter =
        OtlpExporter.builder()
            .name("warmup")
            .protocol(protocol)
            .endpoint("http://127.0.0.1:" + port)
            .maxInFlight(CONCURRENCY, CONCURRENCY)
            .maxConnections(CONCURRENCY)
            .build();
    SyntheticRequests synthetic = new SyntheticRequests(Signal.TRACES, SPANS, System.nanoTime());
    LoadRun run =
        new LoadRun(
            exporter,
            Signal.TRACES,
            SPANS,
            () -> synthetic.next(ByteBufAllocator.DEFAULT),
            0,
            CONCURRENCY,
            requests,
            left,
            0);
    try {
      run.start();
      if (!run.await(left + TimeUnit.SECONDS.toNanos(10), TimeUnit.NANOSECONDS)) {
        run.stop();
        run.await(10, TimeUnit.SECONDS);
      }
      LoadRun.Snapshot s = run.snapshot();
      return new long[] {s.succeeded + s.failed, s.failed};
    } finally {
      run.close();
      exporter.shutdown(Duration.ofSeconds(5)).join();
    }
  }

  /**
   * Waits until the JIT compilers were busy less than a tenth of the time over the last half
   * second, or {@code deadlineNanos}; true if they settled. Without the compilation bean (a JVM
   * without it), returns false at once.
   */
  static boolean quietCompiler(long deadlineNanos) throws InterruptedException {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
      return false;
    }
    long windowMillis = 500;
    long last = jit.getTotalCompilationTime();
    while (System.nanoTime() < deadlineNanos) {
      Thread.sleep(windowMillis);
      long now = jit.getTotalCompilationTime();
      if (now - last < windowMillis / 10) {
        return true;
      }
      last = now;
    }
    return false;
  }

  private static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      System.getLogger(RelayWarmup.class.getName())
          .log(System.Logger.Level.WARNING, "could not delete the warm-up's directory " + dir, e);
    }
  }
}
