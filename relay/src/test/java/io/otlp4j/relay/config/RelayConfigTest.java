package io.otlp4j.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RelayConfigTest {
  private static final Path BASE = Path.of("/etc/otlp4j");

  private static String resource(String name) throws IOException {
    try (InputStream in = RelayConfigTest.class.getResourceAsStream("/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void collectorShapedGatewayConfigParsesWithEveryComponent() throws Exception {
    RelayConfig config =
        RelayConfig.parse(
            resource("collector-gateway.yaml"),
            Map.of("ENVIRONMENT", "prod", "API_KEY", "s3cret")::get,
            BASE);

    assertThat(config.pipelineIds()).containsExactly("traces", "traces/backup", "metrics", "logs");
    assertThat(config.receivers().get("otlp").grpc()).isEqualTo(new HostPort("0.0.0.0", 4317));
    assertThat(config.receivers().get("otlp").http()).isEqualTo(new HostPort("0.0.0.0", 4318));
    assertThat(config.receivers().get("otlp/internal").grpc())
        .isEqualTo(new HostPort("127.0.0.1", 4317));
    assertThat(config.receivers().get("otlp/internal").http()).isNull();
    assertThat(((BatchConfig) config.processors().get("batch")).settings())
        .isEqualTo(
            new BatchSettings(
                8192, 10000, Duration.ofMillis(200), BatchSettings.DEFAULT_QUEUE_SIZE, true));
    assertThat(((BatchConfig) config.processors().get("batch/small")).settings().sendBatchSize())
        .isEqualTo(BatchSettings.DEFAULT_SEND_BATCH_SIZE);
    assertThat(((BatchConfig) config.processors().get("batch/small")).settings().batching())
        .as("no timeout: adaptive batching")
        .isFalse();
    assertThat(((MemoryLimiterConfig) config.processors().get("memory_limiter")).limitBytes())
        .isEqualTo(1024L * 1024 * 1024);
    assertResourceProcessorRewrites(
        ((ResourceConfig) config.processors().get("resource")).rewrite());
    OtlpExporterConfig otlp = (OtlpExporterConfig) config.exporters().get("otlp");
    assertThat(otlp.http()).isFalse();
    assertThat(otlp.endpoint()).isEqualTo("collector.example.com:4317");
    assertThat(otlp.insecure()).isTrue();
    assertThat(otlp.headers()).containsExactly(Map.entry("x-api-key", "s3cret"));
    assertThat(otlp.compression()).isEqualTo(Compression.ZSTD);
    assertThat(otlp.timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(otlp.sendingQueue().queueSize()).isEqualTo(5000);
    OtlpExporterConfig backup = (OtlpExporterConfig) config.exporters().get("otlphttp/backup");
    assertThat(backup.http()).isTrue();
    assertThat(backup.compression()).isEqualTo(Compression.GZIP);
    FileExporterConfig file = (FileExporterConfig) config.exporters().get("file");
    assertThat(file.path()).isEqualTo(BASE.resolve("./otlp4j-data/spans.jsonl"));
    assertThat(file.maxBytes()).isEqualTo(10L * 1024 * 1024);
    assertThat(file.maxBackups()).isEqualTo(3);
    assertThat(config.exporters().get("debug")).isInstanceOf(DebugExporterConfig.class);
    assertThat(config.pipelines().get(0))
        .isEqualTo(
            new PipelineConfig(
                "traces",
                Signal.TRACES,
                java.util.List.of("otlp", "otlp/internal"),
                java.util.List.of("memory_limiter", "resource", "batch"),
                java.util.List.of("otlp", "file")));
    assertThat(config.adminEndpoint()).isEqualTo("127.0.0.1:8888");
  }

  private static void assertResourceProcessorRewrites(io.otlp4j.wire.ResourceRewrite rewrite)
      throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder()
                            .addAttributes(
                                KeyValue.newBuilder()
                                    .setKey("secret")
                                    .setValue(AnyValue.newBuilder().setStringValue("x")))
                            .addAttributes(
                                KeyValue.newBuilder()
                                    .setKey("service.name")
                                    .setValue(AnyValue.newBuilder().setStringValue("svc")))))
            .build();
    ByteBuf in = Unpooled.wrappedBuffer(request.toByteArray());
    ByteBuf out = rewrite.apply(Signal.TRACES, in);
    try {
      Resource resource =
          ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(out))
              .getResourceSpans(0)
              .getResource();
      assertThat(resource.getAttributesList())
          .containsExactlyInAnyOrder(
              KeyValue.newBuilder()
                  .setKey("service.name")
                  .setValue(AnyValue.newBuilder().setStringValue("svc"))
                  .build(),
              KeyValue.newBuilder()
                  .setKey("deployment.environment")
                  .setValue(AnyValue.newBuilder().setStringValue("prod"))
                  .build(),
              KeyValue.newBuilder()
                  .setKey("replicas")
                  .setValue(AnyValue.newBuilder().setIntValue(3))
                  .build());
    } finally {
      out.release();
      in.release();
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "unknown exporter type        | exporters:\\n  zipkin:\\n    endpoint: a\\n                        | line 2: exporters.zipkin: unknown exporter type 'zipkin'",
        "unknown key in a component   | exporters:\\n  debug:\\n    verbosty: basic\\n                     | line 3: exporters.debug.verbosty: unknown key 'verbosty'",
        "unknown top-level key        | exporters:\\n  debug:\\nrecievers:\\n  otlp:\\n                     | line 3: recievers: unknown key 'recievers'",
        "bad value                    | exporters:\\n  otlp:\\n    endpoint: x:1\\n    compression: lz4\\n    | line 4: exporters.otlp.compression: unknown compression 'lz4'",
        "bad duration                 | processors:\\n  batch:\\n    timeout: soon\\nexporters:\\n  debug:\\n | line 3: processors.batch.timeout: must be a duration",
        "unsupported resource action  | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        value: b\\n        action: extract\\nexporters:\\n  debug:\\n | line 6: processors.resource.attributes[0].action: 'extract' is not supported by otlp4j"
      })
  void unknownComponentKeyOrValueIsAnErrorNamingItAndItsLine(
      String name, String head, String expected) {
    String yaml =
        head.replace("\\n", "\n")
            + """
        service:
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [debug]
        receivers:
          otlp:
            protocols:
              grpc:
        """;
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> RelayConfig.parse(yaml, v -> null, BASE));
    assertThat(e).as("no error for %s", name).isNotNull();
    assertThat(e.errors()).anySatisfy(error -> assertThat(error).startsWith(expected));
  }

  @Test
  void pipelineNamingAnUndefinedComponentIsAnError() {
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              http:
        exporters:
          debug:
        service:
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch]
              exporters: [debug, otlp/missing]
            profiles:
              receivers: [otlp]
              exporters: [debug]
        """;
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> RelayConfig.parse(yaml, v -> null, BASE));
    assertThat(e.errors())
        .containsExactly(
            "line 11: service.pipelines.traces.processors: processor 'batch' is not defined",
            "line 12: service.pipelines.traces.exporters: exporter 'otlp/missing' is not defined",
            "line 13: service.pipelines.profiles: unknown signal 'profiles' (traces, metrics, logs)");
  }

  @Test
  void malformedYamlNamesItsLine() {
    assertThatThrownBy(() -> RelayConfig.parse("receivers:\n  otlp: [\n", v -> null, BASE))
        .isInstanceOf(RelayConfigException.class)
        .hasMessageStartingWith("line ")
        .hasMessageContaining("not valid YAML");
  }

  @Test
  void environmentVariablesAreSubstitutedWithDefaults() {
    assertThat(
            ConfigNode.substitute("a-${env:X}-${Y}-${env:Z:-zed}", Map.of("X", "1", "Y", "2")::get))
        .isEqualTo("a-1-2-zed");
  }
}
