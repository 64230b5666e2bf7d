package io.otlp4j.bench.relay;

import static io.otlp4j.bench.relay.RelayBenchResults.MIB;
import static io.otlp4j.bench.relay.RelayBenchResults.mean;

import io.otlp4j.bench.relay.RelayBenchResults.DownRun;
import io.otlp4j.bench.relay.RelayBenchResults.DownSample;
import io.otlp4j.bench.relay.RelayBenchResults.Run;
import io.otlp4j.bench.relay.RelayBenchResults.Window;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The relay's system benchmark (issue 5): OTLP pass-through on loopback, OTLP/gRPC → OTLP/gRPC and
 * OTLP/HTTP → OTLP/HTTP, through three middles, each in its own JVM so its CPU and memory are
 * measured apart from the load generator and the sink that run in this JVM:
 *
 * <ul>
 *   <li>{@code raw}: a TCP forwarder of the same bytes — the physical limit;
 *   <li>{@code naive}: otlp4j's receiver, pipeline and exporter with a protobuf-java decode →
 *       re-encode of every request — what a naive Java relay does;
 *   <li>{@code relay}: the otlp4j relay, {@code otlp} receiver → {@code batch} → {@code otlp} /
 *       {@code otlphttp} exporter, once per ack mode asked for (modes the relay rejects are skipped
 *       with a message).
 * </ul>
 *
 * <p>First, per protocol, the load generator sends straight to the sink (no middle): this warms
 * this JVM up and measures the ceiling of the load generator and sink, which share the cores with
 * the middle. Then for each middle: the maximum rate (closed loop, {@code --clients} connections
 * each with one export in flight, pre-encoded realistic 100-span requests), reported as spans/s and
 * MB/s arriving upstream, CPU µs per span of the middle, max RSS of the middle; then the ack
 * latency p50/p99 in an open loop at {@code --latency-load} (50%) of that maximum (HdrHistogram,
 * counted from when each request was due). Each measurement is repeated ({@code --iterations} ×
 * {@code --seconds} after {@code --warmup}) and reported as mean ± standard deviation. Finally the
 * relay's memory while the upstream is down: the sink stops, the offered load goes on, and the RSS
 * and {@code otlp4j_memory_used_bytes} are sampled each second (they should stay flat while the
 * relay refuses, retryably).
 *
 * <p>Goals (issue 5): relay ≥ 5× naive, relay ≥ 50% of raw.
 *
 * <p>Ack modes: a mode is skipped when the relay refuses to start in it ({@code Relay.start}
 * throwing {@link UnsupportedOperationException}, {@link IllegalArgumentException} or {@link
 * IllegalStateException}). A relay that accepts a mode it does not implement is measured as it
 * behaves.
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.RelayPassThroughBench
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.RelayPassThroughBench --quick   # smoke run
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.RelayPassThroughBench --help    # options
 * </pre>
 *
 * Writes {@code bench/results/relay-passthrough.json} and {@code .txt} (see {@code --out}).
 */
public final class RelayPassThroughBench {

  /** Scraped from the relay's admin endpoint while the upstream is down. */
  private static final String[] DOWN_METRICS = {
    "otlp4j_memory_used_bytes", "otelcol_exporter_send_failed_spans"
  };

  /** Scraped from a {@code relay-tail} middle after each window: where the held spans went. */
  private static final String[] TAIL_METRICS = {
    "otelcol_processor_tail_sampling_new_trace_id_received",
    "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early",
    "otelcol_processor_tail_sampling_sampling_traces_on_memory",
    "otlp4j_processor_tail_sampling_emit_failed_spans",
    "otlp4j_pipeline_refused_traces",
    "otelcol_receiver_refused_spans",
    "otlp4j_memory_used_bytes"
  };

  private final RelayBenchOptions o;
  private final byte[] payload;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "bench-timer");
            t.setDaemon(true);
            return t;
          });
  private final List<Run> runs = new ArrayList<>();
  private final List<String> skipped = new ArrayList<>();
  private final List<DownRun> downRuns = new ArrayList<>();
  private final Map<String, Double> direct = new LinkedHashMap<>();

  private RelayPassThroughBench(RelayBenchOptions o) {
    this.o = o;
    this.payload = OtlpGenerator.realisticTraces(o.spansPerRequest).toByteArray();
  }

  public static void main(String[] args) throws Exception {
    RelayBenchOptions options = RelayBenchOptions.parse(args);
    if (options == null) {
      System.out.println(RelayBenchOptions.USAGE);
      return;
    }
    new RelayPassThroughBench(options).run();
    System.exit(0);
  }

  private void run() throws Exception {
    log(
        "payload: %d spans, %d bytes per request; %d connections; %d x %d s after %d s warm-up; %d cores "
            + "shared by load generator, middle and sink",
        o.spansPerRequest,
        payload.length,
        o.clients,
        o.iterations,
        o.seconds,
        o.warmupSeconds,
        Runtime.getRuntime().availableProcessors());
    Path middleLog = Path.of(o.middleLog);
    Files.deleteIfExists(middleLog);
    for (String protocol : o.protocols) {
      measureDirect(protocol);
      for (String middle : o.middles) {
        List<String> modes = middle.startsWith("relay") ? o.ackModes : List.of("received");
        for (String mode : modes) {
          measure(protocol, middle, mode, middleLog);
        }
      }
      if (o.downSeconds > 0 && o.middles.contains("relay")) {
        measureUpstreamDown(protocol, middleLog);
      }
    }
    timer.shutdownNow();
    new RelayBenchReport(o, payload, runs, skipped, downRuns, direct).write();
  }

  // ------------------------------------------------------------------------------------
  // measurement

  private void measure(String protocol, String middle, String mode, Path middleLog)
      throws Exception {
    String label = protocol + " " + middle + (middle.startsWith("relay") ? " ack=" + mode : "");
    try (CountingUpstream upstream = new CountingUpstream(o.sinkThreads)) {
      MiddleProcess m;
      try {
        m = startMiddle(middle, protocol, mode, upstream, middleLog);
      } catch (MiddleProcess.UnsupportedModeException e) {
        String message = label + ": skipped, " + e.getMessage();
        log("%s", message);
        skipped.add(message);
        return;
      }
      try (m;
          LoadGenerator load = load(protocol, m.port())) {
        Run run = new Run(protocol, middle, middle.equals("raw") ? "-" : mode);
        log("%s: pid %d, warm-up %d s, closed loop", label, m.pid(), o.warmupSeconds);
        load.startClosedLoop();
        hold(o.warmupSeconds * 1000L);
        for (int i = 0; i < o.iterations; i++) {
          Window w = window(m, upstream, load, o.seconds * 1000L);
          run.throughput.add(w);
          log(
              "%s: max rate %d/%d: %,.0f spans/s, %.1f MB/s, %.2f us/span (middle), %.2f us/span (this JVM), "
                  + "RSS %.0f MiB, %d refused",
              label,
              i + 1,
              o.iterations,
              w.spansPerSecond(),
              w.mbPerSecond(),
              w.middleCpuMicrosPerSpan(),
              w.driverCpuMicrosPerSpan(),
              w.maxRss / MIB,
              w.failed);
          if (middle.equals("relay-tail")) {
            long[] v = m.scrape(TAIL_METRICS);
            log(
                "%s: totals: %,d new traces, %,d dropped too early, %,d on memory, %,d emitted spans"
                    + " refused downstream, %,d spans refused by the pipeline, %,d by the receiver,"
                    + " budget %.0f MiB used",
                label, v[0], v[1], v[2], v[3], v[4], v[5], v[6] / MIB);
          }
        }
        load.stop();
        double maxRequestsPerSecond = mean(run.throughput, Window::requestsPerSecond);
        if (o.latencyLoad > 0 && maxRequestsPerSecond > 0) {
          double rate = o.latencyLoad * maxRequestsPerSecond;
          run.latencyRate = rate;
          log("%s: open loop at %.0f requests/s (%.0f%% of max)", label, rate, 100 * o.latencyLoad);
          load.startOpenLoop(rate);
          hold(Math.max(1000L, o.warmupSeconds * 500L));
          load.takeLatencies();
          for (int i = 0; i < o.iterations; i++) {
            Window w = window(m, upstream, load, o.seconds * 1000L);
            w.latency = load.takeLatencies();
            run.latency.add(w);
            log(
                "%s: latency %d/%d: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.0f requests/s, %d refused, %d dropped",
                label,
                i + 1,
                o.iterations,
                w.latencyMs(50),
                w.latencyMs(99),
                w.latency.getMaxValue() / 1e6,
                w.requestsPerSecond(),
                w.failed,
                w.dropped);
          }
          load.stop();
        }
        runs.add(run);
      }
    }
  }

  /**
   * Warms this JVM's load generator and sink up (JIT) with no middle, and measures their own
   * ceiling: a middle cannot look faster than this.
   */
  private void measureDirect(String protocol) throws Exception {
    try (CountingUpstream upstream = new CountingUpstream(o.sinkThreads);
        LoadGenerator load =
            load(protocol, protocol.equals("grpc") ? upstream.grpcPort() : upstream.httpPort())) {
      log(
          "%s direct (no middle): warm-up of load generator and sink, %d s",
          protocol, o.warmupSeconds);
      load.startClosedLoop();
      hold(o.warmupSeconds * 1000L);
      long bytes0 = upstream.bytes();
      long t0 = System.nanoTime();
      hold(o.seconds * 1000L);
      double spansPerSecond =
          (double) (upstream.bytes() - bytes0)
              * o.spansPerRequest
              / payload.length
              / ((System.nanoTime() - t0) / 1e9);
      load.stop();
      direct.put(protocol, spansPerSecond);
      log(
          "%s direct (no middle): %,.0f spans/s, the ceiling of this load generator and sink",
          protocol, spansPerSecond);
    }
  }

  private void measureUpstreamDown(String protocol, Path middleLog) throws Exception {
    Run relay =
        runs.stream()
            .filter(
                r ->
                    r.protocol.equals(protocol)
                        && r.middle.equals("relay")
                        && r.ackMode.equals("received"))
            .findFirst()
            .orElse(null);
    if (relay == null || relay.throughput.isEmpty()) {
      skipped.add(
          protocol
              + " upstream down: skipped, no maximum rate of the relay (ack=received) measured");
      return;
    }
    double rate = Math.max(1, 0.5 * mean(relay.throughput, Window::requestsPerSecond));
    String label = protocol + " relay ack=received, upstream down";
    CountingUpstream upstream = new CountingUpstream(o.sinkThreads);
    boolean upstreamOpen = true;
    try (MiddleProcess m = startMiddle("relay", protocol, "received", upstream, middleLog);
        LoadGenerator load = load(protocol, m.port())) {
      DownRun down = new DownRun(protocol, rate, o.downSeconds);
      log(
          "%s: open loop at %.0f requests/s, upstream up for %d s",
          label, rate, Math.max(2, o.warmupSeconds / 2));
      load.startOpenLoop(rate);
      hold(Math.max(2, o.warmupSeconds / 2) * 1000L);
      long[] m0 = m.scrape(DOWN_METRICS);
      down.before = new DownSample(0, m.rssBytes(), m0[0], 0, 0, 0);
      long dropped = Math.max(0, m0[1]);
      upstream.close();
      upstreamOpen = false;
      long ok = load.succeeded();
      long failed = load.failed();
      for (int s = 1; s <= o.downSeconds; s++) {
        hold(1000L);
        long ok2 = load.succeeded();
        long failed2 = load.failed();
        long[] ms = m.scrape(DOWN_METRICS);
        DownSample sample =
            new DownSample(
                s, m.rssBytes(), ms[0], ok2 - ok, failed2 - failed, Math.max(0, ms[1]) - dropped);
        dropped = Math.max(0, ms[1]);
        ok = ok2;
        failed = failed2;
        down.samples.add(sample);
        log(
            "%s: %2d s: RSS %.0f MiB, otlp4j_memory_used_bytes %.1f MiB, %d accepted, %d refused, %d spans "
                + "dropped by the exporter",
            label,
            s,
            sample.rss() / MIB,
            sample.memoryUsed() / MIB,
            sample.accepted(),
            sample.refused(),
            sample.droppedSpans());
      }
      load.stop();
      downRuns.add(down);
    } catch (MiddleProcess.UnsupportedModeException e) {
      skipped.add(label + ": skipped, " + e.getMessage());
    } finally {
      if (upstreamOpen) {
        upstream.close();
      }
    }
  }

  private MiddleProcess startMiddle(
      String middle, String protocol, String mode, CountingUpstream upstream, Path middleLog)
      throws IOException, InterruptedException, MiddleProcess.UnsupportedModeException {
    int upstreamPort = protocol.equals("grpc") ? upstream.grpcPort() : upstream.httpPort();
    List<String> args =
        List.of(
            "--kind",
            middle,
            "--protocol",
            protocol,
            "--upstream-port",
            "" + upstreamPort,
            "--ack-mode",
            mode,
            "--batch-size",
            "" + o.batchSize,
            "--batch-timeout-ms",
            "" + o.batchTimeoutMs,
            "--tail-num-traces",
            "" + o.tailNumTraces,
            "--memory-limit-mib",
            "" + o.memoryLimitMib);
    return MiddleProcess.start(o.middleJvmArgs, o.middleCpus, args, middleLog);
  }

  private LoadGenerator load(String protocol, int port) throws InterruptedException {
    return protocol.equals("grpc")
        ? LoadGenerator.grpc(
            port, o.clients, payload, o.loadThreads, o.retryBackoffMs, o.freshTraceIds)
        : LoadGenerator.http(
            port, o.clients, payload, o.loadThreads, o.retryBackoffMs, o.freshTraceIds);
  }

  /** Measures one window of {@code millis}: counters before and after, RSS sampled every 100 ms. */
  private Window window(MiddleProcess m, CountingUpstream upstream, LoadGenerator load, long millis)
      throws InterruptedException, ExecutionException {
    AtomicLong maxRss = new AtomicLong(m.rssBytes());
    ScheduledFuture<?> sampler =
        timer.scheduleAtFixedRate(
            () -> maxRss.accumulateAndGet(m.rssBytes(), Math::max),
            100,
            100,
            TimeUnit.MILLISECONDS);
    LongSupplier driverCpu =
        () ->
            ProcessHandle.current()
                .info()
                .totalCpuDuration()
                .map(java.time.Duration::toNanos)
                .orElse(-1L);
    long t0 = System.nanoTime();
    long bytes0 = upstream.bytes();
    long cpu0 = m.cpuNanos();
    long driver0 = driverCpu.getAsLong();
    long ok0 = load.succeeded();
    long failed0 = load.failed();
    long dropped0 = load.dropped();
    hold(millis);
    long t1 = System.nanoTime();
    Window w = new Window();
    w.spansPerRequest = o.spansPerRequest;
    w.seconds = (t1 - t0) / 1e9;
    w.bytes = upstream.bytes() - bytes0;
    w.spans = (double) w.bytes * o.spansPerRequest / payload.length;
    w.middleCpuNanos = m.cpuNanos() - cpu0;
    w.driverCpuNanos = driverCpu.getAsLong() - driver0;
    w.succeeded = load.succeeded() - ok0;
    w.failed = load.failed() - failed0;
    w.dropped = load.dropped() - dropped0;
    sampler.cancel(false);
    w.maxRss = Math.max(maxRss.get(), m.rssBytes());
    return w;
  }

  /** Waits {@code millis} by scheduling the end of the wait on the timer. */
  private void hold(long millis) throws InterruptedException, ExecutionException {
    timer.schedule(() -> {}, millis, TimeUnit.MILLISECONDS).get();
  }

  static void log(String format, Object... args) {
    System.out.printf(
        Locale.ROOT,
        "%s %s%n",
        Instant.now().toString().substring(11, 19),
        String.format(Locale.ROOT, format, args));
    System.out.flush();
  }
}
