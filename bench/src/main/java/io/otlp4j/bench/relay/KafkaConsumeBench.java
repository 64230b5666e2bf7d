package io.otlp4j.bench.relay;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.KafkaBroker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka → back relay → a discarding upstream, against Kafka's own consumer benchmark ({@code
 * org.apache.kafka.tools.ConsumerPerformance}, {@code kafka-consumer-perf-test}) on the same topic
 * of the same broker: MB/s of record values read.
 *
 * <p>One real broker ({@link KafkaBroker}, a child JVM); a topic of {@code --partitions} partitions
 * filled with {@code --records} OTLP trace requests of {@code --spans} spans each. Then, {@code
 * --iterations} times, interleaved, each in a fresh child JVM and its own consumer group reading
 * the topic from the start: ConsumerPerformance ({@code --messages N}; its {@code MB.sec}, which
 * counts from before it joins the group to the last record, like ours, and its {@code
 * fetch.MB.sec}, which leaves the group join out), and {@code otlp4j run} with a {@code kafka}
 * receiver, a batch processor and an {@code otlp} exporter to {@link CountingUpstream} (gRPC, drops
 * the bytes): from the relay's "consuming" line to the upstream having received every record's
 * bytes (the relay concatenates requests, so upstream bytes = record bytes), ack mode {@code
 * received} (offsets committed once queued; {@code --ack-mode delivered} waits for the upstream),
 * with the Java consumer's default {@code fetch.max.bytes} (50 MiB) as ConsumerPerformance has.
 * {@code --compression} sets the {@code otlp} exporter's (default gzip, the Collector's default;
 * {@code none} leaves out compressing what goes to the sink and the sink's inflating, which share
 * the cores with the consumer); {@code --relay-jvm OPTION} (repeatable) adds a JVM option to the
 * relay's child JVM, e.g. {@code -XX:StartFlightRecording=filename=relay.jfr,settings=profile};
 * {@code --batch-spans} the {@code batch} processor's {@code send_batch_size} (default 2048).
 * ConsumerPerformance's "MB" is MiB: its figures are converted to 10^6 bytes, as ours.
 *
 * <p><b>Steady state</b> ({@code --steady-from F}, e.g. 0.5): each side is measured over the same
 * tail of the topic only, from the moment it had consumed {@code F} of the bytes to its last byte,
 * so that neither JVM's start-up, group join and JIT warm-up count: MB/s and CPU milliseconds per
 * MB of its own process (user + system, {@code /proc/PID/stat}; the CPU ratio depends far less on
 * how much of the loaded machine each process got). ConsumerPerformance runs with {@code
 * --show-detailed-stats --reporting-interval 200} in {@link TimedConsumerPerformance}: the window
 * opens at its first report at or past {@code F} of the records (its cumulative bytes, the CPU read
 * when the line arrives) and closes when its {@code main} returned (consumer closed). The relay's
 * window opens when the upstream holds {@code F} of the bytes and closes when it holds all; the
 * upstream's CPU (the bench's JVM) counts for neither side. Also printed: each process's whole CPU
 * per MB (start-up included).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.KafkaConsumeBench \
 *     --records 200000 --spans 10 --partitions 4 --iterations 3
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.KafkaConsumeBench \
 *     --records 200000 --spans 10 --partitions 4 --iterations 3 \
 *     --steady-from 0.5 --compression none
 * </pre>
 *
 * The machine is shared: the broker, the consumer and the upstream share its cores; compare the
 * ratio within one run.
 */
public final class KafkaConsumeBench {
  private KafkaConsumeBench() {}

  public static void main(String[] args) throws Exception {
    int records = 200_000;
    int spans = 10;
    int partitions = 4;
    int iterations = 3;
    String ackMode = "received";
    String compression = "gzip";
    List<String> relayJvm = new ArrayList<>();
    double steadyFrom = 0;
    int batchSpans = 2048;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--records" -> records = Integer.parseInt(args[i + 1]);
        case "--spans" -> spans = Integer.parseInt(args[i + 1]);
        case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
        case "--iterations" -> iterations = Integer.parseInt(args[i + 1]);
        case "--ack-mode" -> ackMode = args[i + 1];
        case "--compression" -> compression = args[i + 1];
        case "--relay-jvm" -> relayJvm.add(args[i + 1]);
        case "--steady-from" -> steadyFrom = Double.parseDouble(args[i + 1]);
        case "--batch-spans" -> batchSpans = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    try (KafkaBroker broker =
        KafkaBroker.builder().jvmOptions("-Xmx1g", "-XX:+UseParallelGC").start()) {
      String topic = "bench_spans";
      broker.createTopic(topic, partitions);
      long bytes = fill(broker.bootstrapServers(), topic, records, spans);
      double mb = bytes / 1e6;
      System.out.printf(
          Locale.ROOT,
          "topic %s: %d records of %d spans, %.1f MB (%d bytes/record), %d partitions%n",
          topic,
          records,
          spans,
          mb,
          bytes / records,
          partitions);
      if (steadyFrom > 0) {
        steady(
            broker.bootstrapServers(),
            topic,
            records,
            bytes,
            iterations,
            steadyFrom,
            ackMode,
            compression,
            batchSpans,
            relayJvm);
        return;
      }
      List<double[]> rows = new ArrayList<>();
      for (int it = 0; it < iterations; it++) {
        double[] anchor = consumerPerformance(broker.bootstrapServers(), topic, records, it);
        double relay =
            relay(
                    broker.bootstrapServers(),
                    topic,
                    bytes,
                    it,
                    ackMode,
                    compression,
                    batchSpans,
                    relayJvm,
                    0)
                .wholeMbPerSecond;
        rows.add(new double[] {anchor[0], anchor[1], relay});
        System.out.printf(
            Locale.ROOT,
            "iteration %d: ConsumerPerformance %.1f MB/s (fetch %.1f MB/s), relay %.1f MB/s:"
                + " %.0f %% (%.0f %% of fetch)%n",
            it + 1,
            anchor[0],
            anchor[1],
            relay,
            100 * relay / anchor[0],
            100 * relay / anchor[1]);
      }
      double[] ratios = rows.stream().mapToDouble(r -> r[2] / r[0]).sorted().toArray();
      System.out.printf(
          Locale.ROOT,
          "ratio relay / ConsumerPerformance MB/s: median %.0f %%, min %.0f %%, max %.0f %%%n",
          100 * ratios[ratios.length / 2],
          100 * ratios[0],
          100 * ratios[ratios.length - 1]);
    }
  }

  /**
   * The steady-state comparison: each side measured over the same part of the topic, from the
   * moment {@code from} of its bytes had been consumed to the last byte, MB/s and CPU seconds per
   * MB of its own process.
   */
  private static void steady(
      String brokers,
      String topic,
      int records,
      long bytes,
      int iterations,
      double from,
      String ackMode,
      String compression,
      int batchSpans,
      List<String> relayJvm)
      throws Exception {
    List<double[]> ratios = new ArrayList<>();
    for (int it = 0; it < iterations; it++) {
      Window anchor = timedConsumerPerformance(brokers, topic, records, bytes, it, from);
      Window relay =
          relay(brokers, topic, bytes, it, ackMode, compression, batchSpans, relayJvm, from);
      double load = loadAverage();
      System.out.printf(
          Locale.ROOT,
          "iteration %d (load average %.1f): steady (%.0f..100 %% of the topic):"
              + " ConsumerPerformance %.1f MB/s, %.2f ms CPU/MB; relay %.1f MB/s, %.2f ms CPU/MB;"
              + " relay / ConsumerPerformance: MB/s %.0f %%, CPU per MB %.2fx;"
              + " whole process CPU per MB: ConsumerPerformance %.2f ms, relay %.2f ms%n",
          it + 1,
          load,
          100 * from,
          anchor.mbPerSecond(),
          anchor.cpuMsPerMb(),
          relay.mbPerSecond(),
          relay.cpuMsPerMb(),
          100 * relay.mbPerSecond() / anchor.mbPerSecond(),
          relay.cpuMsPerMb() / anchor.cpuMsPerMb(),
          anchor.wholeCpuNanos / 1e6 / (bytes / 1e6),
          relay.wholeCpuNanos / 1e6 / (bytes / 1e6));
      ratios.add(
          new double[] {
            relay.mbPerSecond() / anchor.mbPerSecond(), relay.cpuMsPerMb() / anchor.cpuMsPerMb()
          });
    }
    double[] mbs = ratios.stream().mapToDouble(r -> r[0]).sorted().toArray();
    double[] cpu = ratios.stream().mapToDouble(r -> r[1]).sorted().toArray();
    System.out.printf(
        Locale.ROOT,
        "steady relay / ConsumerPerformance: MB/s median %.0f %% (min %.0f %%, max %.0f %%);"
            + " CPU per MB median %.2fx (min %.2fx, max %.2fx)%n",
        100 * mbs[mbs.length / 2],
        100 * mbs[0],
        100 * mbs[mbs.length - 1],
        cpu[cpu.length / 2],
        cpu[0],
        cpu[cpu.length - 1]);
  }

  /**
   * One side's steady window: {@code bytes} consumed in {@code nanos} of wall time and {@code
   * cpuNanos} of its process's CPU; {@code wholeCpuNanos} is the process's CPU from its start to
   * the window's end; {@code wholeMbPerSecond} the old whole-run figure, where measured.
   */
  record Window(
      long bytes, long nanos, long cpuNanos, long wholeCpuNanos, double wholeMbPerSecond) {
    double mbPerSecond() {
      return bytes / 1e6 / (nanos / 1e9);
    }

    double cpuMsPerMb() {
      return cpuNanos / 1e6 / (bytes / 1e6);
    }
  }

  private static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  /** User + system CPU of process {@code pid} so far, from /proc (Linux, 100 ticks a second). */
  static long cpuNanos(long pid) {
    try {
      String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // f[0] is field 3 (state): utime is field 14, stime field 15
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Produces the records; returns their value bytes. */
  private static long fill(String brokers, String topic, int records, int spans) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(ProducerConfig.ACKS_CONFIG, "1");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    long bytes = 0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < records; i++) {
        byte[] value = request(i, spans);
        bytes += value.length;
        producer.send(new ProducerRecord<>(topic, value));
      }
      producer.flush();
    }
    return bytes;
  }

  private static byte[] request(int n, int spans) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      long id = (long) n * spans + i + 1;
      scope.addSpans(
          Span.newBuilder()
              .setName("GET /api/orders/" + (i % 7))
              .setTraceId(
                  com.google.protobuf.ByteString.copyFrom(
                      ByteBuffer.allocate(16).putLong(n).putLong(n * 31L).array()))
              .setSpanId(
                  com.google.protobuf.ByteString.copyFrom(
                      ByteBuffer.allocate(8).putLong(id).array()))
              .setStartTimeUnixNano(1_700_000_000_000_000_000L + id)
              .setEndTimeUnixNano(1_700_000_000_001_000_000L + id)
              .addAttributes(kv("http.method", "GET"))
              .addAttributes(kv("http.route", "/api/orders/{id}"))
              .addAttributes(kv("net.peer.name", "orders-" + (i % 3))));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .setResource(Resource.newBuilder().addAttributes(kv("service.name", "checkout")))
                .addScopeSpans(scope))
        .build()
        .toByteArray();
  }

  private static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder()
        .setKey(k)
        .setValue(AnyValue.newBuilder().setStringValue(v))
        .build();
  }

  /** {MB.sec, fetch.MB.sec} of one ConsumerPerformance run in a child JVM. */
  private static double[] consumerPerformance(String brokers, String topic, int records, int it)
      throws Exception {
    List<String> out =
        run(
            List.of(
                "org.apache.kafka.tools.ConsumerPerformance",
                "--bootstrap-server",
                brokers,
                "--topic",
                topic,
                "--messages",
                Integer.toString(records),
                "--group",
                "perf-anchor-" + it,
                "--timeout",
                "60000",
                "--hide-header"),
            null);
    for (String line : out) {
      String[] f = line.split(",\\s*");
      if (f.length >= 10 && f[0].matches("\\d{4}-.*")) {
        // ConsumerPerformance's "MB" is MiB (1,048,576 bytes); ours is 10^6 bytes
        return new double[] {
          Double.parseDouble(f[3]) * MIB / 1e6, Double.parseDouble(f[8]) * MIB / 1e6
        };
      }
    }
    throw new IllegalStateException(
        "no result from ConsumerPerformance:\n" + String.join("\n", out));
  }

  private static final double MIB = 1024 * 1024;

  /**
   * ConsumerPerformance's steady window, in a child JVM ({@link TimedConsumerPerformance}, its
   * detailed stats every 200 ms): from the first report at or past {@code from} of the records (its
   * cumulative bytes, our clock and the process's CPU when the line arrives) to the end of its run
   * (the wrapper's clock and CPU after {@code ConsumerPerformance.main} returned, which includes
   * closing its consumer).
   */
  private static Window timedConsumerPerformance(
      String brokers, String topic, int records, long bytes, int it, double from) throws Exception {
    long[] start = new long[3]; // {epoch millis, cpu nanos, bytes}; bytes 0 = not yet
    long[] end = new long[2]; // {epoch millis, cpu nanos}
    long[] pid = new long[1];
    CountDownLatch outputEnded = new CountDownLatch(1);
    List<String> lines = new ArrayList<>();
    Process p =
        start(
            List.of(
                TimedConsumerPerformance.class.getName(),
                "--bootstrap-server",
                brokers,
                "--topic",
                topic,
                "--messages",
                Integer.toString(records),
                "--group",
                "perf-anchor-steady-" + it,
                "--timeout",
                "60000",
                "--show-detailed-stats",
                "--reporting-interval",
                "200",
                "--hide-header"),
            line -> {
              long now = System.currentTimeMillis();
              synchronized (lines) {
                lines.add(line);
              }
              String[] f = line.split(",\\s*");
              if (f.length >= 6 && f[0].matches("\\d{4}-.*") && start[2] == 0) {
                long msgs = Long.parseLong(f[4]);
                if (msgs >= from * records && msgs < records) {
                  start[1] = cpuNanos(pid[0]);
                  start[0] = now;
                  start[2] = (long) (Double.parseDouble(f[2]) * MIB);
                }
              } else if (line.startsWith(TimedConsumerPerformance.DONE)) {
                String[] d = line.substring(TimedConsumerPerformance.DONE.length()).split(" ");
                end[0] = Long.parseLong(d[0]);
                end[1] = Long.parseLong(d[1]);
              }
            },
            outputEnded,
            pid);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("ConsumerPerformance did not finish");
    }
    outputEnded.await(10, TimeUnit.SECONDS);
    if (start[2] == 0 || end[0] == 0) {
      synchronized (lines) {
        throw new IllegalStateException(
            "no steady window from ConsumerPerformance:\n" + String.join("\n", lines));
      }
    }
    return new Window(
        bytes - start[2],
        TimeUnit.MILLISECONDS.toNanos(end[0] - start[0]),
        end[1] - start[1],
        end[1],
        Double.NaN);
  }

  /**
   * Runs {@code ConsumerPerformance} and then prints {@link #DONE} with the wall clock (epoch
   * millis) and this process's CPU nanos: the end of its steady window, measured in its own JVM.
   */
  public static final class TimedConsumerPerformance {
    static final String DONE = "consumer-performance-done ";

    private TimedConsumerPerformance() {}

    public static void main(String[] args) throws Exception {
      org.apache.kafka.tools.ConsumerPerformance.main(args);
      long now = System.currentTimeMillis();
      long cpu =
          ((com.sun.management.OperatingSystemMXBean)
                  java.lang.management.ManagementFactory.getOperatingSystemMXBean())
              .getProcessCpuTime();
      System.out.println(DONE + now + " " + cpu);
      System.out.flush();
    }
  }

  /**
   * One relay run in a child JVM: whole-run MB/s from its "consuming" line to every byte upstream;
   * with {@code from} above 0, also its steady window, from the upstream holding {@code from} of
   * the bytes to holding all of them (wall time and the relay process's CPU, read from /proc).
   */
  private static Window relay(
      String brokers,
      String topic,
      long bytes,
      int it,
      String ackMode,
      String compression,
      int batchSpans,
      List<String> jvmOptions,
      double from)
      throws Exception {
    try (CountingUpstream upstream = new CountingUpstream(2)) {
      Path config = Files.createTempFile("kafka-consume-bench", ".yaml");
      Files.writeString(
          config,
          """
          receivers:
            kafka:
              brokers: [%s]
              group_id: perf-relay-%d
              initial_offset: earliest
              # the Java consumer's defaults, as ConsumerPerformance runs with (the Collector's
              # max_fetch_size default is 1 MiB, Kafka's fetch.max.bytes 50 MiB)
              max_fetch_size: 52428800
              traces: { topics: [%s] }
          processors:
            batch: { send_batch_size: %d, timeout: 50ms }
          exporters:
            otlp:
              endpoint: http://127.0.0.1:%d
              tls: { insecure: true }
              compression: %s
              sending_queue: { num_consumers: 4 }
          service:
            ack_mode: %s
            telemetry: { metrics: { address: "127.0.0.1:0" } }
            pipelines:
              traces: { receivers: [kafka], processors: [batch], exporters: [otlp] }
          """
              .formatted(
                  brokers, it, topic, batchSpans, upstream.grpcPort(), compression, ackMode));
      CompletableFuture<Long> started = new CompletableFuture<>();
      List<String> command = new ArrayList<>(jvmOptions);
      command.addAll(List.of("io.otlp4j.relay.Main", "run", "--config", config.toString()));
      Process relay =
          start(
              command,
              line -> {
                if (line.contains("Kafka receiver kafka consuming")) {
                  started.complete(System.nanoTime());
                }
              });
      try {
        long t0 = started.get(60, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        long windowNanos = 0;
        long windowCpu = 0;
        long windowBytes = 0;
        long got;
        while ((got = upstream.bytes()) < bytes) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "the relay did not deliver in time: " + got + " of " + bytes);
          }
          if (from > 0 && windowBytes == 0 && got >= from * bytes) {
            windowCpu = cpuNanos(relay.pid());
            windowNanos = System.nanoTime();
            windowBytes = got;
          }
          Thread.sleep(5);
        }
        long t1 = System.nanoTime();
        long cpu = from > 0 ? cpuNanos(relay.pid()) : 0;
        return new Window(
            bytes - windowBytes,
            t1 - windowNanos,
            cpu - windowCpu,
            cpu,
            bytes / 1e6 / ((t1 - t0) / 1e9));
      } finally {
        relay.destroy();
        relay.waitFor(20, TimeUnit.SECONDS);
        Files.deleteIfExists(config);
      }
    }
  }

  private static List<String> run(
      List<String> mainAndArgs, java.util.function.Consumer<String> each) throws Exception {
    ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
    CountDownLatch outputEnded = new CountDownLatch(1);
    Process p =
        start(
            mainAndArgs,
            l -> {
              lines.add(l);
              if (each != null) {
                each.accept(l);
              }
            },
            outputEnded,
            new long[1]);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(mainAndArgs.get(0) + " did not finish");
    }
    outputEnded.await(10, TimeUnit.SECONDS); // the reader's last lines
    return new ArrayList<>(lines);
  }

  private static Process start(List<String> mainAndArgs, java.util.function.Consumer<String> each)
      throws Exception {
    return start(mainAndArgs, each, new CountDownLatch(1), new long[1]);
  }

  /**
   * Starts a child JVM whose output lines go to {@code each}; {@code outputEnded} opens at EOF;
   * {@code pid[0]} holds its process id before its first line is read.
   */
  private static Process start(
      List<String> mainAndArgs,
      java.util.function.Consumer<String> each,
      CountDownLatch outputEnded,
      long[] pid)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.addAll(mainAndArgs);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    pid[0] = p.pid();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                  each.accept(line);
                }
              } catch (java.io.IOException e) {
                // ended
              } finally {
                outputEnded.countDown();
              }
            },
            "child-output");
    reader.setDaemon(true);
    reader.start();
    return p;
  }
}
