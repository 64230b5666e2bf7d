package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.fastRetries;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An exception in our own code while sending is a local failure: counted, retried, never the
 * upstream's permanent rejection; and {@link OtlpExporter#exportOnce} leaves the retries, with the
 * server's delay, to its caller. Against a real grpc-java server.
 */
@ExtendWith(NettyLeakCheck.class)
class LocalFailureTest {

  /** Throws from {@code send} for the first {@code failures} attempts, as a bug of ours would. */
  static final class ThrowingTransport implements Transport {
    final Transport real;
    final AtomicInteger failuresLeft;
    final java.util.function.Supplier<Throwable> fault;

    ThrowingTransport(Transport real, int failures, java.util.function.Supplier<Throwable> fault) {
      this.real = real;
      this.failuresLeft = new AtomicInteger(failures);
      this.fault = fault;
    }

    @Override
    public String endpointKey(Signal signal) {
      return real.endpointKey(signal);
    }

    @Override
    public void send(
        Signal signal, ByteBuf payload, long timeoutNanos, Consumer<AttemptOutcome> done) {
      if (failuresLeft.getAndDecrement() > 0) {
        Throwable t = fault.get();
        if (t instanceof Error e) {
          throw e;
        }
        throw (RuntimeException) t;
      }
      real.send(signal, payload, timeoutNanos, done);
    }

    @Override
    public CompletableFuture<Void> shutdown() {
      return real.shutdown();
    }

    @Override
    public void shutdownNow() {
      real.shutdownNow();
    }
  }

  private MockOtlpServer server;
  private final MetricsRegistry metrics = MetricsRegistry.create();

  @BeforeEach
  void start() throws Exception {
    server = MockOtlpServer.started();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private OtlpExporter exporter(int failures, java.util.function.Supplier<Throwable> fault) {
    return OtlpExporter.builder()
        .protocol(Protocol.GRPC)
        .endpoint(server.grpcEndpoint())
        .name("local")
        .retryPolicy(fastRetries(5))
        .timeout(Duration.ofSeconds(15))
        .ioThreads(1)
        .metricsRegistry(metrics)
        .transportDecorator(t -> new ThrowingTransport(t, failures, fault))
        .build();
  }

  private long localFailures() {
    return metrics
        .counter(
            OtlpExporter.LOCAL_FAILURES_METRIC,
            OtlpExporter.LOCAL_FAILURES_HELP,
            "exporter",
            "local")
        .get();
  }

  @Test
  void aRuntimeExceptionFromTheTransportIsRetriedAndTheUpstreamGetsTheData() throws Exception {
    try (OtlpExporter exporter = exporter(2, () -> new IllegalStateException("injected bug"))) {
      Outcome result =
          exporter.export(Signal.LOGS, buffer(tagged("a", 100)), 1).get(60, TimeUnit.SECONDS);
      assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
      assertThat(result.attempts()).isEqualTo(3);
    }
    assertThat(server.acceptedCount()).isEqualTo(1);
    assertThat(localFailures()).isEqualTo(2);
  }

  @Test
  void anErrorFromTheTransportIsALocalFailureTooAndReleasesThePermit() throws Exception {
    try (OtlpExporter exporter =
        exporter(1, () -> new OutOfMemoryError("injected: cannot allocate"))) {
      Outcome result =
          exporter.export(Signal.LOGS, buffer(tagged("a", 100)), 1).get(60, TimeUnit.SECONDS);
      assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
      // the in-flight permit came back: later exports go through
      for (int i = 0; i < 3; i++) {
        assertThat(
                exporter
                    .export(Signal.LOGS, buffer(tagged("b" + i, 10)), 1)
                    .get(60, TimeUnit.SECONDS)
                    .kind())
            .isEqualTo(Outcome.Kind.ACCEPTED);
      }
    }
    assertThat(server.acceptedCount()).isEqualTo(4);
  }

  @Test
  void exportOnceReportsALocalFailureNeverAPermanentRejection() throws Exception {
    try (OtlpExporter exporter = exporter(1, () -> new IllegalStateException("injected bug"))) {
      Outcome result =
          exporter.exportOnce(Signal.LOGS, buffer(tagged("a", 100)), 1).get(60, TimeUnit.SECONDS);
      assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.LOCAL_FAILURE);
      assertThat(result.isRetryable()).isTrue();
      assertThat(result.cause()).isInstanceOf(IllegalStateException.class);
    }
    assertThat(server.requestCount()).isZero();
    assertThat(localFailures()).isEqualTo(1);
  }

  @Test
  void exportOnceMakesOneAttemptAndCarriesTheServersRetryDelay() throws Exception {
    server.enqueue(Answer.grpcStatus(Status.UNAVAILABLE).retryInfo(Duration.ofSeconds(2)));
    try (OtlpExporter exporter = exporter(0, () -> null)) {
      Outcome result =
          exporter.exportOnce(Signal.LOGS, buffer(tagged("a", 100)), 1).get(60, TimeUnit.SECONDS);
      assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.RETRYABLE);
      assertThat(result.retryAfterNanos()).isEqualTo(Duration.ofSeconds(2).toNanos());
      assertThat(result.attempts()).isEqualTo(1);
    }
    assertThat(server.requestCount()).isEqualTo(1);
  }

  @Test
  void anUpstreamPermanentAnswerIsStillPermanent() throws Exception {
    server.enqueue(Answer.grpcStatus(Status.INVALID_ARGUMENT));
    try (OtlpExporter exporter = exporter(0, () -> null)) {
      Outcome result =
          exporter.export(Signal.LOGS, buffer(tagged("a", 100)), 1).get(60, TimeUnit.SECONDS);
      assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.PERMANENT);
    }
    assertThat(server.requestCount()).isEqualTo(1);
  }
}
