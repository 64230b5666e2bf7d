package io.otlp4j.relay.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.otlp4j.core.MetricsRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dashboard's routes on a real JDK HTTP server, with samples taken at chosen times. */
class DashboardHttpTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MetricsRegistry registry = MetricsRegistry.create();
  private final HttpClient client = HttpClient.newHttpClient();
  private HttpServer server;
  private Dashboard dashboard;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
    dashboard = new Dashboard(registry, Duration.ofSeconds(1), 64); // sampled by the test only
    dashboard.register(server);
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    dashboard.close();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    return client.send(
        HttpRequest.newBuilder(uri).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private JsonNode series(String query) throws IOException, InterruptedException {
    HttpResponse<String> r = get("/api/v1/series" + query);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    return JSON.readTree(r.body());
  }

  private static JsonNode find(JsonNode full, String name, String label, String value) {
    for (JsonNode s : full.get("series")) {
      if (s.get("name").asText().equals(name)
          && (label == null || value.equals(s.get("labels").path(label).asText()))) {
        return s;
      }
    }
    throw new AssertionError("no series " + name + " in " + full);
  }

  private static List<Long> longs(JsonNode array) {
    List<Long> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asLong()));
    return out;
  }

  @Test
  void fullAnswerHasEverySeriesWithNamesLabelsAndValues() throws Exception {
    MetricsRegistry.Counter accepted =
        registry.counter("otelcol_receiver_accepted_spans", "h", "receiver", "otlp");
    registry.gauge("otlp4j_memory_limit_bytes", "h").set(1 << 20);
    dashboard.sample(1_000);
    accepted.add(500);
    dashboard.sample(2_000);

    JsonNode full = series("");
    assertThat(full.get("full").asBoolean()).isTrue();
    assertThat(full.get("interval_ms").asLong()).isEqualTo(1000);
    assertThat(full.get("window_ms").asLong()).isEqualTo(15 * 60 * 1000);
    assertThat(longs(full.get("t"))).containsExactly(1000L, 2000L);
    JsonNode rate = find(full, "items_rate", "signal", "traces");
    assertThat(rate.get("labels").get("outcome").asText()).isEqualTo("accepted");
    assertThat(rate.get("v").get(1).asDouble()).isEqualTo(500.0);
    JsonNode limit = find(full, "memory_budget_limit_bytes", null, null);
    assertThat(limit.get("v").get(0).asLong()).isEqualTo(1 << 20);
    JsonNode cpu = find(full, "process_cpu_cores", null, null);
    assertThat(cpu.get("v").get(0).isNull()).isTrue(); // a rate needs two reads
    assertThat(cpu.get("v").get(1).isNumber()).isTrue();
  }

  @Test
  void incrementalAnswerCarriesOnlyNewSamplesWithoutNamesWhileTheLayoutHolds() throws Exception {
    MetricsRegistry.Counter accepted =
        registry.counter("otelcol_receiver_accepted_spans", "h", "receiver", "otlp");
    dashboard.sample(1_000);
    dashboard.sample(2_000);
    JsonNode first = series("?since=0");
    long layout = first.get("layout").asLong();
    int index = -1;
    for (int i = 0; i < first.get("series").size(); i++) {
      if (first.get("series").get(i).get("name").asText().equals("items_rate")) {
        index = i;
      }
    }
    assertThat(index).isNotNegative();

    accepted.add(42);
    dashboard.sample(3_000);
    JsonNode next = series("?since=2000&layout=" + layout);
    assertThat(next.get("full").asBoolean()).isFalse();
    assertThat(next.has("series")).isFalse();
    assertThat(longs(next.get("t"))).containsExactly(3000L);
    assertThat(next.get("v")).hasSize(first.get("series").size());
    assertThat(next.get("v").get(index).get(0).asDouble()).isEqualTo(42.0);

    JsonNode nothingNew = series("?since=3000&layout=" + layout);
    assertThat(nothingNew.get("t")).isEmpty();

    // A new series changes the layout: a client with the old one gets the full answer again.
    registry.gauge("ALERTS", "h", "alertname", "Test", "alertstate", "firing").set(1);
    dashboard.sample(4_000);
    JsonNode changed = series("?since=3000&layout=" + layout);
    assertThat(changed.get("full").asBoolean()).isTrue();
    assertThat(changed.get("layout").asLong()).isNotEqualTo(layout);
    assertThat(find(changed, "alerts", "alertname", "Test").get("v").get(0).asInt()).isEqualTo(1);
  }

  @Test
  void pollingCostsUnderOneHundredBytesPerSeriesPerSecond() throws Exception {
    MetricsRegistry.Counter accepted =
        registry.counter("otelcol_receiver_accepted_spans", "h", "receiver", "otlp");
    dashboard.sample(1_000);
    dashboard.sample(2_000); // rates appear with the second read
    JsonNode first = series("");
    long layout = first.get("layout").asLong();
    int seriesCount = first.get("series").size();
    // The page polls every 2 s and gets the two samples taken since (bodies only; the browser
    // test measures headers too).
    accepted.add(1_234_567);
    dashboard.sample(3_000);
    accepted.add(7);
    dashboard.sample(4_000);
    String body = get("/api/v1/series?since=2000&layout=" + layout).body();
    assertThat(JSON.readTree(body).get("full").asBoolean()).isFalse();
    double bytesPerSeriesPerSecond =
        body.getBytes(StandardCharsets.UTF_8).length / 2.0 / seriesCount;
    assertThat(bytesPerSeriesPerSecond).isLessThan(100);
  }

  @Test
  void rejectsABadCursor() throws Exception {
    assertThat(get("/api/v1/series?since=yesterday").statusCode()).isEqualTo(400);
  }

  @Test
  void servesThePageAndEveryAssetFromTheJarAndNothingElse() throws Exception {
    HttpResponse<String> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("Content-Security-Policy"))
        .hasValueSatisfying(csp -> assertThat(csp).startsWith("default-src 'self'"));
    assertThat(page.body())
        .contains("/assets/uPlot.iife.min.js", "/assets/dashboard.js")
        .doesNotContain("http://", "https://");
    HttpResponse<String> uplot = get("/assets/uPlot.iife.min.js");
    assertThat(uplot.statusCode()).isEqualTo(200);
    assertThat(uplot.headers().firstValue("Content-Type"))
        .hasValue("text/javascript; charset=utf-8");
    assertThat(uplot.body()).contains("uPlot");
    assertThat(get("/assets/uPlot.min.css").body()).contains(".uplot");
    assertThat(get("/assets/uPlot.LICENSE").body()).contains("MIT");
    assertThat(get("/assets/dashboard.js").body()).contains("/api/v1/series");
    assertThat(get("/assets/dashboard.css").statusCode()).isEqualTo(200);
    assertThat(get("/assets/../dashboard.js").statusCode()).isEqualTo(404);
    assertThat(get("/assets/nothing.js").statusCode()).isEqualTo(404);
    assertThat(get("/nothing").statusCode()).isEqualTo(404);
    assertThat(DashboardAssets.uplotVersion()).isEqualTo("1.6.30");
  }

  @Test
  void answersOnlyGetAndHead() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/api/v1/series");
    HttpResponse<Void> post =
        client.send(
            HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.discarding());
    assertThat(post.statusCode()).isEqualTo(405);
    HttpResponse<String> head =
        client.send(
            HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
  }
}
