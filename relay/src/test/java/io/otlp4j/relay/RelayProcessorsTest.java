package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenTelemetry Java SDK sends spans through a relay whose pipeline has an {@code attributes}
 * or a {@code filter} processor: what arrives upstream is what the Collector would have forwarded,
 * the processor's item counts are on {@code /metrics}, and dropped spans are answered as accepted.
 */
@ExtendWith(NettyLeakCheck.class)
class RelayProcessorsTest {
  private static final int SPANS = 60;

  @TempDir Path dir;

  private MockOtlpServer upstream;
  private RelayUnderTest relay;

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      relay.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void sdkSpansArriveUpstreamWithTheActionsApplied() throws Exception {
    upstream = MockOtlpServer.started();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          attributes/e2e:
            include:
              match_type: strict
              span_kinds: [SPAN_KIND_SERVER]
            actions:
              - { key: user.email, action: hash }
              - { key: db.statement, action: delete }
              - { key: env, value: prod, action: insert }
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [attributes/e2e], exporters: [otlp/upstream] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.DELIVERED,
            dir);

    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "e2e")))
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(relay.httpUri("otlp", "/v1/traces").toString())
                            .build())
                    .setMaxExportBatchSize(20)
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();
    Tracer tracer = tracerProvider.get("e2e");
    for (int i = 0; i < SPANS; i++) {
      tracer
          .spanBuilder("op-" + i)
          .setSpanKind(i % 2 == 0 ? SpanKind.SERVER : SpanKind.CLIENT)
          .setAttribute("user.email", "user" + i + "@example.com")
          .setAttribute("db.statement", "select " + i)
          .startSpan()
          .end();
    }
    assertThat(tracerProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();

    // Delivered mode: each SDK export was answered once the upstream had it.
    List<Span> spans = upstream.spans();
    assertThat(spans).hasSize(SPANS);
    for (Span span : spans) {
      int i = Integer.parseInt(span.getName().substring(3));
      Map<String, String> attributes =
          span.getAttributesList().stream()
              .collect(Collectors.toMap(KeyValue::getKey, kv -> kv.getValue().getStringValue()));
      if (i % 2 == 0) {
        assertThat(attributes)
            .containsOnly(
                Map.entry("user.email", sha256("user" + i + "@example.com")),
                Map.entry("env", "prod"));
      } else {
        assertThat(attributes)
            .containsOnly(
                Map.entry("user.email", "user" + i + "@example.com"),
                Map.entry("db.statement", "select " + i));
      }
    }
    assertThat(
            relay.metric(
                "otelcol_processor_incoming_items_total",
                "processor",
                "attributes/e2e",
                "otel_signal",
                "traces"))
        .isEqualTo(SPANS);
    assertThat(
            relay.metric(
                "otelcol_processor_outgoing_items_total",
                "processor",
                "attributes/e2e",
                "otel_signal",
                "traces"))
        .isEqualTo(SPANS);
  }

  @Test
  void filteredSpansAreDroppedAndTheClientIsAnsweredAsIfExported() throws Exception {
    upstream = MockOtlpServer.started();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          filter/health:
            error_mode: ignore
            traces:
              span:
                - 'attributes["http.target"] == "/health"'
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [filter/health], exporters: [otlp/upstream] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.DELIVERED,
            dir);
    SdkTracerProvider tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                BatchSpanProcessor.builder(
                        OtlpHttpSpanExporter.builder()
                            .setEndpoint(relay.httpUri("otlp", "/v1/traces").toString())
                            .build())
                    .setMaxExportBatchSize(10)
                    .setScheduleDelay(Duration.ofMillis(20))
                    .build())
            .build();
    Tracer tracer = tracerProvider.get("e2e");
    // batches of 10: the first 30 spans are all health checks (whole requests dropped), then half
    // are
    for (int i = 0; i < SPANS; i++) {
      tracer
          .spanBuilder("op-" + i)
          .setAttribute("http.target", i < 30 || i % 2 == 0 ? "/health" : "/api")
          .startSpan()
          .end();
      if (i == 29) {
        assertThat(tracerProvider.forceFlush().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
    }
    assertThat(tracerProvider.shutdown().join(30, TimeUnit.SECONDS).isSuccess()).isTrue();

    // The SDK's shutdown succeeds whatever its exports did: wait for what the relay forwards (once
    // seen failing in a full run with nothing upstream 0.1 s after the shutdown).
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> upstream.spans().size() >= (SPANS - 30) / 2);
    List<Span> spans = upstream.spans();
    assertThat(spans).hasSize((SPANS - 30) / 2);
    assertThat(spans)
        .allSatisfy(
            s -> assertThat(s.getAttributes(0).getValue().getStringValue()).isEqualTo("/api"));
    assertThat(
            relay.metric(
                "otelcol_processor_incoming_items_total",
                "processor",
                "filter/health",
                "otel_signal",
                "traces"))
        .isEqualTo(SPANS);
    assertThat(
            relay.metric(
                "otelcol_processor_outgoing_items_total",
                "processor",
                "filter/health",
                "otel_signal",
                "traces"))
        .isEqualTo((SPANS - 30) / 2);
    assertThat(relay.metric("otlp4j_pipeline_refused_traces_total", "pipeline", "traces")).isZero();
  }

  /**
   * Malformed requests are refused before the processors see them; valid ones around them go
   * through.
   */
  @Test
  void badInputIsRefusedWithBothProcessorsInThePipeline() throws Exception {
    upstream = MockOtlpServer.started();
    relay =
        RelayUnderTest.start(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          attributes: { actions: [ { key: relay.seen, value: true, action: upsert } ] }
          filter: { traces: { span: ['name == "drop-0"'] } }
        exporters:
          otlp/upstream:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [filter, attributes], exporters: [otlp/upstream] }
        """,
            Map.of("UPSTREAM", upstream.grpcEndpoint()),
            AckMode.DELIVERED,
            dir);
    byte[] valid = OtlpRequests.spans("drop", 4).toByteArray();
    byte[] garbage = new byte[256];
    new java.util.Random(7).nextBytes(garbage);
    assertThat(
            relay.post("/v1/traces", java.util.Arrays.copyOf(valid, valid.length - 3)).statusCode())
        .isEqualTo(400);
    assertThat(relay.post("/v1/traces", garbage).statusCode()).isEqualTo(400);
    assertThat(relay.post("/v1/traces", valid).statusCode()).isEqualTo(200);
    List<Span> spans = upstream.spans();
    assertThat(spans).extracting(Span::getName).containsExactly("drop-1", "drop-2", "drop-3");
    assertThat(spans)
        .allSatisfy(
            s ->
                assertThat(s.getAttributesList())
                    .anySatisfy(
                        kv -> {
                          assertThat(kv.getKey()).isEqualTo("relay.seen");
                          assertThat(kv.getValue().getBoolValue()).isTrue();
                        }));
  }

  static String sha256(String s) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes("UTF-8")));
  }
}
