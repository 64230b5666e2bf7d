package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.fastRetries;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.otlp4j.core.Outcome;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** OTLP/gRPC fault handling, against a grpc-java server scripted to misbehave. */
@ExtendWith(NettyLeakCheck.class)
class GrpcFaultTest {

  private MockOtlpServer server;
  private OtlpExporter exporter;

  @BeforeEach
  void start() throws Exception {
    server = MockOtlpServer.started();
    exporter =
        OtlpExporter.builder()
            .protocol(Protocol.GRPC)
            .endpoint(server.grpcEndpoint())
            .retryPolicy(fastRetries(4))
            .timeout(Duration.ofSeconds(15))
            .ioThreads(1)
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    exporter.shutdown(Duration.ofSeconds(2)).get(60, TimeUnit.SECONDS);
    server.close();
  }

  private Outcome export(String tag) throws Exception {
    return exporter.export(Signal.LOGS, buffer(tagged(tag, 100)), 1).get(60, TimeUnit.SECONDS);
  }

  @Test
  void exportsAreSpreadRoundRobinOverTheConfiguredChannels() throws Exception {
    try (OtlpExporter three =
        OtlpExporter.builder()
            .protocol(Protocol.GRPC)
            .endpoint(server.grpcEndpoint())
            .grpcChannels(3)
            .ioThreads(1)
            .build()) {
      for (int i = 0; i < 6; i++) {
        Outcome r =
            three.export(Signal.LOGS, buffer(tagged("rr" + i, 10)), 1).get(60, TimeUnit.SECONDS);
        assertThat(r.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
      }
    }
    assertThat(server.remoteAddresses()).hasSize(3);
  }

  @Test
  void unavailableIsRetriedUntilTheServerAccepts() throws Exception {
    server.enqueue(Answer.grpcStatus(Status.UNAVAILABLE));
    server.enqueue(Answer.grpcStatus(Status.UNAVAILABLE));

    Outcome result = export("a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(result.attempts()).isEqualTo(3);
    assertThat(server.acceptedCount()).isEqualTo(1);
  }

  @Test
  void resourceExhaustedWithoutRetryInfoIsNotRetried() throws Exception {
    server.enqueue(Answer.grpcStatus(Status.RESOURCE_EXHAUSTED));

    Outcome result = export("a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(result.attempts()).isEqualTo(1);
    assertThat(result.message()).contains("RESOURCE_EXHAUSTED");
    assertThat(server.requestCount()).isEqualTo(1);
  }

  @Test
  void resourceExhaustedWithRetryInfoIsRetriedAfterTheServersDelay() throws Exception {
    server.enqueue(Answer.grpcStatus(Status.RESOURCE_EXHAUSTED).retryInfo(Duration.ofMillis(400)));
    long start = System.nanoTime();

    Outcome result = export("a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(result.attempts()).isEqualTo(2);
    // The policy's own backoff is at most 50 ms: only RetryInfo explains the wait.
    assertThat(System.nanoTime() - start)
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(400));
    assertThat(server.acceptedCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(
      value = Status.Code.class,
      names = {"INVALID_ARGUMENT", "UNAUTHENTICATED", "PERMISSION_DENIED", "UNIMPLEMENTED"})
  void nonRetryableCodesFailPermanentlyAfterOneAttempt(Status.Code code) throws Exception {
    server.enqueue(Answer.grpcStatus(Status.fromCode(code)));

    Outcome result = export("a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(result.attempts()).isEqualTo(1);
    assertThat(result.cause()).isNotNull();
    assertThat(server.requestCount()).isEqualTo(1);
  }

  @Test
  void retriesStopAtMaxAttemptsWithARetryableResult() throws Exception {
    for (int i = 0; i < 4; i++) {
      server.enqueue(Answer.grpcStatus(Status.UNAVAILABLE));
    }

    Outcome result = export("a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(result.attempts()).isEqualTo(4);
    assertThat(result.message()).contains("UNAVAILABLE").contains("MAX_ATTEMPTS");
    assertThat(exporter.failedItems(Signal.LOGS)).isEqualTo(1);
    assertThat(exporter.sentItems(Signal.LOGS)).isZero();
  }

  @Test
  void partialSuccessIsReportedCountedAndNotRetried() throws Exception {
    server.enqueue(Answer.partialSuccess(1, "dropped one record: too old"));

    Outcome result = export("a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.PARTIALLY_ACCEPTED);
    assertThat(result.rejectedItems()).isEqualTo(1);
    assertThat(result.message()).isEqualTo("dropped one record: too old");
    assertThat(server.requestCount()).isEqualTo(1);
    assertThat(exporter.failedItems(Signal.LOGS)).isEqualTo(1);
    assertThat(exporter.sentItems(Signal.LOGS)).isZero();
  }

  @Test
  void aServerSlowerThanTheDeadlineFailsEachAttemptWithDeadlineExceeded() throws Exception {
    export("warm-up"); // connect first: the deadline below must be spent on the slow server only
    for (int i = 0; i < 4; i++) {
      server.enqueue(Answer.ok().delayed(Duration.ofSeconds(3)));
    }
    Outcome result;
    try (OtlpExporter impatient =
        OtlpExporter.builder()
            .protocol(Protocol.GRPC)
            .endpoint(server.grpcEndpoint())
            .retryPolicy(fastRetries(4))
            .timeout(Duration.ofMillis(200))
            .ioThreads(1)
            .build()) {
      result = impatient.export(Signal.LOGS, buffer(tagged("a", 100)), 1).get(60, TimeUnit.SECONDS);
    }

    assertThat(result.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(result.message()).contains("DEADLINE_EXCEEDED");
    assertThat(result.attempts()).isEqualTo(4);
  }
}
