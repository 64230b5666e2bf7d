package io.otlp4j.bench.relay;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.bench.LocalPorts;
import io.otlp4j.testing.KafkaBroker;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Front relay → Kafka against Kafka's own producer benchmark, on one real broker ({@link
 * KafkaBroker}, KRaft, in a child JVM), in the same run: MiB/s of records of the same size, same
 * acks ({@code all}: the relay answers in the {@code delivered} ack mode, which forces it),
 * compression ({@code none}), {@code linger.ms} (10, the exporter's default) and {@code
 * max.request.size}.
 *
 * <ul>
 *   <li><b>anchor</b>: {@code org.apache.kafka.tools.ProducerPerformance}
 *       (kafka-producer-perf-test) in a child JVM, {@code --num-records N --record-size S
 *       --throughput -1}: its final "MB/sec" (MiB/s).
 *   <li><b>relay</b>: an otlp4j relay in a child JVM (otlp gRPC in → kafka out, no batch processor:
 *       one record per request, its bytes as they came), fed by this JVM with N pre-encoded {@code
 *       ExportTraceServiceRequest}s of S bytes over gRPC, {@code --in-flight} calls at once; each
 *       answer comes after Kafka acknowledged the record. MiB/s = N × S / the time from the first
 *       call to the last answer.
 * </ul>
 *
 * Repeated {@code --repeat} times, anchor and relay alternating; prints each pair, their ratio and
 * the ratios' median and range. Usage: {@code java -cp bench/target/benchmarks.jar
 * io.otlp4j.bench.relay.KafkaExportBench [--record-bytes 32768] [--records 4000] [--repeat 3]
 * [--in-flight 64]}.
 */
public final class KafkaExportBench {
  private static final Pattern MB_PER_SEC = Pattern.compile("\\(([0-9.]+) MB/sec\\)");

  private KafkaExportBench() {}

  public static void main(String[] args) throws Exception {
    int recordBytes = 32 * 1024;
    int records = 4000;
    int repeat = 3;
    int inFlight = 64;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--record-bytes" -> recordBytes = Integer.parseInt(args[i + 1]);
        case "--records" -> records = Integer.parseInt(args[i + 1]);
        case "--repeat" -> repeat = Integer.parseInt(args[i + 1]);
        case "--in-flight" -> inFlight = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    byte[] request = request(recordBytes);
    System.out.printf(
        Locale.ROOT,
        "records of %d bytes (an ExportTraceServiceRequest of %d spans), %d per run, %d runs%n",
        request.length,
        ExportTraceServiceRequest.parseFrom(request)
            .getResourceSpans(0)
            .getScopeSpans(0)
            .getSpansCount(),
        records,
        repeat);
    Path dir = Files.createTempDirectory("otlp4j-kafka-bench-");
    try (KafkaBroker broker =
        KafkaBroker.builder()
            .directory(dir.resolve("broker"))
            .jvmOptions("-Xmx1g", "-XX:+UseG1GC")
            .start()) {
      System.out.printf(Locale.ROOT, "broker started in %d ms%n", broker.lastStartup().toMillis());
      broker.createTopic("anchor", 1);
      broker.createTopic("relay", 1);
      Process relay = startRelay(dir, broker.bootstrapServers());
      try {
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < repeat; r++) {
          double anchor = producerPerformance(broker, request.length, records);
          double ours = relayRun(relayPort, request, records, inFlight);
          double ratio = ours / anchor;
          ratios.add(ratio);
          System.out.printf(
              Locale.ROOT,
              "run %d: ProducerPerformance %.1f MiB/s, relay %.1f MiB/s, ratio %.2f%n",
              r + 1,
              anchor,
              ours,
              ratio);
        }
        Collections.sort(ratios);
        System.out.printf(
            Locale.ROOT,
            "relay / ProducerPerformance: median %.2f, range %.2f..%.2f (goal >= 0.80)%n",
            ratios.get(ratios.size() / 2),
            ratios.get(0),
            ratios.get(ratios.size() - 1));
      } finally {
        relay.destroy();
        relay.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }

  private static int relayPort;

  /** One request of about {@code bytes} bytes: spans with a padding attribute. */
  static byte[] request(int bytes) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    int i = 0;
    ExportTraceServiceRequest built;
    do {
      scope.addSpans(
          Span.newBuilder()
              .setName("span-" + i)
              .setTraceId(
                  ByteString.copyFrom(ByteBuffer.allocate(16).putLong(1).putLong(i).array()))
              .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(i).array()))
              .setStartTimeUnixNano(1_700_000_000_000_000_000L + i)
              .setEndTimeUnixNano(1_700_000_000_000_500_000L + i)
              .addAttributes(
                  KeyValue.newBuilder()
                      .setKey("padding")
                      .setValue(AnyValue.newBuilder().setStringValue("p".repeat(200)))));
      i++;
      built =
          ExportTraceServiceRequest.newBuilder()
              .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
              .build();
    } while (built.getSerializedSize() < bytes);
    return built.toByteArray();
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static double producerPerformance(KafkaBroker broker, int recordBytes, int records)
      throws IOException, InterruptedException {
    List<String> command =
        List.of(
            java(),
            "-Xmx1g",
            "-cp",
            System.getProperty("java.class.path"),
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            "anchor",
            "--num-records",
            Integer.toString(records),
            "--record-size",
            Integer.toString(recordBytes),
            "--throughput",
            "-1",
            "--producer-props",
            "bootstrap.servers=" + broker.bootstrapServers(),
            "acks=all",
            "compression.type=none",
            "linger.ms=10",
            "max.request.size=1000000");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    Matcher m = MB_PER_SEC.matcher(out);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    if (last == null) {
      throw new IllegalStateException("ProducerPerformance printed no MB/sec:\n" + out);
    }
    return Double.parseDouble(last);
  }

  private static Process startRelay(Path dir, String brokers)
      throws IOException, InterruptedException {
    relayPort = LocalPorts.freePort();
    int admin = LocalPorts.freePort();
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:%d" }
        exporters:
          kafka:
            brokers: [%s]
            traces: { topic: relay }
            sending_queue: { num_consumers: 256, queue_size: 4096 }
        service:
          ack_mode: delivered
          telemetry: { metrics: { address: "127.0.0.1:%d" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [kafka] }
        """
            .formatted(relayPort, brokers, admin));
    Process p =
        new ProcessBuilder(
                java(),
                "-Xmx1g",
                "-cp",
                System.getProperty("java.class.path"),
                "io.otlp4j.relay.Main",
                "run",
                "--config",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("relay.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), relayPort)) {
        return p;
      } catch (IOException e) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "the relay did not start: " + Files.readString(dir.resolve("relay.log")), e);
        }
        p.waitFor(100, TimeUnit.MILLISECONDS);
      }
    }
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }
      };

  private static final MethodDescriptor<byte[], byte[]> EXPORT =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("opentelemetry.proto.collector.trace.v1.TraceService/Export")
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  /** MiB/s of {@code records} requests answered (after Kafka acknowledged each). */
  private static double relayRun(int port, byte[] request, int records, int inFlight)
      throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .flowControlWindow(8 << 20)
            .build();
    try {
      Semaphore window = new Semaphore(inFlight);
      AtomicLong failed = new AtomicLong();
      AtomicReference<Throwable> firstError = new AtomicReference<>();
      long start = System.nanoTime();
      for (int i = 0; i < records; i++) {
        window.acquire();
        com.google.common.util.concurrent.ListenableFuture<byte[]> f =
            ClientCalls.futureUnaryCall(channel.newCall(EXPORT, CallOptions.DEFAULT), request);
        f.addListener(
            () -> {
              try {
                f.get();
              } catch (Exception e) {
                failed.incrementAndGet();
                firstError.compareAndSet(null, e);
              }
              window.release();
            },
            Runnable::run);
      }
      window.acquire(inFlight);
      double seconds = (System.nanoTime() - start) / 1e9;
      if (failed.get() > 0) {
        throw new IllegalStateException(
            failed.get() + " of " + records + " exports failed", firstError.get());
      }
      return (double) records * request.length / (1024 * 1024) / seconds;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
