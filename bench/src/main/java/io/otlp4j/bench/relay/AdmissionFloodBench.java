package io.otlp4j.bench.relay;

import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.otlp4j.bench.LocalPorts;
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The admission scenario of issue 12, measured from outside: the relay runs in its own JVM ({@code
 * otlp4j run}) with ack mode {@code received}, {@code memory_limiter limit_mib} (default 256) and
 * gRPC {@code max_recv_msg_size_mib} (default 16), exporting to a {@link CountingUpstream}; this
 * JVM floods it with {@code --flood} (64) concurrent maximum-size gRPC requests on ONE connection
 * and as many maximum-size HTTP bodies, {@code --rounds} times, while sampling the relay's RSS
 * every 100 ms. Prints the RSS before and at the peak, and how every flood call ended (accepted,
 * refused and how, timed out).
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.AdmissionFloodBench [--limit-mib 256]
 *     [--max-msg-mib 16] [--flood 64] [--rounds 3] [--relay-jvm-args "-Xmx1g"] [--relay-classpath JAR]
 *     [--protocols grpc,http]
 * </pre>
 *
 * <p>{@code --relay-classpath} runs another build's relay (e.g. the previous commit's {@code
 * relay/target/otlp4j.jar}) against the same flood: the anchor of docs/benchmarks.md's admission
 * row. {@code --protocols grpc} (or {@code http}) floods with one protocol only: HTTP bodies
 * reserve their whole declared length on arrival, so in a mixed flood they take the budget before
 * the gRPC calls' bytes arrive; a gRPC-only flood shows how many gRPC calls the budget lets
 * complete.
 */
public final class AdmissionFloodBench {

  private static final double MIB = 1024.0 * 1024.0;

  private AdmissionFloodBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new TreeMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int limitMib = Integer.parseInt(o.getOrDefault("limit-mib", "256"));
    int maxMsgMib = Integer.parseInt(o.getOrDefault("max-msg-mib", "16"));
    int flood = Integer.parseInt(o.getOrDefault("flood", "64"));
    int rounds = Integer.parseInt(o.getOrDefault("rounds", "3"));
    String relayJvmArgs = o.getOrDefault("relay-jvm-args", "");
    List<String> protocols = List.of(o.getOrDefault("protocols", "grpc,http").split(","));
    boolean grpc = protocols.contains("grpc");
    boolean httpFlood = protocols.contains("http");
    String relayClasspath =
        o.getOrDefault("relay-classpath", System.getProperty("java.class.path"));

    byte[] big = requestOfAbout(maxMsgMib * 1024 * 1024 - 64 * 1024);
    try (CountingUpstream upstream = new CountingUpstream(1)) {
      int grpcPort = LocalPorts.freePort();
      int httpPort = LocalPorts.freePort();
      Path config = Files.createTempFile("otlp4j-admission", ".yaml");
      Files.writeString(
          config,
          """
          receivers:
            otlp:
              protocols:
                grpc: { endpoint: "127.0.0.1:%d", max_recv_msg_size_mib: %d }
                http: { endpoint: "127.0.0.1:%d", max_request_body_size: %d }
          processors:
            memory_limiter: { check_interval: 1s, limit_mib: %d }
          exporters:
            otlp: { endpoint: "127.0.0.1:%d", tls: { insecure: true }, compression: none }
          service:
            ack_mode: received
            telemetry: { metrics: { address: "127.0.0.1:0" } }
            pipelines:
              traces: { receivers: [otlp], processors: [memory_limiter], exporters: [otlp] }
          """
              .formatted(
                  grpcPort,
                  maxMsgMib,
                  httpPort,
                  maxMsgMib * 1024 * 1024,
                  limitMib,
                  upstream.grpcPort()));
      List<String> command =
          new ArrayList<>(
              List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
      if (!relayJvmArgs.isBlank()) {
        command.addAll(List.of(relayJvmArgs.trim().split("\\s+")));
      }
      command.addAll(
          List.of(
              "-cp", relayClasspath, "io.otlp4j.relay.Main", "run", "--config", config.toString()));
      Path log = Files.createTempFile("otlp4j-admission-relay", ".log");
      Process relay =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      try {
        LocalPorts.awaitListening(grpcPort, relay, log);
        LocalPorts.awaitListening(httpPort, relay, log);
        long before = rss(relay.pid());
        AtomicLong peak = new AtomicLong(before);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(
            () -> peak.accumulateAndGet(rss(relay.pid()), Math::max),
            0,
            100,
            TimeUnit.MILLISECONDS);
        ManagedChannel channel =
            NettyChannelBuilder.forAddress("127.0.0.1", grpcPort)
                .usePlaintext()
                .maxInboundMessageSize(4 * 1024 * 1024)
                .build();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        MethodDescriptor<byte[], byte[]> export =
            MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(
                    MethodDescriptor.generateFullMethodName(Signal.TRACES.grpcService(), "Export"))
                .setRequestMarshaller(ByteArrayMarshaller.INSTANCE)
                .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
                .build();
        java.util.concurrent.ExecutorService callers = Executors.newCachedThreadPool();
        Map<String, Integer> outcomes = new TreeMap<>();
        long slowestNanos = 0;
        for (int round = 0; round < rounds; round++) {
          long start = System.nanoTime();
          List<CompletableFuture<String>> calls = new ArrayList<>();
          for (int i = 0; i < flood; i++) {
            if (grpc) {
              calls.add(
                  CompletableFuture.supplyAsync(
                      () -> {
                        try {
                          ClientCalls.blockingUnaryCall(
                              channel,
                              export,
                              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
                              big);
                          return "grpc OK";
                        } catch (StatusRuntimeException e) {
                          return "grpc "
                              + e.getStatus().getCode()
                              + (e.getTrailers() != null
                                      && e.getTrailers()
                                          .containsKey(io.otlp4j.grpc.RpcStatus.DETAILS_KEY)
                                  ? " +details"
                                  : "");
                        }
                      },
                      callers));
            }
            if (!httpFlood) {
              continue;
            }
            calls.add(
                http.sendAsync(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + httpPort + "/v1/traces"))
                            .header("Content-Type", "application/x-protobuf")
                            .timeout(Duration.ofSeconds(60))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(big))
                            .build(),
                        HttpResponse.BodyHandlers.discarding())
                    .handle(
                        (r, e) ->
                            e != null
                                ? "http " + e.getClass().getSimpleName()
                                : "http "
                                    + r.statusCode()
                                    + (r.headers().firstValue("retry-after").isPresent()
                                        ? " +retry-after"
                                        : "")));
          }
          for (CompletableFuture<String> c : calls) {
            String outcome;
            try {
              outcome = c.get(90, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
              outcome = "error " + e.getCause();
            }
            outcomes.merge(outcome, 1, Integer::sum);
          }
          slowestNanos = Math.max(slowestNanos, System.nanoTime() - start);
        }
        sampler.shutdownNow();
        callers.shutdownNow();
        channel.shutdownNow();
        System.out.printf(
            "admission flood: %d rounds of %d gRPC calls on one connection + %d HTTP bodies of %.1f MiB,"
                + " limit_mib %d, max_recv_msg_size_mib %d%n",
            rounds, grpc ? flood : 0, httpFlood ? flood : 0, big.length / MIB, limitMib, maxMsgMib);
        System.out.printf(
            "relay RSS: %.0f MiB before, %.0f MiB at the peak (budget %d MiB); slowest round %.1f s%n",
            before / MIB, peak.get() / MIB, limitMib, slowestNanos / 1e9);
        outcomes.forEach((k, v) -> System.out.printf("  %-40s %d%n", k, v));
        System.out.printf("upstream received %d requests%n", upstream.requests());
      } finally {
        relay.destroy();
        relay.waitFor(20, TimeUnit.SECONDS);
        Files.deleteIfExists(config);
      }
    }
    System.exit(0);
  }

  private static byte[] requestOfAbout(int bytes) {
    int perSpan = Math.max(1, OtlpGenerator.realisticTraces(100).getSerializedSize() / 100);
    int spans = Math.max(1, bytes / perSpan);
    byte[] r = OtlpGenerator.realisticTraces(spans).toByteArray();
    while (r.length > bytes) {
      spans = spans * 97 / 100;
      r = OtlpGenerator.realisticTraces(spans).toByteArray();
    }
    return r;
  }

  private static long rss(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException gone) {
      // the process ended
    }
    return 0;
  }
}
