package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.fastRetries;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.otlp4j.core.CircuitBreaker;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An upstream that is down, then up: the breaker opens (exports fail fast, retryable), half-opens,
 * closes; the caller re-sends what failed; in the end every export the caller was told was accepted
 * reached the server, and none reached it twice.
 */
@ExtendWith(NettyLeakCheck.class)
class CircuitBreakerRecoveryTest {

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void breakerOpensFailsFastThenClosesWhenTheServerComesBackAndNothingIsLostOrDuplicated(
      Protocol protocol) throws Exception {
    int port = MockOtlpServer.freePort(); // nothing listens there
    List<String> pending = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      pending.add("seq-" + i);
    }
    Set<String> acknowledged = new HashSet<>();
    boolean sawCircuitOpen = false;
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .protocol(protocol)
            .endpoint("http://127.0.0.1:" + port)
            .retryPolicy(fastRetries(2))
            .timeout(Duration.ofSeconds(2))
            .acquireTimeout(Duration.ofSeconds(1))
            .circuitBreaker(
                b ->
                    b.consecutiveFailureThreshold(3)
                        .openWait(Duration.ofMillis(300))
                        .halfOpen(1, 1))
            .ioThreads(1)
            .build()) {
      // Down: every export fails, retryably; after three failed attempts the breaker fails the rest
      // fast.
      for (String tag : new ArrayList<>(pending.subList(0, 6))) {
        Outcome r =
            exporter.export(Signal.LOGS, buffer(tagged(tag, 10)), 1).get(60, TimeUnit.SECONDS);
        assertThat(r.kind()).as(r.toString()).isEqualTo(Outcome.Kind.RETRYABLE);
        if (r.message().contains("circuit open") && r.attempts() == 0) {
          sawCircuitOpen = true; // failed fast: nothing was sent
        }
      }
      assertThat(sawCircuitOpen).isTrue();
      assertThat(exporter.circuitState(Signal.LOGS)).isEqualTo(CircuitBreaker.State.OPEN);
      assertThat(exporter.metricsText())
          .containsPattern(
              "otlp4j_exporter_circuit_state\\{(endpoint=\"http://127.0.0.1:"
                  + port
                  + "\",exporter=\"otlp(http)?\"|exporter=\"otlp(http)?\",endpoint=\"http://127.0.0.1:"
                  + port
                  + "\")\\} 2");

      // Up: the caller keeps re-sending what was not accepted until everything is.
      MockOtlpServer server =
          (protocol == Protocol.GRPC
                  ? MockOtlpServer.builder().grpcPort(port)
                  : MockOtlpServer.builder().httpPort(port).requireContentLength())
              .start();
      try {
        await()
            .atMost(Duration.ofSeconds(20))
            .pollInterval(Duration.ofMillis(50))
            .until(
                () -> {
                  for (String tag : new ArrayList<>(pending)) {
                    Outcome r =
                        exporter
                            .export(Signal.LOGS, buffer(tagged(tag, 10)), 1)
                            .get(60, TimeUnit.SECONDS);
                    if (r.isSuccess()) {
                      assertThat(acknowledged.add(tag)).isTrue();
                      pending.remove(tag);
                    }
                  }
                  return pending.isEmpty();
                });
        assertThat(exporter.circuitState(Signal.LOGS)).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(exporter.metricsText())
            .containsPattern("otlp4j_exporter_circuit_state\\{.*\\} 0");

        List<String> received = new ArrayList<>();
        server.requests().forEach(x -> received.add(TestRequests.tagOf(x.message())));
        assertThat(received).doesNotHaveDuplicates();
        assertThat(new HashSet<>(received)).isEqualTo(acknowledged);
        assertThat(acknowledged).hasSize(12);
      } finally {
        server.close();
      }
    }
  }

  /**
   * A retrying export that finds the circuit open keeps waiting (within its retry policy) instead
   * of ending: the relay's in-memory queues in ack mode received rely on it, or an outage that
   * opens the circuit drops data the clients were told was accepted (issue #12's flood scenario).
   */
  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void aRetryingExportWaitsOutAnOpenCircuitAndIsDeliveredWhenTheServerComesBack(Protocol protocol)
      throws Exception {
    int port = MockOtlpServer.freePort(); // nothing listens there
    RetryPolicy patient =
        RetryPolicy.builder()
            .initialDelay(Duration.ofMillis(50))
            .maxDelay(Duration.ofMillis(200))
            .multiplier(1.5)
            .maxAttempts(10_000)
            .maxElapsed(Duration.ofSeconds(60))
            .build();
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .protocol(protocol)
            .endpoint("http://127.0.0.1:" + port)
            .retryPolicy(patient)
            .timeout(Duration.ofSeconds(2))
            .acquireTimeout(Duration.ofSeconds(1))
            .circuitBreaker(
                b ->
                    b.consecutiveFailureThreshold(2).openWait(Duration.ofSeconds(1)).halfOpen(1, 1))
            .ioThreads(1)
            .build()) {
      CompletableFuture<Outcome> export =
          exporter.export(Signal.LOGS, buffer(tagged("waits", 10)), 1);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> exporter.circuitState(Signal.LOGS) == CircuitBreaker.State.OPEN);
      // Open: the export's next tries find the circuit open, and it must still be waiting, not
      // failed.
      await()
          .during(Duration.ofMillis(800))
          .atMost(Duration.ofSeconds(30))
          .until(() -> !export.isDone());

      MockOtlpServer server =
          (protocol == Protocol.GRPC
                  ? MockOtlpServer.builder().grpcPort(port)
                  : MockOtlpServer.builder().httpPort(port).requireContentLength())
              .start();
      try {
        Outcome r = export.get(60, TimeUnit.SECONDS);
        assertThat(r.kind()).as(r.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
        assertThat(server.acceptedCount()).isEqualTo(1);
      } finally {
        server.close();
      }
    }
  }
}
