package io.otlp4j.bench.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The report's spans and MB/s are counted at the upstream sink from payload bytes; that is only
 * right if every export the load generator counts as a success arrived there whole, once.
 */
@Timeout(60)
class LoadGeneratorTest {

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http"})
  void everySuccessfulExportArrivesUpstreamWithItsWholePayload(String protocol) throws Exception {
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(10);
    byte[] payload = request.toByteArray();
    try (CountingUpstream upstream = new CountingUpstream(1)) {
      int port = protocol.equals("grpc") ? upstream.grpcPort() : upstream.httpPort();
      try (LoadGenerator load =
          protocol.equals("grpc")
              ? LoadGenerator.grpc(port, 4, payload, 1, 50)
              : LoadGenerator.http(port, 4, payload, 1, 50)) {
        load.startClosedLoop();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.succeeded() >= 50);
        load.stop();
        assertThat(load.failed()).isZero();
        assertThat(upstream.requests()).isEqualTo(load.succeeded());
        assertThat(upstream.bytes()).isEqualTo(load.succeeded() * payload.length);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http"})
  void openLoopRecordsOneLatencyPerSuccessfulExport(String protocol) throws Exception {
    byte[] payload = OtlpGenerator.realisticTraces(10).toByteArray();
    try (CountingUpstream upstream = new CountingUpstream(1)) {
      int port = protocol.equals("grpc") ? upstream.grpcPort() : upstream.httpPort();
      try (LoadGenerator load =
          protocol.equals("grpc")
              ? LoadGenerator.grpc(port, 2, payload, 1, 50)
              : LoadGenerator.http(port, 2, payload, 1, 50)) {
        load.startOpenLoop(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> load.succeeded() >= 40);
        load.stop();
        assertThat(load.takeLatencies().getTotalCount()).isEqualTo(load.succeeded());
        assertThat(upstream.requests()).isEqualTo(load.succeeded());
      }
    }
  }
}
