package io.otlp4j.bench.sdk;

import io.otlp4j.bench.command.BenchSettings;
import io.otlp4j.bench.command.ProcessMeter;
import io.otlp4j.bench.command.Progress;
import io.otlp4j.bench.command.ScenarioResult;
import io.otlp4j.bench.command.SideMeasurements;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The library scenario of {@code ./otlp4j bench}: the same application threads ({@link
 * SdkPipelineScenario.Producers}, two of them) creating the same spans, through the OpenTelemetry
 * SDK's own {@code BatchSpanProcessor} + {@code OtlpGrpcSpanExporter} ("before") and through
 * otlp4j's {@code Otlp4jBatchSpanProcessor} + {@code Otlp4jSpanExporter} ("after"), each in its own
 * JVM ({@link LibraryPipelineProcess}), into the same {@link LoopbackSink} JVM.
 *
 * <p>Per side: flat out (throughput: spans and export requests arriving at the sink per second; CPU
 * µs of the application JVM per delivered span), then at a fixed offered rate of half the "before"
 * side's maximum (the application thread's time in {@code span.end()}, CPU % of one core, steady
 * RSS), then the other offered rates of the curve, then the fault run: the sink refuses a fixed
 * fraction of the export requests retryably and goes away once. Errors: export calls whose result
 * failed (after the exporter's own retries), and spans created but never delivered.
 *
 * <p>Not thread-safe: one driver thread.
 */
public final class LibraryScenario {

  static final String BEFORE = "sdk-grpc";
  static final String AFTER = "otlp4j-grpc";
  static final int PRODUCERS = 2;

  /** How long a side may take to deliver its first spans before it counts as failed. */
  private static final long FIRST_DELIVERY_SECONDS = 60;

  /** JVM start and connection, per side: for the progress estimate. */
  private static final long START_MS = 3000;

  private final BenchSettings s;
  private final Progress progress;
  private final ScheduledExecutorService timer;
  private final Path logDir;

  private LibraryScenario(
      BenchSettings s, Progress progress, ScheduledExecutorService timer, Path logDir) {
    this.s = s;
    this.progress = progress;
    this.timer = timer;
    this.logDir = logDir;
  }

  /** What {@link #run} is planned to take, in ms. */
  public static long plannedMillis(BenchSettings s) {
    return 2 * (s.plannedSideMillis() + START_MS) + 2000;
  }

  /**
   * Runs both sides; a side that fails leaves the result's {@code failure} set.
   *
   * @param logDir where the child JVMs' standard error goes
   */
  public static ScenarioResult run(
      BenchSettings s, Progress progress, ScheduledExecutorService timer, Path logDir) {
    ScenarioResult r =
        new ScenarioResult(
            "library",
            "Library: SDK BatchSpanProcessor + OTLP exporter vs otlp4j processor + exporter",
            "items are spans; requests are OTLP/gRPC export requests arriving at the loopback sink;"
                + " the process under test is the application JVM",
            "OTel SDK BatchSpanProcessor + OtlpGrpcSpanExporter",
            "Otlp4jBatchSpanProcessor + Otlp4jSpanExporter");
    r.latencyInMicros = true;
    r.notes.add(
        PRODUCERS
            + " application threads create the same SERVER spans (9 attributes); the sink is otlp4j's"
            + " OTLP/gRPC receiver in its own JVM, counting spans.");
    r.notes.add(
        "Latency is the application thread's time in span.end() (the library's answer to the"
            + " application), at the fixed offered rate.");
    r.notes.add(
        "Error rate: the sink answers "
            + Math.round(s.faultFraction() * 100)
            + "% of export requests with UNAVAILABLE + RetryInfo (1 s) and is away for "
            + s.downMs() / 1000.0
            + " s once; requests = the processor's export calls (those made during the fault run and"
            + " any in flight when it began) whose result failed after the exporter's retries or had"
            + " not come when the drain ended; items lost = spans created − spans delivered (an application"
            + " is never refused).");
    LibraryScenario scenario = new LibraryScenario(s, progress, timer, logDir);
    try (SdkPipelineScenario.Sink sink = SdkPipelineScenario.Sink.start()) {
      double base = scenario.side(sink, r, r.before, BEFORE, Double.NaN);
      r.fixedRateItems = BenchSettings.FIXED_RATE_FRACTION * base;
      scenario.side(sink, r, r.after, AFTER, base);
    } catch (Exception e) {
      r.failure = "the library scenario failed: " + e;
    }
    r.finish();
    return r;
  }

  /** Measures one side; returns the base rate (spans/s) of the offered rates. */
  private double side(
      SdkPipelineScenario.Sink sink,
      ScenarioResult r,
      SideMeasurements side,
      String pipeline,
      double base)
      throws Exception {
    String name = r.id + " " + pipeline;
    progress.phase(name + ": starting", START_MS);
    try (Child child = Child.start(pipeline, sink, logDir.resolve("library-" + pipeline + ".log"));
        ProcessMeter meter = new ProcessMeter(child.process.toHandle(), s.sampleMs(), timer)) {
      try {
        base = measure(sink, side, pipeline, base, name, child, meter);
      } finally {
        side.series.addAll(meter.series());
      }
    }
    return base;
  }

  private double measure(
      SdkPipelineScenario.Sink sink,
      SideMeasurements side,
      String pipeline,
      double base,
      String name,
      Child child,
      ProcessMeter meter)
      throws Exception {
    // flat out
    progress.phase(name + ": flat out", s.warmupMs() + s.windows() * s.windowMs());
    side.phases.put(meter.secondsAt(System.nanoTime()), "flat out");
    long first = sink.count();
    child.send("RATE 0");
    long flatStart = System.nanoTime();
    // a cold JVM on a busy machine may take seconds to load its exporter: warm-up starts once
    // the first spans arrived
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FIRST_DELIVERY_SECONDS);
    while (sink.count() == first) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            pipeline + " delivered no spans in " + FIRST_DELIVERY_SECONDS + " s");
      }
      sleep(50);
    }
    sleep(s.warmupMs());
    for (int i = 0; i < s.windows(); i++) {
      long t0 = System.nanoTime();
      long[] c0 = sink.counts();
      long cpu0 = meter.cpuNanos();
      sleep(s.windowMs());
      long[] c1 = sink.counts();
      long cpu1 = meter.cpuNanos();
      long t1 = System.nanoTime();
      side.flat.add(new double[] {(t1 - t0) / 1e9, c1[0] - c0[0], c1[1] - c0[1], cpu1 - cpu0});
      side.flatPeakRss.add(meter.rssMiB(t0, t1)[0]);
    }
    long flatDelivered = sink.count() - first;
    double flatSeconds = (System.nanoTime() - flatStart) / 1e9;
    child.send("STOP");
    if (Double.isNaN(base)) {
      base = side.flat.stream().mapToDouble(w -> w[1] / w[0]).average().orElse(0);
      if (!(base > 0)) {
        // short windows on a busy machine may see no export arrive: the whole phase's rate
        base = flatDelivered / flatSeconds;
      }
    }
    if (!(base > 0)) {
      throw new IllegalStateException(pipeline + " delivered no spans flat out");
    }
    // the curve, the fixed rate among its points
    for (double f : s.curve()) {
      boolean fixed = f == BenchSettings.FIXED_RATE_FRACTION;
      long rate = Math.max(1, Math.round(f * base));
      int windows = fixed ? s.windows() : 1;
      progress.phase(
          String.format(Locale.ROOT, "%s: %,d spans/s offered", name, rate),
          s.settleMs() + windows * s.windowMs());
      side.phases.put(
          meter.secondsAt(System.nanoTime()), String.format(Locale.ROOT, "%.2f× max", f));
      child.send("RATE " + rate);
      sleep(s.settleMs());
      child.stats();
      List<double[]> points = new ArrayList<>();
      List<long[]> fixedStats = new ArrayList<>();
      for (int i = 0; i < windows; i++) {
        long t0 = System.nanoTime();
        long items0 = sink.count();
        long cpu0 = meter.cpuNanos();
        sleep(s.windowMs());
        long[] st = child.stats();
        long items1 = sink.count();
        long cpu1 = meter.cpuNanos();
        long t1 = System.nanoTime();
        double[] rss = meter.rssMiB(t0, t1);
        double seconds = (t1 - t0) / 1e9;
        points.add(new double[] {(items1 - items0) / seconds, st[3] / 1e6, st[5] / 1e6});
        if (fixed) {
          side.fixed.add(
              new double[] {seconds, st[3] / 1e6, st[5] / 1e6, cpu1 - cpu0, rss[0], rss[1]});
          fixedStats.add(st);
        }
      }
      if (fixed) {
        percentiles(side, fixedStats);
      }
      side.curve.add(
          new double[] {
            rate,
            points.stream().mapToDouble(p -> p[0]).average().orElse(Double.NaN),
            points.stream().mapToDouble(p -> p[1]).average().orElse(Double.NaN),
            points.stream().mapToDouble(p -> p[2]).average().orElse(Double.NaN)
          });
    }
    child.send("STOP");
    faults(
        sink,
        child,
        side,
        Math.max(1, Math.round(BenchSettings.FIXED_RATE_FRACTION * base)),
        name,
        meter);
    return base;
  }

  /** The mean over the fixed-rate windows of each percentile (ns in each {@code STATS}), in ms. */
  private static void percentiles(SideMeasurements side, List<long[]> stats) {
    String[] names = {"p50", "p90", "p99", "p99.9", "max"};
    for (int i = 0; i < names.length; i++) {
      int k = 3 + i;
      side.percentiles.put(
          names[i], stats.stream().mapToDouble(st -> st[k] / 1e6).average().orElse(Double.NaN));
    }
  }

  private void faults(
      SdkPipelineScenario.Sink sink,
      Child child,
      SideMeasurements side,
      long rate,
      String name,
      ProcessMeter meter)
      throws Exception {
    progress.phase(name + ": under faults", s.faultMs() + Math.min(s.drainMs(), 5000));
    side.phases.put(meter.secondsAt(System.nanoTime()), "faults");
    long[] st0 = child.stats();
    long items0 = sink.count();
    sink.fail(s.faultFraction());
    child.send("RATE " + rate);
    long slice = Math.min(1000, s.windowMs());
    long downAt = (s.faultMs() - s.downMs()) / 2;
    long start = System.nanoTime();
    long[] last = st0;
    boolean down = false;
    boolean wasDown = false;
    while (true) {
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      if (elapsed >= s.faultMs()) {
        break;
      }
      if (!wasDown && elapsed >= downAt) {
        sink.down();
        side.phases.put(meter.secondsAt(System.nanoTime()), "sink away");
        down = true;
        wasDown = true;
      }
      if (down && elapsed >= downAt + s.downMs()) {
        sink.up();
        down = false;
      }
      long next = Math.min(s.faultMs(), elapsed + slice);
      if (!wasDown) {
        next = Math.min(next, downAt);
      } else if (down) {
        next = Math.min(next, downAt + s.downMs());
      }
      sleep(Math.max(1, next - elapsed));
      long[] st = child.stats();
      long exports = st[1] - last[1];
      if (exports > 0) {
        side.faultWindows.add((double) (st[2] - last[2]) / exports);
      }
      last = st;
    }
    if (down) {
      sink.up();
    }
    child.send("STOP");
    sink.fail(0);
    child.flush(s.drainMs());
    long items1 = sink.count();
    long[] st1 = child.stats();
    // The calls of the fault run: those made in it and the one(s) in flight when it began (an
    // export stuck on a call the sink left unanswered can span the whole run, and the processor
    // makes no other meanwhile); a call with no result after the drain counts as failed.
    long inFlightAtStart = Math.max(0, st0[1] - st0[9]); // completed is read after exports
    long unfinished = Math.max(0, st1[1] - st1[9]);
    side.faultRequests = st1[1] - st0[1] + inFlightAtStart;
    side.faultFailedRequests = st1[2] - st0[2] + unfinished;
    side.faultOffered = st1[0] - st0[0];
    side.faultDelivered = items1 - items0;
    side.faultRefused = 0;
  }

  private static void sleep(long millis) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (long left; (left = end - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
    }
  }

  /** A {@link LibraryPipelineProcess} JVM. */
  private static final class Child implements AutoCloseable {
    final Process process;
    private final PrintWriter commands;
    private final BufferedReader answers;

    private Child(Process process) throws IOException {
      this.process = process;
      this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      this.answers =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = answers.readLine();
      if (line == null || !line.equals("READY")) {
        process.destroyForcibly();
        throw new IOException("the application JVM did not start: " + line);
      }
    }

    static Child start(String pipeline, SdkPipelineScenario.Sink sink, Path log)
        throws IOException {
      Files.createDirectories(log.toAbsolutePath().getParent());
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p =
          new ProcessBuilder(
                  java,
                  "-Xmx1g",
                  "-cp",
                  System.getProperty("java.class.path"),
                  LibraryPipelineProcess.class.getName(),
                  "--pipeline",
                  pipeline,
                  "--grpc-port",
                  Integer.toString(sink.grpcPort),
                  "--http-port",
                  Integer.toString(sink.httpPort),
                  "--threads",
                  Integer.toString(PRODUCERS))
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      return new Child(p);
    }

    String send(String command) throws IOException {
      commands.println(command);
      String line = answers.readLine();
      if (line == null) {
        throw new IOException("the application JVM ended (pid " + process.pid() + ")");
      }
      if (line.startsWith("UNKNOWN")) {
        throw new IOException("the application JVM did not understand " + command);
      }
      return line;
    }

    /** {created, exports, failed exports, p50, p90, p99, p99.9, max (ns), count}. */
    long[] stats() throws IOException {
      String[] parts = send("STATS").split(" ");
      long[] v = new long[parts.length - 1];
      for (int i = 1; i < parts.length; i++) {
        v[i - 1] = Long.parseLong(parts[i]);
      }
      return v;
    }

    void flush(long millis) throws IOException {
      send("FLUSH " + millis);
    }

    @Override
    public void close() throws InterruptedException {
      commands.println("EXIT");
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }
}
