package io.otlp4j.exporter;

import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsPartialSuccess;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A real OTLP/HTTP server on 127.0.0.1 (the JDK's com.sun.net.httpserver) that decodes bodies with the
 * JDK's gzip, zstd-jni and the official opentelemetry-proto classes (JsonFormat for OTLP/JSON), with a
 * script of replies for fault tests. Delayed replies are scheduled, never slept.
 */
final class HttpTestServer implements AutoCloseable {

  /** What the server answers to one request. */
  static final class Reply {
    final int status;
    final Map<String, String> headers;
    final long rejected;
    final String message;
    final Duration delay;

    private Reply(int status, Map<String, String> headers, long rejected, String message, Duration delay) {
      this.status = status;
      this.headers = headers;
      this.rejected = rejected;
      this.message = message;
      this.delay = delay;
    }

    static Reply ok() {
      return new Reply(200, Map.of(), 0, "", Duration.ZERO);
    }

    static Reply partial(long rejected, String message) {
      return new Reply(200, Map.of(), rejected, message, Duration.ZERO);
    }

    static Reply status(int status) {
      return new Reply(status, Map.of(), 0, "", Duration.ZERO);
    }

    static Reply status(int status, String header, String value) {
      return new Reply(status, Map.of(header, value), 0, "", Duration.ZERO);
    }

    Reply after(Duration d) {
      return new Reply(status, headers, rejected, message, d);
    }
  }

  /** A request the server received, decoded by the official classes, and what it answered. */
  static final class Received {
    final Signal signal;
    final Message request;
    final int answered;
    final String contentType;
    final String contentEncoding;
    final String userAgent;
    final Map<String, List<String>> headers;
    final int remotePort;

    Received(Signal signal, Message request, int answered, HttpExchange exchange) {
      this.signal = signal;
      this.request = request;
      this.answered = answered;
      this.contentType = exchange.getRequestHeaders().getFirst("Content-Type");
      this.contentEncoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
      this.userAgent = exchange.getRequestHeaders().getFirst("User-Agent");
      this.headers = Map.copyOf(exchange.getRequestHeaders());
      this.remotePort = exchange.getRemoteAddress().getPort();
    }
  }

  final ConcurrentLinkedDeque<Reply> script = new ConcurrentLinkedDeque<>();
  final List<Received> received = new CopyOnWriteArrayList<>();
  final Set<Integer> remotePorts = ConcurrentHashMap.newKeySet();
  final AtomicInteger requests = new AtomicInteger();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(8);
  private final ScheduledExecutorService delays = Executors.newSingleThreadScheduledExecutor();
  private final boolean https;

  private HttpTestServer(int port, SSLContext ssl, boolean needClientAuth) throws IOException {
    InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
    if (ssl != null) {
      HttpsServer s = HttpsServer.create(address, 64);
      s.setHttpsConfigurator(new HttpsConfigurator(ssl) {
        @Override
        public void configure(HttpsParameters params) {
          javax.net.ssl.SSLParameters p = ssl.getDefaultSSLParameters();
          p.setNeedClientAuth(needClientAuth);
          params.setSSLParameters(p);
        }
      });
      server = s;
    } else {
      server = HttpServer.create(address, 64);
    }
    https = ssl != null;
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  static HttpTestServer start() throws IOException {
    return new HttpTestServer(0, null, false);
  }

  static HttpTestServer start(int port) throws IOException {
    return new HttpTestServer(port, null, false);
  }

  static HttpTestServer startTls(SSLContext ssl, boolean needClientAuth) throws IOException {
    return new HttpTestServer(0, ssl, needClientAuth);
  }

  int port() {
    return server.getAddress().getPort();
  }

  String endpoint() {
    return (https ? "https" : "http") + "://127.0.0.1:" + port();
  }

  long acceptedCount() {
    return received.stream().filter(r -> r.answered / 100 == 2).count();
  }

  private void handle(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    remotePorts.add(exchange.getRemoteAddress().getPort());
    Reply scripted = script.poll();
    Reply r = scripted == null ? Reply.ok() : scripted;
    Signal signal;
    Message request;
    boolean json;
    try {
      signal = OfficialDecoding.signalOfPath(exchange.getRequestURI().getPath());
      byte[] body = exchange.getRequestBody().readAllBytes();
      String declared = exchange.getRequestHeaders().getFirst("Content-Length");
      if (declared == null || Integer.parseInt(declared) != body.length) {
        throw new IllegalArgumentException("Content-Length " + declared + " but " + body.length + " bytes");
      }
      byte[] plain = OfficialDecoding.decompress(exchange.getRequestHeaders().getFirst("Content-Encoding"), body);
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      json = "application/json".equals(type);
      request = json ? OfficialDecoding.parseJson(signal, plain) : OfficialDecoding.parseProtobuf(signal, plain);
    } catch (RuntimeException e) {
      byte[] msg = e.toString().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(400, msg.length);
      exchange.getResponseBody().write(msg);
      exchange.close();
      inFlight.decrementAndGet();
      return;
    }
    Runnable answer = () -> {
      try {
        received.add(new Received(signal, request, r.status, exchange));
        r.headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] out = r.status == 200 ? response(signal, r, json) : new byte[0];
        exchange.getResponseHeaders().add("Content-Type", json ? "application/json" : "application/x-protobuf");
        inFlight.decrementAndGet();
        exchange.sendResponseHeaders(r.status, out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
          try (OutputStream os = exchange.getResponseBody()) {
            os.write(out);
          }
        }
        exchange.close();
      } catch (IOException e) {
        exchange.close();
      }
    };
    if (r.delay.isZero()) {
      answer.run();
    } else {
      delays.schedule(answer, r.delay.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private static byte[] response(Signal signal, Reply r, boolean json) {
    if (r.rejected == 0 && r.message.isEmpty()) {
      return json ? "{}".getBytes(StandardCharsets.UTF_8) : new byte[0];
    }
    if (json) {
      return ("{\"partialSuccess\":{\"" + rejectedField(signal) + "\":\"" + r.rejected + "\",\"errorMessage\":\""
          + r.message + "\"}}").getBytes(StandardCharsets.UTF_8);
    }
    switch (signal) {
      case TRACES:
        return ExportTraceServiceResponse.newBuilder().setPartialSuccess(ExportTracePartialSuccess.newBuilder()
            .setRejectedSpans(r.rejected).setErrorMessage(r.message)).build().toByteArray();
      case METRICS:
        return ExportMetricsServiceResponse.newBuilder().setPartialSuccess(ExportMetricsPartialSuccess.newBuilder()
            .setRejectedDataPoints(r.rejected).setErrorMessage(r.message)).build().toByteArray();
      default:
        return ExportLogsServiceResponse.newBuilder().setPartialSuccess(ExportLogsPartialSuccess.newBuilder()
            .setRejectedLogRecords(r.rejected).setErrorMessage(r.message)).build().toByteArray();
    }
  }

  private static String rejectedField(Signal signal) {
    switch (signal) {
      case TRACES:
        return "rejectedSpans";
      case METRICS:
        return "rejectedDataPoints";
      default:
        return "rejectedLogRecords";
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    delays.shutdownNow();
  }
}
