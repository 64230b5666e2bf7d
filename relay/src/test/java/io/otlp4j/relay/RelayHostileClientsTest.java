package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Hostile clients against a running relay configured with the Collector's keys: bearer tokens that
 * are wrong, missing, truncated, extended, very long or under another scheme get their documented
 * refusal on both receivers, and neither the token nor any presented {@code authorization} value
 * ever reaches a log line (logback and java.util.logging, captured at DEBUG) or {@code /metrics};
 * the connection keys ({@code read_header_timeout}, {@code max_connections}, {@code keepalive})
 * take effect.
 */
class RelayHostileClientsTest extends RelayScenarioTest {

  private static final String TOKEN = "tok-7c1f9e2a-SECRETMARK-token";
  private static final String MARK = "SECRETMARK";

  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private ch.qos.logback.classic.Logger root;
  private Level rootLevel;
  private Handler julHandler;
  private java.util.logging.Level julLevel;

  @BeforeEach
  void captureLogs() {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    rootLevel = root.getLevel();
    root.setLevel(Level.DEBUG);
    appender.setContext(ctx);
    appender.start();
    root.addAppender(appender);
    java.util.logging.Logger jul = java.util.logging.Logger.getLogger("");
    julLevel = jul.getLevel();
    jul.setLevel(java.util.logging.Level.FINE);
    julHandler =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            lines.add(r.getLoggerName() + " " + r.getMessage() + " " + r.getThrown());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    julHandler.setLevel(java.util.logging.Level.ALL);
    jul.addHandler(julHandler);
  }

  @AfterEach
  void restoreLogs() {
    root.detachAppender(appender);
    root.setLevel(rootLevel);
    java.util.logging.Logger jul = java.util.logging.Logger.getLogger("");
    jul.removeHandler(julHandler);
    jul.setLevel(julLevel);
  }

  private List<String> logLines() {
    List<String> all = new ArrayList<>(lines);
    List<ILoggingEvent> events;
    synchronized (appender) { // AppenderBase.doAppend appends under this lock
      events = new ArrayList<>(appender.list);
    }
    for (ILoggingEvent e : events) {
      StringBuilder b = new StringBuilder(e.getLoggerName()).append(' ');
      b.append(e.getFormattedMessage()).append(' ').append(e.getMDCPropertyMap());
      for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
        b.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
      }
      all.add(b.toString());
    }
    return all;
  }

  /** An HPACK header block of literals without indexing (names and values under 127 bytes). */
  private static byte[] hpackLiterals(String... namesAndValues) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      b.write(0);
      for (String s : List.of(namesAndValues[i], namesAndValues[i + 1])) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        b.write(bytes.length);
        b.write(bytes, 0, bytes.length);
      }
    }
    return b.toByteArray();
  }

  private static byte[] h2FrameHeader(int length, int type, int flags, int stream) {
    return new byte[] {
      (byte) (length >>> 16),
      (byte) (length >>> 8),
      (byte) length,
      (byte) type,
      (byte) flags,
      (byte) (stream >>> 24),
      (byte) (stream >>> 16),
      (byte) (stream >>> 8),
      (byte) stream
    };
  }

  private void startRelay() throws Exception {
    relay =
        RelayUnderTest.start(
            """
            extensions:
              bearertokenauth:
                token: ${env:TOKEN}
            receivers:
              otlp:
                protocols:
                  grpc:
                    endpoint: 127.0.0.1:0
                    max_connections: 50
                    max_control_frames: 20
                    max_unanswered_resets: 5
                    auth: { authenticator: bearertokenauth }
                    keepalive:
                      server_parameters: { max_connection_idle: 1m, max_connection_age: 1h }
                      enforcement_policy: { min_time: 10s, permit_without_stream: true }
                  http:
                    endpoint: 127.0.0.1:0
                    max_connections: 50
                    read_header_timeout: 500ms
                    read_timeout: 5s
                    idle_timeout: 30s
                    auth: { authenticator: bearertokenauth }
            exporters:
              debug: {}
            service:
              extensions: [bearertokenauth]
              telemetry: { metrics: { address: "127.0.0.1:0" } }
              pipelines:
                traces: { receivers: [otlp], exporters: [debug] }
            """,
            Map.of("TOKEN", TOKEN),
            AckMode.RECEIVED,
            dir);
  }

  private HttpResponse<byte[]> post(String authorization) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(relay.httpUri("/v1/traces"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", RelayUnderTest.PROTOBUF)
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    OtlpRequests.spans("auth", 2).toByteArray()));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return relay.http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private Status.Code export(ManagedChannel ch, String authorization) {
    Metadata md = new Metadata();
    if (authorization != null) {
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
    }
    try {
      TraceServiceGrpc.newBlockingStub(ch)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .withDeadlineAfter(30, TimeUnit.SECONDS)
          .export(OtlpRequests.spans("auth", 2));
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void badBearerTokensAreRefusedAndNoTokenReachesALogLineOrAMetric() throws Exception {
    startRelay();
    String longToken = "Bearer " + MARK + "x".repeat(4 * 1024);
    String hugeToken = "Bearer " + MARK + "x".repeat(64 * 1024);
    List<String> refusedValues =
        List.of(
            "Bearer " + TOKEN.substring(0, TOKEN.length() - 1), // truncated
            "Bearer " + TOKEN + "x", // extended
            "Bearer " + MARK + "-wrong",
            "Basic " + TOKEN, // another scheme
            TOKEN, // no scheme
            "Bearer ",
            longToken);
    ManagedChannel ch = relay.grpcChannel();
    assertThat(post(null).statusCode()).isEqualTo(401);
    assertThat(export(ch, null)).isEqualTo(Status.Code.UNAUTHENTICATED);
    for (String value : refusedValues) {
      HttpResponse<byte[]> r = post(value);
      assertThat(r.statusCode())
          .as("HTTP %s...", value.substring(0, Math.min(10, value.length())))
          .isEqualTo(401);
      assertThat(new String(r.body(), StandardCharsets.ISO_8859_1)).doesNotContain(MARK);
      assertThat(export(ch, value)).as("gRPC").isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    // Over the header limits (HTTP: Netty's 8 KiB header block; gRPC: 8 KiB header list): refused
    // before authentication, HTTP with 400 (the decoder's failure).
    HttpResponse<byte[]> huge = post(hugeToken);
    assertThat(huge.statusCode()).isEqualTo(400);
    assertThat(new String(huge.body(), StandardCharsets.ISO_8859_1)).doesNotContain(MARK);
    assertThat(export(relay.grpcChannel("otlp"), hugeToken))
        .isIn(Status.Code.RESOURCE_EXHAUSTED, Status.Code.INTERNAL, Status.Code.UNAVAILABLE);

    // The right token still works, on both, and in any case of the scheme.
    assertThat(post("Bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(post("bearer " + TOKEN).statusCode()).isEqualTo(200);
    assertThat(export(relay.grpcChannel(), "Bearer " + TOKEN)).isEqualTo(Status.Code.OK);

    assertThat(
            relay.metric(
                "otlp4j_receiver_requests_total",
                "transport",
                "http",
                "outcome",
                "unauthenticated"))
        .isEqualTo(1 + refusedValues.size());
    String metrics = relay.scrape();
    assertThat(metrics).doesNotContain(MARK).doesNotContain("tok-7c1f9e2a");
    List<String> logged = logLines();
    assertThat(logged).as("something was logged at DEBUG").isNotEmpty();
    assertThat(logged).noneMatch(l -> l.contains(MARK) || l.contains("tok-7c1f9e2a"));
  }

  @Test
  void theConnectionKeysTakeEffect() throws Exception {
    startRelay();
    InetSocketAddress http = relay.relay.httpAddress("otlp");
    // read_header_timeout: 500ms ends a slowloris client (one byte every 50 ms).
    try (Socket slow = new Socket()) {
      slow.connect(http, 5_000);
      OutputStream out = slow.getOutputStream();
      int sent = 0;
      try {
        for (int i = 0; i < 200; i++) {
          out.write(i < 4 ? "POST".charAt(i) : 'a');
          out.flush();
          sent++;
          Thread.sleep(50);
        }
      } catch (IOException e) {
        // closed by the relay
      }
      assertThat(sent).isLessThan(100);
    }
    // max_control_frames: 20 ends a connection that sends 100 SETTINGS frames (the default, 200,
    // would not).
    try (Socket settings = new Socket()) {
      settings.connect(relay.relay.grpcAddress("otlp"), 5_000);
      OutputStream out = settings.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      for (int i = 0; i < 100; i++) {
        out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      }
      out.flush();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> relay.metric("otlp4j_receiver_control_frame_floods_total") == 1);
    }
    // max_unanswered_resets: 5 ends a connection that opens and resets 10 calls (the default, 20,
    // would not).
    try (Socket resets = new Socket()) {
      resets.connect(relay.relay.grpcAddress("otlp"), 5_000);
      OutputStream out = resets.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      byte[] headers =
          hpackLiterals(
              ":method", "POST",
              ":scheme", "http",
              ":path", "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
              ":authority", "localhost",
              "content-type", "application/grpc",
              "te", "trailers",
              "authorization", "Bearer " + TOKEN);
      for (int stream = 1; stream < 20; stream += 2) {
        out.write(h2FrameHeader(headers.length, 1, 0x4, stream));
        out.write(headers);
        out.write(h2FrameHeader(4, 3, 0, stream));
        out.write(new byte[] {0, 0, 0, 8});
        out.flush();
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> relay.metric("otlp4j_receiver_rapid_reset_connections_total") == 1);
    }
    // max_connections: 50 on each protocol; 100 more are refused at once and counted.
    List<Socket> flood = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        Socket s = new Socket();
        s.connect(relay.relay.grpcAddress("otlp"), 5_000);
        flood.add(s);
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  relay.metric("otlp4j_receiver_refused_connections_total", "transport", "grpc")
                      >= 50);
      assertThat(relay.metric("otlp4j_receiver_open_connections", "transport", "grpc"))
          .isLessThanOrEqualTo(50);
      InputStream in = flood.get(99).getInputStream();
      flood.get(99).setSoTimeout(5_000);
      assertThatThrownBy(
              () -> {
                if (in.read() < 0) {
                  throw new IOException("closed");
                }
              })
          .isInstanceOf(IOException.class);
    } finally {
      for (Socket s : flood) {
        s.close();
      }
    }
  }
}
