package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.MockOtlpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenTelemetry Java SDK sends spans, metrics and logs to the relay, which forwards them to a
 * grpc-java server on the official stubs: in every ack mode, every span, metric point and log
 * record arrives exactly once, with its fields intact.
 */
class RelayEndToEndTest {
  private static final int SPANS = 300;
  private static final int LOG_RECORDS = 200;
  private static final int COUNTERS = 10;
  private static final int SERIES_PER_COUNTER = 5;

  @TempDir Path dir;

  private MockOtlpServer upstream;
  private Relay relay;

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = MockOtlpServer.started();
  }

  /** The relay in {@code mode}: traces batched and rewritten, metrics and logs straight through. */
  private Relay startRelay(AckMode mode) throws Exception {
    String storage =
        mode == AckMode.DURABLE
            ? """
            sending_queue:
              storage: file_storage
        """
            : "";
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 127.0.0.1:0
              http:
                endpoint: 127.0.0.1:0
        processors:
          batch:
            send_batch_size: 64
            send_batch_max_size: 100
            timeout: 50ms
          resource:
            attributes:
              - key: relayed.by
                value: otlp4j
                action: upsert
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls:
              insecure: true
            compression: gzip
        %s
          debug:
        extensions:
          file_storage:
            directory: queue
        service:
          extensions: [file_storage]
          ack_mode: %s
          telemetry:
            metrics:
              address: 127.0.0.1:0
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch, resource]
              exporters: [otlp/upstream, debug]
            metrics:
              receivers: [otlp]
              exporters: [otlp/upstream]
            logs:
              receivers: [otlp]
              processors: [batch]
              exporters: [otlp/upstream]
        """
            .formatted(storage.stripTrailing(), mode.id());
    RelayConfig config =
        RelayConfig.parse(yaml, Map.of("UPSTREAM", upstream.grpcEndpoint())::get, dir);
    relay = Relay.start(config);
    return relay;
  }

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    }
    upstream.close();
  }

  static Stream<Arguments> ackModesAndProtocols() {
    return Stream.of(AckMode.values())
        .flatMap(m -> Stream.of(Arguments.of(m, "grpc"), Arguments.of(m, "http/protobuf")));
  }

  @ParameterizedTest(name = "{0} over {1}")
  @MethodSource("ackModesAndProtocols")
  void everySdkSpanMetricPointAndLogRecordArrivesUpstreamExactlyOnceWithItsFields(
      AckMode mode, String protocol) throws Exception {
    startRelay(mode);
    int grpc = relay.grpcAddress("otlp").getPort();
    int http = relay.httpAddress("otlp").getPort();
    boolean overGrpc = protocol.equals("grpc");
    Resource resource =
        Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "e2e-" + protocol));

    SpanExporter otlpSpans =
        overGrpc
            ? OtlpGrpcSpanExporter.builder().setEndpoint("http://127.0.0.1:" + grpc).build()
            : OtlpHttpSpanExporter.builder()
                .setEndpoint("http://127.0.0.1:" + http + "/v1/traces")
                .build();
    RecordingExporter recording = new RecordingExporter(otlpSpans);
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .setResource(resource)
            .addSpanProcessor(
                BatchSpanProcessor.builder(recording)
                    .setMaxExportBatchSize(50)
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();
    MetricExporter otlpMetrics =
        overGrpc
            ? OtlpGrpcMetricExporter.builder().setEndpoint("http://127.0.0.1:" + grpc).build()
            : OtlpHttpMetricExporter.builder()
                .setEndpoint("http://127.0.0.1:" + http + "/v1/metrics")
                .build();
    SdkMeterProvider meterProvider =
        SdkMeterProvider.builder()
            .setResource(resource)
            .registerMetricReader(
                PeriodicMetricReader.builder(otlpMetrics).setInterval(Duration.ofHours(1)).build())
            .build();
    LogRecordExporter otlpLogs =
        overGrpc
            ? OtlpGrpcLogRecordExporter.builder().setEndpoint("http://127.0.0.1:" + grpc).build()
            : OtlpHttpLogRecordExporter.builder()
                .setEndpoint("http://127.0.0.1:" + http + "/v1/logs")
                .build();
    RecordingLogExporter recordingLogs = new RecordingLogExporter(otlpLogs);
    SdkLoggerProvider loggerProvider =
        SdkLoggerProvider.builder()
            .setResource(resource)
            .addLogRecordProcessor(
                BatchLogRecordProcessor.builder(recordingLogs)
                    .setMaxExportBatchSize(40)
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();

    Tracer tracer = tracerProvider.get("relay-e2e", "1.2.3");
    for (int i = 0; i < SPANS; i++) {
      tracer
          .spanBuilder("op-" + i)
          .setSpanKind(SpanKind.values()[i % SpanKind.values().length])
          .setAttribute("i", i)
          .setAttribute("tag", "value-" + i)
          .startSpan()
          .end();
    }
    Meter meter = meterProvider.get("relay-e2e-metrics");
    for (int c = 0; c < COUNTERS; c++) {
      LongCounter counter =
          meter
              .counterBuilder("requests." + c)
              .setDescription("requests " + c)
              .setUnit("{r}")
              .build();
      for (int s = 0; s < SERIES_PER_COUNTER; s++) {
        counter.add(100L * c + s + 1, Attributes.of(AttributeKey.longKey("series"), (long) s));
      }
    }
    io.opentelemetry.api.logs.Logger logger = loggerProvider.get("relay-e2e-logs");
    for (int i = 0; i < LOG_RECORDS; i++) {
      logger
          .logRecordBuilder()
          .setBody("log-" + i)
          .setSeverity(Severity.values()[1 + i % 24])
          .setSeverityText("sev-" + i)
          .setAttribute(AttributeKey.longKey("i"), (long) i)
          .setTimestamp(1_700_000_000_000L + i, TimeUnit.MILLISECONDS)
          .emit();
    }
    // Generous bounds: the first case of a cold JVM loads the SDK, OkHttp, gRPC and Netty
    // (paranoid).
    assertThat(tracerProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(meterProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(loggerProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(recording.sent).hasSize(SPANS);
    assertThat(recordingLogs.sent).hasSize(LOG_RECORDS);

    if (mode == AckMode.DELIVERED) {
      // Every SDK export was answered only once the upstream had it: nothing is still on its way.
      assertThat(upstream.spans()).hasSize(SPANS);
      assertThat(upstream.logRecords()).hasSize(LOG_RECORDS);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                upstream.spans().size() >= SPANS
                    && upstream.logRecords().size() >= LOG_RECORDS
                    && upstream.metrics().size() >= COUNTERS);
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    relay = null;

    assertSpansIntact(recording.sent, "e2e-" + protocol);
    assertMetricsIntact();
    assertLogsIntact(recordingLogs.sent);
  }

  private void assertSpansIntact(Collection<SpanData> sent, String serviceName) {
    List<UpstreamSpan> received = new ArrayList<>();
    for (var request : upstream.traceRequests()) {
      for (var rs : request.getResourceSpansList()) {
        for (var ss : rs.getScopeSpansList()) {
          for (var span : ss.getSpansList()) {
            received.add(new UpstreamSpan(rs, ss, span));
          }
        }
      }
    }
    assertThat(received).hasSize(SPANS);
    Map<String, UpstreamSpan> byId =
        received.stream()
            .collect(Collectors.toMap(r -> hex(r.span().getSpanId()), Function.identity()));
    assertThat(byId).hasSize(SPANS);
    for (SpanData s : sent) {
      UpstreamSpan got = byId.get(s.getSpanId());
      assertThat(got).as("span %s", s.getName()).isNotNull();
      assertThat(got.span().getName()).isEqualTo(s.getName());
      assertThat(hex(got.span().getTraceId())).isEqualTo(s.getTraceId());
      assertThat(got.span().getStartTimeUnixNano()).isEqualTo(s.getStartEpochNanos());
      assertThat(got.span().getEndTimeUnixNano()).isEqualTo(s.getEndEpochNanos());
      assertThat(got.span().getKind().getNumber()).isEqualTo(s.getKind().ordinal() + 1);
      assertThat(attributes(got.span().getAttributesList()))
          .containsEntry("i", String.valueOf(s.getAttributes().get(AttributeKey.longKey("i"))))
          .containsEntry("tag", s.getAttributes().get(AttributeKey.stringKey("tag")));
      assertThat(got.scope().getScope().getName()).isEqualTo("relay-e2e");
      assertThat(got.scope().getScope().getVersion()).isEqualTo("1.2.3");
      assertThat(attributes(got.resource().getResource().getAttributesList()))
          .containsEntry("service.name", serviceName)
          .containsEntry("relayed.by", "otlp4j");
    }
    // The batch processor merged requests: none over send_batch_max_size.
    assertThat(upstream.traceRequests())
        .allSatisfy(
            r ->
                assertThat(
                        r.getResourceSpansList().stream()
                            .flatMap(rs -> rs.getScopeSpansList().stream())
                            .mapToInt(ss -> ss.getSpansCount())
                            .sum())
                    .isLessThanOrEqualTo(100));
  }

  private void assertMetricsIntact() {
    List<io.opentelemetry.proto.metrics.v1.Metric> metrics = upstream.metrics();
    assertThat(metrics).hasSize(COUNTERS);
    for (var metric : metrics) {
      int c = Integer.parseInt(metric.getName().substring("requests.".length()));
      assertThat(metric.getDescription()).isEqualTo("requests " + c);
      assertThat(metric.getUnit()).isEqualTo("{r}");
      assertThat(metric.getSum().getIsMonotonic()).isTrue();
      assertThat(metric.getSum().getDataPointsList()).hasSize(SERIES_PER_COUNTER);
      for (var point : metric.getSum().getDataPointsList()) {
        long series = point.getAttributes(0).getValue().getIntValue();
        assertThat(point.getAttributes(0).getKey()).isEqualTo("series");
        assertThat(point.getAsInt()).isEqualTo(100L * c + series + 1);
        assertThat(point.getTimeUnixNano())
            .isGreaterThan(point.getStartTimeUnixNano())
            .isPositive();
      }
    }
  }

  private void assertLogsIntact(Collection<LogRecordData> sent) {
    List<io.opentelemetry.proto.logs.v1.LogRecord> received = upstream.logRecords();
    assertThat(received).hasSize(LOG_RECORDS);
    Map<String, io.opentelemetry.proto.logs.v1.LogRecord> byBody =
        received.stream()
            .collect(Collectors.toMap(r -> r.getBody().getStringValue(), Function.identity()));
    assertThat(byBody).hasSize(LOG_RECORDS);
    for (LogRecordData s : sent) {
      var got = byBody.get(s.getBodyValue().asString());
      assertThat(got).as("log %s", s.getBodyValue().asString()).isNotNull();
      assertThat(got.getSeverityNumberValue()).isEqualTo(s.getSeverity().getSeverityNumber());
      assertThat(got.getSeverityText()).isEqualTo(s.getSeverityText());
      assertThat(got.getTimeUnixNano()).isEqualTo(s.getTimestampEpochNanos());
      assertThat(got.getAttributes(0).getValue().getIntValue())
          .isEqualTo(s.getAttributes().get(AttributeKey.longKey("i")));
    }
  }

  record UpstreamSpan(
      io.opentelemetry.proto.trace.v1.ResourceSpans resource,
      io.opentelemetry.proto.trace.v1.ScopeSpans scope,
      io.opentelemetry.proto.trace.v1.Span span) {}

  @Test
  void adminServesHealthAndMetrics() throws Exception {
    startRelay(AckMode.RECEIVED);
    HttpClient client = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + relay.adminAddress().getPort());
    HttpResponse<String> health =
        client.send(
            HttpRequest.newBuilder(base.resolve("/healthz")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    HttpResponse<String> metrics =
        client.send(
            HttpRequest.newBuilder(base.resolve("/metrics")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("otelcol_exporter_queue_size")
        .contains("otlp4j_memory_limit_bytes")
        .contains("otelcol_receiver")
        .contains("otelcol_exporter_sent_spans_total{exporter=\"debug\"}");
  }

  @Test
  void otlphttpExporterForwardsToAnotherRelaysFileExporter() throws Exception {
    String downstreamYaml =
        """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        exporters:
          file:
            path: forwarded.jsonl
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            logs:
              receivers: [otlp]
              exporters: [file]
        """;
    Relay downstream = Relay.start(RelayConfig.parse(downstreamYaml, v -> null, dir));
    String upstreamYaml =
        """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        exporters:
          otlphttp:
            endpoint: http://127.0.0.1:%d
            compression: zstd
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            logs:
              receivers: [otlp]
              exporters: [otlphttp]
        """
            .formatted(downstream.httpAddress("otlp").getPort());
    Relay first = Relay.start(RelayConfig.parse(upstreamYaml, v -> null, dir));
    byte[] json;
    try (var in = RelayEndToEndTest.class.getResourceAsStream("/otlp-json/logs.json")) {
      json = in.readAllBytes();
    }
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:"
                                  + first.httpAddress("otlp").getPort()
                                  + "/v1/logs"))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofByteArray(json))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      Path out = dir.resolve("forwarded.jsonl");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  java.nio.file.Files.exists(out)
                      && java.nio.file.Files.readAllLines(out).size() == 1);
      assertThat(
              io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(
                  io.otlp4j.wire.OtlpJson.toProtobuf(
                      io.otlp4j.wire.Signal.LOGS, java.nio.file.Files.readAllBytes(out))))
          .isEqualTo(
              io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(
                  io.otlp4j.wire.OtlpJson.toProtobuf(io.otlp4j.wire.Signal.LOGS, json)));
    } finally {
      assertThat(first.shutdown(Duration.ofSeconds(10))).isTrue();
      assertThat(downstream.shutdown(Duration.ofSeconds(10))).isTrue();
    }
  }

  private static String hex(ByteString bytes) {
    return HexFormat.of().formatHex(bytes.toByteArray());
  }

  private static Map<String, String> attributes(List<KeyValue> list) {
    return list.stream()
        .collect(
            Collectors.toMap(
                KeyValue::getKey,
                kv ->
                    kv.getValue().hasIntValue()
                        ? String.valueOf(kv.getValue().getIntValue())
                        : kv.getValue().getStringValue()));
  }

  /** Records what the SDK exported successfully, then passes it on. */
  private static final class RecordingExporter implements SpanExporter {
    final ConcurrentLinkedQueue<SpanData> sent = new ConcurrentLinkedQueue<>();
    private final SpanExporter delegate;

    RecordingExporter(SpanExporter delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      List<SpanData> copy = new ArrayList<>(spans);
      CompletableResultCode result = delegate.export(spans);
      result.whenComplete(
          () -> {
            if (result.isSuccess()) {
              sent.addAll(copy);
            }
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }

  /** Records the log records the SDK exported successfully, then passes them on. */
  private static final class RecordingLogExporter implements LogRecordExporter {
    final ConcurrentLinkedQueue<LogRecordData> sent = new ConcurrentLinkedQueue<>();
    private final LogRecordExporter delegate;

    RecordingLogExporter(LogRecordExporter delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableResultCode export(Collection<LogRecordData> logs) {
      List<LogRecordData> copy = new ArrayList<>(logs);
      CompletableResultCode result = delegate.export(logs);
      result.whenComplete(
          () -> {
            if (result.isSuccess()) {
              sent.addAll(copy);
            }
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }
}
