package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.exporter.TestCertificates;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HTTP/2 abuse on the OTLP/gRPC port, each attack from a raw socket ({@link RawHttp2}) while a
 * well-behaved grpc-java client sends its requests on its own connection: the attacker's connection
 * is closed (with {@code GOAWAY} where the server gets to say why) after a bounded number of
 * frames, the well-behaved client completes every request, and nothing of the attack stays held
 * (calls in flight, memory budget, leaked buffers).
 */
@ExtendWith(NettyLeakCheck.class)
class GrpcHttp2AbuseTest {

  private static final String EXPORT_PATH =
      "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
  private static final int GOOD_REQUESTS = 20;

  private final RecordingSink sink = new RecordingSink();
  private final AtomicInteger streamsStarted = new AtomicInteger();
  private final MetricsRegistry registry = MetricsRegistry.create();
  private GrpcReceiver receiver;
  private ManagedChannel good;

  @BeforeEach
  void start() {
    receiver =
        GrpcReceiver.builder(sink)
            .port(0)
            .metrics(registry)
            .observeStreams(
                new ServerStreamTracer.Factory() {
                  @Override
                  public ServerStreamTracer newServerStreamTracer(
                      String fullMethodName, io.grpc.Metadata headers) {
                    streamsStarted.incrementAndGet();
                    return new ServerStreamTracer() {};
                  }
                })
            .build()
            .start();
    good = NettyChannelBuilder.forAddress(receiver.address()).usePlaintext().build();
    // Connect the well-behaved client before the attack.
    exportOnce();
  }

  @AfterEach
  void stop() throws Exception {
    good.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    receiver.shutdown(Duration.ofSeconds(5));
    assertThat(receiver.memoryBudget().usedBytes()).as("budget back to 0").isZero();
  }

  private void exportOnce() {
    TraceServiceGrpc.newBlockingStub(good)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .export(OtlpGenerator.realisticTraces(3));
  }

  /** The well-behaved client's requests, sent while {@code attack} runs; returns how many ended. */
  private int servedDuring(Supplier<Void> attack) throws Exception {
    CompletableFuture<Integer> served =
        CompletableFuture.supplyAsync(
            () -> {
              int ok = 0;
              for (int i = 0; i < GOOD_REQUESTS; i++) {
                exportOnce();
                ok++;
              }
              return ok;
            });
    attack.get();
    return served.get(30, TimeUnit.SECONDS);
  }

  private interface Attack {
    void run(RawHttp2 h2) throws Exception;
  }

  private static Supplier<Void> attack(RawHttp2 h2, Attack a) {
    return () -> {
      try {
        a.run(h2);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return null;
    };
  }

  @Test
  void rapidResetEndsTheConnectionWithEnhanceYourCalm() throws Exception {
    int[] pairs = {0};
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      byte[] headers = h2.requestHeaders(EXPORT_PATH);
      int served =
          servedDuring(
              attack(
                  h2,
                  c -> {
                    // CVE-2023-44487: open a stream and cancel it at once, 20,000 times.
                    for (int i = 0; i < 20_000; i++) {
                      int stream = 2 * i + 1;
                      if (!c.frame(RawHttp2.HEADERS, RawHttp2.END_HEADERS, stream, headers)
                          || !c.rstStream(stream, 8)
                          || (i % 50 == 49 && !c.flush())) {
                        break;
                      }
                      pairs[0]++;
                    }
                    c.flush();
                  }));
      assertThat(h2.awaitClosed(Duration.ofSeconds(10)))
          .as("attacker's connection closed")
          .isTrue();
      assertThat(h2.goAwayError()).isEqualTo(RawHttp2.ENHANCE_YOUR_CALM);
      assertThat(served).isEqualTo(GOOD_REQUESTS);
    }
    // At most the allowed RST_STREAMs (200 per 30 s) reached grpc-java as calls, plus what was in
    // the socket when the GOAWAY went out; never the 20,000 sent.
    assertThat(streamsStarted.get()).isLessThan(2_000);
    assertThat(receiver.inFlightRequests()).isZero();
  }

  /**
   * Rapid reset from an attacker that flushes each HEADERS + RST_STREAM pair: the connection has
   * been answered no call, so it is ended after {@link
   * GrpcConnectionPolicy#DEFAULT_MAX_UNANSWERED_RESETS} resets, and no more calls than that reach
   * grpc-java. Before the bound, grpc-java (Netty's 200 resets per 30 s) created and cancelled 200
   * calls for each such connection, and an attacker that reconnects at once got 200 more on each.
   */
  @Test
  void rapidResetOnAConnectionAnsweredNothingIsCutAfterTheUnansweredResetBudget() throws Exception {
    int before = streamsStarted.get();
    int pairs = 0;
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      byte[] headers = h2.requestHeaders(EXPORT_PATH);
      for (int i = 0; i < 1_000; i++) {
        int stream = 2 * i + 1;
        if (!h2.frame(RawHttp2.HEADERS, RawHttp2.END_HEADERS, stream, headers)
            || !h2.rstStream(stream, 8)
            || !h2.flush()) {
          break;
        }
        pairs++;
      }
      assertThat(h2.awaitClosed(Duration.ofSeconds(10)))
          .as("attacker's connection closed after %s pairs", pairs)
          .isTrue();
      assertThat(h2.goAwayError()).isEqualTo(RawHttp2.ENHANCE_YOUR_CALM);
      assertThat(h2.goAwayDebug()).isEqualTo(Http2ControlFrameGuard.RESETS_GOAWAY_DEBUG);
    }
    // The HEADERS of the reset over the budget may have reached grpc-java in an earlier read.
    assertThat(streamsStarted.get() - before)
        .as("calls created for the attacker")
        .isLessThanOrEqualTo(GrpcConnectionPolicy.DEFAULT_MAX_UNANSWERED_RESETS + 1);
    assertThat(resetFloods("otlp")).isEqualTo(1);
    assertThat(floods()).isZero();
    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.inFlightRequests() == 0);
    // The well-behaved client's connection is untouched.
    exportOnce();
    assertThat(receiver.openConnections()).isEqualTo(1);
  }

  /**
   * grpc-java's client resets a call it cancels, or whose deadline passes ({@code RST_STREAM
   * CANCEL}). On a fresh connection it cancels 15 calls before any is answered (within the default
   * budget of 20), then runs rounds of 10 answered calls and 10 calls whose deadline passes: 55
   * resets in all, each beyond the first 15 paid for by an answered call, so the connection is
   * never cut. With a budget of 10 the same client is cut during its first 15 cancellations: its
   * resets are counted, and the budget is what keeps it.
   */
  @ParameterizedTest(name = "maxUnansweredResets {0}")
  @ValueSource(ints = {10, GrpcConnectionPolicy.DEFAULT_MAX_UNANSWERED_RESETS})
  void aClientThatCancelsCallsIsCutOnlyPastTheBudget(int budget) throws Exception {
    cancelsCalls(budget, null);
  }

  /**
   * The same over TLS: the guard sits between the TLS handler and the HTTP/2 codec, so the answers
   * it counts are the plaintext frames before encryption. Were they not counted, the client's 55
   * resets would cut it at the default budget.
   */
  @ParameterizedTest(name = "maxUnansweredResets {0}")
  @ValueSource(ints = {10, GrpcConnectionPolicy.DEFAULT_MAX_UNANSWERED_RESETS})
  void overTlsAClientThatCancelsCallsIsCutOnlyPastTheBudget(int budget, @TempDir Path dir)
      throws Exception {
    cancelsCalls(budget, TestCertificates.create(dir));
  }

  private void cancelsCalls(int budget, TestCertificates certs) throws Exception {
    GrpcReceiver.Builder builder =
        GrpcReceiver.builder(sink)
            .port(0)
            .metrics(registry)
            .name("cancels")
            .connectionPolicy(GrpcConnectionPolicy.builder().maxUnansweredResets(budget).build());
    if (certs != null) {
      builder.tls(ReceiverTls.server(certs.serverCert, certs.serverKey));
    }
    GrpcReceiver r = builder.build().start();
    ManagedChannel client =
        certs == null
            ? NettyChannelBuilder.forAddress(r.address()).usePlaintext().build()
            : NettyChannelBuilder.forAddress("localhost", r.address().getPort())
                .sslContext(
                    io.grpc.netty.GrpcSslContexts.forClient()
                        .trustManager(certs.caCert.toFile())
                        .build())
                .build();
    try {
      TraceServiceGrpc.TraceServiceFutureStub stub = TraceServiceGrpc.newFutureStub(client);
      ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(3);
      sink.hold = true;
      List<ListenableFuture<?>> cancelled = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        cancelled.add(stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(request));
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 15);
      cancelled.forEach(f -> f.cancel(true));
      if (budget < 15) {
        await().atMost(Duration.ofSeconds(10)).until(() -> resetFloods("cancels") == 1);
        return;
      }
      for (int round = 0; round < 4; round++) {
        sink.releaseHeld();
        for (int i = 0; i < 10; i++) {
          stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(request).get(30, TimeUnit.SECONDS);
        }
        assertThat(timeOut(stub, request, 10)).as("deadline exceeded").isEqualTo(10);
      }
      sink.releaseHeld();
      stub.withDeadlineAfter(30, TimeUnit.SECONDS).export(request).get(30, TimeUnit.SECONDS);
      assertThat(resetFloods("cancels")).isZero();
      assertThat(r.openConnections()).isEqualTo(1);
    } finally {
      sink.releaseHeld();
      client.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      r.shutdown(Duration.ofSeconds(5));
    }
  }

  /** Sends {@code n} calls that the sink holds past their deadline; returns how many timed out. */
  private int timeOut(
      TraceServiceGrpc.TraceServiceFutureStub stub, ExportTraceServiceRequest request, int n)
      throws Exception {
    sink.hold = true;
    List<ListenableFuture<?>> calls = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      calls.add(stub.withDeadlineAfter(200, TimeUnit.MILLISECONDS).export(request));
    }
    int timedOut = 0;
    for (ListenableFuture<?> f : calls) {
      try {
        f.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (Status.fromThrowable(e.getCause()).getCode() == Status.Code.DEADLINE_EXCEEDED) {
          timedOut++;
        }
      }
    }
    return timedOut;
  }

  /**
   * Frames that carry no call, each sent 20,000 times on one connection after one call was opened
   * (so that empty DATA frames have a stream). grpc-java and Netty answer or process every one of
   * them without a rate limit; the receiver's {@link Http2ControlFrameGuard} ends the connection
   * once it is past {@link GrpcConnectionPolicy#DEFAULT_MAX_CONTROL_FRAMES} (plus the call's
   * credit).
   */
  enum NoCallFrame {
    SETTINGS(RawHttp2.SETTINGS, 0, 0, new byte[0]),
    PING_ACK(RawHttp2.PING, RawHttp2.ACK, 0, new byte[8]),
    WINDOW_UPDATE(RawHttp2.WINDOW_UPDATE, 0, 0, RawHttp2.int32(1)),
    PRIORITY(RawHttp2.PRIORITY, 0, 3, new byte[] {0, 0, 0, 0, 15}),
    EMPTY_DATA(RawHttp2.DATA, 0, 1, new byte[0]),
    UNKNOWN_TYPE(0x2a, 0, 0, new byte[0]);

    final int type;
    final int flags;
    final int stream;
    final byte[] payload;

    NoCallFrame(int type, int flags, int stream, byte[] payload) {
      this.type = type;
      this.flags = flags;
      this.stream = stream;
      this.payload = payload;
    }
  }

  /** The most frames of no call one connection gets through: the default plus one call's credit. */
  private static final int ALLOWED =
      GrpcConnectionPolicy.DEFAULT_MAX_CONTROL_FRAMES
          + Http2ControlFrameGuard.CREDIT_PER_CALL_FRAME;

  private int flood(RawHttp2 c, NoCallFrame kind, byte[] headers) {
    int sent = 0;
    c.frame(RawHttp2.HEADERS, RawHttp2.END_HEADERS, 1, headers);
    for (int i = 0; i < 20_000; i++) {
      if (!c.frame(kind.type, kind.flags, kind.stream, kind.payload)
          || (i % 100 == 99 && !c.flush())) {
        break;
      }
      sent++;
    }
    c.flush();
    return sent;
  }

  /**
   * Before the guard, a SETTINGS flood was answered frame by frame for as long as the client read
   * the ACKs (20,000 in 8 s here; a client that never read was cut only after 636,000 or more, once
   * grpc-java had 10,000 ACKs queued), and the other kinds were processed for ever.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(NoCallFrame.class)
  void aFloodOfFramesThatCarryNoCallEndsTheConnectionWithEnhanceYourCalm(NoCallFrame kind)
      throws Exception {
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      byte[] headers = h2.requestHeaders(EXPORT_PATH);
      int served = servedDuring(attack(h2, c -> flood(c, kind, headers)));
      assertThat(h2.awaitClosed(Duration.ofSeconds(10)))
          .as("attacker's connection closed")
          .isTrue();
      assertThat(h2.goAwayError()).isEqualTo(RawHttp2.ENHANCE_YOUR_CALM);
      assertThat(h2.goAwayDebug()).isEqualTo(Http2ControlFrameGuard.GOAWAY_DEBUG);
      // What the server wrote to it: its SETTINGS, the ACK of the preface's, at most one answer
      // per allowed frame, the GOAWAY: the flood cost a bounded number of answers.
      assertThat(h2.framesRead()).isLessThanOrEqualTo(ALLOWED + 3L);
      assertThat(served).isEqualTo(GOOD_REQUESTS);
    }
    assertThat(floods()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.inFlightRequests() == 0);
    await().atMost(Duration.ofSeconds(30)).until(() -> receiver.openConnections() == 1);
  }

  /**
   * A client that never reads: its connection is closed all the same (the GOAWAY cannot be written
   * into its full window; the close follows a second later), after at most {@link #ALLOWED} answers
   * were queued for it.
   */
  @Test
  void aSettingsFloodFromAClientThatNeverReadsIsClosed() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(receiver.address(), true, false)) {
      byte[] headers = h2.requestHeaders(EXPORT_PATH);
      int served = servedDuring(attack(h2, c -> flood(c, NoCallFrame.SETTINGS, headers)));
      assertThat(served).isEqualTo(GOOD_REQUESTS);
      await().atMost(Duration.ofSeconds(30)).until(() -> receiver.openConnections() == 1);
    }
    assertThat(floods()).isEqualTo(1);
  }

  /** Over TLS the guard reads the frames after the TLS layer, and ends the flood the same way. */
  @Test
  void aSettingsFloodOverTlsEndsTheConnection(@TempDir Path dir) throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    GrpcReceiver tls =
        GrpcReceiver.builder(sink)
            .port(0)
            .tls(ReceiverTls.server(certs.serverCert, certs.serverKey))
            .metrics(registry)
            .name("tls")
            .build()
            .start();
    try {
      SSLContext context =
          ((JdkSslContext)
                  SslContextBuilder.forClient()
                      .sslProvider(SslProvider.JDK)
                      .trustManager(certs.caCert.toFile())
                      .build())
              .context();
      SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket();
      SSLParameters params = socket.getSSLParameters();
      params.setApplicationProtocols(new String[] {"h2"});
      socket.setSSLParameters(params);
      socket.connect(tls.address(), 5_000);
      socket.startHandshake();
      try (RawHttp2 h2 = new RawHttp2(socket, true, true)) {
        byte[] headers = h2.requestHeaders(EXPORT_PATH);
        int served = servedDuring(attack(h2, c -> flood(c, NoCallFrame.SETTINGS, headers)));
        assertThat(served).isEqualTo(GOOD_REQUESTS);
        assertThat(h2.awaitClosed(Duration.ofSeconds(10)))
            .as(
                "closed; read %s frames, GOAWAY %s, write failed %s, floods %s",
                h2.framesRead(), h2.goAwayDebug(), h2.writeFailed(), floods("tls"))
            .isTrue();
        assertThat(h2.goAwayDebug()).isEqualTo(Http2ControlFrameGuard.GOAWAY_DEBUG);
        assertThat(h2.framesRead()).isLessThanOrEqualTo(ALLOWED + 3L);
      }
    } finally {
      tls.shutdown(Duration.ofSeconds(5));
    }
  }

  /**
   * A busy well-behaved client is not mistaken for a flood: 300 calls, 16 at a time, on one
   * grpc-java connection (whose client sends flow-control pings and window updates as it reads the
   * answers) all succeed and no connection is ended.
   */
  @Test
  void aBusyWellBehavedClientIsNotCut() throws Exception {
    byte[] request = OtlpGenerator.realisticTraces(3).toByteArray();
    TraceServiceGrpc.TraceServiceFutureStub stub = TraceServiceGrpc.newFutureStub(good);
    List<ListenableFuture<?>> window = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      window.add(
          stub.withDeadlineAfter(30, TimeUnit.SECONDS)
              .export(ExportTraceServiceRequest.parseFrom(request)));
      if (window.size() == 16) {
        for (ListenableFuture<?> f : window) {
          f.get(30, TimeUnit.SECONDS);
        }
        window.clear();
      }
    }
    for (ListenableFuture<?> f : window) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertThat(floods()).isZero();
    assertThat(receiver.openConnections()).isEqualTo(1);
  }

  private long floods() {
    return floods("otlp");
  }

  private long resetFloods(String receiverName) {
    return registry
        .counter(
            Http2ControlFrameGuard.RESET_FLOODS_METRIC,
            Http2ControlFrameGuard.RESET_FLOODS_HELP,
            "receiver",
            receiverName)
        .get();
  }

  private long floods(String receiverName) {
    return registry
        .counter(
            Http2ControlFrameGuard.FLOODS_METRIC,
            Http2ControlFrameGuard.FLOODS_HELP,
            "receiver",
            receiverName)
        .get();
  }

  @Test
  void pingFloodWithoutCallsIsEndedWithTooManyPings() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      int[] sent = {0};
      int served =
          servedDuring(
              attack(
                  h2,
                  c -> {
                    for (int i = 0; i < 100_000; i++) {
                      if (!c.frame(RawHttp2.PING, 0, 0, new byte[8])
                          || (i % 100 == 99 && !c.flush())) {
                        break;
                      }
                      sent[0]++;
                    }
                    c.flush();
                  }));
      assertThat(h2.awaitClosed(Duration.ofSeconds(10))).isTrue();
      assertThat(h2.goAwayError()).isEqualTo(RawHttp2.ENHANCE_YOUR_CALM);
      assertThat(h2.goAwayDebug()).contains("too_many_pings");
      assertThat(served).isEqualTo(GOOD_REQUESTS);
    }
  }

  @Test
  void continuationFloodIsCutAtTheHeaderListLimit() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      byte[] headers = h2.requestHeaders(EXPORT_PATH);
      // CVE-2024-27316 class: HEADERS without END_HEADERS, then CONTINUATION frames that never end
      // the block, each carrying 16 KiB of a literal header; up to 64 MiB offered.
      byte[] literal = new byte[16 * 1024];
      Arrays.fill(literal, (byte) 'a');
      long[] sent = {0};
      int served =
          servedDuring(
              attack(
                  h2,
                  c -> {
                    c.frame(RawHttp2.HEADERS, 0, 1, headers);
                    for (int i = 0; i < 4096; i++) {
                      if (!c.frame(RawHttp2.CONTINUATION, 0, 1, literal) || !c.flush()) {
                        break;
                      }
                      sent[0] += literal.length;
                    }
                  }));
      assertThat(h2.awaitClosed(Duration.ofSeconds(10))).isTrue();
      assertThat(h2.goAwayError()).as("GOAWAY sent").isGreaterThanOrEqualTo(0);
      assertThat(sent[0]).as("cut long before 64 MiB").isLessThan(24L * 1024 * 1024);
      assertThat(served).isEqualTo(GOOD_REQUESTS);
    }
    assertThat(streamsStarted.get()).as("no call was started from it").isEqualTo(1 + GOOD_REQUESTS);
  }

  @Test
  void emptyContinuationFloodIsCut() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      byte[] headers = h2.requestHeaders(EXPORT_PATH);
      long[] sent = {0};
      int served =
          servedDuring(
              attack(
                  h2,
                  c -> {
                    c.frame(RawHttp2.HEADERS, 0, 1, headers);
                    for (int i = 0; i < 50_000; i++) {
                      if (!c.frame(RawHttp2.CONTINUATION, 0, 1, new byte[0])
                          || (i % 1000 == 999 && !c.flush())) {
                        break;
                      }
                      sent[0]++;
                    }
                    c.flush();
                  }));
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> h2.goAwayError() >= 0);
      // Netty refuses more than 16 small CONTINUATION frames in a row.
      assertThat(h2.goAwayError()).isEqualTo(RawHttp2.ENHANCE_YOUR_CALM);
      assertThat(served).isEqualTo(GOOD_REQUESTS);
    }
  }

  @Test
  void aHugeHeaderListEndsTheConnection() throws Exception {
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      // 1 MiB of headers in one block: HEADERS then CONTINUATIONs of 16 KiB, the last ending it.
      byte[] block = h2.requestHeaders(EXPORT_PATH, "x-big", "b".repeat(1024 * 1024));
      int served =
          servedDuring(
              attack(
                  h2,
                  c -> {
                    int chunk = 16 * 1024;
                    c.frame(RawHttp2.HEADERS, 0, 1, Arrays.copyOfRange(block, 0, chunk));
                    for (int off = chunk; off < block.length; off += chunk) {
                      int end = Math.min(block.length, off + chunk);
                      if (!c.frame(
                              RawHttp2.CONTINUATION,
                              end == block.length ? RawHttp2.END_HEADERS : 0,
                              1,
                              Arrays.copyOfRange(block, off, end))
                          || !c.flush()) {
                        break;
                      }
                    }
                    c.flush();
                  }));
      assertThat(h2.awaitClosed(Duration.ofSeconds(10))).isTrue();
      assertThat(h2.goAwayError()).as("GOAWAY sent").isGreaterThanOrEqualTo(0);
      assertThat(served).isEqualTo(GOOD_REQUESTS);
    }
    assertThat(streamsStarted.get()).as("no call was started from it").isEqualTo(1 + GOOD_REQUESTS);
  }
}
