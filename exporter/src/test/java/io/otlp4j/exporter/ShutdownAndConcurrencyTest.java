package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Shutdown drains to a deadline; the in-flight bound holds; nothing blocks. */
@ExtendWith(NettyLeakCheck.class)
class ShutdownAndConcurrencyTest {

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void shutdownLetsInFlightExportsFinishThenRefusesNewOnes(Protocol protocol) throws Exception {
    try (MockOtlpServer server = MockOtlpServer.builder().requireContentLength().start()) {
      server.enqueue(Answer.ok().delayed(Duration.ofMillis(300)));
      OtlpExporter exporter =
          OtlpExporter.builder()
              .protocol(protocol)
              .endpoint(protocol == Protocol.GRPC ? server.grpcEndpoint() : server.httpEndpoint())
              .ioThreads(1)
              .build();
      CompletableFuture<Outcome> inFlight =
          exporter.export(Signal.LOGS, buffer(tagged("a", 10)), 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> server.requestCount() == 1);

      // a grace period far longer than the 300 ms answer, so that a stalled machine cannot turn
      // the in-flight export into a cancelled one
      CompletableFuture<Void> done = exporter.shutdown(Duration.ofSeconds(30));
      Outcome refused =
          exporter.export(Signal.LOGS, buffer(tagged("b", 10)), 1).get(10, TimeUnit.SECONDS);

      assertThat(refused.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
      assertThat(refused.message()).contains("shut down");
      assertThat(inFlight.get(30, TimeUnit.SECONDS).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
      done.get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void atTheShutdownDeadlineAnExportWaitingToRetryEndsRetryable() throws Exception {
    try (MockOtlpServer grpc = MockOtlpServer.started()) {
      grpc.enqueue(Answer.grpcStatus(Status.UNAVAILABLE));
      OtlpExporter exporter =
          OtlpExporter.builder()
              .protocol(Protocol.GRPC)
              .endpoint(grpc.grpcEndpoint())
              .retryPolicy(
                  RetryPolicy.builder()
                      .initialDelay(Duration.ofSeconds(30))
                      .maxDelay(Duration.ofSeconds(30))
                      .jitter(RetryPolicy.Jitter.NONE)
                      .maxElapsed(Duration.ofMinutes(5))
                      .build())
              .ioThreads(1)
              .build();
      CompletableFuture<Outcome> waiting = exporter.export(Signal.LOGS, buffer(tagged("a", 10)), 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> grpc.requestCount() == 1);

      exporter.shutdown(Duration.ofMillis(200)).get(30, TimeUnit.SECONDS);

      Outcome r = waiting.get(10, TimeUnit.SECONDS);
      assertThat(r.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
      assertThat(r.message()).contains("shut down");
      assertThat(grpc.requestCount()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void atTheShutdownDeadlineARequestStillOnTheWireIsCancelledAndEndsRetryable(Protocol protocol)
      throws Exception {
    CompletableFuture<Void> never = new CompletableFuture<>();
    try (MockOtlpServer server = MockOtlpServer.builder().requireContentLength().start()) {
      // the answer comes only after the test: only the shutdown deadline can end the export
      server.enqueue(Answer.ok().heldUntil(never));
      OtlpExporter exporter =
          OtlpExporter.builder()
              .protocol(protocol)
              .endpoint(protocol == Protocol.GRPC ? server.grpcEndpoint() : server.httpEndpoint())
              .timeout(Duration.ofSeconds(30))
              .ioThreads(1)
              .build();
      CompletableFuture<Outcome> onTheWire =
          exporter.export(Signal.LOGS, buffer(tagged("a", 10)), 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> server.requestCount() == 1);
      long start = System.nanoTime();

      exporter.shutdown(Duration.ofMillis(200)).get(30, TimeUnit.SECONDS);

      Outcome r = onTheWire.get(10, TimeUnit.SECONDS);
      assertThat(r.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
      // well before the exporter's own 30 s timeout could have ended it
      assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(20));
    } finally {
      never.complete(null);
    }
  }

  @Test
  void exportsInFlightPerEndpointNeverExceedTheBoundAndTheOverflowFailsFastRetryable()
      throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    try (MockOtlpServer http = MockOtlpServer.builder().requireContentLength().start()) {
      for (int i = 0; i < 40; i++) {
        http.enqueue(Answer.ok().heldUntil(release).delayed(Duration.ofMillis(20)));
      }
      try (OtlpExporter exporter =
          OtlpExporter.builder()
              .protocol(Protocol.HTTP_PROTOBUF)
              .endpoint(http.httpEndpoint())
              .maxInFlight(3, 30)
              .maxConnections(16)
              .ioThreads(1)
              .build()) {
        List<CompletableFuture<Outcome>> results = new ArrayList<>();
        // export() returns for all 40 while the server answers none: it never waits for a
        // response (an export() that did would never return here)
        CompletableFuture.runAsync(
                () -> {
                  for (int i = 0; i < 40; i++) {
                    results.add(exporter.export(Signal.LOGS, buffer(tagged("c" + i, 10)), 1));
                  }
                })
            .get(30, TimeUnit.SECONDS);
        assertThat(results).noneMatch(f -> f.isDone() && f.join().isSuccess());
        release.complete(null);
        int accepted = 0;
        int refused = 0;
        for (CompletableFuture<Outcome> f : results) {
          Outcome r = f.get(20, TimeUnit.SECONDS);
          if (r.isSuccess()) {
            accepted++;
          } else {
            assertThat(r.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
            assertThat(r.message()).contains("too many exports in flight");
            refused++;
          }
        }
        assertThat(accepted).isGreaterThanOrEqualTo(33);
        assertThat(accepted + refused).isEqualTo(40);
        assertThat(http.maxInFlight()).isLessThanOrEqualTo(3);
      }
    } finally {
      release.complete(null);
    }
  }
}
