package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.config.HealthCheckConfig;
import io.otlp4j.relay.config.HostPort;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.relay.config.ZPagesConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code health_check}, {@code zpages} and {@code pprof} extensions alone: their configuration
 * (the Collector's keys and defaults, errors with their lines) and their servers answering real
 * HTTP requests through every {@link ServiceStatus} state, on a fake clock.
 */
class HealthAndZPagesExtensionTest {
  @TempDir Path dir;

  private final HttpClient http = HttpClient.newHttpClient();
  private final FakeClock clock = new FakeClock(Instant.parse("2026-12-07T10:00:00Z"));
  private AutoCloseable server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void healthCheckIs503WhileStartingAnd200WithTheCollectorsStatusWhileRunning() throws Exception {
    ServiceStatus status = new ServiceStatus(null, clock);
    ListeningExtension health =
        start(
            new HealthCheckExtensionFactory(),
            new HealthCheckConfig("health_check", new HostPort("127.0.0.1", 0), "/", null, null),
            status);

    HttpResponse<String> starting = get(health, "/");
    assertThat(starting.statusCode()).isEqualTo(503);
    assertThat(starting.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode body = new ObjectMapper().readTree(starting.body());
    assertThat(body.path("status").asText()).isEqualTo("Server not available");
    assertThat(body.path("state").asText()).isEqualTo("starting");

    clock.advance(Duration.ofSeconds(3));
    status.running();
    clock.advance(Duration.ofSeconds(62).plusMillis(500));
    HttpResponse<String> running = get(health, "/");
    assertThat(running.statusCode()).isEqualTo(200);
    assertThat(new ObjectMapper().readTree(running.body()))
        .isEqualTo(
            new ObjectMapper()
                .readTree(
                    "{\"status\":\"Server available\",\"upSince\":\"2026-12-07T10:00:03Z\","
                        + "\"uptime\":\"1m2.5s\",\"state\":\"running\"}"));
    assertThat(head(health, "/")).isEqualTo(200);

    status.draining();
    HttpResponse<String> draining = get(health, "/");
    assertThat(draining.statusCode()).isEqualTo(503);
    assertThat(new ObjectMapper().readTree(draining.body()).path("state").asText())
        .isEqualTo("draining");
    assertThat(get(health, "/other").statusCode()).isEqualTo(404);
  }

  @Test
  void healthCheckAnswersItsOwnPathWithTheConfiguredBodies() throws Exception {
    ServiceStatus status = new ServiceStatus(null, clock);
    ListeningExtension health =
        start(
            new HealthCheckExtensionFactory(),
            new HealthCheckConfig(
                "health_check/k8s", new HostPort("127.0.0.1", 0), "/health/status", "up", "down"),
            status);
    assertThat(get(health, "/health/status").body()).isEqualTo("down");
    status.running();
    HttpResponse<String> up = get(health, "/health/status");
    assertThat(up.statusCode()).isEqualTo(200);
    assertThat(up.body()).isEqualTo("up");
    assertThat(get(health, "/").statusCode()).isEqualTo(404);
  }

  @Test
  void theCollectorsKeysAndDefaultsAreRead() throws Exception {
    RelayConfig config =
        RelayConfig.parse(
            """
            receivers:
              otlp:
                protocols:
                  grpc:
            exporters:
              debug:
            extensions:
              health_check:
              health_check/custom:
                endpoint: 127.0.0.1:14133
                path: /health/status
                response_body: { healthy: ok, unhealthy: not ok }
              zpages:
              zpages/custom: { endpoint: "localhost:0" }
            service:
              extensions: [health_check, health_check/custom, zpages, zpages/custom]
              pipelines:
                traces: { receivers: [otlp], exporters: [debug] }
            """,
            v -> null,
            dir);
    assertThat(config.extensions().get("health_check"))
        .isEqualTo(
            new HealthCheckConfig(
                "health_check", new HostPort("127.0.0.1", 13133), "/", null, null));
    assertThat(config.extensions().get("health_check/custom"))
        .isEqualTo(
            new HealthCheckConfig(
                "health_check/custom",
                new HostPort("127.0.0.1", 14133),
                "/health/status",
                "ok",
                "not ok"));
    assertThat(config.extensions().get("zpages"))
        .isEqualTo(new ZPagesConfig("zpages", new HostPort("127.0.0.1", 55679)));
    assertThat(config.extensions().get("zpages/custom"))
        .isEqualTo(new ZPagesConfig("zpages/custom", new HostPort("localhost", 0)));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "pprof:                               | line 2: extensions.pprof: pprof is Go's profiler",
        "pprof: { endpoint: localhost:1777 }  | line 2: extensions.pprof: pprof is Go's profiler",
        "health_check: { endpoint: nowhere }  | line 2: extensions.health_check.endpoint: endpoint 'nowhere' must be host:port",
        "health_check: { path: health }       | line 2: extensions.health_check.path: must start with '/', was 'health'",
        "health_check: { port: 1 }            | line 2: extensions.health_check.port: unknown key 'port' (known: endpoint, path, response_body)",
        "health_check: { tls: {} }            | line 2: extensions.health_check.tls: 'tls' is not supported by otlp4j",
        "zpages: { expvar: { enabled: true } } | line 2: extensions.zpages.expvar: 'expvar' is not supported by otlp4j",
        "zpages: { endpoint: 'x:99999' }      | line 2: extensions.zpages.endpoint: endpoint 'x:99999' has no valid port",
      })
  void aBadExtensionSectionIsAnErrorWithItsLine(String section, String error) {
    String type = section.substring(0, section.indexOf(':'));
    String yaml =
        """
        extensions:
          %s
        receivers:
          otlp:
            protocols:
              grpc:
        exporters:
          debug:
        service:
          extensions: [%s]
          pipelines:
            traces: { receivers: [otlp], exporters: [debug] }
        """
            .formatted(section, type);
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> RelayConfig.parse(yaml, v -> null, dir));
    assertThat(e).as("no error for %s", section).isNotNull();
    assertThat(e.errors()).anySatisfy(m -> assertThat(m).startsWith(error));
    if (type.equals("pprof")) {
      assertThat(e.getMessage()).contains("jcmd <pid> JFR.start");
    }
  }

  @Test
  void zpagesAnswersServicezPipelinezAndSaysTracezIsNotAvailable() throws Exception {
    ServiceStatus status = new ServiceStatus(null, clock);
    ListeningExtension zpages =
        start(
            new ZPagesExtensionFactory(),
            new ZPagesConfig("zpages", new HostPort("127.0.0.1", 0)),
            status);
    status.running();
    HttpResponse<String> servicez = get(zpages, "/debug/servicez");
    assertThat(servicez.statusCode()).isEqualTo(200);
    assertThat(servicez.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
    assertThat(servicez.body()).contains("<td>running</td>", "2026-12-07T10:00:00Z");
    assertThat(get(zpages, "/debug/pipelinez").body()).contains("No configuration");
    HttpResponse<String> tracez = get(zpages, "/debug/tracez");
    assertThat(tracez.statusCode()).isEqualTo(501);
    assertThat(tracez.body()).contains("Not available in otlp4j");
    assertThat(get(zpages, "/debug/rpcz").statusCode()).isEqualTo(501);
    assertThat(get(zpages, "/nothing").statusCode()).isEqualTo(404);
  }

  @SuppressWarnings("unchecked")
  private <C extends io.otlp4j.relay.config.ExtensionConfig> ListeningExtension start(
      ExtensionFactory<C> factory, C config, ServiceStatus status) {
    AutoCloseable running =
        factory.start(config, new ComponentContext(MetricsRegistry.create(), status));
    server = running;
    return (ListeningExtension) running;
  }

  private HttpResponse<String> get(ListeningExtension server, String path)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(uri(server, path)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int head(ListeningExtension server, String path)
      throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(uri(server, path))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static URI uri(ListeningExtension server, String path) {
    return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
  }

  /** A clock a test moves by hand. */
  static final class FakeClock extends Clock {
    private final AtomicReference<Instant> now;

    FakeClock(Instant start) {
      this.now = new AtomicReference<>(start);
    }

    void advance(Duration d) {
      now.updateAndGet(i -> i.plus(d));
    }

    @Override
    public Instant instant() {
      return now.get();
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
