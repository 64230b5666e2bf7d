package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.cli.Cli;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.MockOtlpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code durable} ack mode in one process: acknowledged data waits on disk while the upstream
 * is down, survives a restart of the relay and is delivered once the upstream is back; memory stays
 * flat meanwhile; a full queue refuses with a retryable answer and takes data again once it drains.
 * (The same across a SIGKILL: {@link RelayCrashTest}.)
 */
class DurableAckModeTest {
  @TempDir Path dir;

  private final HttpClient http = HttpClient.newHttpClient();
  private MockOtlpServer upstream;
  private Relay relay;

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      relay.shutdown(Duration.ofSeconds(5));
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  private static final String FAST_RETRY =
      "{ initial_interval: 20ms, max_interval: 100ms, max_elapsed_time: 200ms }";

  private static String config(int upstreamPort, String retry, String storageSettings) {
    return """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 8, send_batch_max_size: 8 }
        extensions:
          file_storage:
            directory: queue
        %s
        exporters:
          otlp:
            endpoint: http://127.0.0.1:%d
            tls: { insecure: true }
            retry_on_failure: %s
            sending_queue: { storage: file_storage }
        service:
          extensions: [file_storage]
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
        """
        .formatted(storageSettings, upstreamPort, retry);
  }

  private Relay start(String yaml) throws Exception {
    relay = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
    assertThat(relay.ackMode()).isEqualTo(AckMode.DURABLE);
    return relay;
  }

  static ExportTraceServiceRequest spans(String prefix, int count, int padding) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < count; i++) {
      byte[] spanId = new byte[8];
      spanId[7] = (byte) (i + 1);
      scope.addSpans(
          Span.newBuilder()
              .setName(prefix + "-" + i)
              .setTraceId(ByteString.copyFrom(new byte[16]))
              .setSpanId(ByteString.copyFrom(spanId))
              .setStartTimeUnixNano(1_000L + i)
              .setEndTimeUnixNano(2_000L + i)
              .addAttributes(
                  KeyValue.newBuilder()
                      .setKey("pad")
                      .setValue(AnyValue.newBuilder().setStringValue("x".repeat(padding)))));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
        .build();
  }

  private HttpResponse<byte[]> post(ExportTraceServiceRequest request) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + relay.httpAddress("otlp").getPort() + "/v1/traces"))
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(request.toByteArray()))
            .build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private double metric(String name) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    relay.metrics().writePrometheusText(out);
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no metric " + name + " in\n" + out);
  }

  @Test
  void acknowledgedDataWaitsOnDiskAcrossARestartAndArrivesOnceTheUpstreamIsBack() throws Exception {
    int port = MockOtlpServer.freePort();
    String yaml = config(port, FAST_RETRY, "");
    start(yaml);
    List<ExportTraceServiceRequest> sent = new ArrayList<>();
    for (int r = 0; r < 20; r++) {
      ExportTraceServiceRequest request = spans("req" + r, 3, 100);
      assertThat(post(request).statusCode()).as("request %d", r).isEqualTo(200);
      sent.add(request);
    }
    // Answered after the fsync: the relay holds nothing in memory, the queue on disk holds
    // everything.
    assertThat(metric("otlp4j_memory_used_bytes")).isZero();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> metric("otlp4j_exporter_queue_records") == 20);
    assertThat(metric("otelcol_exporter_queue_size")).isPositive();
    assertThat(relay.shutdown(Duration.ofSeconds(5))).isTrue();

    start(yaml);
    upstream = MockOtlpServer.builder().grpcPort(port).start();
    await().atMost(Duration.ofSeconds(30)).until(() -> upstream.spans().size() >= 60);
    Map<String, Span> received =
        upstream.spans().stream().collect(Collectors.toMap(Span::getName, Function.identity()));
    // Nothing was delivered before the restart, so nothing is delivered twice.
    assertThat(upstream.spans()).hasSize(60);
    for (ExportTraceServiceRequest request : sent) {
      for (Span span : request.getResourceSpans(0).getScopeSpans(0).getSpansList()) {
        assertThat(received.get(span.getName())).isEqualTo(span);
      }
    }
    // Batches of at most send_batch_max_size spans.
    assertThat(upstream.traceRequests())
        .allSatisfy(
            t ->
                assertThat(
                        t.getResourceSpansList().stream()
                            .mapToInt(rs -> rs.getScopeSpans(0).getSpansCount())
                            .sum())
                    .isLessThanOrEqualTo(8));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> metric("otlp4j_exporter_queue_records") == 0);
  }

  @Test
  void fullQueueRefusesRetryablyAndTakesDataAgainOnceItDrains() throws Exception {
    int port = MockOtlpServer.freePort();
    // One attempt per export and the queue's own backoff (1 s growing): too few failures to open
    // the
    // exporter's circuit before the upstream is back.
    start(config(port, "{ enabled: false }", "    max_size_mib: 2\n    segment_size_mib: 1"));
    ExportTraceServiceRequest big = spans("big", 1, 100_000);
    HttpResponse<byte[]> refused = null;
    int accepted = 0;
    for (int i = 0; i < 60 && refused == null; i++) {
      HttpResponse<byte[]> response = post(big);
      if (response.statusCode() == 200) {
        accepted++;
      } else {
        refused = response;
      }
    }
    // About 2 MiB of 100 kB requests went in; then the bound refused, retryably, holding no memory.
    assertThat(accepted).isBetween(10, 21);
    assertThat(refused).isNotNull();
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(com.google.rpc.Status.parseFrom(refused.body()).getMessage())
        .contains("durable queue refused");
    assertThat(metric("otlp4j_memory_used_bytes")).isZero();

    upstream = MockOtlpServer.builder().grpcPort(port).start();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> post(big).statusCode() == 200);
    int acceptedBefore = accepted;
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> upstream.spans().size() >= acceptedBefore + 1);
  }

  @Test
  void runAckModeOptionIsCheckedAgainstTheConfiguration() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    String[] common = {
      "--data-dir",
      dir.toString(),
      "--grpc-endpoint",
      "127.0.0.1:0",
      "--http-endpoint",
      "127.0.0.1:0",
      "--admin-endpoint",
      "127.0.0.1:0"
    };
    int bogus =
        Cli.execute(
            concat(new String[] {"run", "--ack-mode", "eventually"}, common),
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(new ByteArrayOutputStream()),
            errStream);
    assertThat(bogus).isEqualTo(Cli.EXIT_BAD_INPUT);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("--ack-mode: unknown ack mode 'eventually'");
    // A configuration that keeps a queue on disk: only durable fits it. (Without --config the
    // embedded
    // default follows the flag instead: RunCommandTest.runWithoutConfigFollowsTheAckModeFlag.)
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        """
        extensions:
          file_storage: { directory: ./queue }
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
        exporters:
          file: { path: ./traces.jsonl, sending_queue: { storage: file_storage } }
        service:
          extensions: [file_storage]
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [file] }
        """);
    int delivered =
        Cli.execute(
            new String[] {"run", "--config", config.toString(), "--ack-mode", "delivered"},
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(new ByteArrayOutputStream()),
            errStream);
    assertThat(delivered).isEqualTo(Cli.EXIT_BAD_INPUT);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains(
            "--ack-mode: ack mode delivered: exporters [file] "
                + "keep their queue in a file_storage");
    assertThat(Files.exists(dir.resolve("queue"))).isFalse();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
