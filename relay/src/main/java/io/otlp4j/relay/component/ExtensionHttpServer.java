package io.otlp4j.relay.component;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.otlp4j.relay.config.HostPort;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The small HTTP server an extension runs on its own endpoint ({@code health_check}, {@code
 * zpages}): the JDK's server with one daemon thread and a short backlog, answering {@code GET} and
 * {@code HEAD} only. Closing it stops it at once.
 *
 * <p>Thread-safe; the handler runs on the server's one thread.
 */
final class ExtensionHttpServer implements ListeningExtension {
  private final HttpServer server;
  private final ExecutorService executor;

  /**
   * Binds {@code endpoint} and serves every path with {@code handler}.
   *
   * @throws UncheckedIOException when the address cannot be bound
   */
  ExtensionHttpServer(String extensionId, HostPort endpoint, HttpHandler handler) {
    try {
      server = HttpServer.create(new InetSocketAddress(endpoint.host(), endpoint.port()), 16);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "extension " + extensionId + " cannot bind " + endpoint + ": " + e.getMessage(), e);
    }
    executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "otlp4j-" + extensionId);
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext(
        "/",
        exchange -> {
          try {
            String method = exchange.getRequestMethod();
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
              exchange.getResponseHeaders().set("Allow", "GET, HEAD");
              respond(exchange, 405, "text/plain; charset=utf-8", "only GET and HEAD\n");
              return;
            }
            handler.handle(exchange);
          } catch (RuntimeException e) {
            respond(exchange, 500, "text/plain; charset=utf-8", "internal error: " + e + "\n");
          } finally {
            exchange.close();
          }
        });
    server.start();
  }

  @Override
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** Answers {@code status} with {@code body} (none for {@code HEAD}) and closes the exchange. */
  static void respond(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    try (exchange) {
      exchange.getResponseHeaders().set("Content-Type", type);
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      boolean head = "HEAD".equals(exchange.getRequestMethod());
      exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }
}
