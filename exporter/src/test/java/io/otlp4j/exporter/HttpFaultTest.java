package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.fastRetries;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.core.Outcome;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** OTLP/HTTP fault handling, against a JDK HTTP server scripted to misbehave. */
@ExtendWith(NettyLeakCheck.class)
class HttpFaultTest {

  private MockOtlpServer server;
  private OtlpExporter exporter;

  @BeforeEach
  void start() throws Exception {
    server = MockOtlpServer.builder().requireContentLength().start();
    exporter = exporter(Protocol.HTTP_PROTOBUF, server.httpEndpoint(), Duration.ofSeconds(15));
  }

  private static OtlpExporter exporter(Protocol protocol, String endpoint, Duration timeout) {
    return OtlpExporter.builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .retryPolicy(fastRetries(4))
        .timeout(timeout)
        .ioThreads(1)
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    exporter.shutdown(Duration.ofSeconds(2)).get(60, TimeUnit.SECONDS);
    server.close();
  }

  private Outcome export(OtlpExporter e, String tag) throws Exception {
    return e.export(Signal.LOGS, buffer(tagged(tag, 100)), 1).get(60, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @ValueSource(ints = {502, 503, 504})
  void unavailableStatusesAreRetriedUntilAccepted(int status) throws Exception {
    server.enqueue(Answer.httpStatus(status));
    server.enqueue(Answer.httpStatus(status));

    Outcome result = export(exporter, "a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(result.attempts()).isEqualTo(3);
    assertThat(server.acceptedCount()).isEqualTo(1);
  }

  @Test
  void tooManyRequestsIsRetriedAfterRetryAfterSeconds() throws Exception {
    server.enqueue(Answer.httpStatus(429).header("Retry-After", "1"));
    long start = System.nanoTime();

    Outcome result = export(exporter, "a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    assertThat(result.attempts()).isEqualTo(2);
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
  }

  @Test
  void retryAfterAsAnHttpDateIsReadAgainstTheWallClock() throws Exception {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    String inOneSecond =
        DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.US)
            .withZone(ZoneOffset.UTC)
            .format(now.plusSeconds(1));
    server.enqueue(Answer.httpStatus(503).header("Retry-After", inOneSecond));
    try (OtlpExporter e =
        OtlpExporter.builder()
            .protocol(Protocol.HTTP_PROTOBUF)
            .endpoint(server.httpEndpoint())
            .retryPolicy(fastRetries(4))
            .wallClock(Clock.fixed(now, ZoneOffset.UTC))
            .ioThreads(1)
            .build()) {
      long start = System.nanoTime();
      Outcome result = export(e, "a");
      assertThat(result.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
      assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(1));
    }
  }

  @Test
  void aRetryAfterBeyondTheRetryBudgetGivesUpAtOnce() throws Exception {
    server.enqueue(Answer.httpStatus(429).header("Retry-After", "3600"));

    Outcome result = export(exporter, "a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(result.attempts()).isEqualTo(1);
    assertThat(result.message()).contains("HTTP 429").contains("SERVER_DELAY_EXCEEDS_BUDGET");
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 401, 403, 404, 413, 500})
  void otherStatusesFailPermanentlyAfterOneAttempt(int status) throws Exception {
    server.enqueue(Answer.httpStatus(status));

    Outcome result = export(exporter, "a");

    assertThat(result.kind()).isEqualTo(Outcome.Kind.PERMANENT);
    assertThat(result.attempts()).isEqualTo(1);
    assertThat(result.message()).startsWith("HTTP " + status);
    assertThat(server.requestCount()).isEqualTo(1);
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"HTTP_PROTOBUF", "HTTP_JSON"})
  void partialSuccessIsParsedFromTheResponseAndNotRetried(Protocol protocol) throws Exception {
    server.enqueue(Answer.partialSuccess(1, "one record too large"));
    try (OtlpExporter e = exporter(protocol, server.httpEndpoint(), Duration.ofSeconds(15))) {
      Outcome result = export(e, "a");

      assertThat(result.kind()).isEqualTo(Outcome.Kind.PARTIALLY_ACCEPTED);
      assertThat(result.rejectedItems()).isEqualTo(1);
      assertThat(result.message()).isEqualTo("one record too large");
      assertThat(server.requestCount()).isEqualTo(1);
      assertThat(e.failedItems(Signal.LOGS)).isEqualTo(1);
      assertThat(e.sentItems(Signal.LOGS)).isZero();
      assertThat(e.metricsText())
          .contains("otelcol_exporter_send_failed_log_records_total{exporter=\"otlphttp\"} 1");
    }
  }

  @Test
  void aServerSlowerThanTheTimeoutFailsRetryablyAndItsLateAnswerIsNotTakenForAnother()
      throws Exception {
    export(exporter, "warm-up");
    for (int i = 0; i < 4; i++) {
      server.enqueue(Answer.ok().delayed(Duration.ofMillis(1500)));
    }
    try (OtlpExporter impatient =
        exporter(Protocol.HTTP_PROTOBUF, server.httpEndpoint(), Duration.ofMillis(200))) {
      Outcome result = export(impatient, "slow");

      assertThat(result.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
      assertThat(result.attempts()).isEqualTo(4);
      assertThat(result.message()).contains("no response within 200 ms");
    }
  }

  @ParameterizedTest
  @EnumSource(value = Protocol.class)
  void aConnectionResetMidRequestIsRetriedOnAFreshConnection(Protocol protocol) throws Exception {
    int target = protocol == Protocol.GRPC ? server.grpcPort() : server.httpPort();
    try (FaultyProxy proxy = new FaultyProxy(target);
        OtlpExporter e =
            exporter(protocol, "http://127.0.0.1:" + proxy.port(), Duration.ofSeconds(15))) {
      proxy.resetAfterBytes = 20_000;
      proxy.connectionsToReset.set(1);

      Outcome result =
          e.export(Signal.LOGS, buffer(tagged("big", 100_000)), 1).get(60, TimeUnit.SECONDS);

      assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
      assertThat(result.attempts()).isEqualTo(2);
      assertThat(proxy.resets.get()).isEqualTo(1);
      assertThat(server.acceptedCount()).isEqualTo(1);
    }
  }
}
