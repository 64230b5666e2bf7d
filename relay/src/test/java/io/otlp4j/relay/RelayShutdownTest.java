package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.MockOtlpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelayShutdownTest {

  @TempDir Path dir;

  @Test
  void healthIsUnavailableWhileDrainingAndDataStuckPastTheDeadlineIsGivenUp() throws Exception {
    // Nothing listens there: connections are refused, the exporter keeps retrying (below the
    // ephemeral range, so not the port the relay's own listeners are given next).
    int deadPort = MockOtlpServer.freePort();
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:%d
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlphttp]
        """
            .formatted(deadPort);
    Relay relay = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
    HttpClient client = HttpClient.newHttpClient();
    URI health = URI.create("http://127.0.0.1:" + relay.adminAddress().getPort() + "/healthz");
    assertThat(
            client
                .send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(200);

    byte[] request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .addScopeSpans(
                        ScopeSpans.newBuilder().addSpans(Span.newBuilder().setName("stuck"))))
            .build()
            .toByteArray();
    HttpResponse<String> accepted =
        client.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + relay.httpAddress("otlp").getPort() + "/v1/traces"))
                .header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(accepted.statusCode()).as("ack mode received: queued in memory").isEqualTo(200);

    CompletableFuture<Boolean> stopped =
        CompletableFuture.supplyAsync(() -> relay.shutdown(Duration.ofSeconds(2)));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                client
                        .send(
                            HttpRequest.newBuilder(health).build(),
                            HttpResponse.BodyHandlers.ofString())
                        .statusCode()
                    == 503);
    assertThat(relay.isReady()).isFalse();
    assertThat(stopped.get())
        .as("the upstream never answered, so draining could not finish")
        .isFalse();
  }
}
