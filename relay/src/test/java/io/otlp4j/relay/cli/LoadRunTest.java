package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.wire.Signal;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The open loop's clock against a real grpc-java server: a client that falls behind its own
 * schedule is charged for it in the latency from when each request was due (no coordinated
 * omission), and the summary also says how late the requests left the client, apart.
 */
class LoadRunTest {

  @Test
  void aClientStallIsInTheLatencyFromDueAndReportedApartAsTheClientsOwnLag() throws Exception {
    try (MockOtlpServer server = MockOtlpServer.started()) {
      OtlpExporter exporter =
          OtlpExporter.builder()
              .name("load-run-test")
              .protocol(Protocol.GRPC)
              .endpoint(server.grpcEndpoint())
              .build();
      SyntheticRequests synthetic = new SyntheticRequests(Signal.TRACES, 2, 42);
      AtomicInteger built = new AtomicInteger();
      // The client's own stall (as a GC pause of the sender would be): building the third request
      // takes 300 ms, so it and the requests due meanwhile (every 20 ms) leave late.
      Supplier<ByteBuf> payloads =
          () -> {
            if (built.incrementAndGet() == 3) {
              try {
                Thread.sleep(300);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return synthetic.next(ByteBufAllocator.DEFAULT);
          };
      LoadRun run =
          new LoadRun(
              exporter, Signal.TRACES, 2, payloads, 50, 64, 20, TimeUnit.SECONDS.toNanos(30), 0);
      try {
        run.start();
        assertThat(run.await(30, TimeUnit.SECONDS)).isTrue();
        LoadRun.Snapshot s = run.snapshot();

        assertThat(s.succeeded).as("%s", s.errorSamples).isEqualTo(20);
        assertThat(s.sendLagMicros.getTotalCount()).isEqualTo(20);
        assertThat(s.fromSendMicros.getTotalCount()).isEqualTo(20);
        // The stalled request left >= 300 ms after it was due, and so did those due at 20-280 ms
        // after it, less their offsets: at least 10 left >= 100 ms late.
        assertThat(s.sendLagMicros.getMaxValue()).isGreaterThanOrEqualTo(300_000);
        assertThat(s.sendLagMicros.getCountBetweenValues(100_000, Long.MAX_VALUE / 4))
            .isGreaterThanOrEqualTo(10);
        // From when it was due, the stall is counted: the open loop does not hide it.
        assertThat(s.latencyMicros.getMaxValue()).isGreaterThanOrEqualTo(300_000);
        assertThat(s.latencyMicros.getCountBetweenValues(100_000, Long.MAX_VALUE / 4))
            .isGreaterThanOrEqualTo(10);
        // Each request's latency from when it left is part of its latency from when it was due.
        assertThat(s.fromSendMicros.getMaxValue())
            .isLessThanOrEqualTo(s.latencyMicros.getMaxValue());
      } finally {
        run.close();
        exporter.close();
      }
    }
  }

  @Test
  void aClosedLoopHasNoScheduleToBeLateFor() throws Exception {
    try (MockOtlpServer server = MockOtlpServer.started()) {
      OtlpExporter exporter =
          OtlpExporter.builder()
              .name("load-run-test")
              .protocol(Protocol.GRPC)
              .endpoint(server.grpcEndpoint())
              .build();
      SyntheticRequests synthetic = new SyntheticRequests(Signal.TRACES, 2, 7);
      LoadRun run =
          new LoadRun(
              exporter,
              Signal.TRACES,
              2,
              () -> synthetic.next(ByteBufAllocator.DEFAULT),
              0,
              4,
              12,
              TimeUnit.SECONDS.toNanos(30),
              0);
      try {
        run.start();
        assertThat(run.await(30, TimeUnit.SECONDS)).isTrue();
        LoadRun.Snapshot s = run.snapshot();

        assertThat(s.succeeded).as("%s", s.errorSamples).isEqualTo(12);
        assertThat(s.sendLagMicros.getTotalCount()).isZero();
        assertThat(s.fromSendMicros.getTotalCount()).isEqualTo(12);
      } finally {
        run.close();
        exporter.close();
      }
    }
  }
}
