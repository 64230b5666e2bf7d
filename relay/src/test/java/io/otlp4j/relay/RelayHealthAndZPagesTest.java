package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.otlp4j.testing.MockOtlpServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A relay with the {@code health_check} and {@code zpages} extensions enabled as in the Collector
 * ({@code service.extensions}): real HTTP requests to each while the relay runs and while it drains
 * (503, {@code Stopping}), the running configuration shown with its secrets redacted, and both
 * servers gone once the relay stopped.
 */
class RelayHealthAndZPagesTest extends RelayScenarioTest {

  @Test
  void healthIs200WhileRunningAnd503WhileDrainingAndZPagesShowTheRedactedConfig() throws Exception {
    MockOtlpServer upstream = startUpstream();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        extensions:
          health_check: { endpoint: "127.0.0.1:0" }
          zpages: { endpoint: "127.0.0.1:0" }
          bearertokenauth/upstream: { token: "s3cr3t-token" }
        processors:
          batch:
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
            headers: { x-api-key: "s3cr3t-header" }
            auth: { authenticator: bearertokenauth/upstream }
        service:
          extensions: [health_check, zpages, bearertokenauth/upstream]
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlp/upstream] }
            logs/audit: { receivers: [otlp], exporters: [otlp/upstream] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.RECEIVED,
            dir);
    URI health = base("health_check").resolve("/");
    URI zpages = base("zpages");
    assertThat(relay.relay.listenerDescriptions())
        .contains(
            "extension health_check listening on http://127.0.0.1:"
                + relay.relay.extensionAddress("health_check").getPort());

    HttpResponse<String> ok = get(health);
    assertThat(ok.statusCode()).isEqualTo(200);
    JsonNode status = new ObjectMapper().readTree(ok.body());
    assertThat(status.path("status").asText()).isEqualTo("Server available");
    assertThat(status.path("upSince").asText()).isNotEmpty();
    assertThat(status.path("uptime").asText()).endsWith("s");

    String servicez = get(zpages.resolve("/debug/servicez")).body();
    assertThat(servicez)
        .contains("Running configuration (secrets redacted)", "otlp/upstream:", "logs/audit:")
        .contains("x-api-key: [REDACTED]", "authorization: [REDACTED]")
        .doesNotContain("s3cr3t");
    String pipelinez = get(zpages.resolve("/debug/pipelinez")).body();
    assertThat(pipelinez)
        .contains("<td>traces</td><td>traces</td>", "<td>logs/audit</td><td>logs</td>")
        .contains("otlp/upstream <small>(OK)</small>", "batch <small>(OK)</small>")
        .doesNotContain("s3cr3t");

    // A request waits upstream, so the drain takes until the upstream answers.
    hold(upstream);
    assertThat(relay.post("/v1/traces", OtlpRequests.spans("held", 2).toByteArray()).statusCode())
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> upstream.heldCount() == 1);
    CompletableFuture<Boolean> drained =
        CompletableFuture.supplyAsync(() -> relay.relay.shutdown(Duration.ofSeconds(60)));
    await().atMost(Duration.ofSeconds(30)).until(() -> get(health).statusCode() == 503);
    HttpResponse<String> draining = get(health);
    assertThat(new ObjectMapper().readTree(draining.body()).path("status").asText())
        .isEqualTo("Server not available");
    assertThat(new ObjectMapper().readTree(draining.body()).path("state").asText())
        .isEqualTo("draining");
    assertThat(get(zpages.resolve("/debug/pipelinez")).body())
        .contains("otlp/upstream <small>(Stopping)</small>");
    assertThat(drained).isNotDone();

    release(upstream);
    assertThat(drained.get(60, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> get(health)).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> get(zpages.resolve("/debug/servicez")))
        .isInstanceOf(IOException.class);
  }

  private URI base(String extension) {
    return URI.create(
        "http://127.0.0.1:" + relay.relay.extensionAddress(extension).getPort() + "/");
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return relay.http.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
