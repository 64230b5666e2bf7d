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
 * relay's child JVM, e.g. {@code -XX:StartFlightRecording=filename=relay.jfr,settings=profile}.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.KafkaConsumeBench \
 *     --records 200000 --spans 10 --partitions 4 --iterations 3
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
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--records" -> records = Integer.parseInt(args[i + 1]);
        case "--spans" -> spans = Integer.parseInt(args[i + 1]);
        case "--partitions" -> partitions = Integer.parseInt(args[i + 1]);
        case "--iterations" -> iterations = Integer.parseInt(args[i + 1]);
        case "--ack-mode" -> ackMode = args[i + 1];
        case "--compression" -> compression = args[i + 1];
        case "--relay-jvm" -> relayJvm.add(args[i + 1]);
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
      List<double[]> rows = new ArrayList<>();
      for (int it = 0; it < iterations; it++) {
        double[] anchor = consumerPerformance(broker.bootstrapServers(), topic, records, it);
        double relay =
            relay(broker.bootstrapServers(), topic, bytes, it, ackMode, compression, relayJvm);
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
        return new double[] {Double.parseDouble(f[3]), Double.parseDouble(f[8])};
      }
    }
    throw new IllegalStateException(
        "no result from ConsumerPerformance:\n" + String.join("\n", out));
  }

  /** MB/s of one relay run in a child JVM: from its "consuming" line to every byte upstream. */
  private static double relay(
      String brokers,
      String topic,
      long bytes,
      int it,
      String ackMode,
      String compression,
      List<String> jvmOptions)
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
            batch: { send_batch_size: 2048, timeout: 50ms }
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
              .formatted(brokers, it, topic, upstream.grpcPort(), compression, ackMode));
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
        while (upstream.bytes() < bytes) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                "the relay did not deliver in time: " + upstream.bytes() + " of " + bytes);
          }
          Thread.sleep(5);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return bytes / 1e6 / seconds;
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
            outputEnded);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(mainAndArgs.get(0) + " did not finish");
    }
    outputEnded.await(10, TimeUnit.SECONDS); // the reader's last lines
    return new ArrayList<>(lines);
  }

  private static Process start(List<String> mainAndArgs, java.util.function.Consumer<String> each)
      throws Exception {
    return start(mainAndArgs, each, new CountDownLatch(1));
  }

  /** Starts a child JVM whose output lines go to {@code each}; {@code outputEnded} opens at EOF. */
  private static Process start(
      List<String> mainAndArgs,
      java.util.function.Consumer<String> each,
      CountDownLatch outputEnded)
      throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.addAll(mainAndArgs);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
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
