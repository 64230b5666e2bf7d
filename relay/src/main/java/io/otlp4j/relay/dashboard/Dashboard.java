package io.otlp4j.relay.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.ThrottledLog;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The relay's live dashboard: a sampler that reads the {@link MetricsRegistry} every {@link
 * #DEFAULT_INTERVAL} into a bounded {@link SeriesRing} (the last {@link #WINDOW}), and the routes
 * that serve it on the admin server:
 *
 * <ul>
 *   <li>{@code GET /}: the page (plain JavaScript and uPlot, every asset from the jar, no CDN);
 *   <li>{@code GET /assets/<name>}: its script, style sheet and uPlot's {@code dist/} files;
 *   <li>{@code GET /api/v1/series?since=<ms>&layout=<n>}: the series as JSON ({@link SeriesJson}),
 *       for the page and for scripts.
 * </ul>
 *
 * <p><b>Cost:</b> one registry read and a few hundred small objects a second on one daemon thread
 * ({@code otlp4j-dashboard}); the ring holds at most {@link #MAX_SERIES} series of {@code 15 × 60 +
 * 1} floats (under 1 MB). The figures measured with the page open are in docs/benchmarks.md
 * ("Dashboard cost").
 *
 * <p>Thread-safe. {@link #close} stops the sampler; the routes stay answerable (with the samples
 * taken so far) until their server stops.
 */
public final class Dashboard implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Dashboard.class.getName());

  /**
   * How often the registry is read: as often as the page polls (every two seconds). A read runs the
   * whole registry's scrape (snapshots of every family, the process gauges' /proc reads) on a
   * thread that runs too rarely to be compiled early: measured with {@code bench/dashboard-cost},
   * one read a second kept an idle relay's sampler thread near 0.8 % of one core, over the 1 % goal
   * together with the rest of the idle relay.
   */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);

  /** How far back the ring (and a page opened now) reaches. */
  public static final Duration WINDOW = Duration.ofMinutes(15);

  /** Series kept at most; more (a label explosion) are refused and logged. */
  public static final int MAX_SERIES = 256;

  private final MetricsRegistry metrics;
  private final long intervalMillis;
  private final SeriesRing ring;
  private final DashboardSampler sampler;
  private final DashboardAssets assets;
  private final ThrottledLog failureLog = ThrottledLog.every(Duration.ofMinutes(1));
  private ScheduledExecutorService scheduler;

  Dashboard(MetricsRegistry metrics, Duration interval, int maxSeries) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.intervalMillis = interval.toMillis();
    if (intervalMillis <= 0) {
      throw new IllegalArgumentException("interval must be at least 1 ms: " + interval);
    }
    this.ring = new SeriesRing((int) (WINDOW.toMillis() / intervalMillis) + 1, maxSeries);
    this.sampler = new DashboardSampler(ring, new ProcessReadings());
    this.assets = DashboardAssets.load();
  }

  /** A dashboard over {@code metrics}, sampling every {@link #DEFAULT_INTERVAL} from now on. */
  public static Dashboard start(MetricsRegistry metrics) {
    Dashboard d = new Dashboard(metrics, DEFAULT_INTERVAL, MAX_SERIES);
    d.startSampling();
    return d;
  }

  synchronized void startSampling() {
    if (scheduler != null) {
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "otlp4j-dashboard");
              t.setDaemon(true);
              return t;
            });
    scheduler.scheduleAtFixedRate(this::sampleQuietly, 0, intervalMillis, TimeUnit.MILLISECONDS);
  }

  /** Takes one sample now (the sampler thread does this every interval). */
  void sample(long nowMillis) {
    synchronized (sampler) {
      sampler.sample(nowMillis, metrics.scrape());
    }
    if (ring.droppedSeries() > 0 && failureLog.loud()) {
      LOG.log(
          System.Logger.Level.WARNING,
          "dashboard: "
              + ring.droppedSeries()
              + " series not kept, the ring holds "
              + ring.maxSeries()
              + " at most (too many label values?)");
    }
  }

  private void sampleQuietly() {
    try {
      sample(System.currentTimeMillis());
    } catch (RuntimeException e) {
      // The sampler must go on: one bad read (a broken gauge) costs one sample, not the dashboard.
      if (failureLog.loud()) {
        LOG.log(System.Logger.Level.WARNING, "dashboard: a sample failed", e);
      }
    }
  }

  SeriesRing ring() {
    return ring;
  }

  /** Adds the dashboard's routes ({@code /}, {@code /assets/}, {@code /api/v1/series}). */
  public void register(HttpServer server) {
    server.createContext("/", this::page);
    server.createContext("/assets/", this::asset);
    server.createContext("/api/v1/series", this::series);
  }

  /** Stops the sampler. Idempotent. */
  @Override
  public synchronized void close() {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  private void page(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (!path.equals("/") && !path.equals("/index.html")) {
      respond(exchange, 404, "text/plain; charset=utf-8", bytes("not found\n"), "no-store");
      return;
    }
    DashboardAssets.Asset page = assets.page();
    respond(exchange, 200, page.contentType, page.bytes, "no-cache");
  }

  private void asset(HttpExchange exchange) throws IOException {
    String name = exchange.getRequestURI().getPath().substring("/assets/".length());
    DashboardAssets.Asset a = assets.asset(name);
    if (a == null) {
      respond(exchange, 404, "text/plain; charset=utf-8", bytes("not found\n"), "no-store");
      return;
    }
    respond(exchange, 200, a.contentType, a.bytes, "max-age=3600");
  }

  private void series(HttpExchange exchange) throws IOException {
    long since;
    long layout;
    try {
      since = queryLong(exchange.getRequestURI().getRawQuery(), "since", 0);
      layout = queryLong(exchange.getRequestURI().getRawQuery(), "layout", -1);
    } catch (NumberFormatException e) {
      respond(
          exchange,
          400,
          "text/plain; charset=utf-8",
          bytes("since and layout must be integers\n"),
          "no-store");
      return;
    }
    String json = SeriesJson.write(ring.since(since), layout, intervalMillis, WINDOW.toMillis());
    respond(exchange, 200, "application/json", bytes(json), "no-store");
  }

  /** The integer query parameter {@code name}, or {@code absent}. */
  static long queryLong(String rawQuery, String name, long absent) {
    if (rawQuery == null) {
      return absent;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).equals(name)) {
        return Long.parseLong(pair.substring(eq + 1));
      }
    }
    return absent;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void respond(
      HttpExchange exchange, int status, String type, byte[] body, String cacheControl)
      throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      boolean head = "HEAD".equals(method);
      if (!head && !"GET".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", type);
      exchange.getResponseHeaders().set("Cache-Control", cacheControl);
      exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      if (type.startsWith("text/html")) {
        // Everything comes from the relay itself: a page that tried to load from elsewhere would
        // show it as a console error (the browser test fails on any).
        exchange
            .getResponseHeaders()
            .set(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
      }
      exchange.sendResponseHeaders(status, head ? -1 : body.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }
}
