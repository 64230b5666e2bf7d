package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.fastRetries;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.otlp4j.core.Outcome;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The OTLP/HTTP connection pool against a real server: idle timeout, dead connections, the bound.
 */
@ExtendWith(NettyLeakCheck.class)
class ConnectionPoolTest {

  private MockOtlpServer server;

  @BeforeEach
  void start() throws Exception {
    server = MockOtlpServer.builder().requireContentLength().start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private static ConnectionPool pool(OtlpExporter exporter) {
    return ((HttpTransport) exporter.transport).pool(Signal.LOGS);
  }

  private static Outcome export(OtlpExporter e, String tag) throws Exception {
    return e.export(Signal.LOGS, buffer(tagged(tag, 100)), 1).get(60, TimeUnit.SECONDS);
  }

  @Test
  void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .protocol(Protocol.HTTP_PROTOBUF)
            .endpoint(server.httpEndpoint())
            .idleTimeout(Duration.ofMillis(300))
            .ioThreads(1)
            .build()) {
      assertThat(export(exporter, "a").isSuccess()).isTrue();
      assertThat(pool(exporter).idleConnections()).isEqualTo(1);

      await().atMost(Duration.ofSeconds(30)).until(() -> pool(exporter).openConnections() == 0);
      assertThat(pool(exporter).idleConnections()).isZero();

      assertThat(export(exporter, "b").attempts()).isEqualTo(1);
      assertThat(pool(exporter).connectionsCreated()).isEqualTo(2);
    }
  }

  @Test
  void aConnectionTheServerClosedIsReplacedNotUsed() throws Exception {
    try (FaultyProxy proxy = new FaultyProxy(server.httpPort());
        OtlpExporter exporter =
            OtlpExporter.builder()
                .protocol(Protocol.HTTP_PROTOBUF)
                .endpoint("http://127.0.0.1:" + proxy.port())
                .retryPolicy(fastRetries(1))
                .ioThreads(1)
                .build()) {
      assertThat(export(exporter, "a").isSuccess()).isTrue();
      assertThat(pool(exporter).idleConnections()).isEqualTo(1);

      proxy.dropAll(); // the server side closes the pooled connection
      await().atMost(Duration.ofSeconds(30)).until(() -> pool(exporter).openConnections() == 0);

      Outcome again = export(exporter, "b"); // no retries allowed: a dead connection would fail it
      assertThat(again.kind()).isEqualTo(Outcome.Kind.ACCEPTED);
      assertThat(pool(exporter).connectionsCreated()).isEqualTo(2);
      assertThat(proxy.accepted.get()).isEqualTo(2);
    }
  }

  @Test
  void aConnectionOlderThanItsMaxLifetimeIsNotReused() throws Exception {
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .protocol(Protocol.HTTP_PROTOBUF)
            .endpoint(server.httpEndpoint())
            .maxConnectionLifetime(Duration.ofMillis(200))
            .ioThreads(1)
            .build()) {
      assertThat(export(exporter, "a").isSuccess()).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> pool(exporter).openConnections() == 0);
      assertThat(export(exporter, "b").isSuccess()).isTrue();
      assertThat(server.remoteAddresses()).hasSize(2);
    }
  }

  @Test
  void maxConnectionsIsRespectedUnder200ConcurrentExports() throws Exception {
    for (int i = 0; i < 200; i++) {
      server.enqueue(Answer.ok().delayed(Duration.ofMillis(5)));
    }
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .protocol(Protocol.HTTP_PROTOBUF)
            .endpoint(server.httpEndpoint())
            .maxConnections(4)
            .maxInFlight(256, 0)
            .acquireTimeout(Duration.ofSeconds(20))
            .ioThreads(2)
            .build()) {
      List<CompletableFuture<Outcome>> results = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        results.add(exporter.export(Signal.LOGS, buffer(tagged("c" + i, 100)), 1));
      }
      for (CompletableFuture<Outcome> f : results) {
        Outcome r = f.get(30, TimeUnit.SECONDS);
        assertThat(r.kind()).as(r.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
      }
      assertThat(server.acceptedCount()).isEqualTo(200);
      assertThat(server.remoteAddresses()).hasSizeLessThanOrEqualTo(4);
      assertThat(server.maxInFlight()).isLessThanOrEqualTo(4);
      assertThat(pool(exporter).connectionsCreated()).isLessThanOrEqualTo(4);
    }
  }

  @Test
  void anAcquireThatWaitsLongerThanTheAcquireTimeoutFailsRetryably() throws Exception {
    server.enqueue(Answer.ok().delayed(Duration.ofSeconds(2)));
    try (OtlpExporter exporter =
        OtlpExporter.builder()
            .protocol(Protocol.HTTP_PROTOBUF)
            .endpoint(server.httpEndpoint())
            .maxConnections(1)
            .acquireTimeout(Duration.ofMillis(200))
            .retryPolicy(fastRetries(1))
            .ioThreads(1)
            .build()) {
      CompletableFuture<Outcome> slow = exporter.export(Signal.LOGS, buffer(tagged("slow", 10)), 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> server.requestCount() == 1);

      Outcome waited = export(exporter, "waits");

      assertThat(waited.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
      assertThat(waited.message()).contains("no connection").contains("acquire timeout");
      assertThat(slow.get(60, TimeUnit.SECONDS).isSuccess()).isTrue();
    }
  }
}
