package io.otlp4j.testing;

import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * The OTLP/HTTP side of {@link MockOtlpServer}: the JDK's HTTP server on 127.0.0.1, POST of
 * protobuf or OTLP/JSON (gzip, zstd or plain) to {@code /v1/traces}, {@code /v1/metrics}, {@code
 * /v1/logs}. A body that cannot be decoded is answered 400 with the reason; another path 404;
 * another method 405. With {@code requireContentLength}, a body without a {@code Content-Length}
 * equal to its size is answered 400 too.
 */
final class HttpFrontend {
  private final MockOtlpServer core;
  private final SSLContext tls;
  private final boolean needClientAuth;
  private final boolean requireContentLength;
  private HttpServer server;
  private ExecutorService executor;

  HttpFrontend(
      MockOtlpServer core, SSLContext tls, boolean needClientAuth, boolean requireContentLength) {
    this.core = core;
    this.tls = tls;
    this.needClientAuth = needClientAuth;
    this.requireContentLength = requireContentLength;
  }

  boolean isTls() {
    return tls != null;
  }

  /** Binds 127.0.0.1:{@code port} (0: any free port) and returns the port. */
  int start(int port) throws IOException {
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    if (tls != null) {
      HttpsServer s = HttpsServer.create(address, 64);
      s.setHttpsConfigurator(
          new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
              SSLParameters p = tls.getDefaultSSLParameters();
              p.setNeedClientAuth(needClientAuth);
              params.setSSLParameters(p);
            }
          });
      server = s;
    } else {
      server = HttpServer.create(address, 64);
    }
    executor =
        Executors.newFixedThreadPool(
            8,
            r -> {
              Thread t = new Thread(r, "mock-otlp-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    return server.getAddress().getPort();
  }

  void stop() throws InterruptedException {
    if (server != null) {
      server.stop(0);
      executor.shutdownNow();
      executor.awaitTermination(5, TimeUnit.SECONDS);
      server = null;
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    Signal signal;
    try {
      signal = OfficialDecoding.signalOfPath(exchange.getRequestURI().getPath());
    } catch (IllegalArgumentException e) {
      sendPlain(exchange, 404, e.getMessage());
      return;
    }
    if (!"POST".equals(exchange.getRequestMethod())) {
      sendPlain(exchange, 405, exchange.getRequestMethod() + " is not POST");
      return;
    }
    String type = exchange.getRequestHeaders().getFirst("Content-Type");
    boolean json = type != null && type.startsWith("application/json");
    Message decoded = null;
    String error = null;
    try {
      String declared = exchange.getRequestHeaders().getFirst("Content-Length");
      if (requireContentLength && (declared == null || Integer.parseInt(declared) != body.length)) {
        throw new IllegalArgumentException(
            "Content-Length " + declared + " but " + body.length + " bytes");
      }
      if (!json && (type == null || !type.startsWith("application/x-protobuf"))) {
        throw new IllegalArgumentException("unexpected Content-Type " + type);
      }
      byte[] plain =
          OfficialDecoding.decompress(
              exchange.getRequestHeaders().getFirst("Content-Encoding"), body);
      decoded =
          json
              ? OfficialDecoding.parseJson(signal, plain)
              : OfficialDecoding.parseProtobuf(signal, plain);
    } catch (RuntimeException e) {
      error = e.toString();
    }
    Map<String, List<String>> headers = new LinkedHashMap<>();
    exchange
        .getRequestHeaders()
        .forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
    core.arrived(
        Transport.HTTP,
        signal,
        Map.copyOf(headers),
        body,
        decoded,
        error,
        exchange.getRemoteAddress(),
        new JdkExchange(exchange, signal, json));
  }

  private static void sendPlain(HttpExchange exchange, int status, String text) throws IOException {
    byte[] msg = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, msg.length);
    try (OutputStream os = exchange.getResponseBody()) {
      os.write(msg);
    }
  }

  private static final class JdkExchange implements Exchange {
    private final HttpExchange exchange;
    private final Signal signal;
    private final boolean json;

    JdkExchange(HttpExchange exchange, Signal signal, boolean json) {
      this.exchange = exchange;
      this.signal = signal;
      this.json = json;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void respond(Answer answer, RecordedRequest request) throws IOException {
      try {
        if (request.message() == null) {
          sendPlain(exchange, 400, request.decodeError());
          return;
        }
        answer.httpHeaders.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        if (answer.retryDelay != null
            && !exchange.getResponseHeaders().containsKey("Retry-After")) {
          Duration d = answer.retryDelay;
          long seconds = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
          exchange.getResponseHeaders().add("Retry-After", Long.toString(seconds));
        }
        exchange
            .getResponseHeaders()
            .add("Content-Type", json ? "application/json" : "application/x-protobuf");
        byte[] out = answer.isSuccess() ? success(answer) : failure(answer);
        exchange.sendResponseHeaders(answer.httpStatus, out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
          try (OutputStream os = exchange.getResponseBody()) {
            os.write(out);
          }
        }
      } finally {
        exchange.close();
      }
    }

    private byte[] success(Answer answer) {
      if (!json) {
        return GrpcFrontend.successResponse(signal, answer);
      }
      if (answer.rejected < 0) {
        return "{}".getBytes(StandardCharsets.UTF_8);
      }
      String rejectedField =
          switch (signal) {
            case TRACES -> "rejectedSpans";
            case METRICS -> "rejectedDataPoints";
            case LOGS -> "rejectedLogRecords";
          };
      return ("{\"partialSuccess\":{\""
              + rejectedField
              + "\":\""
              + answer.rejected
              + "\",\"errorMessage\":\""
              + jsonEscape(answer.message)
              + "\"}}")
          .getBytes(StandardCharsets.UTF_8);
    }

    /** Empty, or a {@code google.rpc.Status} with the answer's message. */
    private byte[] failure(Answer answer) {
      if (answer.message.isEmpty()) {
        return new byte[0];
      }
      if (json) {
        return ("{\"code\":"
                + answer.grpcCode.value()
                + ",\"message\":\""
                + jsonEscape(answer.message)
                + "\"}")
            .getBytes(StandardCharsets.UTF_8);
      }
      return com.google.rpc.Status.newBuilder()
          .setCode(answer.grpcCode.value())
          .setMessage(answer.message)
          .build()
          .toByteArray();
    }

    @Override
    public void dropConnection() {
      // Closing an exchange that sent no response closes its connection.
      exchange.close();
    }
  }

  private static String jsonEscape(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
