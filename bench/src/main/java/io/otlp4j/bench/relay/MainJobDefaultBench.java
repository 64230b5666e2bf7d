package io.otlp4j.bench.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.otlp4j.bench.LocalPorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The main job, out of the box: {@code otlp4j run} with no configuration (ack mode {@code durable},
 * the embedded default's {@code file} exporter writing OTLP/JSON lines) in a fresh temporary
 * directory, as a child JVM, driven by {@code otlp4j send} (another child JVM, with its default
 * warm-up) at fixed rates and flat out. What a new user sees, measured from outside.
 *
 * <p>For each relay (this build's, and an {@code --anchor-jar} such as the previous commit's {@code
 * otlp4j.jar}, measured in the same run, interleaved) and each rate, {@code --repeat} times, each
 * time with a fresh relay and directory: p50/p99 latency (open loop, from when each request was
 * due), accepted spans/s, errors, and the exporter's backlog ({@code
 * otlp4j_exporter_queue_records}) when the load stops, and the relay's CPU time (user + system, all
 * threads, from {@link ProcessHandle.Info#totalCpuDuration()}) per span it accepted over the whole
 * send, warm-up included: the figure that least depends on what else runs on the machine. Beside
 * the sender's p99, the relay's own (its {@code otlp4j_receiver_ack_latency_seconds} histogram,
 * from a request's arrival to its answer, after the warm-up; bucket bounds, so coarse) and the
 * queue's fsync p99: where the tail is, in the relay or outside it; and the CPU its JIT compiler
 * threads used in the measured part ({@link JitCpu}): a fresh relay at 10,000 spans/s is still
 * compiling. Errors are listed by kind with an example message, as {@code send} names them, with
 * the relay's own count of appends its durable queue refused for being full ({@code
 * otlp4j_queue_refused_records_total}). A rate is <i>sustained</i> when every repeat had no error
 * and a backlog of at most {@value #SUSTAINED_BACKLOG_RECORDS} records: the file keeps up with what
 * is acknowledged; its figure is the lower of the spans/s accepted and the spans/s the {@code file}
 * exporter <i>wrote</i> while the sender measured ({@code
 * otelcol_exporter_sent_spans{exporter="file"}} between the warm-up's end and the send's end, per
 * second). Rate 0 is flat out (closed loop, 64 in flight): the most the relay accepts, with its
 * backlog and what was written meanwhile (the exporter's drain rate).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.MainJobDefaultBench \
 *     --rates 100,1000,2000,0 --seconds 20 --repeat 3 [--anchor-jar /tmp/otlp4j-previous.jar]
 * </pre>
 *
 * Writes {@code <out>.txt} and {@code <out>.json}. The machine is shared and small (2 cores for the
 * relay, the load generator and anything else running): compare ratios from the same run.
 */
public final class MainJobDefaultBench {
  static final int SUSTAINED_BACKLOG_RECORDS = 100;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern BACKLOG =
      Pattern.compile(
          "^otlp4j_exporter_queue_records\\{[^}]*data_type=\"traces\"[^}]*} (\\S+)",
          Pattern.MULTILINE);

  private static final Pattern ACK_LATENCY =
      Pattern.compile(
          "^otlp4j_receiver_ack_latency_seconds_bucket\\{[^}]*transport=\"grpc\"[^}]*le=\"([^\"]+)\"} (\\S+)",
          Pattern.MULTILINE);
  private static final Pattern FSYNC =
      Pattern.compile(
          "^otlp4j_queue_fsync_seconds_bucket\\{queue=\"traces\",le=\"([^\"]+)\"} (\\S+)",
          Pattern.MULTILINE);

  /** Spans the embedded {@code file} exporter wrote (the Collector's counter). */
  private static final Pattern WRITTEN =
      Pattern.compile(
          "^otelcol_exporter_sent_spans_total\\{[^}]*exporter=\"file\"[^}]*} (\\S+)",
          Pattern.MULTILINE);

  private static final Pattern QUEUE_REFUSED =
      Pattern.compile(
          "^otlp4j_queue_refused_records_total\\{queue=\"traces\"} (\\S+)", Pattern.MULTILINE);

  /**
   * How long after the sender's warm-up ends the relay's histograms are read (the sender's JVM
   * starts first), so that what they add after it is the measured part.
   */
  private static final long WARMUP_SCRAPE_SLACK_MILLIS = 500;

  /** Child JVMs still running: ended if this JVM is stopped part-way. */
  private static final List<Process> CHILDREN = new CopyOnWriteArrayList<>();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> CHILDREN.forEach(Process::destroyForcibly)));
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** One measurement: one relay, one rate. */
  record Sample(
      String relay,
      double rate,
      double p50,
      double p99,
      double spansPerSecond,
      long errors,
      Map<String, Long> errorKinds,
      Map<String, String> errorSamples,
      long queueRefused,
      double relayAckP99,
      double fsyncP99,
      double backlog,
      double cpuMicrosPerSpan,
      double writtenPerSecond,
      double sendLagP99,
      double fromSendP99,
      GcPauses relayGc,
      GcPauses senderGc,
      double relayJitMillis) {}

  /** The GC pauses a JVM logged while the sender measured: how many, the longest, their sum. */
  record GcPauses(int count, double maxMillis, double totalMillis) {
    @Override
    public String toString() {
      return String.format(
          Locale.ROOT, "%d (max %.1f, sum %.1f ms)", count, maxMillis, totalMillis);
    }
  }

  /** One line of {@code -Xlog:gc:file=...:timemillis} that ends a pause, with its duration. */
  private static final Pattern GC_PAUSE =
      Pattern.compile("^\\[(\\d+)ms\\] GC\\(\\d+\\) Pause .* (\\d+\\.\\d+)ms$", Pattern.MULTILINE);

  public static void main(String[] args) throws Exception {
    List<Double> rates = List.of(100.0, 1000.0, 2000.0, 0.0);
    int seconds = 20;
    int repeat = 3;
    String anchorJar = null;
    String relayJvm = "";
    int concurrency = 64;
    int warmup = 3;
    String out = "bench/results/main-job-default";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rates" -> rates = Stream.of(args[++i].split(",")).map(Double::parseDouble).toList();
        case "--seconds" -> seconds = Integer.parseInt(args[++i]);
        case "--repeat" -> repeat = Integer.parseInt(args[++i]);
        case "--anchor-jar" -> anchorJar = args[++i];
        case "--relay-jvm" -> relayJvm = args[++i];
        case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--out" -> out = args[++i];
        default -> {
          System.err.println(
              """
              usage: MainJobDefaultBench [--rates 100,1000,2000,0] [--seconds 20] [--repeat 3]
                     [--anchor-jar PATH] [--relay-jvm "-Xmx1g"] [--concurrency 64] [--warmup 3]
                     [--out bench/results/main-job-default]
                rates in requests/s of 100 spans (0: flat out); each run of `send` adds its warm-up
                (--warmup seconds, send's default 3: sent at the rate, not counted; the relay starts
                just before, so it is also how old the relay is when the measurement starts);
                concurrency: send's requests in flight at most (its --concurrency, default 64)""");
          System.exit(2);
        }
      }
    }
    new MainJobDefaultBench(concurrency, warmup)
        .run(rates, seconds, repeat, anchorJar, relayJvm, out);
  }

  /** {@code send}'s requests in flight at most (its {@code --concurrency}). */
  private final int concurrency;

  /** {@code send}'s warm-up in seconds (its {@code --warmup}). */
  private final int warmup;

  private MainJobDefaultBench(int concurrency, int warmup) {
    this.concurrency = concurrency;
    this.warmup = warmup;
  }

  private void run(
      List<Double> rates, int seconds, int repeat, String anchorJar, String relayJvm, String out)
      throws Exception {
    List<String> relays = new ArrayList<>();
    relays.add("this");
    if (anchorJar != null) {
      relays.add("anchor");
    }
    List<Sample> samples = new ArrayList<>();
    // The physical anchor of a durable answer on this disk, before and after the runs.
    List<String> anchors = new ArrayList<>();
    anchors.add("before: " + writeAndForce4KiB());
    System.out.println("4 KiB write + force, " + anchors.get(0));
    for (double rate : rates) {
      for (int r = 0; r < repeat; r++) {
        for (String relay : relays) { // interleaved, so both see the same machine
          Sample s =
              measure(relay, relay.equals("anchor") ? anchorJar : null, relayJvm, rate, seconds);
          samples.add(s);
          System.out.printf(
              Locale.ROOT,
              "%-6s rate %6s  p50 %7.2f ms  p99 %8.2f ms  relay ack p99 <= %.1f ms  fsync p99 <= %.1f"
                  + " ms  %,9.0f spans/s  written %,9.0f spans/s  errors %d (queue-full refusals %d)"
                  + "  backlog %.0f  relay"
                  + " CPU %.2f us/span%n         sender lag p99 %.2f ms  p99 from send %.2f ms"
                  + "  GC pauses measured: relay %s, sender %s  relay JIT CPU measured %.0f ms%n",
              relay,
              rateName(rate),
              s.p50,
              s.p99,
              s.relayAckP99,
              s.fsyncP99,
              s.spansPerSecond,
              s.writtenPerSecond,
              s.errors,
              s.queueRefused,
              s.backlog,
              s.cpuMicrosPerSpan,
              s.sendLagP99,
              s.fromSendP99,
              s.relayGc,
              s.senderGc,
              s.relayJitMillis);
          s.errorKinds.forEach(
              (kind, n) ->
                  System.out.printf(
                      Locale.ROOT,
                      "         %-20s %8d  e.g. %s%n",
                      kind,
                      n,
                      s.errorSamples.get(kind)));
        }
      }
    }
    anchors.add("after: " + writeAndForce4KiB());
    System.out.println("4 KiB write + force, " + anchors.get(1));
    report(samples, relays, rates, seconds, repeat, anchorJar, anchors, out);
  }

  /** Appends written and forced one at a time in the physical anchor. */
  static final int FORCE_ANCHOR_WRITES = 2_000;

  /**
   * The physical limit under a durable acknowledgement: {@value #FORCE_ANCHOR_WRITES} appends of 4
   * KiB to a new file in the temporary directory the relays use (the same file system), each forced
   * ({@code force(false)}, as the queue does) before the next; p50 / p99 / max in ms.
   */
  static String writeAndForce4KiB() throws IOException {
    Path dir = Files.createTempDirectory("otlp4j-force-anchor-");
    double[] millis = new double[FORCE_ANCHOR_WRITES];
    try (java.nio.channels.FileChannel channel =
        java.nio.channels.FileChannel.open(
            dir.resolve("anchor"),
            java.nio.file.StandardOpenOption.CREATE_NEW,
            java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer block = java.nio.ByteBuffer.allocateDirect(4096);
      for (int i = 0; i < millis.length; i++) {
        block.clear();
        long start = System.nanoTime();
        while (block.hasRemaining()) {
          channel.write(block);
        }
        channel.force(false);
        millis[i] = (System.nanoTime() - start) / 1e6;
      }
    } finally {
      deleteTree(dir);
    }
    Arrays.sort(millis);
    return String.format(
        Locale.ROOT,
        "p50 %.2f ms  p99 %.2f ms  max %.2f ms (%d appends)",
        millis[millis.length / 2],
        millis[(int) (millis.length * 0.99)],
        millis[millis.length - 1],
        millis.length);
  }

  private Sample measure(String relay, String jar, String relayJvm, double rate, int seconds)
      throws Exception {
    Path dir = Files.createTempDirectory("otlp4j-main-job-");
    int grpc = LocalPorts.freePort();
    int admin = LocalPorts.freePort();
    List<String> command = new ArrayList<>();
    command.add(javaBin());
    command.add("-Xlog:gc:file=" + dir.resolve("relay-gc.log") + ":timemillis");
    if (!relayJvm.isBlank()) {
      command.addAll(List.of(relayJvm.trim().split("\\s+")));
    }
    command.addAll(jar != null ? List.of("-jar", jar) : classpathMain());
    command.addAll(
        List.of(
            "run",
            "--grpc-endpoint",
            "127.0.0.1:" + grpc,
            "--http-endpoint",
            "127.0.0.1:" + LocalPorts.freePort(),
            "--admin-endpoint",
            "127.0.0.1:" + admin));
    Process process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("relay.log").toFile())
            .start();
    CHILDREN.add(process);
    try {
      awaitHealthy(admin, process, dir.resolve("relay.log"));
      List<String> send = new ArrayList<>();
      send.add(javaBin());
      send.add("-Xlog:gc:file=" + dir.resolve("send-gc.log") + ":timemillis");
      send.addAll(classpathMain());
      send.addAll(
          List.of(
              "send",
              "--endpoint",
              "http://127.0.0.1:" + grpc,
              "--rate",
              String.valueOf(rate),
              "--duration",
              seconds + "s",
              "--concurrency",
              String.valueOf(concurrency),
              "--warmup",
              warmup + "s",
              "--json",
              "--quiet"));
      Duration cpuBefore = process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
      Process sender =
          new ProcessBuilder(send).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      CHILDREN.add(sender);
      // The relay's own histograms as the sender's warm-up ends (its JVM start + 3 s, roughly), so
      // that what they add after it is the measured part.
      long scrapeAfter = warmup * 1000L + WARMUP_SCRAPE_SLACK_MILLIS;
      long measuredFrom = System.currentTimeMillis() + scrapeAfter;
      Thread.sleep(scrapeAfter);
      String atWarmupEnd = metrics(admin);
      double jitAtWarmupEnd = JitCpu.compilerCpuMillis(process.pid());
      byte[] stdout = sender.getInputStream().readAllBytes();
      if (!sender.waitFor(seconds + 120L, TimeUnit.SECONDS)) {
        sender.destroyForcibly();
        throw new IOException("send did not finish");
      }
      long measuredTo = System.currentTimeMillis();
      String atSendEnd = metrics(admin);
      Duration cpu =
          process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO).minus(cpuBefore);
      double jitMeasured = JitCpu.compilerCpuMillis(process.pid()) - jitAtWarmupEnd;
      JsonNode j = JSON.readTree(stdout);
      long spans =
          j.get("items").asLong()
              + (j.get("warmup_requests").asLong() - j.get("warmup_failed").asLong())
                  * j.get("items_per_request").asLong();
      JsonNode latency = j.get("latency_ms");
      // by kind, as `send` names them (a gRPC status code, "client overloaded", "timeout"...)
      Map<String, Long> errorKinds = new TreeMap<>();
      j.get("errors")
          .fields()
          .forEachRemaining(e -> errorKinds.put(e.getKey(), e.getValue().asLong()));
      Map<String, String> errorSamples = new TreeMap<>();
      j.get("error_samples")
          .fields()
          .forEachRemaining(e -> errorSamples.put(e.getKey(), e.getValue().asText()));
      long errors = errorKinds.values().stream().mapToLong(Long::longValue).sum();
      String atEnd = atSendEnd;
      double backlog = backlog(atEnd);
      // What the file exporter wrote while the sender measured, per second: the drain rate.
      double written =
          (gauge(WRITTEN, atEnd) - gauge(WRITTEN, atWarmupEnd))
              / Math.max(0.001, (measuredTo - measuredFrom) / 1e3);
      double ackP99 = histogramP99(ACK_LATENCY, atWarmupEnd, atEnd);
      double fsyncP99 = histogramP99(FSYNC, atWarmupEnd, atEnd);
      long queueRefused = (long) gauge(QUEUE_REFUSED, atEnd);
      return new Sample(
          relay,
          rate,
          latency.get("p50").asDouble(),
          latency.get("p99").asDouble(),
          j.get("items_per_second").asDouble(),
          errors,
          errorKinds,
          errorSamples,
          queueRefused,
          ackP99,
          fsyncP99,
          backlog,
          cpu.toNanos() / 1e3 / Math.max(1, spans),
          written,
          percentile(j, "send_lag_ms", "p99"),
          percentile(j, "latency_from_send_ms", "p99"),
          gcPauses(dir.resolve("relay-gc.log"), measuredFrom, measuredTo),
          gcPauses(dir.resolve("send-gc.log"), measuredFrom, measuredTo),
          jitMeasured);
    } finally {
      process.destroy(); // SIGTERM: the relay drains and exits
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      deleteTree(dir);
      CHILDREN.removeIf(p -> !p.isAlive());
    }
  }

  /** {@code j.object.field}, or NaN where a sender does not report it. */
  private static double percentile(JsonNode j, String object, String field) {
    JsonNode o = j.get(object);
    return o == null || o.get(field) == null ? Double.NaN : o.get(field).asDouble();
  }

  /** The pauses logged in {@code log} that ended between two wall-clock times. */
  static GcPauses gcPauses(Path log, long fromMillis, long toMillis) throws IOException {
    if (!Files.exists(log)) {
      return new GcPauses(0, 0, 0);
    }
    Matcher m = GC_PAUSE.matcher(Files.readString(log));
    int count = 0;
    double max = 0;
    double total = 0;
    while (m.find()) {
      long at = Long.parseLong(m.group(1));
      if (at >= fromMillis && at <= toMillis) {
        double millis = Double.parseDouble(m.group(2));
        count++;
        max = Math.max(max, millis);
        total += millis;
      }
    }
    return new GcPauses(count, max, total);
  }

  private static List<String> classpathMain() {
    // absolute: the relay runs in its own temporary directory
    String classpath =
        Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .map(e -> Path.of(e).toAbsolutePath().toString())
            .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
    return List.of("-cp", classpath, "io.otlp4j.relay.Main");
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private void awaitHealthy(int admin, Process process, Path log) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/healthz"))
            .timeout(Duration.ofSeconds(2))
            .build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "the relay exited with " + process.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IOException("the relay did not become healthy within 60 s");
  }

  private String metrics(int admin) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
            .timeout(Duration.ofSeconds(5))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)).body();
  }

  private static double backlog(String metrics) {
    Matcher m = BACKLOG.matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  private static double gauge(Pattern p, String metrics) {
    Matcher m = p.matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  /**
   * The upper bound, in ms, of the histogram bucket that holds the 99th percentile of what {@code
   * bucket} (matching {@code le} and the cumulative count) counted between two scrapes; NaN when
   * nothing was counted. Coarse (the buckets are 1, 2.5, 5, 10, 25, 50 ms...), but it is the
   * relay's own view: from a request's arrival to its answer, without the sender or the network.
   */
  static double histogramP99(Pattern bucket, String before, String after) {
    Map<Double, Double> start = buckets(bucket, before);
    Map<Double, Double> end = buckets(bucket, after);
    double total =
        end.getOrDefault(Double.POSITIVE_INFINITY, 0.0)
            - start.getOrDefault(Double.POSITIVE_INFINITY, 0.0);
    if (total <= 0) {
      return Double.NaN;
    }
    for (Map.Entry<Double, Double> e : end.entrySet()) { // sorted by le
      double n = e.getValue() - start.getOrDefault(e.getKey(), 0.0);
      if (n >= 0.99 * total) {
        return e.getKey() * 1000;
      }
    }
    return Double.POSITIVE_INFINITY;
  }

  private static Map<Double, Double> buckets(Pattern bucket, String metrics) {
    Map<Double, Double> b = new TreeMap<>();
    Matcher m = bucket.matcher(metrics);
    while (m.find()) {
      double le =
          m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1));
      b.put(le, Double.parseDouble(m.group(2)));
    }
    return b;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static String rateName(double rate) {
    return rate == 0 ? "flat" : String.format(Locale.ROOT, "%.0f", rate);
  }

  // ------------------------------------------------------------------------------------ report

  private void report(
      List<Sample> samples,
      List<String> relays,
      List<Double> rates,
      int seconds,
      int repeat,
      String anchorJar,
      List<String> forceAnchors,
      String out)
      throws IOException {
    StringBuilder text = new StringBuilder();
    text.append(
        String.format(
            Locale.ROOT,
            "main-job-default: otlp4j run (no config) <- otlp4j send (at most %d in flight), %d s + %d"
                + " s warm-up per run, %d repeats, mean [min..max]%s%n",
            concurrency,
            seconds,
            warmup,
            repeat,
            anchorJar == null ? "" : "; anchor " + anchorJar));
    text.append("physical anchor, 4 KiB write + force: ")
        .append(String.join("; ", forceAnchors))
        .append(System.lineSeparator());
    StringBuilder json =
        new StringBuilder(
            "{\"seconds\":"
                + seconds
                + ",\"repeat\":"
                + repeat
                + ",\"concurrency\":"
                + concurrency
                + ",\"results\":[");
    boolean first = true;
    for (String relay : relays) {
      double sustained = 0;
      for (double rate : rates) {
        List<Sample> s =
            samples.stream().filter(x -> x.relay.equals(relay) && x.rate == rate).toList();
        long errors = s.stream().mapToLong(Sample::errors).sum();
        Map<String, Long> kinds = new TreeMap<>();
        s.forEach(x -> x.errorKinds.forEach((k, n) -> kinds.merge(k, n, Long::sum)));
        double maxBacklog = s.stream().mapToDouble(Sample::backlog).max().orElse(Double.NaN);
        if (rate > 0 && errors == 0 && maxBacklog <= SUSTAINED_BACKLOG_RECORDS) {
          // what the file wrote, not only what the relay acknowledged
          sustained =
              Math.max(
                  sustained,
                  s.stream()
                      .mapToDouble(x -> Math.min(x.spansPerSecond, x.writtenPerSecond))
                      .min()
                      .orElse(0));
        }
        text.append(
            String.format(
                Locale.ROOT,
                "%-6s rate %6s  p50 %s ms  p99 %s ms  relay ack p99 <= %s ms  spans/s %s  written"
                    + " spans/s %s  errors %d%s  max backlog %.0f  relay CPU us/span %s%n"
                    + "         sender lag p99 %s ms  p99 from send %s ms  relay GC pauses %s  sender"
                    + " GC pauses %s (count; ms summed, measured part)  relay JIT CPU measured %s"
                    + " ms%n",
                relay,
                rateName(rate),
                stat(s, Sample::p50, "%.2f"),
                stat(s, Sample::p99, "%.1f"),
                stat(s, Sample::relayAckP99, "%.1f"),
                stat(s, Sample::spansPerSecond, "%,.0f"),
                stat(s, Sample::writtenPerSecond, "%,.0f"),
                errors,
                kinds.isEmpty() ? "" : " " + kinds,
                maxBacklog,
                stat(s, Sample::cpuMicrosPerSpan, "%.2f"),
                stat(s, Sample::sendLagP99, "%.2f"),
                stat(s, Sample::fromSendP99, "%.2f"),
                stat(s, x -> x.relayGc.count(), "%.1f")
                    + "; "
                    + stat(s, x -> x.relayGc.totalMillis(), "%.1f"),
                stat(s, x -> x.senderGc.count(), "%.1f")
                    + "; "
                    + stat(s, x -> x.senderGc.totalMillis(), "%.1f"),
                stat(s, Sample::relayJitMillis, "%.0f")));
        json.append(first ? "" : ",")
            .append(
                String.format(
                    Locale.ROOT,
                    "{\"relay\":\"%s\",\"rate\":%.0f,\"p50_ms\":%s,\"p99_ms\":%s,\"relay_ack_p99_ms\":%s,\"spans_per_second\":%s,\"written_spans_per_second\":%s,\"errors\":%d,"
                        + "\"max_backlog\":%.0f,\"relay_cpu_us_per_span\":%s,\"send_lag_p99_ms\":%s,"
                        + "\"p99_from_send_ms\":%s,\"relay_jit_cpu_ms\":%s}",
                    relay,
                    rate,
                    jsonStat(s, Sample::p50),
                    jsonStat(s, Sample::p99),
                    jsonStat(s, Sample::relayAckP99),
                    jsonStat(s, Sample::spansPerSecond),
                    jsonStat(s, Sample::writtenPerSecond),
                    errors,
                    maxBacklog,
                    jsonStat(s, Sample::cpuMicrosPerSpan),
                    jsonStat(s, Sample::sendLagP99),
                    jsonStat(s, Sample::fromSendP99),
                    jsonStat(s, Sample::relayJitMillis)));
        first = false;
      }
      text.append(
          String.format(
              Locale.ROOT,
              "%-6s sustained (no errors, backlog <= %d records; the lower of accepted and written"
                  + " spans/s): %,.0f spans/s%n",
              relay,
              SUSTAINED_BACKLOG_RECORDS,
              sustained));
    }
    json.append("]}\n");
    System.out.print(text);
    Path base = Path.of(out);
    if (base.toAbsolutePath().getParent() != null) {
      Files.createDirectories(base.toAbsolutePath().getParent());
    }
    Files.writeString(Path.of(out + ".txt"), text, StandardCharsets.UTF_8);
    Files.writeString(Path.of(out + ".json"), json, StandardCharsets.UTF_8);
    System.err.println("wrote " + out + ".txt and .json");
  }

  private static String stat(List<Sample> s, ToDoubleFunction<Sample> f, String format) {
    double[] v = s.stream().mapToDouble(f).toArray();
    double mean = Arrays.stream(v).average().orElse(Double.NaN);
    double min = Arrays.stream(v).min().orElse(Double.NaN);
    double max = Arrays.stream(v).max().orElse(Double.NaN);
    return String.format(Locale.ROOT, format + " [" + format + ".." + format + "]", mean, min, max);
  }

  private static String jsonStat(List<Sample> s, ToDoubleFunction<Sample> f) {
    double[] v = s.stream().mapToDouble(f).toArray();
    return String.format(
        Locale.ROOT,
        "{\"mean\":%.3f,\"min\":%.3f,\"max\":%.3f}",
        Arrays.stream(v).average().orElse(Double.NaN),
        Arrays.stream(v).min().orElse(Double.NaN),
        Arrays.stream(v).max().orElse(Double.NaN));
  }
}
