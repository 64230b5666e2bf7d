package io.otlp4j.relay.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.Relay;
import io.otlp4j.relay.cli.Cli;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.ExternalTool;
import io.otlp4j.testing.MockOtlpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * The dashboard in a real headless browser (Debian's chromium and chromedriver, driven by Selenium
 * 4): a relay started in-process with an upstream, the page open, traffic from {@code otlp4j send}
 * (the CLI's own load generator, bounded in time) on all three signals.
 *
 * <p>{@code -Dotlp4j.screenshot=docs/dashboard.png} (a path relative to the repository root) writes
 * a screenshot of the page under traffic; without it nothing is written.
 */
class DashboardBrowserTest {
  /** Panels whose numbers traffic must change (the rest show numbers that may stay put). */
  private static final List<String> CHANGING =
      List.of("traces", "metrics", "logs", "durable-bytes", "cpu", "process-memory", "batch-size");

  /** Every panel of the page (the list). */
  private static final List<String> PANELS =
      List.of(
          "alerts",
          "traces",
          "metrics",
          "logs",
          "exporter-queue",
          "durable-bytes",
          "durable-age",
          "circuit",
          "memory",
          "cpu",
          "process-memory",
          "gc",
          "ack-latency",
          "batch-size");

  @TempDir Path dir;
  private MockOtlpServer upstream;
  private Relay relay;
  private ChromeDriver browser;
  private final ExecutorService senders = Executors.newFixedThreadPool(3);
  private final java.util.Queue<String> sendOutput =
      new java.util.concurrent.ConcurrentLinkedQueue<>();

  @BeforeEach
  void start() throws Exception {
    upstream = MockOtlpServer.started();
    // Traces through a durable queue (the durable panels), metrics and logs through memory
    // queues (the exporter queue panel); one upstream.
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 200, timeout: 50ms }
        extensions:
          file_storage: { directory: queue }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            sending_queue: { storage: file_storage }
          otlp/memory:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
        service:
          extensions: [file_storage]
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
            metrics: { receivers: [otlp], processors: [batch], exporters: [otlp/memory] }
            logs: { receivers: [otlp], processors: [batch], exporters: [otlp/memory] }
        """;
    Map<String, String> env = Map.of("UPSTREAM", upstream.grpcEndpoint());
    relay = Relay.start(RelayConfig.parse(yaml, env::get, dir));

    ChromeOptions options = new ChromeOptions();
    options.setBinary(ExternalTool.CHROMIUM.require().toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1900",
        "--user-data-dir=" + dir.resolve("chromium"));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(ExternalTool.CHROMEDRIVER.require().toFile())
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
    browser.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() throws Exception {
    senders.shutdownNow();
    senders.awaitTermination(20, TimeUnit.SECONDS);
    if (browser != null) {
      browser.quit();
    }
    if (relay != null) {
      relay.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void everyPanelShowsNumbersThatChangeUnderTrafficWithNoConsoleError() throws Exception {
    String admin = "http://127.0.0.1:" + relay.adminAddress().getPort() + "/";
    browser.get(admin);
    await(Duration.ofSeconds(15)).until(() -> text(By.id("status")).startsWith("updated"));

    List<CompletableFuture<Integer>> traffic = new ArrayList<>();
    for (String signal : List.of("traces", "metrics", "logs")) {
      traffic.add(CompletableFuture.supplyAsync(() -> send(signal), senders));
    }
    // Numbers under traffic: every signal's accepted rate above zero.
    await(Duration.ofSeconds(20))
        .until(
            () ->
                List.of("traces", "metrics", "logs").stream()
                    .allMatch(p -> firstNumber(panelStat(p), "accepted") > 0));
    boolean ackLatencyExists = ackLatencyInRegistry();
    List<String> changing = new ArrayList<>(CHANGING);
    if (ackLatencyExists) {
      changing.add("ack-latency");
    }
    // Every value each panel has shown since traffic began: a panel passes once it has shown two.
    // (Comparing with one snapshot is not enough: at the fixed offered rate a rate panel can read
    // the same rounded "2.0k/s" in the snapshot and in every later poll.)
    Map<String, Set<String>> seen = new LinkedHashMap<>();
    await(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              stats().forEach((p, v) -> seen.computeIfAbsent(p, k -> new LinkedHashSet<>()).add(v));
              assertThat(changing.stream().filter(p -> seen.get(p).size() < 2))
                  .as("panels whose numbers have not changed under traffic (values seen: %s)", seen)
                  .isEmpty();
            });
    Map<String, String> after = stats();
    for (String panel : PANELS) {
      if (panel.equals("ack-latency") && !ackLatencyExists) {
        // The registry has no ack latency histogram yet: the panel says so instead of drawing.
        assertThat(after.get(panel)).as(panel).startsWith("no data");
        continue;
      }
      assertThat(after.get(panel)).as("panel %s: %s", panel, after).containsPattern("\\d");
    }
    assertThat(browser.findElements(By.cssSelector(".panel .chart canvas")))
        .as("a uPlot canvas per panel with data")
        .hasSizeGreaterThanOrEqualTo(PANELS.size() - 2);

    String screenshot = System.getProperty("otlp4j.screenshot");
    if (screenshot != null && !screenshot.isEmpty()) {
      Path target = repositoryRoot().resolve(screenshot);
      Files.createDirectories(target.toAbsolutePath().getParent());
      Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
      Files.copy(shot, target, StandardCopyOption.REPLACE_EXISTING);
    }

    for (CompletableFuture<Integer> run : traffic) {
      assertThat(run.get(30, TimeUnit.SECONDS))
          .as("otlp4j send's exit code: %s", sendOutput)
          .isZero();
    }
    Object cost =
        ((JavascriptExecutor) browser)
            .executeScript("return window.otlp4jDashboard.bytesPerSeriesPerSecond();");
    assertThat(((Number) cost).doubleValue())
        .as("bytes on the wire (headers + body) per series per second of polling")
        .isLessThan(100);
    assertNoConsoleErrors();
  }

  @Test
  void alertsPanelListsPendingAndFiringAlerts() throws Exception {
    // The relay's alert evaluator exposes ALERTS{alertname,alertstate,severity,...} 1 in the
    // registry; here a dashboard over a registry holding two such series stands in for it.
    MetricsRegistry registry = MetricsRegistry.create();
    registry
        .gauge(
            "ALERTS",
            "h",
            "alertname",
            "OtelcolExporterFailedSpans",
            "alertstate",
            "firing",
            "severity",
            "critical",
            "exporter",
            "otlp")
        .set(1);
    registry
        .gauge(
            "ALERTS",
            "h",
            "alertname",
            "OtelcolReceiverRefusedSpans",
            "alertstate",
            "pending",
            "severity",
            "warning",
            "exporter",
            "")
        .set(1);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
    try (Dashboard dashboard = Dashboard.start(registry)) {
      dashboard.register(server);
      server.start();
      browser.get("http://127.0.0.1:" + server.getAddress().getPort() + "/");
      await(Duration.ofSeconds(15))
          .until(() -> browser.findElements(By.cssSelector("#alerts-table tbody tr")).size() == 2);
      List<WebElement> rows = browser.findElements(By.cssSelector("#alerts-table tbody tr"));
      assertThat(rows.get(0).getText())
          .contains("OtelcolExporterFailedSpans", "firing", "critical");
      assertThat(rows.get(1).getText())
          .contains("OtelcolReceiverRefusedSpans", "pending", "warning");
      assertThat(text(By.id("alerts-stat"))).contains("firing 1", "pending 1");
      assertNoConsoleErrors();
    } finally {
      server.stop(0);
    }
  }

  private int send(String signal) {
    String endpoint = "http://127.0.0.1:" + relay.grpcAddress("otlp").getPort();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int exit =
        Cli.execute(
            new String[] {
              "send",
              "--signal",
              signal,
              "--endpoint",
              endpoint,
              "--rate",
              "20",
              "--items-per-request",
              "100",
              "--concurrency",
              "64",
              "--duration",
              "12s",
              "--warmup",
              "0s",
              "--quiet"
            },
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out),
            new PrintStream(out));
    sendOutput.add(signal + ": " + out.toString(java.nio.charset.StandardCharsets.UTF_8));
    return exit;
  }

  private boolean ackLatencyInRegistry() throws Exception {
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + relay.adminAddress().getPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    return metrics.body().lines().anyMatch(l -> l.matches("otlp4j_\\w*ack\\w*_seconds_bucket.*"));
  }

  private void assertNoConsoleErrors() {
    List<LogEntry> errors =
        browser.manage().logs().get(LogType.BROWSER).getAll().stream()
            .filter(e -> e.getLevel().intValue() >= Level.WARNING.intValue())
            .collect(Collectors.toList());
    assertThat(errors).as("browser console warnings and errors").isEmpty();
  }

  private Map<String, String> stats() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String panel : PANELS) {
      m.put(panel, panelStat(panel));
    }
    return m;
  }

  private String panelStat(String panel) {
    return browser
        .findElement(By.cssSelector("[data-panel='" + panel + "'] .stat"))
        .getText()
        .trim();
  }

  private String text(By by) {
    return browser.findElement(by).getText();
  }

  /** The number after {@code label} in a stat line such as "accepted 2.0k/s · refused 0/s". */
  private static double firstNumber(String stat, String label) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile(label + " ([0-9.]+)(k|M|G)?").matcher(stat);
    if (!m.find()) {
      return -1;
    }
    double v = Double.parseDouble(m.group(1));
    String unit = m.group(2);
    return unit == null ? v : v * (unit.equals("k") ? 1e3 : unit.equals("M") ? 1e6 : 1e9);
  }

  private static org.awaitility.core.ConditionFactory await(Duration atMost) {
    return Awaitility.await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions();
  }

  /** The repository root (the parent of the relay module, where Maven runs the tests). */
  private static Path repositoryRoot() {
    Path cwd = Path.of("").toAbsolutePath();
    return Files.exists(cwd.resolve("mvnw")) ? cwd : cwd.getParent();
  }
}
