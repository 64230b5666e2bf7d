package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.exporter.TestCertificates;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Connection floods and slow clients against both receivers, on real sockets: thousands of idle
 * connections, slowloris headers, slow bodies, slow TLS handshakes, HTTP/2 connections that never
 * start a call. Each is bounded by a connection limit or a timeout (configured short here; the
 * defaults are the Collector's), and a well-behaved client that holds a connection is served
 * throughout.
 */
@ExtendWith(NettyLeakCheck.class)
class SlowAndFloodingClientsTest {

  private static final int FLOOD = 2_000;
  private static final int LIMIT = 1_000;
  private static final Duration SHORT = Duration.ofMillis(500);

  private final RecordingSink sink = new RecordingSink();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private HttpReceiver http;
  private GrpcReceiver grpc;

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (http != null) {
      http.shutdown(Duration.ofSeconds(5));
      assertThat(http.memoryBudget().usedBytes()).as("budget back to 0").isZero();
    }
    if (grpc != null) {
      grpc.shutdown(Duration.ofSeconds(5));
      assertThat(grpc.memoryBudget().usedBytes()).as("budget back to 0").isZero();
    }
  }

  private static byte[] httpRequest() {
    byte[] body = OtlpGenerator.realisticTraces(3).toByteArray();
    byte[] head =
        ("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                + "Content-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /** A well-behaved OTLP/HTTP client on one keep-alive connection. */
  private RawHttp goodHttp() throws IOException {
    RawHttp c = new RawHttp(http.address());
    closeables.add(c);
    assertThat(exchange(c)).isEqualTo(200);
    return c;
  }

  private static int exchange(RawHttp c) throws IOException {
    assertThat(c.write(httpRequest())).isTrue();
    return c.read().status();
  }

  private ManagedChannel goodGrpc() {
    ManagedChannel ch = NettyChannelBuilder.forAddress(grpc.address()).usePlaintext().build();
    closeables.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    exportOnce(ch);
    return ch;
  }

  private static void exportOnce(ManagedChannel ch) {
    TraceServiceGrpc.newBlockingStub(ch)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .export(OtlpGenerator.realisticTraces(3));
  }

  private Socket raw(InetSocketAddress address) throws IOException {
    Socket s = new Socket();
    s.connect(address, 5_000);
    closeables.add(s);
    return s;
  }

  /** Whether the server closed {@code s} within {@code timeout}: its end of stream, or a reset. */
  private static boolean closedByServer(Socket s, Duration timeout) {
    try {
      s.setSoTimeout((int) timeout.toMillis());
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      while (true) {
        if (in.read(buf) < 0) {
          return true;
        }
      }
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"http", "grpc"})
  void aFloodOfIdleConnectionsIsBoundedAndTimedOutWhileAConnectedClientIsServed(String transport)
      throws Exception {
    InetSocketAddress address;
    Runnable goodRequest;
    java.util.function.IntSupplier open;
    if (transport.equals("http")) {
      http =
          HttpReceiver.builder(sink)
              .port(0)
              .maxConnections(LIMIT)
              .idleTimeout(Duration.ofSeconds(1))
              .build()
              .start();
      address = http.address();
      RawHttp good = goodHttp();
      goodRequest =
          () -> {
            try {
              assertThat(exchange(good)).isEqualTo(200);
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          };
      open = http::openConnections;
    } else {
      // Raw TCP connections that never send the HTTP/2 preface end at the handshake timeout.
      grpc =
          GrpcReceiver.builder(sink)
              .port(0)
              .connectionPolicy(
                  GrpcConnectionPolicy.builder()
                      .maxConnections(LIMIT)
                      .handshakeTimeout(Duration.ofSeconds(1))
                      .build())
              .build()
              .start();
      address = grpc.address();
      ManagedChannel good = goodGrpc();
      goodRequest = () -> exportOnce(good);
      open = grpc::openConnections;
    }
    int before = sink.received.size();
    // The well-behaved client keeps sending (no idle gap) while the flood opens its connections.
    CompletableFuture<Integer> served =
        CompletableFuture.supplyAsync(
            () -> {
              int ok = 0;
              for (int i = 0; i < 30; i++) {
                goodRequest.run();
                ok++;
              }
              return ok;
            });
    List<Socket> flood = new ArrayList<>();
    for (int i = 0; i < FLOOD; i++) {
      flood.add(raw(address));
    }
    assertThat(served.get(30, TimeUnit.SECONDS)).isEqualTo(30);
    assertThat(sink.received.size() - before).isEqualTo(30);
    assertThat(open.getAsInt()).as("open connections").isLessThanOrEqualTo(LIMIT);
    // Those over the limit were closed at once; the rest end at the idle or handshake timeout.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                flood.stream().filter(s -> closedByServer(s, Duration.ofMillis(1))).count()
                    >= FLOOD);
    await().atMost(Duration.ofSeconds(30)).until(() -> open.getAsInt() <= 1);
    // A new client gets in once the flood has been timed out.
    if (transport.equals("http")) {
      RawHttp late = new RawHttp(address);
      closeables.add(late);
      assertThat(exchange(late)).isEqualTo(200);
    } else {
      exportOnce(goodGrpc());
    }
  }

  @Test
  void slowlorisHeadersAreCutByTheReadHeaderTimeoutWhileOthersAreServed() throws Exception {
    http = HttpReceiver.builder(sink).port(0).readHeaderTimeout(SHORT).build().start();
    RawHttp good = goodHttp();
    byte[] head =
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nX-Pad: "
            .getBytes(StandardCharsets.US_ASCII);
    // One byte every 50 ms: the idle timeout (60 s) never runs out; only the header timeout ends
    // it. Bounded at 200 bytes (10 s).
    try (RawHttp slow = new RawHttp(http.address())) {
      int sent = 0;
      for (int i = 0; i < 200; i++) {
        byte b = i < head.length ? head[i] : (byte) 'a';
        if (!slow.write(new byte[] {b})) {
          break;
        }
        sent++;
        assertThat(exchange(good)).isEqualTo(200);
        Thread.sleep(50);
      }
      assertThat(sent).as("cut well before 200 bytes").isLessThan(100);
      assertThat(slow.closedByServer()).isTrue();
    }
  }

  @Test
  void aSlowlorisRequestPipelinedBehindACompleteOneIsCutToo() throws Exception {
    http = HttpReceiver.builder(sink).port(0).readHeaderTimeout(SHORT).build().start();
    try (RawHttp slow = new RawHttp(http.address())) {
      byte[] complete = httpRequest();
      byte[] both = new byte[complete.length + 5];
      System.arraycopy(complete, 0, both, 0, complete.length);
      System.arraycopy("POST ".getBytes(StandardCharsets.US_ASCII), 0, both, complete.length, 5);
      assertThat(slow.write(both)).isTrue();
      assertThat(slow.read().status()).isEqualTo(200);
      int sent = 0;
      for (int i = 0; i < 200 && slow.write("a"); i++) {
        sent++;
        Thread.sleep(50);
      }
      assertThat(sent).isLessThan(100);
    }
  }

  @Test
  void aSlowBodyIsCutByTheReadTimeoutAndReleasesItsReservation() throws Exception {
    http = HttpReceiver.builder(sink).port(0).readTimeout(SHORT).build().start();
    RawHttp good = goodHttp();
    try (RawHttp slow = new RawHttp(http.address())) {
      assertThat(
              slow.write(
                  "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                      + "Content-Length: 1000\r\n\r\n"))
          .isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> http.memoryBudget().usedBytes() >= 1000);
      int sent = 0;
      for (int i = 0; i < 200 && slow.write(new byte[] {0x0a}); i++) {
        sent++;
        assertThat(exchange(good)).isEqualTo(200);
        Thread.sleep(50);
      }
      assertThat(sent).isLessThan(100);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> http.memoryBudget().usedBytes() == 0 && http.inFlightRequests() == 0);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"http", "grpc"})
  void aSlowTlsHandshakeIsCut(String transport, @TempDir Path dir) throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    ReceiverTls tls = ReceiverTls.server(certs.serverCert, certs.serverKey);
    InetSocketAddress address;
    if (transport.equals("http")) {
      http = HttpReceiver.builder(sink).port(0).tls(tls).handshakeTimeout(SHORT).build().start();
      address = http.address();
    } else {
      grpc =
          GrpcReceiver.builder(sink)
              .port(0)
              .tls(tls)
              .connectionPolicy(GrpcConnectionPolicy.builder().handshakeTimeout(SHORT).build())
              .build()
              .start();
      address = grpc.address();
    }
    // The first bytes of a TLS ClientHello record, then one byte every 50 ms.
    Socket slow = raw(address);
    byte[] start = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03};
    int sent = 0;
    try {
      for (int i = 0; i < 200; i++) {
        slow.getOutputStream().write(i < start.length ? start[i] : 0x00);
        slow.getOutputStream().flush();
        sent++;
        Thread.sleep(50);
      }
    } catch (IOException e) {
      // the server closed it
    }
    assertThat(sent).as("cut well before 200 bytes").isLessThan(100);
  }

  @Test
  void anHttp2ConnectionWithoutCallsIsClosedAtMaxConnectionIdle() throws Exception {
    grpc =
        GrpcReceiver.builder(sink)
            .port(0)
            .connectionPolicy(GrpcConnectionPolicy.builder().maxConnectionIdle(SHORT).build())
            .build()
            .start();
    ManagedChannel good = goodGrpc();
    // Preface and SETTINGS, then a HEADERS frame of 1,000 bytes sent one byte every 50 ms: no
    // call starts, so the connection is idle in gRPC's sense and is closed with GOAWAY.
    try (RawHttp2 h2 = new RawHttp2(grpc.address())) {
      byte[] frameHeader = {
        0x00, 0x03, (byte) 0xe8, RawHttp2.HEADERS, RawHttp2.END_HEADERS, 0, 0, 0, 1
      };
      int sent = 0;
      for (int i = 0; i < 200; i++) {
        if (!h2.raw(new byte[] {i < frameHeader.length ? frameHeader[i] : (byte) 'a'})) {
          break;
        }
        sent++;
        exportOnce(good);
        if (h2.goAwayError() >= 0) {
          break;
        }
        Thread.sleep(50);
      }
      // grpc-java's graceful close follows (a PING the attacker never answers, then the final
      // GOAWAY and close about 10 s later): bounded, and not waited for here.
      assertThat(sent).as("GOAWAY well before 200 bytes").isLessThan(100);
      assertThat(h2.goAwayError()).as("GOAWAY NO_ERROR").isZero();
    }
  }
}
