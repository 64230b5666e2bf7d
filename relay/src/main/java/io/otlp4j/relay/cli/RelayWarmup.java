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
 * private copy of the default relay (same ack mode, every file in a new directory {@code
 * .otlp4j-warmup-*} in the data directory, every listener on an ephemeral loopback port) is sent
 * synthetic requests over OTLP/gRPC and OTLP/HTTP as {@code otlp4j send} sends them, drained into
 * its own files and stopped; the directory is deleted; then the relay is started for real. Nothing
 * of the warm-up reaches the user's data directory or any upstream.
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
 * <h2>When it stops</h2>
 *
 * Traffic goes on (closed loop, {@link #GRPC_CONCURRENCY} gRPC and {@link #HTTP_CONCURRENCY} HTTP
 * requests in flight, few enough that the compiler threads keep CPU) until the compiler has been
 * quiet <i>under that traffic</i>: less than a tenth of the time busy over {@link #QUIET_WINDOWS}
 * consecutive windows of {@link #WINDOW_MILLIS} ms, after at least {@link #MIN_REQUESTS} requests.
 * Quiet with no traffic proves nothing: the tiered policy raises its thresholds while the
 * second-tier queue is long, so methods called once per request were still first-tier code when a
 * warm-up of a fixed 3,000 requests ended, and were compiled when real traffic came (measured: 435
 * such methods after 15,000 requests).
 *
 * <h2>Bounds</h2>
 *
 * Never longer than the budget (the {@code --warmup} duration) in all: the traffic stops at {@link
 * #SEND_SHARE} of it at the latest; the private relay's drain and, if the compiler was still busy,
 * the wait for it to work off its queue get the rest. A warm-up that fails (a port, a disk) is
 * logged in one line and skipped: it never stops the relay from starting.
 */
final class RelayWarmup {

  /**
   * Requests sent at most, gRPC and HTTP together (~1 GB of protobuf, the default queue's size): on
   * a machine fast enough to send more before the compiler settles, it is warm by then.
   */
  static final int MAX_REQUESTS = 20_000;

  /** The warm-up's directory in the data directory: this prefix, then a random number. */
  static final String DIR_PREFIX = ".otlp4j-warmup-";

  /** Requests sent before the compiler's quiet counts. */
  static final int MIN_REQUESTS = 2_000;

  /** Spans per request: what {@code otlp4j send} sends by default. */
  static final int SPANS = 100;

  /** gRPC requests in flight at once. */
  static final int GRPC_CONCURRENCY = 6;

  /** OTLP/HTTP requests in flight at once. */
  static final int HTTP_CONCURRENCY = 2;

  /** The compiler's busy time is read once per window. */
  static final long WINDOW_MILLIS = 500;

  /** Quiet windows in a row that end the traffic. */
  static final int QUIET_WINDOWS = 2;

  /**
   * The share of the budget after which traffic stops, quiet or not; the rest is for the private
   * relay's drain and for the compiler to work off its queue ({@link #quietCompiler}).
   */
  static final double SEND_SHARE = 0.6;

  /** What the warm-up did. */
  record Result(long requests, long failed, Duration took, boolean compilerSettled) {}

  private RelayWarmup() {}

  /**
   * Runs the warm-up for the embedded default in {@code mode}, within {@code budget}, in a new
   * directory under {@code parent} (the data directory: the disk the relay will write, not a {@code
   * /tmp} that may be memory); throws only if the private relay could not start or its directory
   * could not be made.
   */
  static Result run(AckMode mode, Duration budget, Path parent)
      throws IOException, InterruptedException {
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    long sendDeadline = start + (long) (budget.toNanos() * SEND_SHARE);
    Files.createDirectories(parent);
    // What a warm-up killed part-way left behind: it is nobody's data.
    try (java.util.stream.Stream<Path> old = Files.list(parent)) {
      old.filter(p -> p.getFileName().toString().startsWith(DIR_PREFIX))
          .forEach(RelayWarmup::deleteTree);
    }
    Path dir = Files.createTempDirectory(parent, DIR_PREFIX);
    long sent = 0;
    long failed = 0;
    boolean settled = false;
    try {
      Relay relay =
          Relay.start(RelayConfig.defaults(dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", mode));
      try {
        long left = Math.max(1, sendDeadline - System.nanoTime());
        try (Traffic grpc =
                new Traffic(
                    Protocol.GRPC,
                    relay.grpcAddress("otlp").getPort(),
                    GRPC_CONCURRENCY,
                    MAX_REQUESTS * GRPC_CONCURRENCY / (GRPC_CONCURRENCY + HTTP_CONCURRENCY),
                    left);
            Traffic http =
                new Traffic(
                    Protocol.HTTP_PROTOBUF,
                    relay.httpAddress("otlp").getPort(),
                    HTTP_CONCURRENCY,
                    MAX_REQUESTS * HTTP_CONCURRENCY / (GRPC_CONCURRENCY + HTTP_CONCURRENCY),
                    left)) {
          settled = quietUnderTraffic(() -> grpc.sent() + http.sent(), sendDeadline);
          grpc.stop();
          http.stop();
          sent = grpc.sent();
          failed = grpc.failed();
          sent += http.sent();
          failed += http.failed();
        }
      } finally {
        // Drains the queue into the private files: the file exporter's transcoding warms too.
        relay.shutdown(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
      }
    } catch (UncheckedIOException | IllegalStateException e) {
      throw new IOException(e.getMessage(), e);
    } finally {
      deleteTree(dir);
    }
    // Traffic stopped at its limit with the compiler busy: what it has queued is compiled now, not
    // when the first real requests come (measured: otherwise it was, and the relay's compiler took
    // 2.6 s of CPU in the first 15 s at 10,000 spans/s, more than with no warm-up).
    if (!settled) {
      settled = quietCompiler(deadline);
    }
    return new Result(sent, failed, Duration.ofNanos(System.nanoTime() - start), settled);
  }

  /**
   * Waits until at least {@link #MIN_REQUESTS} were sent and then the JIT compilers were busy less
   * than a tenth of the time over {@link #QUIET_WINDOWS} windows in a row, or {@code
   * deadlineNanos}; true if they settled. Without the compilation bean's timing, waits for {@link
   * #MIN_REQUESTS} (or the deadline) and returns false.
   */
  static boolean quietUnderTraffic(java.util.function.LongSupplier sent, long deadlineNanos)
      throws InterruptedException {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
    long last = timed ? jit.getTotalCompilationTime() : 0;
    int quiet = 0;
    while (System.nanoTime() < deadlineNanos) {
      Thread.sleep(WINDOW_MILLIS);
      boolean enough = sent.getAsLong() >= MIN_REQUESTS;
      if (!timed) {
        if (enough) {
          return false;
        }
        continue;
      }
      long now = jit.getTotalCompilationTime();
      quiet = enough && now - last < WINDOW_MILLIS / 10 ? quiet + 1 : 0;
      last = now;
      if (quiet >= QUIET_WINDOWS) {
        return true;
      }
    }
    return false;
  }

  /**
   * Waits, with no traffic, until the JIT compilers were busy less than a tenth of the time over
   * one window, or {@code deadlineNanos}; true if they were.
   */
  private static boolean quietCompiler(long deadlineNanos) throws InterruptedException {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
      return false;
    }
    long last = jit.getTotalCompilationTime();
    while (System.nanoTime() < deadlineNanos) {
      Thread.sleep(Math.min(WINDOW_MILLIS, (deadlineNanos - System.nanoTime()) / 1_000_000 + 1));
      long now = jit.getTotalCompilationTime();
      if (now - last < WINDOW_MILLIS / 10) {
        return true;
      }
      last = now;
    }
    return false;
  }

  /** Closed-loop synthetic traces to one port, as {@code otlp4j send --rate 0} sends them. */
  private static final class Traffic implements AutoCloseable {
    private final OtlpExporter exporter;
    private final LoadRun run;

    Traffic(Protocol protocol, int port, int concurrency, long maxRequests, long durationNanos) {
      exporter =
          OtlpExporter.builder()
              .name("warmup")
              .protocol(protocol)
              .endpoint("http://127.0.0.1:" + port)
              .maxInFlight(concurrency, concurrency)
              .maxConnections(concurrency)
              .build();
      SyntheticRequests synthetic = new SyntheticRequests(Signal.TRACES, SPANS, System.nanoTime());
      run =
          new LoadRun(
              exporter,
              Signal.TRACES,
              SPANS,
              () -> synthetic.next(ByteBufAllocator.DEFAULT),
              0,
              concurrency,
              maxRequests,
              durationNanos,
              0);
      run.start();
    }

    long sent() {
      LoadRun.Snapshot s = run.snapshot();
      return s.succeeded + s.failed;
    }

    long failed() {
      return run.snapshot().failed;
    }

    /** Sends no more; waits (at most 10 s) for the answers of what is in flight. */
    void stop() throws InterruptedException {
      run.stop();
      run.await(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      run.stop();
      run.close();
      exporter.shutdown(Duration.ofSeconds(5)).join();
    }
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
