package io.otlp4j.bench.relay;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.otlp4j.bench.LocalPorts;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * A well-behaved client's latency while hostile clients attack the relay, against the same client
 * without the attack in the same run (the anchor). The relay runs in its own JVM ({@code otlp4j
 * run}, ack mode {@code received}, a {@code batch} processor, an OTLP exporter to a {@link
 * CountingUpstream}); this JVM sends {@code --rate} (100) OTLP/gRPC requests of 10 spans per second
 * on one connection, at a fixed schedule (latency measured from the scheduled send time, so a stall
 * counts in full: no coordinated omission), after {@code --warmup} (20) seconds of the same load
 * (reported as {@code warmup}, not compared: the relay's JIT compiles its hot paths then; with a 5
 * s warm-up the anchor was a still-compiling relay's: its p99 was 3.3 times the {@code
 * anchor-after} p99 on a quiet machine), through phases of {@code --seconds} (15) each: {@code
 * anchor} (no attack), {@code attack}, {@code anchor-after}. During {@code attack}, each on its own
 * thread and over and over: slowloris on OTLP/HTTP ({@code --slowloris} (200) connections sending a
 * header byte every 500 ms), rapid reset on OTLP/gRPC (new connections, 1,000 {@code
 * HEADERS}+{@code RST_STREAM} pairs each), a {@code SETTINGS} flood (new connections, 20,000 frames
 * each), a {@code PING} flood, oversized bodies (an OTLP/HTTP request declaring 100 MiB, a gRPC
 * message of 4 MiB + 1).
 *
 * <pre>
 * bench/run hostile-clients
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.HostileClientsBench [--rate 100]
 *     [--seconds 15] [--warmup 20] [--slowloris 200] [--relay-jvm-args "-Xmx512m"]
 *     [--attacks slowloris,rapid-reset,settings,ping,oversized-http,oversized-grpc]
 *     [--one-at-a-time true] [--relay-cpus 0 --bench-cpus 1] [--nice-attackers true]
 *     [--max-unanswered-resets 20]
 * </pre>
 *
 * <p>{@code --max-unanswered-resets} sets the relay's {@code protocols.grpc.max_unanswered_resets}
 * (0: the bound off, as before it existed; absent: the relay's default).
 *
 * <p>{@code --one-at-a-time true} runs one attack phase per attack ({@code attack:<name>}) before
 * the phase with all of them ({@code attack:all}), which tells how much each costs the client. On a
 * machine with few cores the attackers' own CPU and garbage compete with the relay and the client;
 * {@code --attackers-jvm true} runs them in a JVM of their own (one per attack phase, started
 * before the phase begins), {@code --relay-cpus} pins the relay's JVM ({@code taskset -c}) and
 * {@code --bench-cpus} this JVM and the attackers' to other cores, and {@code --nice-attackers
 * true} starts the attackers' JVM at nice 19, so that the client on the same cores is scheduled
 * first: closer to attackers on other hosts.
 *
 * <p>Prints per phase: requests sent, failed, p50 / p99 / max latency in ms, and what the attackers
 * did.
 */
public final class HostileClientsBench {

  private HostileClientsBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new TreeMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int rate = Integer.parseInt(o.getOrDefault("rate", "100"));
    int seconds = Integer.parseInt(o.getOrDefault("seconds", "15"));
    int warmup = Integer.parseInt(o.getOrDefault("warmup", "20"));
    int slowloris = Integer.parseInt(o.getOrDefault("slowloris", "200"));
    String relayJvmArgs = o.getOrDefault("relay-jvm-args", "-Xmx512m");
    Path out = o.containsKey("out") ? Path.of(o.get("out")) : null;
    List<String> attacks = List.of(o.getOrDefault("attacks", String.join(",", ATTACKS)).split(","));
    if (!ATTACKS.containsAll(attacks)) {
      throw new IllegalArgumentException("--attacks: one or more of " + ATTACKS);
    }
    boolean oneAtATime = Boolean.parseBoolean(o.getOrDefault("one-at-a-time", "false"));
    if (o.containsKey("child-attack")) {
      attackUntilStdinCloses(o);
      return;
    }
    boolean niceAttackers = Boolean.parseBoolean(o.getOrDefault("nice-attackers", "false"));
    boolean attackersJvm = Boolean.parseBoolean(o.getOrDefault("attackers-jvm", "false"));
    if (niceAttackers && !attackersJvm) {
      throw new IllegalArgumentException("--nice-attackers needs --attackers-jvm true");
    }
    String relayCpus = o.get("relay-cpus");
    int cores = Runtime.getRuntime().availableProcessors();
    if (o.containsKey("bench-cpus")) {
      run(
          "taskset",
          "-a",
          "-p",
          "-c",
          o.get("bench-cpus"),
          Long.toString(ProcessHandle.current().pid()));
    }

    try (CountingUpstream upstream = new CountingUpstream(1)) {
      int grpcPort = LocalPorts.freePort();
      int httpPort = LocalPorts.freePort();
      Path config = Files.createTempFile("otlp4j-hostile", ".yaml");
      Files.writeString(
          config,
          """
          receivers:
            otlp:
              protocols:
                grpc: { endpoint: "127.0.0.1:%d"%s }
                http: { endpoint: "127.0.0.1:%d", read_header_timeout: 10s }
          processors:
            batch: { send_batch_size: 512, timeout: 50ms }
          exporters:
            otlp: { endpoint: "127.0.0.1:%d", tls: { insecure: true }, compression: none }
          service:
            ack_mode: received
            telemetry: { metrics: { address: "127.0.0.1:0" } }
            pipelines:
              traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
          """
              .formatted(
                  grpcPort,
                  o.containsKey("max-unanswered-resets")
                      ? ", max_unanswered_resets: " + o.get("max-unanswered-resets")
                      : "",
                  httpPort,
                  upstream.grpcPort()));
      List<String> command = new ArrayList<>();
      if (relayCpus != null) {
        command.addAll(List.of("taskset", "-c", relayCpus));
      }
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      if (!relayJvmArgs.isBlank()) {
        command.addAll(List.of(relayJvmArgs.trim().split("\\s+")));
      }
      command.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              "io.otlp4j.relay.Main",
              "run",
              "--config",
              config.toString()));
      Path log = Files.createTempFile("otlp4j-hostile-relay", ".log");
      Process relay =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      StringBuilder report = new StringBuilder();
      try {
        LocalPorts.awaitListening(grpcPort, relay, log);
        LocalPorts.awaitListening(httpPort, relay, log);
        ManagedChannel channel =
            NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        byte[] request = OtlpGenerator.realisticTraces(10).toByteArray();
        // Warm-up at the rate: printed, not compared.
        Result warm = phase(channel, request, rate, warmup);
        report.append(
            String.format(
                "well-behaved client: OTLP/gRPC, %d requests/s of 10 spans, %d s per phase;"
                    + " machine: %d cores, load average %s; relay on cpus %s, client and"
                    + " attackers on cpus %s, attackers in %s%s; max_unanswered_resets %s%n",
                rate,
                seconds,
                cores,
                Files.readString(Path.of("/proc/loadavg")).trim(),
                relayCpus == null ? "any" : relayCpus,
                o.getOrDefault("bench-cpus", "any"),
                attackersJvm ? "their own JVM" : "the client's JVM",
                niceAttackers ? " at nice 19" : "",
                o.getOrDefault("max-unanswered-resets", "default")));
        report.append(
            String.format(
                "%-22s %8s %7s %8s %8s %8s%n",
                "phase", "sent", "failed", "p50 ms", "p99 ms", "max ms"));
        report.append(row("warmup " + warmup + " s", warm));
        report.append(row("anchor", phase(channel, request, rate, seconds)));
        List<List<String>> phases = new ArrayList<>();
        if (oneAtATime) {
          attacks.forEach(a -> phases.add(List.of(a)));
        }
        if (!oneAtATime || attacks.size() > 1) {
          phases.add(attacks);
        }
        StringBuilder summaries = new StringBuilder();
        for (List<String> these : phases) {
          String name = "attack:" + (these.size() == attacks.size() ? "all" : these.get(0));
          Result attacked;
          if (attackersJvm) {
            List<String> child = new ArrayList<>();
            if (o.containsKey("bench-cpus")) {
              child.addAll(List.of("taskset", "-c", o.get("bench-cpus")));
            }
            if (niceAttackers) {
              child.addAll(List.of("nice", "-n", "19"));
            }
            child.addAll(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    HostileClientsBench.class.getName(),
                    "--child-attack",
                    String.join(",", these),
                    "--grpc-port",
                    Integer.toString(grpcPort),
                    "--http-port",
                    Integer.toString(httpPort),
                    "--slowloris",
                    Integer.toString(slowloris)));
            Process attackers = new ProcessBuilder(child).redirectErrorStream(true).start();
            try {
              java.io.BufferedReader lines =
                  new java.io.BufferedReader(
                      new java.io.InputStreamReader(
                          attackers.getInputStream(), StandardCharsets.UTF_8));
              String first = lines.readLine();
              if (!"attacking".equals(first)) {
                throw new IOException("the attackers' JVM did not start: " + first);
              }
              attacked = phase(channel, request, rate, seconds);
              attackers.getOutputStream().close();
              StringBuilder summary = new StringBuilder();
              for (String line; (line = lines.readLine()) != null; ) {
                summary.append(line).append('\n');
              }
              summaries.append(name).append(": ").append(summary);
            } finally {
              attackers.destroyForcibly();
            }
          } else {
            HostileAttackers attackers = new HostileAttackers(grpcPort, httpPort, slowloris);
            attackers.start(these);
            attacked = phase(channel, request, rate, seconds);
            attackers.stop();
            summaries.append(name).append(": ").append(attackers.summary());
          }
          report.append(row(name, attacked));
        }
        report.append(row("anchor-after", phase(channel, request, rate, seconds)));
        report.append(summaries);
        report.append(
            String.format(
                "relay alive: %s; upstream received %d requests%n",
                relay.isAlive(), upstream.requests()));
        channel.shutdownNow();
      } finally {
        relay.destroy();
        relay.waitFor(20, TimeUnit.SECONDS);
        Files.deleteIfExists(config);
      }
      System.out.print(report);
      if (out != null) {
        Files.createDirectories(out);
        Files.writeString(out.resolve("summary.txt"), report.toString());
      }
    }
    System.exit(0);
  }

  /** The attacks, by the names {@code --attacks} takes. */
  private static final List<String> ATTACKS =
      List.of("slowloris", "rapid-reset", "settings", "ping", "oversized-http", "oversized-grpc");

  /**
   * The attackers' JVM ({@code --child-attack a,b,...}): prints {@code attacking} once the attacks
   * run, attacks until its standard input closes, then prints what the attackers did.
   */
  private static void attackUntilStdinCloses(Map<String, String> o) throws Exception {
    HostileAttackers attackers =
        new HostileAttackers(
            Integer.parseInt(o.get("grpc-port")),
            Integer.parseInt(o.get("http-port")),
            Integer.parseInt(o.get("slowloris")));
    attackers.start(List.of(o.get("child-attack").split(",")));
    System.out.println("attacking");
    System.out.flush();
    while (System.in.read() >= 0) {
      // the parent closes our input when its phase ends
    }
    attackers.stop();
    System.out.print(attackers.summary());
    System.out.flush();
    System.exit(0);
  }

  /** Runs a short command (taskset) and fails if it fails. */
  static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed: " + output);
    }
  }

  record Result(long sent, long failed, Histogram latency) {}

  private static String row(String name, Result r) {
    return String.format(
        "%-22s %8d %7d %8.2f %8.2f %8.2f%n",
        name,
        r.sent,
        r.failed,
        r.latency.getValueAtPercentile(50) / 1e6,
        r.latency.getValueAtPercentile(99) / 1e6,
        r.latency.getMaxValue() / 1e6);
  }

  /**
   * Sends at {@code rate} per second for {@code seconds}, each request on its own schedule slot;
   * latency from the slot to the answer.
   */
  private static Result phase(ManagedChannel channel, byte[] request, int rate, int seconds)
      throws InterruptedException {
    MethodDescriptor<byte[], byte[]> export = exportMethod();
    Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    AtomicLong failed = new AtomicLong();
    long total = (long) rate * seconds;
    long interval = TimeUnit.SECONDS.toNanos(1) / rate;
    long start = System.nanoTime();
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch((int) total);
    for (long i = 0; i < total; i++) {
      long slot = start + i * interval;
      long wait = slot - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      ClientCalls.asyncUnaryCall(
          channel.newCall(export, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)),
          request,
          new io.grpc.stub.StreamObserver<byte[]>() {
            @Override
            public void onNext(byte[] value) {}

            @Override
            public void onError(Throwable t) {
              failed.incrementAndGet();
              record();
            }

            @Override
            public void onCompleted() {
              record();
            }

            private void record() {
              synchronized (h) {
                h.recordValue(Math.min(System.nanoTime() - slot, h.getHighestTrackableValue()));
              }
              done.countDown();
            }
          });
    }
    done.await(60, TimeUnit.SECONDS);
    synchronized (h) {
      return new Result(total, failed.get(), h.copy());
    }
  }

  static MethodDescriptor<byte[], byte[]> exportMethod() {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(
            MethodDescriptor.generateFullMethodName(Signal.TRACES.grpcService(), "Export"))
        .setRequestMarshaller(ByteArrayMarshaller.INSTANCE)
        .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
        .build();
  }
}
