package io.otlp4j.bench.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.otlp4j.testing.ExternalTool;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * {@code ./otlp4j bench --quick}, shortened further with the internal {@code --durations} option:
 * every scenario runs for real (child JVMs, loopback sinks, faults), and the report it writes is
 * checked for structure (Markdown, JSON, HTML), for figures that were measured (finite, in range,
 * consistent with the raw windows they came from) and, in a real headless Chromium, for a page that
 * loads without console errors and draws every chart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class BenchCommandTest {

  private static final List<String> SCENARIOS =
      List.of("library", "gateway-received", "gateway-durable");
  private static final List<String> METRICS =
      List.of(
          "throughput_requests",
          "throughput_items",
          "memory_peak_rss",
          "memory_steady_rss",
          "latency_p50",
          "latency_p99",
          "cpu_percent",
          "cpu_us_per_item",
          "error_requests",
          "error_items");

  @TempDir static Path dir;
  private int status;
  private String stdout;
  private String stderr;
  private JsonNode json;

  @BeforeAll
  void runQuickBench() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    status =
        BenchCommand.run(
            new String[] {
              "--quick",
              "--out",
              dir.toString(),
              "--durations",
              "warmup=300,window=800,windows=2,settle=200,curve=0.5:1.25,fault=1500,down=500,"
                  + "drain=1500,sample=100"
            },
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    stdout = out.toString(StandardCharsets.UTF_8);
    stderr = err.toString(StandardCharsets.UTF_8);
    json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
  }

  @Test
  void everyScenarioRanAndTheTerminalShowsTheTableAndTheProgress() {
    assertThat(status).as(stderr).isZero();
    assertThat(stderr).contains("left").contains("under faults").doesNotContain("could not run");
    for (String title :
        List.of(
            "Library: SDK BatchSpanProcessor", "Gateway, ack=received", "Gateway, ack=durable")) {
      assertThat(stdout).contains(title);
    }
    assertThat(stdout).contains("report: " + dir.resolve("report.md")).doesNotContain("n/a");
  }

  @Test
  void jsonHasEveryMetricOfEveryScenarioMeasured() {
    assertThat(json.at("/machine/cores").asText())
        .isEqualTo(Integer.toString(Runtime.getRuntime().availableProcessors()));
    assertThat(json.at("/machine/jvm").asText()).isNotBlank();
    assertThat(json.at("/machine/cpu").asText()).isNotBlank();
    JsonNode scenarios = json.get("scenarios");
    assertThat(scenarios).hasSize(SCENARIOS.size());
    for (int i = 0; i < SCENARIOS.size(); i++) {
      JsonNode s = scenarios.get(i);
      String id = SCENARIOS.get(i);
      assertThat(s.get("id").asText()).isEqualTo(id);
      assertThat(s.get("failure").isNull()).as(id + ": " + s.get("failure")).isTrue();
      assertThat(s.get("fixed_rate_items_per_second").asDouble()).as(id).isPositive();
      List<String> keys = new ArrayList<>();
      s.get("metrics").fieldNames().forEachRemaining(keys::add);
      assertThat(keys).as(id).containsExactlyElementsOf(METRICS);
      for (String key : METRICS) {
        JsonNode m = s.get("metrics").get(key);
        String what = id + " " + key;
        assertThat(m.get("unit").asText()).as(what).isNotBlank();
        assertThat(m.get("seed").asText()).as(what).isNotBlank();
        for (String side : List.of("before", "after")) {
          assertThat(m.get(side).isNumber()).as(what + " " + side + ": " + m).isTrue();
          assertThat(m.get(side).asDouble()).as(what + " " + side).isFinite().isNotNegative();
          // measured over repeated windows: a spread (the error rates are counted over the whole
          // fault run; in so short a run an exporter in backoff may answer in one slice only)
          if (key.equals("cpu_us_per_item")) {
            // per item only where a window moved items: a short window on a loaded machine may
            // see no export arrive (the SDK's processor exports in batches)
            int moved = 0;
            for (JsonNode w : s.at("/raw/" + side + "/flat_windows")) {
              moved += w.get(1).asDouble() > 0 ? 1 : 0;
            }
            assertThat(m.at("/windows/" + side).asInt()).as(what).isEqualTo(moved).isPositive();
          } else if (!key.startsWith("error_")) {
            assertThat(m.at("/spread/" + side).isNumber()).as(what + " spread: " + m).isTrue();
            assertThat(m.at("/windows/" + side).asInt()).as(what).isGreaterThanOrEqualTo(2);
          }
        }
        double before = m.get("before").asDouble();
        double after = m.get("after").asDouble();
        if (before != 0) {
          assertThat(m.get("change_percent").asDouble())
              .as(what)
              .isCloseTo(100 * (after - before) / before, within(1e-3 * Math.abs(after) + 0.01));
        } else {
          assertThat(m.get("change_percent").isNull()).as(what).isTrue();
        }
      }
    }
  }

  @Test
  void figuresAreInRangeAndConsistentWithTheirWindows() {
    for (JsonNode s : json.get("scenarios")) {
      String id = s.get("id").asText();
      JsonNode metrics = s.get("metrics");
      for (String side : List.of("before", "after")) {
        String what = id + " " + side;
        JsonNode raw = s.at("/raw/" + side);
        // throughput: the mean of items/s over the windows, and each window as long as asked
        double items = 0;
        double seconds = 0;
        for (JsonNode w : raw.get("flat_windows")) {
          assertThat(w.get(0).asDouble()).as(what).isBetween(0.75, 5.0);
          seconds += w.get(0).asDouble();
          items += w.get(1).asDouble();
        }
        double itemsPerSecond = metrics.at("/throughput_items/" + side).asDouble();
        assertThat(itemsPerSecond).as(what).isPositive();
        assertThat(itemsPerSecond)
            .as(what)
            .isCloseTo(items / seconds, within(0.25 * items / seconds));
        assertThat(metrics.at("/throughput_requests/" + side).asDouble()).as(what).isPositive();
        // memory: a JVM's resident set, peak at least the steady one
        double peak = metrics.at("/memory_peak_rss/" + side).asDouble();
        double steady = metrics.at("/memory_steady_rss/" + side).asDouble();
        assertThat(steady).as(what).isBetween(16.0, 64 * 1024.0);
        assertThat(peak).as(what).isGreaterThanOrEqualTo(steady);
        // latency: p50 <= p99, both measured
        double p50 = metrics.at("/latency_p50/" + side).asDouble();
        assertThat(p50).as(what).isPositive();
        assertThat(metrics.at("/latency_p99/" + side).asDouble())
            .as(what)
            .isGreaterThanOrEqualTo(p50);
        // CPU: used, and per item consistent with the windows' CPU time and items
        assertThat(metrics.at("/cpu_percent/" + side).asDouble()).as(what).isPositive();
        double cpuNanos = 0;
        for (JsonNode w : raw.get("flat_windows")) {
          cpuNanos += w.get(3).asDouble();
        }
        assertThat(metrics.at("/cpu_us_per_item/" + side).asDouble())
            .as(what)
            .isCloseTo(cpuNanos / 1e3 / items, within(1e-6 * cpuNanos / 1e3 / items));
        // errors: fractions of what the fault run counted
        JsonNode f = raw.get("faults");
        assertThat(f.get("requests").asLong()).as(what).isPositive();
        assertThat(f.get("items_offered").asLong()).as(what).isPositive();
        assertThat(metrics.at("/error_requests/" + side).asDouble())
            .as(what)
            .isCloseTo(
                100.0 * f.get("failed_requests").asLong() / f.get("requests").asLong(),
                within(1e-6));
        assertThat(metrics.at("/error_items/" + side).asDouble())
            .as(what)
            .isCloseTo(
                100.0 * f.get("items_lost").asLong() / f.get("items_offered").asLong(),
                within(1e-6));
        assertThat(f.get("items_lost").asLong())
            .isEqualTo(
                Math.max(
                    0,
                    f.get("items_offered").asLong()
                        - f.get("items_delivered").asLong()
                        - f.get("items_refused").asLong()));
        // charts' data: a curve of two offered rates, percentiles, a time series
        assertThat(raw.get("curve")).as(what).hasSize(2);
        assertThat(raw.get("percentiles_ms").size()).as(what).isEqualTo(5);
        assertThat(raw.get("series").size()).as(what).isGreaterThan(5);
      }
    }
  }

  @Test
  void markdownHasTheMachineAndOneTableRowPerMetric() throws Exception {
    String md = Files.readString(dir.resolve("report.md"));
    assertThat(md).startsWith("# otlp4j bench").contains("**cores**").contains("**jvm**");
    assertThat(md).doesNotContain("n/a").doesNotContain("Could not run");
    Matcher rows =
        Pattern.compile("(?m)^\\| (throughput|memory|latency|CPU|error rate) \\|").matcher(md);
    int n = 0;
    while (rows.find()) {
      n++;
    }
    assertThat(n).isEqualTo(SCENARIOS.size() * METRICS.size());
    assertThat(md).contains("1,000 → 1,600 req/s").contains("0.1 → 0.05 %");
  }

  @Test
  void htmlIsSelfContainedAndEveryChartIsAlsoAnSvgFile() throws Exception {
    String html = Files.readString(dir.resolve("report.html"));
    assertThat(html).doesNotContain("<script src").doesNotContain("<link").doesNotContain("url(");
    assertThat(html.replace("http://www.w3.org/2000/svg", "")).doesNotContain("http");
    try (Stream<Path> files = Files.list(dir.resolve("charts"))) {
      assertThat(files.filter(p -> p.toString().endsWith(".svg")).count())
          .isEqualTo(SCENARIOS.size() * 5L);
    }
  }

  @Test
  void chromiumLoadsTheReportWithoutErrorsAndDrawsEveryChart() {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(ExternalTool.CHROMIUM.require().toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, java.util.logging.Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(ExternalTool.CHROMEDRIVER.require().toFile())
            .usingAnyFreePort()
            .build();
    ChromeDriver driver = new ChromeDriver(service, options);
    try {
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
      driver.get(dir.resolve("report.html").toUri().toString());
      assertThat(driver.getTitle()).isEqualTo("otlp4j bench");
      List<WebElement> charts = driver.findElements(By.cssSelector("svg.chart"));
      assertThat(charts).hasSize(SCENARIOS.size() * 5);
      JavascriptExecutor js = driver;
      for (WebElement chart : charts) {
        String id = chart.getAttribute("id");
        assertThat(chart.getRect().getWidth()).as(id).isPositive();
        assertThat(chart.getText()).as(id).doesNotContain("no data");
        // both sides drawn: a before and an after line of non-zero length
        @SuppressWarnings("unchecked")
        Map<String, Object> lengths =
            (Map<String, Object>)
                js.executeScript(
                    "const m = {};"
                        + " arguments[0].querySelectorAll('path.series').forEach("
                        + "p => m[p.dataset.series] = p.getTotalLength());"
                        + " return m;",
                    chart);
        assertThat(lengths).as(id).containsKeys("before", "after");
        boolean percentiles = id.endsWith("-percentiles");
        for (String side : List.of("before", "after")) {
          assertThat(((Number) lengths.get(side)).doubleValue()).as(id + " " + side).isPositive();
        }
        if (!id.endsWith("-cpu") && !id.endsWith("-rss")) { // time series: a line, no markers
          assertThat(chart.findElements(By.tagName("circle")).size())
              .as(id)
              .isGreaterThanOrEqualTo(percentiles ? 10 : 4);
        }
      }
      List<LogEntry> severe = new ArrayList<>();
      for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
        if (e.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
          severe.add(e);
        }
      }
      assertThat(severe).as("console errors").isEmpty();
    } finally {
      driver.quit();
    }
  }
}
