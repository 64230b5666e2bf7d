package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.ChildJvm;
import io.otlp4j.testing.MockOtlpServer;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay as a real process ({@code otlp4j run --config ...} in a child JVM), with its upstream
 * down, acknowledges requests from concurrent clients in the {@code durable} ack mode, is killed
 * with SIGKILL while they keep sending, and is started again; then the upstream comes up: every
 * request the relay acknowledged reaches the upstream, intact.
 */
class RelayCrashTest {
  private static final Pattern LISTENING =
      Pattern.compile("OTLP/HTTP receiver otlp listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final int ACKS_BEFORE_KILL = 30;
  private static final int CLIENTS = 4;

  @TempDir Path dir;

  private final List<ChildJvm> relays = new ArrayList<>();
  private MockOtlpServer upstream;

  @AfterEach
  void stop() throws Exception {
    for (ChildJvm r : relays) {
      r.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  /** Starts {@code otlp4j run --config config} in a child JVM. */
  private ChildJvm startRelay(Path config) {
    ChildJvm relay =
        ChildJvm.builder(Main.class)
            .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
            .args("run", "--config", config.toString())
            .start();
    relays.add(relay);
    return relay;
  }

  /** The relay's OTLP/HTTP port, once it listens. */
  private static int httpPort(ChildJvm relay) throws InterruptedException {
    return Integer.parseInt(relay.awaitMatch(LISTENING, Duration.ofSeconds(60)).group(1));
  }

  @Test
  void everyRequestAcknowledgedBeforeASigkillReachesTheUpstreamAfterARestart() throws Exception {
    int upstreamPort = MockOtlpServer.freePort();
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 50 }
        extensions:
          file_storage:
            directory: %s
        exporters:
          otlp:
            endpoint: http://127.0.0.1:%d
            tls: { insecure: true }
            retry_on_failure: { initial_interval: 50ms, max_interval: 200ms, max_elapsed_time: 500ms }
            sending_queue: { storage: file_storage }
        service:
          extensions: [file_storage]
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
        """
            .formatted(dir.resolve("queue"), upstreamPort));

    ChildJvm first = startRelay(config);
    int port = httpPort(first);

    // Clients send until the relay dies; each records what the relay acknowledged (200).
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    java.util.Map<String, ExportTraceServiceRequest> requests = new ConcurrentHashMap<>();
    AtomicInteger acks = new AtomicInteger();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    for (int c = 0; c < CLIENTS; c++) {
      int client = c;
      clients.execute(
          () -> {
            for (int i = 0; i < 10_000; i++) {
              String name = "c" + client + "-r" + i;
              ExportTraceServiceRequest request = DurableAckModeTest.spans(name, 2, 64);
              requests.put(name, request);
              try {
                HttpResponse<Void> response =
                    http.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/v1/traces"))
                            .timeout(Duration.ofSeconds(10))
                            .header("Content-Type", "application/x-protobuf")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(request.toByteArray()))
                            .build(),
                        HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() == 200) {
                  acknowledged.add(name);
                  acks.incrementAndGet();
                }
              } catch (IOException | InterruptedException e) {
                return; // the relay is gone
              }
            }
          });
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> acks.get() >= ACKS_BEFORE_KILL);
    first.kill(); // SIGKILL, while the clients are still sending
    clients.shutdown();
    assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(ACKS_BEFORE_KILL);

    // The upstream comes back while the relay is down; the restarted relay sends what it
    // acknowledged.
    upstream = MockOtlpServer.builder().grpcPort(upstreamPort).start();
    httpPort(startRelay(config));

    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                names()
                    .containsAll(
                        acknowledged.stream()
                            .flatMap(n -> List.of(n + "-0", n + "-1").stream())
                            .toList()));
    // Intact: each acknowledged span arrived exactly as sent (at-least-once: a batch sent but not
    // committed before the kill may come twice, never changed).
    for (Span span : upstream.spans()) {
      String request = span.getName().substring(0, span.getName().lastIndexOf('-'));
      assertThat(requests.get(request).getResourceSpans(0).getScopeSpans(0).getSpansList())
          .contains(span);
    }
  }

  private Set<String> names() {
    return upstream.spans().stream().map(Span::getName).collect(Collectors.toSet());
  }
}
