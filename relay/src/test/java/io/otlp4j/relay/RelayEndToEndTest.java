package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.net.InetSocketAddress;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The OpenTelemetry Java SDK sends spans to the relay, which forwards them to a grpc-java server on
 * the official stubs: every span arrives exactly once, with its fields intact.
 */
class RelayEndToEndTest {
  private static final int SPANS = 300;

  @TempDir
  Path dir;

  private UpstreamTraceServer upstream;
  private Relay relay;

  @BeforeEach
  void startUpstreamAndRelay() throws Exception {
    upstream = new UpstreamTraceServer();
    String yaml = """
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
          debug:
        service:
          telemetry:
            metrics:
              address: 127.0.0.1:0
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch, resource]
              exporters: [otlp/upstream, debug]
        """;
    RelayConfig config = RelayConfig.parse(yaml, Map.of("UPSTREAM", upstream.endpoint())::get, dir);
    relay = Relay.start(config);
  }

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    }
    upstream.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void everySdkSpanArrivesUpstreamExactlyOnceWithItsFields(String protocol) {
    InetSocketAddress grpc = relay.grpcAddress("otlp");
    InetSocketAddress http = relay.httpAddress("otlp");
    SpanExporter otlp = protocol.equals("grpc")
        ? OtlpGrpcSpanExporter.builder().setEndpoint("http://127.0.0.1:" + grpc.getPort()).build()
        : OtlpHttpSpanExporter.builder().setEndpoint("http://127.0.0.1:" + http.getPort() + "/v1/traces").build();
    RecordingExporter recording = new RecordingExporter(otlp);
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "e2e-" + protocol)))
        .addSpanProcessor(BatchSpanProcessor.builder(recording).setMaxExportBatchSize(50)
            .setScheduleDelay(Duration.ofMillis(20)).build())
        .build();
    Tracer tracer = provider.get("relay-e2e", "1.2.3");
    for (int i = 0; i < SPANS; i++) {
      tracer.spanBuilder("op-" + i)
          .setSpanKind(SpanKind.values()[i % SpanKind.values().length])
          .setAttribute("i", i)
          .setAttribute("tag", "value-" + i)
          .startSpan()
          .end();
    }
    assertThat(provider.shutdown().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(recording.sent).hasSize(SPANS);

    await().atMost(Duration.ofSeconds(15)).until(() -> upstream.spans().size() >= SPANS);
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    relay = null;

    List<UpstreamTraceServer.ReceivedSpan> received = upstream.spans();
    assertThat(received).hasSize(SPANS);
    Map<String, UpstreamTraceServer.ReceivedSpan> byId = received.stream()
        .collect(Collectors.toMap(r -> hex(r.span().getSpanId()), Function.identity()));
    assertThat(byId).hasSize(SPANS);
    for (SpanData sent : recording.sent) {
      UpstreamTraceServer.ReceivedSpan got = byId.get(sent.getSpanId());
      assertThat(got).as("span %s", sent.getName()).isNotNull();
      assertThat(got.span().getName()).isEqualTo(sent.getName());
      assertThat(hex(got.span().getTraceId())).isEqualTo(sent.getTraceId());
      assertThat(got.span().getStartTimeUnixNano()).isEqualTo(sent.getStartEpochNanos());
      assertThat(got.span().getEndTimeUnixNano()).isEqualTo(sent.getEndEpochNanos());
      assertThat(got.span().getKind().getNumber()).isEqualTo(sent.getKind().ordinal() + 1);
      assertThat(attributes(got.span().getAttributesList())).containsEntry("i",
          String.valueOf(sent.getAttributes().get(AttributeKey.longKey("i")))).containsEntry("tag",
          sent.getAttributes().get(AttributeKey.stringKey("tag")));
      assertThat(got.scope().getScope().getName()).isEqualTo("relay-e2e");
      assertThat(got.scope().getScope().getVersion()).isEqualTo("1.2.3");
      assertThat(attributes(got.resource().getResource().getAttributesList()))
          .containsEntry("service.name", "e2e-" + protocol)
          .containsEntry("relayed.by", "otlp4j");
    }
    // The batch processor merged requests: fewer upstream requests than SDK exports, none over the max.
    assertThat(upstream.requests).allSatisfy(r -> assertThat(r.getResourceSpansList().stream()
        .flatMap(rs -> rs.getScopeSpansList().stream()).mapToInt(ss -> ss.getSpansCount()).sum())
        .isLessThanOrEqualTo(100));
  }

  @Test
  void adminServesHealthAndMetrics() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + relay.adminAddress().getPort());
    HttpResponse<String> health = client.send(HttpRequest.newBuilder(base.resolve("/healthz")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("otelcol_exporter_queue_size").contains("otlp4j_memory_limit_bytes")
        .contains("otelcol_receiver").contains("otelcol_exporter_sent_spans_total{exporter=\"debug\"}");
  }

  @Test
  void otlphttpExporterForwardsToAnotherRelaysFileExporter() throws Exception {
    String downstreamYaml = """
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
    String upstreamYaml = """
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
        """.formatted(downstream.httpAddress("otlp").getPort());
    Relay first = Relay.start(RelayConfig.parse(upstreamYaml, v -> null, dir));
    byte[] json;
    try (var in = RelayEndToEndTest.class.getResourceAsStream("/otlp-json/logs.json")) {
      json = in.readAllBytes();
    }
    try {
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + first.httpAddress("otlp").getPort() + "/v1/logs"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(json)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      Path out = dir.resolve("forwarded.jsonl");
      await().atMost(Duration.ofSeconds(10)).until(() -> java.nio.file.Files.exists(out)
          && java.nio.file.Files.readAllLines(out).size() == 1);
      assertThat(io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(
          io.otlp4j.wire.OtlpJson.toProtobuf(io.otlp4j.wire.Signal.LOGS,
              java.nio.file.Files.readAllBytes(out))))
          .isEqualTo(io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(
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
    return list.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().hasIntValue()
        ? String.valueOf(kv.getValue().getIntValue()) : kv.getValue().getStringValue()));
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
      result.whenComplete(() -> {
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
