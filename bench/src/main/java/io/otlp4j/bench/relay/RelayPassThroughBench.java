package io.otlp4j.bench.relay;

import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
import org.HdrHistogram.Histogram;

/**
 * The relay's system benchmark (issue 5): OTLP pass-through on loopback, OTLP/gRPC → OTLP/gRPC and
 * OTLP/HTTP → OTLP/HTTP, through three middles, each in its own JVM so its CPU and memory are measured
 * apart from the load generator and the sink that run in this JVM:
 *
 * <ul>
 *   <li>{@code raw}: a TCP forwarder of the same bytes — the physical limit;
 *   <li>{@code naive}: otlp4j's receiver, pipeline and exporter with a protobuf-java decode → re-encode
 *       of every request — what a naive Java relay does;
 *   <li>{@code relay}: the otlp4j relay, {@code otlp} receiver → {@code batch} → {@code otlp} /
 *       {@code otlphttp} exporter, once per ack mode asked for (modes the relay rejects are skipped with
 *       a message).
 * </ul>
 *
 * <p>First, per protocol, the load generator sends straight to the sink (no middle): this warms this
 * JVM up and measures the ceiling of the load generator and sink, which share the cores with the middle.
 * Then for each middle: the maximum rate (closed loop, {@code --clients} connections each with one export in
 * flight, pre-encoded realistic 100-span requests), reported as spans/s and MB/s arriving upstream, CPU
 * µs per span of the middle, max RSS of the middle; then the ack latency p50/p99 in an open loop at
 * {@code --latency-load} (50%) of that maximum (HdrHistogram, counted from when each request was due).
 * Each measurement is repeated ({@code --iterations} × {@code --seconds} after {@code --warmup}) and
 * reported as mean ± standard deviation. Finally the relay's memory while the upstream is down: the sink
 * stops, the offered load goes on, and the RSS and {@code otlp4j_memory_used_bytes} are sampled each
 * second (they should stay flat while the relay refuses, retryably).
 *
 * <p>Goals (issue 5): relay ≥ 5× naive, relay ≥ 50% of raw.
 *
 * <p>Ack modes: a mode is skipped when the relay refuses to start in it ({@code Relay.start} throwing
 * {@link UnsupportedOperationException}, {@link IllegalArgumentException} or {@link
 * IllegalStateException}). A relay that accepts a mode it does not implement is measured as it behaves.
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

  private static final double MIB = 1024.0 * 1024.0;

  private final Options o;
  private final byte[] payload;
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bench-timer");
    t.setDaemon(true);
    return t;
  });
  private final List<Run> runs = new ArrayList<>();
  private final List<String> skipped = new ArrayList<>();
  private final List<DownRun> downRuns = new ArrayList<>();
  private final Map<String, Double> direct = new LinkedHashMap<>();

  private RelayPassThroughBench(Options o) {
    this.o = o;
    this.payload = OtlpGenerator.realisticTraces(o.spansPerRequest).toByteArray();
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    if (options == null) {
      System.out.println(Options.USAGE);
      return;
    }
    new RelayPassThroughBench(options).run();
    System.exit(0);
  }

  private void run() throws Exception {
    log("payload: %d spans, %d bytes per request; %d connections; %d x %d s after %d s warm-up; %d cores "
            + "shared by load generator, middle and sink", o.spansPerRequest, payload.length, o.clients,
        o.iterations, o.seconds, o.warmupSeconds, Runtime.getRuntime().availableProcessors());
    Path middleLog = Path.of(o.middleLog);
    Files.deleteIfExists(middleLog);
    for (String protocol : o.protocols) {
      measureDirect(protocol);
      for (String middle : o.middles) {
        List<String> modes = middle.equals("relay") ? o.ackModes : List.of("received");
        for (String mode : modes) {
          measure(protocol, middle, mode, middleLog);
        }
      }
      if (o.downSeconds > 0 && o.middles.contains("relay")) {
        measureUpstreamDown(protocol, middleLog);
      }
    }
    timer.shutdownNow();
    write();
  }

  // ------------------------------------------------------------------------------------ measurement

  private void measure(String protocol, String middle, String mode, Path middleLog) throws Exception {
    String label = protocol + " " + middle + (middle.equals("relay") ? " ack=" + mode : "");
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
      try (m; LoadGenerator load = load(protocol, m.port())) {
        Run run = new Run(protocol, middle, middle.equals("raw") ? "-" : mode);
        log("%s: pid %d, warm-up %d s, closed loop", label, m.pid(), o.warmupSeconds);
        load.startClosedLoop();
        hold(o.warmupSeconds * 1000L);
        for (int i = 0; i < o.iterations; i++) {
          Window w = window(m, upstream, load, o.seconds * 1000L);
          run.throughput.add(w);
          log("%s: max rate %d/%d: %,.0f spans/s, %.1f MB/s, %.2f us/span (middle), %.2f us/span (this JVM), "
                  + "RSS %.0f MiB, %d refused", label, i + 1, o.iterations, w.spansPerSecond(), w.mbPerSecond(),
              w.middleCpuMicrosPerSpan(), w.driverCpuMicrosPerSpan(), w.maxRss / MIB, w.failed);
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
            log("%s: latency %d/%d: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.0f requests/s, %d refused, %d dropped",
                label, i + 1, o.iterations, w.latencyMs(50), w.latencyMs(99), w.latency.getMaxValue() / 1e6,
                w.requestsPerSecond(), w.failed, w.dropped);
          }
          load.stop();
        }
        runs.add(run);
      }
    }
  }

  /**
   * Warms this JVM's load generator and sink up (JIT) with no middle, and measures their own ceiling:
   * a middle cannot look faster than this.
   */
  private void measureDirect(String protocol) throws Exception {
    try (CountingUpstream upstream = new CountingUpstream(o.sinkThreads);
         LoadGenerator load = load(protocol, protocol.equals("grpc") ? upstream.grpcPort() : upstream.httpPort())) {
      log("%s direct (no middle): warm-up of load generator and sink, %d s", protocol, o.warmupSeconds);
      load.startClosedLoop();
      hold(o.warmupSeconds * 1000L);
      long bytes0 = upstream.bytes();
      long t0 = System.nanoTime();
      hold(o.seconds * 1000L);
      double spansPerSecond = (double) (upstream.bytes() - bytes0) * o.spansPerRequest / payload.length
          / ((System.nanoTime() - t0) / 1e9);
      load.stop();
      direct.put(protocol, spansPerSecond);
      log("%s direct (no middle): %,.0f spans/s, the ceiling of this load generator and sink", protocol,
          spansPerSecond);
    }
  }

  private void measureUpstreamDown(String protocol, Path middleLog) throws Exception {
    Run relay = runs.stream().filter(r -> r.protocol.equals(protocol) && r.middle.equals("relay")
        && r.ackMode.equals("received")).findFirst().orElse(null);
    if (relay == null || relay.throughput.isEmpty()) {
      skipped.add(protocol + " upstream down: skipped, no maximum rate of the relay (ack=received) measured");
      return;
    }
    double rate = Math.max(1, 0.5 * mean(relay.throughput, Window::requestsPerSecond));
    String label = protocol + " relay ack=received, upstream down";
    CountingUpstream upstream = new CountingUpstream(o.sinkThreads);
    boolean upstreamOpen = true;
    try (MiddleProcess m = startMiddle("relay", protocol, "received", upstream, middleLog);
         LoadGenerator load = load(protocol, m.port())) {
      DownRun down = new DownRun(protocol, rate, o.downSeconds);
      log("%s: open loop at %.0f requests/s, upstream up for %d s", label, rate, Math.max(2, o.warmupSeconds / 2));
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
        DownSample sample = new DownSample(s, m.rssBytes(), ms[0], ok2 - ok, failed2 - failed,
            Math.max(0, ms[1]) - dropped);
        dropped = Math.max(0, ms[1]);
        ok = ok2;
        failed = failed2;
        down.samples.add(sample);
        log("%s: %2d s: RSS %.0f MiB, otlp4j_memory_used_bytes %.1f MiB, %d accepted, %d refused, %d spans "
                + "dropped by the exporter", label, s, sample.rss / MIB, sample.memoryUsed / MIB, sample.accepted,
            sample.refused, sample.droppedSpans);
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

  private MiddleProcess startMiddle(String middle, String protocol, String mode, CountingUpstream upstream,
      Path middleLog) throws IOException, InterruptedException, MiddleProcess.UnsupportedModeException {
    int upstreamPort = protocol.equals("grpc") ? upstream.grpcPort() : upstream.httpPort();
    List<String> args = List.of("--kind", middle, "--protocol", protocol, "--upstream-port", "" + upstreamPort,
        "--ack-mode", mode, "--batch-size", "" + o.batchSize, "--batch-timeout-ms", "" + o.batchTimeoutMs);
    return MiddleProcess.start(o.middleJvmArgs, o.middleCpus, args, middleLog);
  }

  private LoadGenerator load(String protocol, int port) throws InterruptedException {
    return protocol.equals("grpc")
        ? LoadGenerator.grpc(port, o.clients, payload, o.loadThreads, o.retryBackoffMs)
        : LoadGenerator.http(port, o.clients, payload, o.loadThreads, o.retryBackoffMs);
  }

  /** Measures one window of {@code millis}: counters before and after, RSS sampled every 100 ms. */
  private Window window(MiddleProcess m, CountingUpstream upstream, LoadGenerator load, long millis)
      throws InterruptedException, ExecutionException {
    AtomicLong maxRss = new AtomicLong(m.rssBytes());
    ScheduledFuture<?> sampler = timer.scheduleAtFixedRate(() -> maxRss.accumulateAndGet(m.rssBytes(), Math::max),
        100, 100, TimeUnit.MILLISECONDS);
    LongSupplier driverCpu = () -> ProcessHandle.current().info().totalCpuDuration()
        .map(java.time.Duration::toNanos).orElse(-1L);
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
    timer.schedule(() -> { }, millis, TimeUnit.MILLISECONDS).get();
  }

  private static void log(String format, Object... args) {
    System.out.printf(Locale.ROOT, "%s %s%n", Instant.now().toString().substring(11, 19),
        String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  // ------------------------------------------------------------------------------------ results

  /** One measurement window. */
  static final class Window {
    int spansPerRequest;
    double seconds;
    long bytes;
    double spans;
    long middleCpuNanos;
    long driverCpuNanos;
    long succeeded;
    long failed;
    long dropped;
    long maxRss;
    Histogram latency;

    double spansPerSecond() {
      return spans / seconds;
    }

    double mbPerSecond() {
      return bytes / 1e6 / seconds;
    }

    /** Requests per second arriving upstream (bytes over request size: batching merges requests). */
    double requestsPerSecond() {
      return spansPerSecond() / spansPerRequest;
    }

    double middleCpuMicrosPerSpan() {
      return spans == 0 ? Double.NaN : middleCpuNanos / 1e3 / spans;
    }

    double driverCpuMicrosPerSpan() {
      return spans == 0 ? Double.NaN : driverCpuNanos / 1e3 / spans;
    }

    double latencyMs(double percentile) {
      return latency == null || latency.getTotalCount() == 0 ? Double.NaN
          : latency.getValueAtPercentile(percentile) / 1e6;
    }

    double maxRssMiB() {
      return maxRss / MIB;
    }

    double refusedPerSecond() {
      return failed / seconds;
    }
  }

  /** All windows of one middle. */
  static final class Run {
    final String protocol;
    final String middle;
    final String ackMode;
    final List<Window> throughput = new ArrayList<>();
    final List<Window> latency = new ArrayList<>();
    double latencyRate;

    Run(String protocol, String middle, String ackMode) {
      this.protocol = protocol;
      this.middle = middle;
      this.ackMode = ackMode;
    }
  }

  /** Scraped from the relay's admin endpoint while the upstream is down. */
  private static final String[] DOWN_METRICS = {"otlp4j_memory_used_bytes", "otelcol_exporter_send_failed_spans"};

  /** One second of the upstream-down phase: accepted/refused exports, spans the exporter gave up. */
  record DownSample(int second, long rss, long memoryUsed, long accepted, long refused, long droppedSpans) {}

  static final class DownRun {
    final String protocol;
    final double rate;
    final int seconds;
    DownSample before;
    final List<DownSample> samples = new ArrayList<>();

    DownRun(String protocol, double rate, int seconds) {
      this.protocol = protocol;
      this.rate = rate;
      this.seconds = seconds;
    }

    /** RSS growth over the second half of the down phase, after the queue has filled. */
    long rssGrowthSecondHalf() {
      if (samples.size() < 2) {
        return 0;
      }
      int mid = samples.size() / 2;
      return samples.get(samples.size() - 1).rss - samples.get(mid - 1).rss;
    }

    long maxRss() {
      return samples.stream().mapToLong(DownSample::rss).max().orElse(-1);
    }

    /** The first second of the down phase in which the relay refused, or -1. */
    int firstRefusalSecond() {
      return samples.stream().filter(s -> s.refused > 0).mapToInt(DownSample::second).findFirst().orElse(-1);
    }

    long maxMemoryUsed() {
      return samples.stream().mapToLong(DownSample::memoryUsed).max().orElse(-1);
    }
  }

  interface Metric {
    double of(Window w);
  }

  static double mean(List<Window> windows, Metric metric) {
    return windows.stream().mapToDouble(metric::of).average().orElse(Double.NaN);
  }

  static double stddev(List<Window> windows, Metric metric) {
    if (windows.size() < 2) {
      return 0;
    }
    double mean = mean(windows, metric);
    double sum = 0;
    for (Window w : windows) {
      double d = metric.of(w) - mean;
      sum += d * d;
    }
    return Math.sqrt(sum / (windows.size() - 1));
  }

  private Run find(String protocol, String middle, String ackMode) {
    return runs.stream().filter(r -> r.protocol.equals(protocol) && r.middle.equals(middle)
        && (ackMode == null || r.ackMode.equals(ackMode))).findFirst().orElse(null);
  }

  private static double ratio(Run a, Run b, Metric metric) {
    if (a == null || b == null || a.throughput.isEmpty() || b.throughput.isEmpty()) {
      return Double.NaN;
    }
    return mean(a.throughput, metric) / mean(b.throughput, metric);
  }

  private void write() throws IOException {
    Path json = Path.of(o.out + ".json");
    Path txt = Path.of(o.out + ".txt");
    Files.createDirectories(json.toAbsolutePath().getParent());
    Files.writeString(json, json(), StandardCharsets.UTF_8);
    String text = text();
    Files.writeString(txt, text, StandardCharsets.UTF_8);
    System.out.println();
    System.out.print(text);
    System.out.println("written: " + json + ", " + txt);
  }

  private String machineNote() {
    return Runtime.getRuntime().availableProcessors() + " cores shared by the load generator and sink (this JVM)"
        + " and the middle (child JVM" + (o.middleCpus == null ? "" : ", pinned to CPUs " + o.middleCpus) + ")";
  }

  private String text() {
    StringBuilder b = new StringBuilder();
    b.append("Relay pass-through on loopback (").append(machineNote()).append(")\n");
    b.append(String.format(Locale.ROOT, "%d spans (%d bytes) per request, %d connections, %d x %d s after %d s "
            + "warm-up, mean ± stddev; middle JVM %s%s%n", o.spansPerRequest, payload.length, o.clients,
        o.iterations, o.seconds, o.warmupSeconds, String.join(" ", o.middleJvmArgs),
        o.quick ? "; QUICK SMOKE RUN" : ""));
    b.append(String.format(Locale.ROOT, "%-5s %-6s %-9s %24s %16s %16s %14s %12s | %-26s %18s %18s%n", "proto",
        "middle", "ack", "spans/s", "MB/s", "CPU us/span", "driver us/span", "max RSS MiB", "latency at", "p50 ms",
        "p99 ms"));
    for (Run r : runs) {
      b.append(String.format(Locale.ROOT, "%-5s %-6s %-9s %24s %16s %16s %14s %12s | %-26s %18s %18s%n",
          r.protocol, r.middle, r.ackMode,
          pm(r.throughput, Window::spansPerSecond, "%,.0f"),
          pm(r.throughput, Window::mbPerSecond, "%.1f"),
          pm(r.throughput, Window::middleCpuMicrosPerSpan, "%.2f"),
          String.format(Locale.ROOT, "%.2f", mean(r.throughput, Window::driverCpuMicrosPerSpan)),
          String.format(Locale.ROOT, "%.0f", r.throughput.stream().mapToDouble(Window::maxRssMiB).max().orElse(-1)),
          r.latency.isEmpty() ? "-" : String.format(Locale.ROOT, "%.0f req/s (%.0f%% of max)", r.latencyRate,
              100 * o.latencyLoad),
          pm(r.latency, w -> w.latencyMs(50), "%.2f"),
          pm(r.latency, w -> w.latencyMs(99), "%.2f")));
    }
    direct.forEach((protocol, rate) -> b.append(String.format(Locale.ROOT, "%-5s direct   (no middle)  %,14.0f "
        + "spans/s: the load generator and sink alone, one window after warm-up%n", protocol, rate)));
    b.append("\nratios (spans/s; CPU per span: naive/relay), goals: relay >= 5x naive, relay >= 0.5x raw\n");
    for (String protocol : o.protocols) {
      Run relay = find(protocol, "relay", "received");
      Run naive = find(protocol, "naive", null);
      Run raw = find(protocol, "raw", null);
      b.append(String.format(Locale.ROOT, "%-5s relay/naive %sx   relay/raw %s   CPU per span naive/relay %sx"
              + "   CPU per span relay/raw %sx%n", protocol,
          twoDecimals(ratio(relay, naive, Window::spansPerSecond)),
          twoDecimals(ratio(relay, raw, Window::spansPerSecond)),
          twoDecimals(ratio(naive, relay, Window::middleCpuMicrosPerSpan)),
          twoDecimals(ratio(relay, raw, Window::middleCpuMicrosPerSpan))));
    }
    for (DownRun d : downRuns) {
      b.append(String.format(Locale.ROOT, "%nupstream down (%s, relay ack=received, offered %.0f req/s): before "
              + "RSS %.0f MiB, memory_used %.1f MiB; during %d s: max RSS %.0f MiB, max memory_used %.1f MiB, "
              + "RSS growth over the last half %+.1f MiB; first refusal: %s (an exporter queue holds %d "
              + "requests)%n", d.protocol, d.rate, d.before.rss / MIB,
          d.before.memoryUsed / MIB, d.seconds, d.maxRss() / MIB, d.maxMemoryUsed() / MIB,
          d.rssGrowthSecondHalf() / MIB,
          d.firstRefusalSecond() < 0 ? "none" : "after " + d.firstRefusalSecond() + " s",
          io.otlp4j.relay.BatchSettings.DEFAULT_QUEUE_SIZE));
      b.append("  s  RSS MiB  memory_used MiB  accepted/s  refused/s  spans dropped by exporter/s\n");
      for (DownSample s : d.samples) {
        b.append(String.format(Locale.ROOT, "%3d %8.0f %16.1f %11d %10d %28d%n", s.second, s.rss / MIB,
            s.memoryUsed / MIB, s.accepted, s.refused, s.droppedSpans));
      }
    }
    for (String s : skipped) {
      b.append("\n").append(s);
    }
    if (!skipped.isEmpty()) {
      b.append("\n");
    }
    b.append("\nspans/s and MB/s: arriving at the upstream sink (MB = 10^6 bytes of OTLP payload). CPU us/span: the "
        + "middle's user+system CPU over spans delivered; driver: this JVM (load generator + sink). Latency: "
        + "ack latency in an open loop, from when each request was due.\n");
    return b.toString();
  }

  private static String twoDecimals(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
  }

  private static String pm(List<Window> windows, Metric metric, String format) {
    if (windows.isEmpty()) {
      return "-";
    }
    return String.format(Locale.ROOT, format + " ± " + format, mean(windows, metric), stddev(windows, metric));
  }

  private String json() {
    Json j = new Json();
    j.open();
    j.field("benchmark", "relay-passthrough");
    j.field("time", Instant.now().toString());
    j.field("machine", machineNote());
    j.field("cores", Runtime.getRuntime().availableProcessors());
    j.field("quick", o.quick);
    j.key("settings").open();
    j.field("spansPerRequest", o.spansPerRequest);
    j.field("requestBytes", payload.length);
    j.field("clients", o.clients);
    j.field("iterations", o.iterations);
    j.field("seconds", o.seconds);
    j.field("warmupSeconds", o.warmupSeconds);
    j.field("latencyLoad", o.latencyLoad);
    j.field("batchSize", o.batchSize);
    j.field("batchTimeoutMs", o.batchTimeoutMs);
    j.field("middleJvmArgs", String.join(" ", o.middleJvmArgs));
    j.field("middleCpus", o.middleCpus);
    j.field("args", String.join(" ", o.args));
    j.close();
    j.key("runs").openArray();
    for (Run r : runs) {
      j.open();
      j.field("protocol", r.protocol);
      j.field("middle", r.middle);
      j.field("ackMode", r.ackMode);
      j.key("throughput").open();
      stat(j, "spansPerSecond", r.throughput, Window::spansPerSecond);
      stat(j, "mbPerSecond", r.throughput, Window::mbPerSecond);
      stat(j, "requestsPerSecond", r.throughput, Window::requestsPerSecond);
      stat(j, "middleCpuMicrosPerSpan", r.throughput, Window::middleCpuMicrosPerSpan);
      stat(j, "driverCpuMicrosPerSpan", r.throughput, Window::driverCpuMicrosPerSpan);
      stat(j, "refusedPerSecond", r.throughput, Window::refusedPerSecond);
      j.field("maxRssMiB", r.throughput.stream().mapToDouble(Window::maxRssMiB).max().orElse(-1));
      j.key("iterations").openArray();
      for (Window w : r.throughput) {
        j.value(w.spansPerSecond());
      }
      j.closeArray();
      j.close();
      if (!r.latency.isEmpty()) {
        j.key("latency").open();
        j.field("requestsPerSecond", r.latencyRate);
        j.field("load", o.latencyLoad);
        stat(j, "p50Ms", r.latency, w -> w.latencyMs(50));
        stat(j, "p99Ms", r.latency, w -> w.latencyMs(99));
        stat(j, "p999Ms", r.latency, w -> w.latencyMs(99.9));
        stat(j, "achievedRequestsPerSecond", r.latency, Window::requestsPerSecond);
        stat(j, "middleCpuMicrosPerSpan", r.latency, Window::middleCpuMicrosPerSpan);
        j.field("maxRssMiB", r.latency.stream().mapToDouble(Window::maxRssMiB).max().orElse(-1));
        j.field("refused", r.latency.stream().mapToLong(w -> w.failed).sum());
        j.field("dropped", r.latency.stream().mapToLong(w -> w.dropped).sum());
        j.close();
      }
      j.close();
    }
    j.closeArray();
    j.key("directSpansPerSecond").open();
    direct.forEach(j::field);
    j.close();
    j.key("ratios").openArray();
    for (String protocol : o.protocols) {
      Run relay = find(protocol, "relay", "received");
      Run naive = find(protocol, "naive", null);
      Run raw = find(protocol, "raw", null);
      j.open();
      j.field("protocol", protocol);
      j.field("relayOverNaiveSpansPerSecond", ratio(relay, naive, Window::spansPerSecond));
      j.field("relayOverRawSpansPerSecond", ratio(relay, raw, Window::spansPerSecond));
      j.field("naiveOverRelayCpuPerSpan", ratio(naive, relay, Window::middleCpuMicrosPerSpan));
      j.field("relayOverRawCpuPerSpan", ratio(relay, raw, Window::middleCpuMicrosPerSpan));
      j.close();
    }
    j.closeArray();
    j.key("upstreamDown").openArray();
    for (DownRun d : downRuns) {
      j.open();
      j.field("protocol", d.protocol);
      j.field("offeredRequestsPerSecond", d.rate);
      j.field("rssBeforeMiB", d.before.rss / MIB);
      j.field("memoryUsedBeforeBytes", d.before.memoryUsed);
      j.field("maxRssMiB", d.maxRss() / MIB);
      j.field("maxMemoryUsedBytes", d.maxMemoryUsed());
      j.field("rssGrowthSecondHalfMiB", d.rssGrowthSecondHalf() / MIB);
      j.field("firstRefusalSecond", d.firstRefusalSecond());
      j.key("samples").openArray();
      for (DownSample s : d.samples) {
        j.open();
        j.field("second", s.second);
        j.field("rssMiB", s.rss / MIB);
        j.field("memoryUsedBytes", s.memoryUsed);
        j.field("accepted", s.accepted);
        j.field("refused", s.refused);
        j.field("droppedSpans", s.droppedSpans);
        j.close();
      }
      j.closeArray();
      j.close();
    }
    j.closeArray();
    j.key("skipped").openArray();
    for (String s : skipped) {
      j.value(s);
    }
    j.closeArray();
    j.close();
    return j.toString() + "\n";
  }

  private static void stat(Json j, String name, List<Window> windows, Metric metric) {
    j.key(name).open();
    j.field("mean", mean(windows, metric));
    j.field("stddev", stddev(windows, metric));
    j.close();
  }

  // ------------------------------------------------------------------------------------ options

  static final class Options {
    static final String USAGE = """
        java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.RelayPassThroughBench [options]
          --quick                  smoke run: 2 x 3 s after 5 s warm-up, 6 s upstream down
          --protocols grpc,http    scenarios: OTLP/gRPC -> OTLP/gRPC, OTLP/HTTP -> OTLP/HTTP
          --middles raw,naive,relay
          --ack-modes received     relay ack modes, comma-separated (received, delivered, durable); a mode the
                                   relay rejects at start is skipped with a message
          --clients 16             load connections, one export in flight each
          --spans 100              spans per pre-encoded request (OtlpGenerator.realisticTraces)
          --warmup 10              seconds of closed-loop warm-up per middle
          --iterations 5           measurement windows per measurement
          --seconds 10             seconds per window
          --latency-load 0.5       open-loop rate for latency, as a fraction of the measured max (0: skip)
          --down-seconds 10        seconds of upstream-down sampling for the relay (0: skip)
          --batch-size 8192        batch processor send_batch_size (relay and naive)
          --batch-timeout-ms 200   batch processor timeout (relay and naive; 0: none, adaptive batching)
          --middle-jvm "-Xmx1g"    JVM options of the middle's child JVM
          --middle-cpus LIST       pin the middle with taskset -c LIST (e.g. 1; pin this JVM with taskset too)
          --load-threads 2         load generator event loop threads
          --sink-threads 2         upstream sink event loop threads
          --retry-backoff-ms 50    closed loop: pause of a connection after a refused export
          --out bench/results/relay-passthrough   results: <out>.json and <out>.txt
          --middle-log bench/target/relay-passthrough-middle.log   the middles' standard output and error
        """;

    final List<String> args;
    boolean quick;
    List<String> protocols = List.of("grpc", "http");
    List<String> middles = List.of("raw", "naive", "relay");
    List<String> ackModes = List.of("received");
    int clients = 16;
    int spansPerRequest = 100;
    int warmupSeconds = 10;
    int iterations = 5;
    int seconds = 10;
    double latencyLoad = 0.5;
    int downSeconds = 10;
    int batchSize = 8192;
    long batchTimeoutMs = 200;
    List<String> middleJvmArgs = List.of("-Xmx1g");
    String middleCpus;
    int loadThreads = 2;
    int sinkThreads = 2;
    long retryBackoffMs = 50;
    String out = "bench/results/relay-passthrough";
    String middleLog = "bench/target/relay-passthrough-middle.log";

    private Options(String[] args) {
      this.args = List.of(args);
    }

    /** The options, or null when help was asked for. */
    static Options parse(String[] args) {
      Options o = new Options(args);
      Map<String, String> values = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--help", "-h" -> {
            return null;
          }
          case "--quick" -> o.quick = true;
          default -> {
            if (!a.startsWith("--") || i + 1 >= args.length) {
              throw new IllegalArgumentException("unknown or incomplete option " + a + "\n" + USAGE);
            }
            values.put(a.substring(2), args[++i]);
          }
        }
      }
      if (o.quick) {
        o.warmupSeconds = 5;
        o.iterations = 2;
        o.seconds = 3;
        o.downSeconds = 6;
      }
      values.forEach((k, v) -> {
        switch (k) {
          case "protocols" -> o.protocols = list(v, "grpc", "http");
          case "middles" -> o.middles = list(v, "raw", "naive", "relay");
          case "ack-modes" -> o.ackModes = list(v, "received", "delivered", "durable");
          case "clients" -> o.clients = positive(k, v);
          case "spans" -> o.spansPerRequest = positive(k, v);
          case "warmup" -> o.warmupSeconds = Integer.parseInt(v);
          case "iterations" -> o.iterations = positive(k, v);
          case "seconds" -> o.seconds = positive(k, v);
          case "latency-load" -> o.latencyLoad = Double.parseDouble(v);
          case "down-seconds" -> o.downSeconds = Integer.parseInt(v);
          case "batch-size" -> o.batchSize = positive(k, v);
          case "batch-timeout-ms" -> {
            o.batchTimeoutMs = Integer.parseInt(v);
            if (o.batchTimeoutMs < 0) {
              throw new IllegalArgumentException("--batch-timeout-ms must be 0 or positive, was " + v);
            }
          }
          case "middle-jvm" -> o.middleJvmArgs = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
          case "middle-cpus" -> o.middleCpus = v;
          case "load-threads" -> o.loadThreads = positive(k, v);
          case "sink-threads" -> o.sinkThreads = positive(k, v);
          case "retry-backoff-ms" -> o.retryBackoffMs = positive(k, v);
          case "out" -> o.out = v;
          case "middle-log" -> o.middleLog = v;
          default -> throw new IllegalArgumentException("unknown option --" + k + "\n" + USAGE);
        }
      });
      return o;
    }

    private static List<String> list(String value, String... allowed) {
      List<String> items = Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
      for (String item : items) {
        if (!Arrays.asList(allowed).contains(item)) {
          throw new IllegalArgumentException("'" + item + "' is not one of " + Arrays.toString(allowed));
        }
      }
      return items;
    }

    private static int positive(String name, String value) {
      int n = Integer.parseInt(value);
      if (n < 1) {
        throw new IllegalArgumentException("--" + name + " must be positive, was " + value);
      }
      return n;
    }
  }

  /** A minimal JSON writer (no dependency for a results file). Not thread-safe. */
  private static final class Json {
    private final StringBuilder b = new StringBuilder();
    private boolean first = true;

    Json open() {
      comma();
      b.append('{');
      first = true;
      return this;
    }

    void close() {
      b.append('}');
      first = false;
    }

    Json openArray() {
      comma();
      b.append('[');
      first = true;
      return this;
    }

    void closeArray() {
      b.append(']');
      first = false;
    }

    Json key(String name) {
      comma();
      string(name);
      b.append(':');
      first = true; // the value follows without a comma
      return this;
    }

    void field(String name, Object value) {
      key(name);
      raw(value);
      first = false;
    }

    void value(Object value) {
      comma();
      raw(value);
      first = false;
    }

    private void raw(Object value) {
      if (value == null) {
        b.append("null");
      } else if (value instanceof Double d) {
        b.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.6g", d));
      } else if (value instanceof Number || value instanceof Boolean) {
        b.append(value);
      } else {
        string(value.toString());
      }
    }

    private void comma() {
      if (!first) {
        b.append(',');
      }
      first = false;
    }

    private void string(String s) {
      b.append('"');
      for (char c : s.toCharArray()) {
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          default -> {
            if (c < 0x20) {
              b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
      b.append('"');
    }

    @Override
    public String toString() {
      return b.toString();
    }
  }
}
