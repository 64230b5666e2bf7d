package io.otlp4j.bench.soak;

import io.otlp4j.bench.soak.FaultProxy.Fault;
import io.otlp4j.testing.MockOtlpServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/run soak}: a chaos soak that counts every item.
 *
 * <p>The relay runs as a child JVM ({@code otlp4j run}) in the {@code durable} ack mode, with a
 * {@code file_storage} queue, an OTLP/gRPC and an OTLP/HTTP receiver, and an {@code otlphttp}
 * exporter whose upstream, a {@link SoakSink}, sits behind a {@link FaultProxy}. Two clients send
 * for {@code --duration}: the OpenTelemetry Java SDK ({@link SdkClient}, OTLP/gRPC, every span with
 * a unique id) and {@code otlp4j send} ({@link SendClient}, OTLP/HTTP). Meanwhile:
 *
 * <ul>
 *   <li>the proxy injects one fault after another (latency, resets mid-request, lost answers, 503
 *       with Retry-After, black hole, slow reads, flapping), each for a window, with clean gaps;
 *   <li>the relay is killed with SIGKILL at random times in the first 40 % of the run and started
 *       again after 0.2 to 3 s (none later: the second half is one process, whose resources the
 *       flatness test reads);
 *   <li>the upstream is stopped and started again a few times;
 *   <li>once, the disk fills: the relay's file size limit ({@code RLIMIT_FSIZE}, set on the running
 *       process with {@code prlimit}) drops to 4 KiB, so every write that extends a queue segment
 *       fails ({@code File too large}, the queue's I/O-error path, which it shares with {@code No
 *       space left on device}) while in-place rewrites of the 12-byte checkpoints still succeed, as
 *       on a full disk; then the limit is lifted.
 * </ul>
 *
 * Then the faults stop, the clients flush and stop, the relay drains, and the soak checks: every
 * acknowledged item was delivered (SDK: by id; send: by count), duplicates stay within their bound
 * ({@link SoakResult#duplicateBound()}), and the relay's resident set, heap after GC, direct
 * memory, open file descriptors and threads are flat over the second half ({@link
 * ResourceSampler#flatness}). The summary, samples and a chart go to {@code --out}.
 */
public final class ChaosSoak {

  private static final long DISK_FULL_FILE_LIMIT = 4096;

  /** The SDK's exporters log every failed export with its stack trace; the soak counts them. */
  private static final java.util.logging.Logger SDK_LOGS =
      java.util.logging.Logger.getLogger("io.opentelemetry");

  private final SoakOptions options;
  private final PrintStream log;
  private final SplittableRandom random;
  private final Ledger ledger = new Ledger();
  private final List<ResourceSampler.Sample> samples = new CopyOnWriteArrayList<>();
  private final List<Double> killTimes = new CopyOnWriteArrayList<>();
  private final List<Double> upstreamRestartTimes = new CopyOnWriteArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private int grpcPort;
  private int httpPort;
  private int adminPort;
  private int sinkPort;
  private Path config;
  private Path relayLog;
  private volatile RelayChild relay;
  private volatile SoakSink sink;
  private FaultProxy proxy;
  private long startNanos;
  private volatile String phase = "starting";
  private double diskRefusedRecords = -1;
  private double diskFullStart = -1;

  ChaosSoak(SoakOptions options, PrintStream log) {
    this.options = options;
    this.log = log;
    this.random = new SplittableRandom(options.seed());
  }

  public static void main(String[] args) throws Exception {
    SoakOptions options;
    try {
      options = SoakOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    SoakResult result = new ChaosSoak(options, System.err).run();
    System.out.println(result.summaryText());
    System.exit(result.passed() ? 0 : 1);
  }

  /** Runs the whole soak and writes its report under {@code options.out()}. */
  SoakResult run() throws Exception {
    SDK_LOGS.setLevel(java.util.logging.Level.OFF);
    Files.createDirectories(options.out());
    relayLog = options.out().resolve("relay.log");
    Files.deleteIfExists(relayLog);
    Path queue = options.out().resolve("queue");
    deleteRecursively(queue);
    // The relay is killed and restarted, the proxy flaps: ports they listen on again, below the
    // ephemeral range (MockOtlpServer.freePort says why)
    grpcPort = MockOtlpServer.freePort();
    httpPort = MockOtlpServer.freePort();
    adminPort = MockOtlpServer.freePort();
    sinkPort = MockOtlpServer.freePort();
    int proxyPort = MockOtlpServer.freePort();
    config = options.out().resolve("relay.yaml");
    Files.writeString(config, relayConfig(queue, proxyPort));
    log.printf(
        Locale.ROOT,
        "soak: %s, seed %d, relay config %s, relay log %s%n",
        options.duration(),
        options.seed(),
        config,
        relayLog);

    sink = new SoakSink(sinkPort, ledger);
    proxy = new FaultProxy(proxyPort, sinkPort, random.nextLong());
    relay = startRelay();
    ResourceSampler sampler = new ResourceSampler(adminPort);
    startNanos = System.nanoTime();
    SdkClient sdk = new SdkClient(ledger, grpcPort, options.sdkSpansPerSecond());
    SendClient send =
        new SendClient(
            ledger,
            httpPort,
            options.sendRequestsPerSecond(),
            options.sendRunSeconds(),
            startNanos + options.duration().toNanos(),
            options.out().resolve("send.log"));

    Thread kills = daemon("soak-kills", this::killLoop);
    Thread events = daemon("soak-events", this::relayEvents);
    Thread faults = daemon("soak-faults", this::proxyFaults);
    Thread sampling = daemon("soak-sampler", () -> sampleLoop(sampler));
    Thread progress = daemon("soak-progress", this::progressLoop);
    phase = "faults";
    for (Thread t : List.of(kills, events, faults, sampling, progress)) {
      t.start();
    }
    sleepUntil(options.seconds());

    phase = "stopping the faults";
    faults.interrupt();
    faults.join(30_000);
    proxy.fault(Fault.NONE);
    kills.join(TimeUnit.MINUTES.toMillis(2));
    events.join(TimeUnit.MINUTES.toMillis(2));
    ensureRelayUp();
    double sendingStopped = now();
    phase = "flushing the clients";
    sdk.close();
    send.close();
    phase = "draining";
    boolean drained = drain();
    double end = now();
    sampling.interrupt();
    sampling.join(60_000);
    progress.interrupt();
    Ledger.Counts counts = ledger.counts();
    relay.stop();
    sink.close();
    proxy.close();

    Map<Fault, long[]> faultCounts = new EnumMap<>(Fault.class);
    for (Fault f : Fault.values()) {
      if (f != Fault.NONE) {
        faultCounts.put(f, new long[] {proxy.windows(f), proxy.affected(f)});
      }
    }
    SoakResult result =
        new SoakResult(
            options,
            counts,
            drained,
            sendingStopped,
            end,
            List.copyOf(killTimes),
            List.copyOf(upstreamRestartTimes),
            diskFullStart,
            options.diskFullSeconds(),
            diskRefusedRecords,
            faultCounts,
            proxy.unansweredItems(),
            proxy.forwarded(),
            sdk.exportFailures(),
            sdk.ambiguousFailures(),
            send.runs(),
            send.failedRuns(),
            send.failedRequests(),
            List.copyOf(samples));
    SoakReport.write(result, options.out());
    return result;
  }

  private String relayConfig(Path queue, int proxyPort) {
    return """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:%d" }
              http: { endpoint: "127.0.0.1:%d" }
        processors:
          batch: { send_batch_size: %d, send_batch_max_size: %d, timeout: 200ms }
        extensions:
          file_storage: { directory: "%s", max_size_mib: 64, segment_size_mib: 4 }
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:%d
            compression: none
            timeout: 5s
            retry_on_failure: { initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 0 }
            sending_queue: { storage: file_storage }
        service:
          ack_mode: durable
          extensions: [file_storage]
          telemetry: { metrics: { address: "127.0.0.1:%d" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] }
        """
        .formatted(
            grpcPort,
            httpPort,
            SoakResult.RELAY_BATCH,
            SoakResult.RELAY_BATCH,
            queue.toAbsolutePath(),
            proxyPort,
            adminPort);
  }

  private RelayChild startRelay() throws IOException, InterruptedException {
    return RelayChild.start(
        options.relayJvmArgs(), config, relayLog, grpcPort, httpPort, adminPort);
  }

  private void ensureRelayUp() throws IOException, InterruptedException {
    if (!relay.isAlive()) {
      relay = startRelay();
    }
  }

  /**
   * SIGKILLs from {@link SoakOptions#killsFrom()} until {@link SoakOptions#killsUntil()} of the
   * run, each {@link SoakOptions#killGap()} after the previous restart was listening (a loaded
   * machine's slow restarts do not eat the time between kills).
   */
  private void killLoop() {
    double d = options.seconds();
    double[] gap = options.killGap();
    try {
      double next = options.killsFrom() * d;
      while (next < options.killsUntil() * d) {
        if (!sleepUntil(next)) {
          return;
        }
        killAndRestart();
        next = now() + uniform(gap[0], gap[1]);
      }
    } catch (IOException e) {
      log.println("soak: a relay restart failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The upstream's restarts and the disk-full episode, in time order, on one thread. */
  private void relayEvents() {
    double d = options.seconds();
    List<double[]> plan = new ArrayList<>(); // {time, kind: 1 upstream restart, 2 disk}
    int restarts = options.upstreamRestarts();
    double diskFrom = options.diskFullAt() * d;
    double diskTo = diskFrom + options.diskFullSeconds();
    for (int i = 0; i < restarts; i++) {
      double t = (i + uniform(0.3, 0.7)) / restarts * 0.9 * d;
      if (t > diskFrom - 10 && t < diskTo + 10) {
        t = diskTo + 10;
      }
      plan.add(new double[] {t, 1});
    }
    plan.add(new double[] {diskFrom, 2});
    plan.sort((a, b) -> Double.compare(a[0], b[0]));
    try {
      for (double[] event : plan) {
        if (!sleepUntil(event[0])) {
          return;
        }
        if (event[1] == 1) {
          restartUpstream();
        } else {
          diskFull();
        }
      }
    } catch (IOException e) {
      log.println("soak: the disk-full episode failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void killAndRestart() throws IOException, InterruptedException {
    killTimes.add(now());
    relay.kill();
    Thread.sleep((long) (uniform(0.2, 3) * 1000));
    relay = startRelay();
  }

  private void restartUpstream() throws InterruptedException {
    upstreamRestartTimes.add(now());
    sink.close();
    Thread.sleep((long) (uniform(1, 4) * 1000));
    sink = new SoakSink(sinkPort, ledger);
  }

  private void diskFull() throws IOException, InterruptedException {
    long pid = relay.pid();
    double before = scrapeSum("otlp4j_queue_refused_records");
    diskFullStart = now();
    prlimit(pid, DISK_FULL_FILE_LIMIT + ":unlimited");
    try {
      Thread.sleep((long) (options.diskFullSeconds() * 1000));
    } finally {
      prlimit(pid, "unlimited:unlimited");
    }
    double after = scrapeSum("otlp4j_queue_refused_records");
    diskRefusedRecords = before < 0 || after < 0 ? -1 : after - before;
  }

  private static void prlimit(long pid, String fsize) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("prlimit", "--pid", Long.toString(pid), "--fsize=" + fsize)
            .redirectErrorStream(true)
            .start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("prlimit --fsize=" + fsize + " failed: " + out);
    }
  }

  /** The sum of every series of a metric in the relay's /metrics, or -1. */
  private double scrapeSum(String metric) throws InterruptedException {
    try {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      double sum = 0;
      for (String line : response.body().split("\n")) {
        if (line.startsWith(metric + "_total") || line.startsWith(metric + "{")) {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * One proxy fault after another (every kind before any repeats; a kind whose window no request
   * met comes again), clean gaps between.
   */
  private void proxyFaults() {
    double d = options.seconds();
    List<Fault> bag = new ArrayList<>();
    try {
      if (!sleepUntil(0.03 * d)) {
        return;
      }
      while (now() < 0.92 * d) {
        if (bag.isEmpty()) {
          for (Fault f : Fault.values()) {
            if (f != Fault.NONE) {
              bag.add(f);
            }
          }
          Collections.shuffle(bag, new java.util.Random(random.nextLong()));
        }
        double[] w = options.faultWindow();
        double[] g = options.faultGap();
        Fault next = bag.remove(0);
        long hitBefore = proxy.affected(next);
        proxy.fault(next);
        Thread.sleep((long) (uniform(w[0], w[1]) * 1000));
        proxy.fault(Fault.NONE);
        if (proxy.affected(next) == hitBefore) {
          bag.add(next); // no request came through in its window (the relay was down): again later
        }
        Thread.sleep((long) (uniform(g[0], g[1]) * 1000));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      proxy.fault(Fault.NONE);
    }
  }

  private void sampleLoop(ResourceSampler sampler) {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        RelayChild r = relay;
        ResourceSampler.Sample s = sampler.sample(now(), r.pid());
        if (s != null && r.isAlive()) {
          samples.add(s);
        }
        Thread.sleep((long) (options.samplePeriod() * 1000));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void progressLoop() {
    long period = options.compressed() ? 10_000 : 30_000;
    try {
      while (!Thread.currentThread().isInterrupted()) {
        Thread.sleep(period);
        double t = now();
        double left = Math.max(0, options.seconds() - t);
        Ledger.Counts c = ledger.counts();
        log.printf(
            Locale.ROOT,
            "soak: %s of %s, %s left (%s); kills %d, upstream restarts %d, proxy fault %s;"
                + " acknowledged %d, delivered %d, not yet delivered %d, duplicates %d%n",
            clock(t),
            clock(options.seconds()),
            clock(left),
            phase,
            killTimes.size(),
            upstreamRestartTimes.size(),
            proxy.fault().label(),
            c.acknowledged(),
            c.delivered(),
            c.lost(),
            c.duplicates());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits until every acknowledged item arrived and nothing new arrives for 3 s. */
  private boolean drain() throws InterruptedException {
    long deadline = System.nanoTime() + options.drainTimeout().toNanos();
    long lastDelivered = -1;
    long quietSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      Ledger.Counts c = ledger.counts();
      long delivered = c.delivered() + c.duplicates();
      if (delivered != lastDelivered) {
        lastDelivered = delivered;
        quietSince = System.nanoTime();
      }
      if (c.lost() == 0 && System.nanoTime() - quietSince > TimeUnit.SECONDS.toNanos(3)) {
        return true;
      }
      Thread.sleep(500);
    }
    return false;
  }

  static String clock(double seconds) {
    long s = Math.round(seconds);
    return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  private double uniform(double lo, double hi) {
    synchronized (random) {
      return lo + random.nextDouble() * (hi - lo);
    }
  }

  private double now() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Sleeps until {@code seconds} into the run; false when interrupted. */
  private boolean sleepUntil(double seconds) {
    try {
      long ms = (long) ((seconds - now()) * 1000);
      if (ms > 0) {
        Thread.sleep(ms);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static Thread daemon(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    return t;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Collections.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
