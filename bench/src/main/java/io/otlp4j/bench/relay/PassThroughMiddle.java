package io.otlp4j.bench.relay;

import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.receiver.GrpcReceiver;
import io.otlp4j.receiver.HttpReceiver;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.Relay;
import io.otlp4j.relay.UpstreamExporter;
import io.otlp4j.relay.component.Components;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.pipeline.Pipeline;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The middle of the pass-through benchmark, run in its own JVM by {@link RelayPassThroughBench} so
 * that its CPU time and RSS are measured apart from the load generator and the upstream sink:
 *
 * <ul>
 *   <li>{@code relay}: the otlp4j relay ({@link Relay#start}), receiver → {@code batch} → {@code
 *       otlp} (gRPC) or {@code otlphttp} exporter, in the given ack mode;
 *   <li>{@code naive}: the same receiver, pipeline and exporter, with every request decoded by
 *       protobuf-java and re-encoded first ({@link DecodeReencodeSink}); in an ack mode other than
 *       {@code received}, the relay itself with a {@link DecodeReencodeProcessor} before {@code
 *       batch};
 *   <li>{@code raw}: a {@link RawTcpForwarder} of the same bytes, the physical limit.
 * </ul>
 *
 * <p>Protocol on standard streams: once listening it prints {@code READY port=<p> admin=<a>} (admin
 * -1 where there is none); where the relay cannot start in the asked ack mode it prints {@code
 * UNSUPPORTED <reason>} and exits with status 3. It stops when standard input closes (or reads
 * {@code stop}).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.PassThroughMiddle \
 *     --kind relay --protocol grpc --upstream-port 4319 [--ack-mode received] \
 *     [--batch-size 8192] [--batch-timeout-ms 200] [--tail-num-traces 50000] [--memory-limit-mib 0]
 * </pre>
 */
public final class PassThroughMiddle {

  /** Exit status when the relay does not support the asked ack mode. */
  static final int EXIT_UNSUPPORTED = 3;

  /** The {@code relay-tail} middle's extra {@code tail_sampling} settings (one YAML flow line). */
  private static String tailSettings = "num_traces: 50000";

  /** The relay middles' {@code memory_limiter} {@code limit_mib}; 0: none (the 512 MiB default). */
  private static int memoryLimitMib;

  private PassThroughMiddle() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    String kind = required(options, "kind");
    boolean grpc =
        switch (required(options, "protocol")) {
          case "grpc" -> true;
          case "http" -> false;
          default -> throw new IllegalArgumentException("--protocol must be grpc or http");
        };
    int upstreamPort = Integer.parseInt(required(options, "upstream-port"));
    String ackId = options.getOrDefault("ack-mode", AckMode.RECEIVED.id());
    AckMode ack = AckMode.fromId(ackId);
    if (ack == null) {
      throw new IllegalArgumentException("unknown --ack-mode " + ackId);
    }
    int batchSize =
        Integer.parseInt(
            options.getOrDefault("batch-size", "" + BatchSettings.DEFAULT_SEND_BATCH_SIZE));
    long batchTimeoutMs =
        Long.parseLong(
            options.getOrDefault(
                "batch-timeout-ms", "" + BatchSettings.DEFAULT_TIMEOUT.toMillis()));
    tailSettings =
        "num_traces: " + Integer.parseInt(options.getOrDefault("tail-num-traces", "50000"));
    memoryLimitMib = Integer.parseInt(options.getOrDefault("memory-limit-mib", "0"));

    AutoCloseable running;
    String ready;
    switch (kind) {
      case "raw" -> {
        RawTcpForwarder forwarder =
            RawTcpForwarder.start(new InetSocketAddress("127.0.0.1", upstreamPort), 0);
        running = forwarder;
        ready = "READY port=" + forwarder.port() + " admin=-1";
      }
      case "relay", "relay-tail", "relay-lb4" -> {
        Relay relay;
        Path queueDirectory =
            ack == AckMode.DURABLE ? Files.createTempDirectory("otlp4j-bench-queue") : null;
        try {
          RelayConfig config =
              RelayConfig.parse(
                  relayYaml(
                      grpc,
                      upstreamPort,
                      batchSize,
                      batchTimeoutMs,
                      queueDirectory,
                      kind.equals("relay-tail") ? "tail_sampling" : null),
                  v -> null,
                  Path.of(""));
          if (kind.equals("relay-lb4")) {
            config =
                RelayConfig.parse(
                    loadBalancingYaml(grpc, upstreamPort, batchSize, batchTimeoutMs),
                    v -> null,
                    Path.of(""));
          }
          relay = Relay.start(config.withAckMode(ack));
        } catch (UnsupportedOperationException
            | IllegalArgumentException
            | IllegalStateException e) {
          System.out.println("UNSUPPORTED ack mode " + ack.id() + ": " + e.getMessage());
          System.out.flush();
          System.exit(EXIT_UNSUPPORTED);
          return;
        }
        running =
            () -> {
              relay.shutdown(Duration.ofSeconds(2));
              if (queueDirectory != null) {
                deleteRecursively(queueDirectory);
              }
            };
        InetSocketAddress listen = grpc ? relay.grpcAddress("otlp") : relay.httpAddress("otlp");
        ready = "READY port=" + listen.getPort() + " admin=" + relay.adminAddress().getPort();
      }
      case "naive" -> {
        if (ack != AckMode.RECEIVED) {
          // the relay itself with a decode_reencode processor: the ack mode is the relay's
          Path queueDirectory =
              ack == AckMode.DURABLE ? Files.createTempDirectory("otlp4j-bench-queue") : null;
          RelayConfig config =
              RelayConfig.parse(
                  relayYaml(
                      grpc,
                      upstreamPort,
                      batchSize,
                      batchTimeoutMs,
                      queueDirectory,
                      DecodeReencodeProcessor.TYPE),
                  v -> null,
                  Path.of(""),
                  Components.builtIn().toBuilder()
                      .processor(new DecodeReencodeProcessor.Factory())
                      .build());
          Relay relay = Relay.start(config.withAckMode(ack));
          running =
              () -> {
                relay.shutdown(Duration.ofSeconds(2));
                if (queueDirectory != null) {
                  deleteRecursively(queueDirectory);
                }
              };
          InetSocketAddress listen = grpc ? relay.grpcAddress("otlp") : relay.httpAddress("otlp");
          ready = "READY port=" + listen.getPort() + " admin=" + relay.adminAddress().getPort();
          break;
        }
        NaiveRelay naive = new NaiveRelay(grpc, upstreamPort, batchSize, batchTimeoutMs);
        running = naive;
        ready = "READY port=" + naive.port() + " admin=-1";
      }
      default -> throw new IllegalArgumentException("--kind must be relay, naive or raw");
    }
    System.out.println(ready);
    System.out.flush();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null && !line.trim().equals("stop")) {
        // wait for the parent to close standard input
      }
    }
    running.close();
    System.exit(0);
  }

  /**
   * The relay's configuration, in the Collector's shape: one OTLP receiver (the asked protocol
   * only), the Collector's batch processor, one exporter without compression to the sink, admin on
   * a free port; {@code extraProcessor}, where not null, runs before {@code batch}.
   */
  static String relayYaml(
      boolean grpc,
      int upstreamPort,
      int batchSize,
      long batchTimeoutMs,
      Path queueDirectory,
      String extraProcessor) {
    String exporter = grpc ? "otlp" : "otlphttp";
    // Ack mode durable: the exporter's queue in a file_storage (fsync per batch), bounded at 512
    // MiB.
    String storage =
        queueDirectory == null
            ? ""
            : """
            sending_queue: { storage: file_storage }
        extensions:
          file_storage: { directory: "%s", max_size_mib: 512 }
        """
                .formatted(queueDirectory.toString().replace("\\", "/"));
    return """
        receivers:
          otlp:
            protocols:
              %s:
                endpoint: 127.0.0.1:0
        processors:
          %s
          %s
          batch:
            send_batch_size: %d
            %s
          tail_sampling:
            decision_wait: 1s
            %s
            policies: [{ name: all, type: always_sample }]
        exporters:
          %s:
            endpoint: http://127.0.0.1:%d
            tls: { insecure: true }
            compression: none
        %s
        service:
          %s
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces:
              receivers: [otlp]
              processors: [%s]
              exporters: [%s]
        """
        .formatted(
            grpc ? "grpc" : "http",
            memoryLimitMib > 0
                ? "memory_limiter: { check_interval: 1s, limit_mib: " + memoryLimitMib + " }"
                : "",
            // tail_sampling has its settings below; another extra processor takes its defaults
            extraProcessor == null || extraProcessor.equals("tail_sampling")
                ? ""
                : extraProcessor + ":",
            batchSize,
            // 0: no timeout, so the batch processor batches adaptively (a batch leaves when the
            // exporter is free)
            batchTimeoutMs > 0 ? "timeout: " + batchTimeoutMs + "ms" : "",
            tailSettings,
            exporter,
            upstreamPort,
            storage.stripTrailing(),
            queueDirectory == null ? "" : "extensions: [file_storage]",
            (memoryLimitMib > 0 ? "memory_limiter, " : "")
                + (extraProcessor == null ? "batch" : extraProcessor + ", batch"),
            exporter);
  }

  /**
   * As {@link #relayYaml} without a queue directory or extra processor, but the exporter is a
   * {@code loadbalancing} exporter (routing by trace id) over four backends: four names of the one
   * sink ({@code dns:///}, {@code passthrough:///}, {@code dns:} and no prefix: four rings points,
   * four {@code otlp} exporters with their own connections), so that the sink is the same as for
   * the single {@code otlp} exporter it is compared with.
   */
  static String loadBalancingYaml(
      boolean grpc, int upstreamPort, int batchSize, long batchTimeoutMs) {
    String single = relayYaml(grpc, upstreamPort, batchSize, batchTimeoutMs, null, null);
    String exporter = grpc ? "otlp" : "otlphttp";
    String target = "127.0.0.1:" + upstreamPort;
    String lb =
        """
          loadbalancing:
            routing_key: traceID
            protocol: { otlp: { tls: { insecure: true }, compression: none } }
            resolver:
              static:
                hostnames: [%s, dns:///%s, passthrough:///%s, dns:%s]
        """
            .formatted(target, target, target, target);
    int from = single.indexOf("exporters:\n") + "exporters:\n".length();
    int to = single.indexOf("service:");
    return (single.substring(0, from) + lb + single.substring(to))
        .replace("exporters: [" + exporter + "]", "exporters: [loadbalancing]");
  }

  private static void deleteRecursively(Path directory) {
    try (java.util.stream.Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (java.io.IOException e) {
      System.err.println("could not delete " + directory + ": " + e.getMessage());
    }
  }

  private static String required(Map<String, String> options, String name) {
    String v = options.get(name);
    if (v == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  /**
   * The naive relay: the relay's receiver, pipeline and exporter built from their public API,
   * exactly as {@link Relay} builds them for {@link #relayYaml}, with {@link DecodeReencodeSink} in
   * front of the pipeline.
   */
  private static final class NaiveRelay implements AutoCloseable {
    private final Pipeline pipeline;
    private final UpstreamExporter exporter;
    private final GrpcReceiver grpcReceiver;
    private final HttpReceiver httpReceiver;

    NaiveRelay(boolean grpc, int upstreamPort, int batchSize, long batchTimeoutMs) {
      MetricsRegistry metrics = MetricsRegistry.create();
      MemoryBudget budget = MemoryBudget.builder(RelayConfig.DEFAULT_MEMORY_LIMIT_BYTES).build();
      String exporterId = grpc ? "otlp" : "otlphttp";
      OtlpExporter otlp =
          OtlpExporter.builder()
              .name(exporterId)
              .protocol(grpc ? Protocol.GRPC : Protocol.HTTP_PROTOBUF)
              .endpoint("http://127.0.0.1:" + upstreamPort)
              .insecure(true)
              .compression(Compression.NONE)
              .timeout(Duration.ofSeconds(5))
              .metricsRegistry(metrics)
              .build();
      BatchSettings batch =
          new BatchSettings(
              batchSize,
              0,
              batchTimeoutMs > 0
                  ? Duration.ofMillis(batchTimeoutMs)
                  : BatchSettings.DEFAULT_TIMEOUT,
              BatchSettings.DEFAULT_QUEUE_SIZE,
              batchTimeoutMs > 0);
      exporter = new UpstreamExporter(exporterId, otlp);
      pipeline =
          new Pipeline(
              "traces", Signal.TRACES, budget, List.of(), List.of(exporter), batch, metrics);
      DecodeReencodeSink sink = new DecodeReencodeSink(pipeline);
      if (grpc) {
        grpcReceiver =
            GrpcReceiver.builder(sink)
                .host("127.0.0.1")
                .port(0)
                .memoryBudget(budget)
                .metrics(metrics)
                .name("otlp")
                .build()
                .start();
        httpReceiver = null;
      } else {
        httpReceiver =
            HttpReceiver.builder(sink)
                .host("127.0.0.1")
                .port(0)
                .memoryBudget(budget)
                .metrics(metrics)
                .name("otlp")
                .build()
                .start();
        grpcReceiver = null;
      }
    }

    int port() {
      return grpcReceiver != null
          ? grpcReceiver.address().getPort()
          : httpReceiver.address().getPort();
    }

    @Override
    public void close() {
      if (grpcReceiver != null) {
        grpcReceiver.shutdown(Duration.ofSeconds(1));
      } else {
        httpReceiver.shutdown(Duration.ofSeconds(1));
      }
      pipeline.shutdown(Duration.ofSeconds(2)).join();
      exporter.shutdown(Duration.ofSeconds(1)).join();
    }
  }
}
