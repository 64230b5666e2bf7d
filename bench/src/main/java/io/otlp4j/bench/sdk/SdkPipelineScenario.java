package io.otlp4j.bench.sdk;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.sdk.Otlp4jBatchSpanProcessor;
import io.otlp4j.sdk.Otlp4jSpanExporter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;

/**
 * End-to-end SDK pipeline benchmark: application threads create spans through a real {@code
 * SdkTracerProvider} → span processor → OTLP exporter → a loopback OTLP sink in a separate JVM
 * ({@link LoopbackSink}: otlp4j's receivers, counting spans). All pipelines run one after the other
 * in this JVM; each gets its own warm-up (default 10 s: a cold marshaler and transport take seconds
 * to JIT on a busy machine, and a short warm-up measures class loading, not the pipeline).
 * Compared, with default settings each, on the same sink and the same span shape:
 *
 * <ul>
 *   <li>{@code otlp4j-grpc}, {@code otlp4j-http}: {@link Otlp4jBatchSpanProcessor} + {@link
 *       Otlp4jSpanExporter} (gRPC, http/protobuf);
 *   <li>{@code sdk-grpc}, {@code sdk-http}: the SDK's {@code BatchSpanProcessor} + {@code
 *       OtlpGrpcSpanExporter} / {@code OtlpHttpSpanExporter}.
 * </ul>
 *
 * <p><b>Why a scenario and not JMH:</b> the quantity is spans <em>received by the sink</em> per
 * second while producers run open-loop, with drops; JMH measures the producer's operation rate,
 * which for a dropping processor says nothing about delivery. Each (pipeline, producer count) run
 * warms up, then measures a window: spans created and received per second, and from {@code
 * ThreadMXBean} the CPU time and bytes allocated by the producer threads and by every other thread
 * of this JVM (the export path: processor, marshaling, transport), per delivered span; the process
 * CPU time ({@code OperatingSystemMXBean}) includes JIT and GC. After the window the producers
 * stop, the provider shuts down (flushing what is queued) and the sink's count settles: created −
 * received is what the pipeline dropped.
 *
 * <p><b>Run</b> (after {@code ./mvnw -B -q -pl bench -am package -DskipTests}):
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.sdk.SdkPipelineScenario \
 *     --threads 1,2 --warmup 10s --duration 10s --pipelines otlp4j-grpc,otlp4j-http,sdk-grpc,sdk-http
 * </pre>
 *
 * {@code --rate N} paces the producers to N spans/s in total (0, the default: as fast as they can);
 * {@code --repeat R} runs every pipeline R times, interleaved, and adds mean ± stddev; {@code --out
 * PATH} also writes the tables to PATH.txt; {@code --sink-warmup 10s} first warms the fresh sink
 * JVM up with the SDK's exporters; {@code --exporter-warmup false} turns off otlp4j's exporter
 * warm-up (on by default, as in the product). Output: one line per run, then a table.
 */
public final class SdkPipelineScenario {

  static final Attributes SPAN_ATTRIBUTES =
      Attributes.builder()
          .put("http.request.method", "GET")
          .put("url.path", "/api/v1/items/4711")
          .put("http.route", "/api/v1/items/{id}")
          .put("http.response.status_code", 200L)
          .put("server.address", "shop.example.com")
          .put("client.address", "10.1.2.3")
          .put("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) bench")
          .put("app.cache_hit", true)
          .build();
  private static final AttributeKey<Long> ITEM = AttributeKey.longKey("app.item_id");

  /** Whether otlp4j's exporters warm up when built ({@code --exporter-warmup}, default true). */
  static volatile boolean exporterWarmUp = true;

  private SdkPipelineScenario() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    List<Integer> threads = new ArrayList<>();
    for (String t : opts.getOrDefault("threads", "1,2").split(",")) {
      threads.add(Integer.parseInt(t.trim()));
    }
    String[] pipelines =
        opts.getOrDefault("pipelines", "otlp4j-grpc,otlp4j-http,sdk-grpc,sdk-http").split(",");
    Duration warmup = duration(opts.getOrDefault("warmup", "10s"));
    Duration window = duration(opts.getOrDefault("duration", "10s"));
    long rate = Long.parseLong(opts.getOrDefault("rate", "0"));
    Duration sinkWarmup = duration(opts.getOrDefault("sink-warmup", "10s"));
    int repeat = Integer.parseInt(opts.getOrDefault("repeat", "1"));
    String out = opts.get("out");
    exporterWarmUp = Boolean.parseBoolean(opts.getOrDefault("exporter-warmup", "true"));
    System.out.println("otlp4j exporter warm-up: " + (exporterWarmUp ? "on" : "off"));

    try (Sink sink = Sink.start()) {
      warmUpSink(sink, sinkWarmup);
      List<Result> results = new ArrayList<>();
      List<String> summary = new ArrayList<>();
      // Rounds interleave the pipelines, so that a slow phase of the shared machine hits them
      // alike.
      Map<String, List<Result>> byRun = new java.util.LinkedHashMap<>();
      for (int round = 0; round < repeat; round++) {
        for (int n : threads) {
          for (String pipeline : pipelines) {
            Result r = run(pipeline.trim(), n, rate, warmup, window, sink);
            System.out.println(r.line());
            results.add(r);
            byRun.computeIfAbsent(pipeline.trim() + " " + n, k -> new ArrayList<>()).add(r);
          }
        }
      }
      summary.add(Result.HEADER);
      results.forEach(r -> summary.add(r.line()));
      summary.add("");
      summary.add(
          String.format(
              Locale.ROOT,
              "%-12s %3s %22s %10s %18s %18s",
              "pipeline",
              "thr",
              "received/s (mean±sd)",
              "dropped%",
              "expCPUus/span",
              "expB/span"));
      byRun.forEach(
          (key, rs) -> {
            String[] k = key.split(" ");
            summary.add(
                String.format(
                    Locale.ROOT,
                    "%-12s %3s %22s %10.1f %18s %18s",
                    k[0],
                    k[1],
                    meanSd(rs.stream().mapToDouble(Result::receivedPerSec).toArray(), "%.0f"),
                    rs.stream().mapToDouble(Result::droppedPercent).average().orElse(0),
                    meanSd(rs.stream().mapToDouble(Result::exportCpuUsPerSpan).toArray(), "%.2f"),
                    meanSd(rs.stream().mapToDouble(Result::exportBytesPerSpan).toArray(), "%.0f")));
          });
      System.out.println();
      summary.forEach(System.out::println);
      if (out != null) {
        java.nio.file.Files.write(java.nio.file.Path.of(out + ".txt"), summary);
      }
    }
  }

  private static String meanSd(double[] values, String format) {
    double mean = java.util.Arrays.stream(values).average().orElse(0);
    double var =
        java.util.Arrays.stream(values).map(v -> (v - mean) * (v - mean)).sum()
            / Math.max(1, values.length - 1);
    return String.format(Locale.ROOT, format + " ± " + format, mean, Math.sqrt(var));
  }

  /**
   * Sends the fresh sink JVM requests over both protocols for {@code time} with the SDK's own
   * exporters (so the client JVM's otlp4j code gets no head start), so that the first measured run
   * does not pay for the sink's class loading and JIT.
   */
  private static void warmUpSink(Sink sink, Duration time) throws IOException {
    InMemorySpanExporter memory = InMemorySpanExporter.create();
    List<SpanData> batch;
    try (SdkTracerProvider provider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(memory)).build()) {
      for (int i = 0; i < 200; i++) {
        provider
            .get("warmup")
            .spanBuilder("warmup")
            .setAllAttributes(SPAN_ATTRIBUTES)
            .startSpan()
            .end();
      }
      batch =
          List.copyOf(memory.getFinishedSpanItems()); // before close: shutdown clears the exporter
    }
    SpanExporter grpc =
        OtlpGrpcSpanExporter.builder().setEndpoint("http://127.0.0.1:" + sink.grpcPort).build();
    SpanExporter http =
        OtlpHttpSpanExporter.builder()
            .setEndpoint("http://127.0.0.1:" + sink.httpPort + "/v1/traces")
            .build();
    long deadline = System.nanoTime() + time.toNanos();
    long before = sink.count();
    int rounds = 0;
    int failed = 0;
    while (System.nanoTime() < deadline) {
      failed += grpc.export(batch).join(30, TimeUnit.SECONDS).isSuccess() ? 0 : 1;
      failed += http.export(batch).join(30, TimeUnit.SECONDS).isSuccess() ? 0 : 1;
      rounds++;
    }
    grpc.shutdown().join(10, TimeUnit.SECONDS);
    http.shutdown().join(10, TimeUnit.SECONDS);
    System.out.println(
        "sink warm-up: "
            + rounds
            + " rounds, "
            + failed
            + " exports failed, "
            + (sink.count() - before)
            + " spans received");
  }

  private static SpanProcessor processor(String pipeline, Sink sink) {
    return processor(
        pipeline,
        exporter(
            pipeline, "http://127.0.0.1:" + sink.grpcPort, "http://127.0.0.1:" + sink.httpPort));
  }

  /**
   * The exporter of {@code pipeline} (otlp4j-grpc, otlp4j-http, sdk-grpc or sdk-http), default
   * settings, sending to {@code grpc} or {@code http} (base URLs).
   */
  static SpanExporter exporter(String pipeline, String grpc, String http) {
    return switch (pipeline) {
      case "otlp4j-grpc" ->
          Otlp4jSpanExporter.builder()
              .protocol("grpc")
              .endpoint(grpc)
              .warmUp(exporterWarmUp)
              .build();
      case "otlp4j-http" ->
          Otlp4jSpanExporter.builder()
              .protocol("http/protobuf")
              .endpoint(http)
              .warmUp(exporterWarmUp)
              .build();
      case "sdk-grpc" -> OtlpGrpcSpanExporter.builder().setEndpoint(grpc).build();
      case "sdk-http" -> OtlpHttpSpanExporter.builder().setEndpoint(http + "/v1/traces").build();
      default ->
          throw new IllegalArgumentException(
              "unknown pipeline '"
                  + pipeline
                  + "' (expected otlp4j-grpc, otlp4j-http, sdk-grpc or sdk-http)");
    };
  }

  /**
   * The batch processor of {@code pipeline} in front of {@code exporter}, default settings: {@link
   * Otlp4jBatchSpanProcessor} for otlp4j-*, the SDK's {@code BatchSpanProcessor} for sdk-*.
   */
  static SpanProcessor processor(String pipeline, SpanExporter exporter) {
    return pipeline.startsWith("otlp4j-")
        ? Otlp4jBatchSpanProcessor.builder(exporter).build()
        : BatchSpanProcessor.builder(exporter).build();
  }

  private static Result run(
      String pipeline, int producers, long rate, Duration warmup, Duration window, Sink sink)
      throws Exception {
    long receivedAtStart = sink.count();
    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.getDefault()
                    .merge(
                        Resource.create(
                            Attributes.of(AttributeKey.stringKey("service.name"), "bench"))))
            .addSpanProcessor(processor(pipeline, sink))
            .build();
    Tracer tracer = provider.get("io.otlp4j.bench");
    Producers load = new Producers(tracer, producers, rate);
    load.start();
    LockSupport.parkNanos(warmup.toNanos());

    Snapshot before = Snapshot.take(load, sink);
    LockSupport.parkNanos(window.toNanos());
    Snapshot after = Snapshot.take(load, sink);

    load.stop();
    provider.shutdown().join(60, TimeUnit.SECONDS);
    long settled = sink.awaitSettled();
    return Result.of(
        pipeline, producers, rate, before, after, load.created(), settled - receivedAtStart);
  }

  /**
   * Producer threads ending root spans of one shape, open-loop or paced. With an {@code endLatency}
   * recorder each {@code span.end()} call's duration is recorded (ns), and paced producers sleep
   * whenever they are ahead (no spinning, so that the process's CPU time is the pipeline's and not
   * a busy wait's).
   */
  static final class Producers {
    private final Tracer tracer;
    private final Thread[] threads;
    private final AtomicLong[] created;
    private final long nanosPerSpan; // per producer; 0: unpaced
    private final Recorder endLatency; // null: not recorded
    private volatile boolean running = true;

    Producers(Tracer tracer, int count, long totalRate) {
      this(tracer, count, totalRate, null);
    }

    Producers(Tracer tracer, int count, long totalRate, Recorder endLatency) {
      this.tracer = tracer;
      this.endLatency = endLatency;
      this.threads = new Thread[count];
      this.created = new AtomicLong[count];
      this.nanosPerSpan = totalRate <= 0 ? 0 : TimeUnit.SECONDS.toNanos(1) * count / totalRate;
      for (int i = 0; i < count; i++) {
        AtomicLong counter = new AtomicLong();
        created[i] = counter;
        threads[i] = new Thread(() -> produce(counter), "producer-" + i);
        threads[i].setDaemon(true);
      }
    }

    void start() {
      for (Thread t : threads) {
        t.start();
      }
    }

    private void produce(AtomicLong counter) {
      long n = 0;
      long next = System.nanoTime();
      while (running) {
        Span span =
            tracer
                .spanBuilder("GET /api/v1/items/{id}")
                .setSpanKind(SpanKind.SERVER)
                .setAllAttributes(SPAN_ATTRIBUTES)
                .setAttribute(ITEM, n)
                .startSpan();
        if (endLatency != null) {
          long t0 = System.nanoTime();
          span.end();
          endLatency.recordValue(Math.max(0, System.nanoTime() - t0));
        } else {
          span.end();
        }
        counter.lazySet(++n);
        if (nanosPerSpan > 0) {
          next += nanosPerSpan;
          long ahead = next - System.nanoTime();
          if (ahead > (endLatency != null ? 0 : 50_000)) {
            LockSupport.parkNanos(ahead);
          } else if (ahead < -10_000_000) {
            next =
                System.nanoTime(); // fell behind (GC, a busy machine): no catch-up burst above the
            // rate
          }
        }
      }
    }

    void stop() throws InterruptedException {
      running = false;
      for (Thread t : threads) {
        t.join();
      }
    }

    long created() {
      long sum = 0;
      for (AtomicLong c : created) {
        sum += c.get();
      }
      return sum;
    }

    boolean isProducer(long threadId) {
      for (Thread t : threads) {
        if (t.getId() == threadId) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * CPU and allocation of this JVM's threads, split into producers and the rest, at one instant.
   */
  private static final class Snapshot {
    long nanos;
    long created;
    long received;
    long processCpu;
    final Map<Long, long[]> threads = new HashMap<>(); // id -> {cpu, allocated, producer?1:0}

    static Snapshot take(Producers load, Sink sink) throws IOException {
      com.sun.management.ThreadMXBean mx =
          (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      Snapshot s = new Snapshot();
      s.received = sink.count();
      s.created = load.created();
      s.nanos = System.nanoTime();
      s.processCpu = os.getProcessCpuTime();
      long[] ids = mx.getAllThreadIds();
      long[] cpu = mx.getThreadCpuTime(ids);
      long[] allocated = mx.getThreadAllocatedBytes(ids);
      for (int i = 0; i < ids.length; i++) {
        s.threads.put(
            ids[i],
            new long[] {
              Math.max(0, cpu[i]), Math.max(0, allocated[i]), load.isProducer(ids[i]) ? 1 : 0
            });
      }
      return s;
    }
  }

  private record Result(
      String pipeline,
      int producers,
      long rate,
      double createdPerSec,
      double receivedPerSec,
      long createdTotal,
      long receivedTotal,
      double processCpuUsPerSpan,
      double exportCpuUsPerSpan,
      double exportBytesPerSpan,
      double producerBytesPerSpan) {

    static final String HEADER =
        String.format(
            Locale.ROOT,
            "%-12s %3s %9s %12s %12s %12s %12s %8s %9s %9s %10s %10s",
            "pipeline",
            "thr",
            "rate",
            "created/s",
            "received/s",
            "created",
            "received",
            "dropped%",
            "procCPUus",
            "expCPUus",
            "expB/span",
            "prodB/span");

    static Result of(
        String pipeline,
        int producers,
        long rate,
        Snapshot a,
        Snapshot b,
        long createdTotal,
        long receivedTotal) {
      double seconds = (b.nanos - a.nanos) / 1e9;
      long received = Math.max(1, b.received - a.received);
      long created = Math.max(1, b.created - a.created);
      long exportCpu = 0;
      long exportBytes = 0;
      long producerBytes = 0;
      for (Map.Entry<Long, long[]> e : b.threads.entrySet()) {
        long[] end = e.getValue();
        long[] start = a.threads.getOrDefault(e.getKey(), new long[] {0, 0, end[2]});
        if (end[2] == 1) {
          producerBytes += end[1] - start[1];
        } else {
          exportCpu += end[0] - start[0];
          exportBytes += end[1] - start[1];
        }
      }
      return new Result(
          pipeline,
          producers,
          rate,
          created / seconds,
          received / seconds,
          createdTotal,
          receivedTotal,
          (b.processCpu - a.processCpu) / 1e3 / received,
          exportCpu / 1e3 / received,
          (double) exportBytes / received,
          (double) producerBytes / created);
    }

    double droppedPercent() {
      return createdTotal == 0 ? 0 : 100.0 * (createdTotal - receivedTotal) / createdTotal;
    }

    String line() {
      double dropped = droppedPercent();
      return String.format(
          Locale.ROOT,
          "%-12s %3d %9s %12.0f %12.0f %12d %12d %8.2f %9.2f %9.2f %10.0f %10.0f",
          pipeline,
          producers,
          rate == 0 ? "max" : Long.toString(rate),
          createdPerSec,
          receivedPerSec,
          createdTotal,
          receivedTotal,
          dropped,
          processCpuUsPerSpan,
          exportCpuUsPerSpan,
          exportBytesPerSpan,
          producerBytesPerSpan);
    }
  }

  /** The {@link LoopbackSink} JVM. */
  static final class Sink implements AutoCloseable {
    final Process process;
    final PrintWriter commands;
    final BufferedReader answers;
    final int grpcPort;
    final int httpPort;

    private Sink(Process process) throws IOException {
      this.process = process;
      this.commands = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
      this.answers =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = answers.readLine()) != null && !line.startsWith("PORTS ")) {
        System.err.println("sink: " + line);
      }
      if (line == null) {
        throw new IOException("the sink JVM ended before it reported its ports");
      }
      String[] parts = line.split(" ");
      this.grpcPort = Integer.parseInt(parts[1]);
      this.httpPort = Integer.parseInt(parts[2]);
    }

    static Sink start() throws IOException {
      String java = ProcessHandle.current().info().command().orElse("java");
      Process p =
          new ProcessBuilder(
                  java,
                  "-Xmx2g",
                  "-cp",
                  System.getProperty("java.class.path"),
                  LoopbackSink.class.getName())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      return new Sink(p);
    }

    synchronized long count() throws IOException {
      return counts()[0];
    }

    /** {spans, export requests} received so far. */
    synchronized long[] counts() throws IOException {
      String[] parts = ask("COUNT").split(" ");
      return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1])};
    }

    /** From now on the sink refuses {@code fraction} of the requests, retryably. */
    synchronized void fail(double fraction) throws IOException {
      ask("FAIL " + fraction);
    }

    /** Stops the sink's servers (connections are refused) until {@link #up}. */
    synchronized void down() throws IOException {
      ask("DOWN");
    }

    /** Starts the sink's servers again, on the same ports. */
    synchronized void up() throws IOException {
      String answer = ask("UP");
      if (!answer.equals("OK")) {
        throw new IOException("the sink did not come back: " + answer);
      }
    }

    long pid() {
      return process.pid();
    }

    private String ask(String command) throws IOException {
      commands.println(command);
      String line = answers.readLine();
      if (line == null) {
        throw new IOException("the sink JVM ended");
      }
      return line.trim();
    }

    /** Waits (at most 10 s) until the count stops moving for 300 ms, and returns it. */
    long awaitSettled() throws IOException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      long last = count();
      while (System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
        long now = count();
        if (now == last) {
          return now;
        }
        last = now;
      }
      return last;
    }

    @Override
    public void close() throws InterruptedException {
      commands.println("EXIT");
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
      }
      out.put(args[i].substring(2), args[++i]);
    }
    return out;
  }

  private static Duration duration(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    if (v.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
    }
    if (v.endsWith("s")) {
      return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
    }
    return Duration.ofSeconds(Long.parseLong(v));
  }
}
