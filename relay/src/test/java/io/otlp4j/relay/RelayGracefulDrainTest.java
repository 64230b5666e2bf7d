package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.otlp4j.testing.MockOtlpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The SIGTERM path ({@link Relay#shutdown} with a deadline) while the OpenTelemetry SDK's data is
 * still queued in the relay behind a stalled upstream: {@code /healthz} answers 503 while draining,
 * new requests are refused, and everything queued reaches the upstream, once, before the relay
 * exits.
 */
class RelayGracefulDrainTest extends RelayScenarioTest {

  private static final int SPANS = 200;
  private static final int LOG_RECORDS = 50;

  private MockOtlpServer upstream;
  private SdkTracerProvider tracerProvider;
  private SdkLoggerProvider loggerProvider;

  @AfterEach
  void shutDownSdk() {
    if (upstream != null) {
      release(upstream);
    }
    if (tracerProvider != null) {
      tracerProvider.shutdown().join(5, TimeUnit.SECONDS);
    }
    if (loggerProvider != null) {
      loggerProvider.shutdown().join(5, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest(name = "ack mode {0}")
  // received only: under delivered the SDK's exporters (one export in flight) wait for each answer,
  // so
  // their data never piles up in the relay's queues; DeliveredAckModeTest covers answers in that
  // mode.
  @EnumSource(value = AckMode.class, names = "RECEIVED")
  void shutdownDrainsQueuedDataToTheUpstreamAndRefusesNewRequests(AckMode ackMode)
      throws Exception {
    upstream = startUpstream();
    hold(upstream);
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        processors:
          batch: { send_batch_size: 20, timeout: 20ms }
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
            # one export in flight, so that batches wait in the queue while the upstream holds
            sending_queue: { num_consumers: 1 }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [batch], exporters: [otlp] }
            logs: { receivers: [otlp], processors: [batch], exporters: [otlp] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            ackMode,
            dir);
    InetSocketAddress grpc = relay.relay.grpcAddress("otlp");
    InetSocketAddress http = relay.relay.httpAddress("otlp");

    // The SDK sends spans over OTLP/gRPC and log records over OTLP/HTTP.
    tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpGrpcSpanExporter.builder()
                            .setEndpoint("http://127.0.0.1:" + grpc.getPort())
                            .build())
                    .setMaxExportBatchSize(25)
                    .setScheduleDelay(Duration.ofMillis(10))
                    .build())
            .build();
    loggerProvider =
        SdkLoggerProvider.builder()
            .addLogRecordProcessor(
                BatchLogRecordProcessor.builder(
                        OtlpHttpLogRecordExporter.builder()
                            .setEndpoint("http://127.0.0.1:" + http.getPort() + "/v1/logs")
                            .build())
                    .setMaxExportBatchSize(10)
                    .setScheduleDelay(Duration.ofMillis(10))
                    .build())
            .build();
    Tracer tracer = tracerProvider.get("drain");
    Logger logger = loggerProvider.get("drain");
    List<String> spanNames = new ArrayList<>();
    List<String> logBodies = new ArrayList<>();
    for (int i = 0; i < SPANS; i++) {
      tracer.spanBuilder("drain-" + i).startSpan().end();
      spanNames.add("drain-" + i);
    }
    for (int i = 0; i < LOG_RECORDS; i++) {
      logger.logRecordBuilder().setBody("drain-log-" + i).emit();
      logBodies.add("drain-log-" + i);
    }
    CompletableResultCode spansFlushed = tracerProvider.forceFlush();
    CompletableResultCode logsFlushed = loggerProvider.forceFlush();

    // Everything is queued in the relay; the upstream holds what the exporter sent so far.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                relay.metric("otlp4j_pipeline_queued_traces_total") == SPANS
                    && relay.metric("otlp4j_pipeline_queued_logs_total") == LOG_RECORDS
                    && upstream.heldCount() > 0);
    assertThat(
            relay.metric("otelcol_exporter_queue_size", "exporter", "otlp", "pipeline", "traces"))
        .as("batches still waiting in the queue")
        .isPositive();
    assertThat(relay.health()).isEqualTo(200);

    CompletableFuture<Boolean> stopped =
        CompletableFuture.supplyAsync(() -> relay.relay.shutdown(Duration.ofSeconds(60)));
    await().atMost(Duration.ofSeconds(30)).until(() -> relay.health() == 503);
    assertThat(relay.relay.isReady()).isFalse();

    // New requests are refused: the listeners are closed.
    byte[] late = OtlpRequests.spans("late", 2).toByteArray();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThatThrownBy(() -> relay.post("/v1/traces", late))
                    .isInstanceOf(UncheckedIOException.class));
    var lateChannel = relay.grpcChannel(NettyChannelBuilder.forAddress(grpc).usePlaintext());
    assertThatThrownBy(
            () ->
                TraceServiceGrpc.newBlockingStub(lateChannel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .export(OtlpRequests.spans("late-grpc", 2)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(stopped).as("still draining: the upstream holds the data").isNotDone();
    assertThat(upstream.spans()).isEmpty();

    release(upstream);
    assertThat(stopped.get(60, TimeUnit.SECONDS)).as("drained within the deadline").isTrue();
    assertThat(upstream.spanNameCounts())
        .as("every queued span, once, before exit")
        .isEqualTo(onceEach(spanNames));
    assertThat(upstream.logBodyCounts()).isEqualTo(onceEach(logBodies));
    assertThat(spansFlushed.join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(logsFlushed.join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThatThrownBy(relay::health)
        .as("the admin server is gone after exit")
        .isInstanceOf(IOException.class);
  }
}
