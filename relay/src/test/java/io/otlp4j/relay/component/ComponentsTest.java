package io.otlp4j.relay.component;

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
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.Relay;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The component registry: unknown types, duplicate types, and a processor added as one class and
 * one line.
 */
@ExtendWith(NettyLeakCheck.class)
class ComponentsTest {

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "processors | k8sattributes | unknown processor type 'k8sattributes' (known: attributes, batch, filter, memory_limiter, probabilistic_sampler, resource, tail_sampling)",
        "exporters  | zipkin     | unknown exporter type 'zipkin' (known: debug, file, kafka, otlp, otlphttp)",
        "extensions | oidc       | unknown extension type 'oidc' (known: bearertokenauth, file_storage, health_check, pprof, zpages)",
        "receivers  | jaeger     | unknown receiver type 'jaeger' (known: kafka, otlp)",
        "connectors | forward    | unknown connector type 'forward' (none are supported yet)"
      })
  void anUnknownTypeIsAnErrorNamingItAndTheKnownTypes(String section, String type, String message) {
    StringBuilder yaml = new StringBuilder(section + ":\n  " + type + "/x:\n");
    String receivers = "  otlp:\n    protocols:\n      grpc:\n";
    if (section.equals("exporters")) {
      yaml.append("  debug:\n");
    } else if (section.equals("receivers")) {
      yaml.append(receivers);
    }
    if (!section.equals("exporters")) {
      yaml.append("exporters:\n  debug:\n");
    }
    if (!section.equals("receivers")) {
      yaml.append("receivers:\n").append(receivers);
    }
    yaml.append("service:\n  pipelines:\n    traces: { receivers: [otlp], exporters: [debug] }\n");
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> RelayConfig.parse(yaml.toString(), v -> null, dir));
    assertThat(e).isNotNull();
    assertThat(e.errors()).containsExactly("line 2: " + section + "." + type + "/x: " + message);
  }

  @Test
  void aTypeRegisteredTwiceIsRefused() {
    Components.Builder b = Components.builtIn().toBuilder();
    assertThatThrownBy(() -> b.exporter(new DebugExporterFactory()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("exporter type 'debug' is registered twice");
  }

  /** The configuration of {@link FirstResourceOnly}. */
  record FirstResourceOnlyConfig(String id, boolean dropAll) implements ProcessorConfig {}

  /**
   * A processor added as one class: keeps the first resource of each traces request (new bytes,
   * walked again for their counts) or, with {@code drop_all}, nothing.
   */
  static final class FirstResourceOnly implements ProcessorFactory<FirstResourceOnlyConfig> {
    final AtomicLong itemsSeen = new AtomicLong();

    @Override
    public String type() {
      return "first_resource";
    }

    @Override
    public FirstResourceOnlyConfig read(String id, ConfigNode node, String where, ConfigReader in) {
      Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      in.checkKeys(m, where, "drop_all");
      return new FirstResourceOnlyConfig(
          id, in.bool(m.get("drop_all"), where + ".drop_all", false));
    }

    @Override
    public RelayProcessor create(FirstResourceOnlyConfig config, ComponentContext context) {
      return new RelayProcessor() {
        @Override
        public String id() {
          return config.id();
        }

        @Override
        public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
          try {
            itemsSeen.addAndGet(summary.itemCount());
            if (config.dropAll()) {
              return RelayProcessor.dropped(summary.itemCount());
            }
            ExportTraceServiceRequest parsed =
                ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(request));
            ByteBuf kept =
                Unpooled.wrappedBuffer(
                    ExportTraceServiceRequest.newBuilder()
                        .addResourceSpans(parsed.getResourceSpans(0))
                        .build()
                        .toByteArray());
            return RelayProcessor.forward(kept, OtlpWalker.create().walk(signal, kept));
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          } finally {
            request.release();
          }
        }
      };
    }
  }

  private static ResourceSpans resource(String service, int spans) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      scope.addSpans(
          Span.newBuilder()
              .setName(service + "-" + i)
              .setTraceId(com.google.protobuf.ByteString.copyFrom(new byte[16]))
              .setSpanId(
                  com.google.protobuf.ByteString.copyFrom(
                      new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) i})));
    }
    return ResourceSpans.newBuilder()
        .setResource(
            Resource.newBuilder()
                .addAttributes(
                    KeyValue.newBuilder()
                        .setKey("service.name")
                        .setValue(AnyValue.newBuilder().setStringValue(service))))
        .addScopeSpans(scope)
        .build();
  }

  @ParameterizedTest(name = "drop_all: {0}")
  @CsvSource({"false, 2", "true, 0"})
  void aProcessorAddedWithOneRegistrationLineEditsOrDropsRequestsInARunningRelay(
      boolean dropAll, int exported) throws Exception {
    FirstResourceOnly factory = new FirstResourceOnly();
    Components components = Components.builtIn().toBuilder().processor(factory).build();
    Path out = dir.resolve("spans.jsonl");
    RelayConfig config =
        RelayConfig.parse(
            """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          first_resource: { drop_all: %s }
        exporters:
          file: { path: %s }
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [first_resource], exporters: [file] }
        """
                .formatted(dropAll, out),
            v -> null,
            dir,
            components);
    byte[] body =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(resource("kept", 2))
            .addResourceSpans(resource("removed", 3))
            .build()
            .toByteArray();
    try (Relay relay = Relay.start(config)) {
      HttpResponse<byte[]> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:"
                                  + relay.httpAddress("otlp").getPort()
                                  + "/v1/traces"))
                      .header("Content-Type", "application/x-protobuf")
                      .timeout(Duration.ofSeconds(10))
                      .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofByteArray());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    }
    assertThat(factory.itemsSeen.get())
        .as("the receiver's walk summary reaches the processor")
        .isEqualTo(5);
    List<String> lines =
        Files.exists(out) ? Files.readAllLines(out, StandardCharsets.UTF_8) : List.of();
    long spans = 0;
    for (String line : lines) {
      ExportTraceServiceRequest written =
          ExportTraceServiceRequest.parseFrom(
              OtlpJson.toProtobuf(Signal.TRACES, line.getBytes(StandardCharsets.UTF_8)));
      for (ResourceSpans rs : written.getResourceSpansList()) {
        assertThat(rs.getResource().getAttributes(0).getValue().getStringValue()).isEqualTo("kept");
        spans += rs.getScopeSpansList().stream().mapToLong(ScopeSpans::getSpansCount).sum();
      }
    }
    assertThat(spans).isEqualTo(exported);
  }
}
