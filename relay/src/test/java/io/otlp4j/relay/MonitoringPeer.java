package io.otlp4j.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.otlp4j.testing.ExternalTool;
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
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real Prometheus or Alertmanager (the Debian programs) started by a test on an ephemeral port of
 * 127.0.0.1, with its configuration and storage in a temporary directory and no clustering; its
 * output goes to a log file that a failure shows. Closing it kills the process.
 */
final class MonitoringPeer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Process process;
  private final Path log;
  final URI base;
  private final HttpClient http = HttpClient.newHttpClient();

  private MonitoringPeer(Process process, Path log, URI base) {
    this.process = process;
    this.log = log;
    this.base = base;
  }

  /** An Alertmanager that routes every alert to a receiver that sends nothing. */
  static MonitoringPeer alertmanager(Path dir) throws IOException {
    Path config = dir.resolve("alertmanager.yml");
    Files.writeString(config, "route:\n  receiver: quiet\nreceivers:\n  - name: quiet\n");
    int port = MockOtlpServer.freePort();
    return start(
        dir.resolve("alertmanager.log"),
        port,
        ExternalTool.ALERTMANAGER.require().toString(),
        "--config.file=" + config,
        "--storage.path=" + Files.createDirectories(dir.resolve("alertmanager-data")),
        "--web.listen-address=127.0.0.1:" + port,
        "--cluster.listen-address=",
        "--log.level=warn");
  }

  /** A Prometheus with {@code config} (YAML), its TSDB under {@code dir}. */
  static MonitoringPeer prometheus(Path dir, String config) throws IOException {
    Path file = dir.resolve("prometheus.yml");
    Files.writeString(file, config);
    int port = MockOtlpServer.freePort();
    return start(
        dir.resolve("prometheus.log"),
        port,
        ExternalTool.PROMETHEUS.require().toString(),
        "--config.file=" + file,
        "--storage.tsdb.path=" + Files.createDirectories(dir.resolve("tsdb")),
        "--web.listen-address=127.0.0.1:" + port,
        "--log.level=warn");
  }

  private static MonitoringPeer start(Path log, int port, String... command) throws IOException {
    Process p =
        new ProcessBuilder(List.of(command))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    MonitoringPeer peer = new MonitoringPeer(p, log, URI.create("http://127.0.0.1:" + port));
    try {
      Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(100))
          .ignoreExceptions()
          .until(
              () -> {
                if (!p.isAlive()) {
                  throw new AssertionError(command[0] + " exited: " + peer.log());
                }
                return peer.status("/-/ready") == 200;
              });
    } catch (RuntimeException | AssertionError e) {
      peer.close();
      throw new AssertionError(command[0] + " did not become ready: " + peer.log(), e);
    }
    return peer;
  }

  int status(String path) throws IOException, InterruptedException {
    return http.send(
            HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  /** {@code GET path} as JSON. */
  JsonNode get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + path + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** The elements of a JSON array, for assertions. */
  static List<JsonNode> elements(JsonNode array) {
    List<JsonNode> out = new ArrayList<>();
    array.forEach(out::add);
    return out;
  }

  String log() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return e.toString();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
