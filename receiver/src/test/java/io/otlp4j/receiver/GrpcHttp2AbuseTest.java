package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ServerStreamTracer;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

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
  private GrpcReceiver receiver;
  private ManagedChannel good;

  @BeforeEach
  void start() {
    receiver =
        GrpcReceiver.builder(sink)
            .port(0)
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
        .withDeadlineAfter(10, TimeUnit.SECONDS)
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
   * grpc-java has no rate limit on SETTINGS frames: each is answered with an ACK, paced by TCP flow
   * control (a client that never reads is cut once 10,000 ACKs are queued beyond the socket
   * buffers: hundreds of thousands of frames on loopback, a minute on this machine, so measured in
   * docs/reliability.md, not here). What is checked: the flood costs only its own connection, the
   * server keeps nothing per frame (the ACK count matches) and other clients are served.
   */
  @Test
  void settingsFloodIsAnsweredFrameByFrameWhileOthersAreServed() throws Exception {
    int frames = 5_000;
    try (RawHttp2 h2 = new RawHttp2(receiver.address())) {
      int served =
          servedDuring(
              attack(
                  h2,
                  c -> {
                    byte[] payload = new byte[0];
                    for (int i = 0; i < frames; i++) {
                      c.frame(RawHttp2.SETTINGS, 0, 0, payload);
                      if (i % 1000 == 999) {
                        c.flush();
                      }
                    }
                    c.flush();
                  }));
      assertThat(served).isEqualTo(GOOD_REQUESTS);
      // The server's SETTINGS and its ACK of ours, then one ACK per flooded frame.
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> h2.framesRead() >= frames + 2);
      assertThat(h2.writeFailed()).isFalse();
    }
    assertThat(receiver.inFlightRequests()).isZero();
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
          .atMost(Duration.ofSeconds(10))
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
