package io.otlp4j.relay;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.dashboard.Dashboard;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * The admin endpoint: {@code GET /metrics} (the registry in the Prometheus text format) and {@code
 * GET /healthz} (200 while the relay is ready, 503 otherwise, such as while draining), and the
 * {@link Dashboard} ({@code GET /}, {@code /assets/}, {@code /api/v1/series}). Runs on the JDK's
 * HTTP server with one thread. Thread-safe.
 */
final class AdminServer {
  private final HttpServer server;
  private final ExecutorService executor;
  private final Dashboard dashboard;

  AdminServer(String host, int port, MetricsRegistry metrics, BooleanSupplier ready) {
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the admin server to " + host + ":" + port, e);
    }
    executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "otlp4j-admin");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/metrics",
        exchange -> {
          ByteArrayOutputStream body = new ByteArrayOutputStream();
          metrics.writePrometheusText(body);
          respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", body.toByteArray());
        });
    server.createContext(
        "/healthz",
        exchange -> {
          boolean ok = ready.getAsBoolean();
          respond(
              exchange,
              ok ? 200 : 503,
              "text/plain; charset=utf-8",
              (ok ? "ok\n" : "unavailable\n").getBytes(StandardCharsets.UTF_8));
        });
    try {
      dashboard = Dashboard.start(metrics);
    } catch (RuntimeException e) {
      server.stop(0);
      executor.shutdownNow();
      throw e;
    }
    dashboard.register(server);
    server.start();
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  void stop() {
    server.stop(0);
    executor.shutdownNow();
    dashboard.close();
  }

  private static void respond(HttpExchange exchange, int status, String type, byte[] body)
      throws IOException {
    try (exchange) {
      exchange.getResponseHeaders().set("Content-Type", type);
      boolean head = "HEAD".equals(exchange.getRequestMethod());
      exchange.sendResponseHeaders(status, head ? -1 : body.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }
}
