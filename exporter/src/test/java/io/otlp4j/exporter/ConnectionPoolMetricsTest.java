package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The OTLP/HTTP connection pool's gauges in the exporter's registry, against a real HTTP server
 * (the JDK's).
 */
class ConnectionPoolMetricsTest {

  @Test
  void openIdleAndCreatedConnectionsAreGaugesPerEndpoint() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
          exchange.sendResponseHeaders(200, -1); // an empty ExportLogsServiceResponse
          exchange.close();
        });
    server.start();
    String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
    MetricsRegistry registry = MetricsRegistry.create();
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .name("pooled")
            .protocol(Protocol.HTTP_PROTOBUF)
            .endpoint(endpoint)
            .metricsRegistry(registry)
            .ioThreads(1)
            .build()) {
      assertThat(gauge(registry, "otlp4j_exporter_connections_created", endpoint)).isZero();
      Outcome result =
          exporter.export(Signal.LOGS, buffer(tagged("a", 10)), 1).get(30, TimeUnit.SECONDS);
      assertThat(result.isSuccess()).isTrue();
      assertThat(gauge(registry, "otlp4j_exporter_connections_created", endpoint)).isEqualTo(1);
      assertThat(gauge(registry, "otlp4j_exporter_connections_open", endpoint)).isEqualTo(1);
      assertThat(gauge(registry, "otlp4j_exporter_connections_idle", endpoint)).isEqualTo(1);
    } finally {
      server.stop(0);
    }
  }

  private static double gauge(MetricsRegistry registry, String name, String endpoint)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    registry.writePrometheusText(out);
    String wanted = name + "{endpoint=\"" + endpoint + "\",exporter=\"pooled\"} ";
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (line.startsWith(wanted)) {
        return Double.parseDouble(line.substring(wanted.length()).trim());
      }
    }
    throw new AssertionError(wanted + " not found in\n" + out.toString(StandardCharsets.UTF_8));
  }
}
