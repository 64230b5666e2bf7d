package io.otlp4j.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.otlp4j.relay.DebugExporter;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Collector keys of TLS, authentication, receiver limits, exporter endpoints, the resource
 * processor's actions and the debug and file exporters: a gateway configuration in the Collector's
 * shape parses unchanged, and every bad value is an error naming its key and line.
 */
class RelayConfigCollectorKeysTest {
  private static final String INGEST_TOKEN = "ingest-SECRET-4c1d";
  private static final String BACKEND_TOKEN = "backend-SECRET-77aa";

  @TempDir Path dir;

  @BeforeEach
  void files() throws IOException {
    Files.createDirectories(dir.resolve("certs"));
    Files.createDirectories(dir.resolve("secrets"));
    for (String name : List.of("server.pem", "server.key", "ca.pem", "client.pem", "client.key")) {
      Files.writeString(dir.resolve("certs").resolve(name), "PEM", StandardCharsets.US_ASCII);
    }
    Files.writeString(dir.resolve("cert.pem"), "PEM", StandardCharsets.US_ASCII);
    Files.writeString(
        dir.resolve("secrets/backend.token"), BACKEND_TOKEN + "\n", StandardCharsets.UTF_8);
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = RelayConfigCollectorKeysTest.class.getResourceAsStream("/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void collectorGatewayWithTlsAuthAndEveryKeyParsesUnchanged() throws Exception {
    RelayConfig config =
        RelayConfig.parse(
            resource("collector-gateway-secure.yaml"),
            Map.of("INGEST_TOKEN", INGEST_TOKEN)::get,
            dir);

    assertThat(config.pipelineIds()).containsExactly("traces", "metrics/1", "logs");
    ReceiverConfig otlp = config.receivers().get("otlp");
    assertThat(otlp.grpc()).isEqualTo(new HostPort("0.0.0.0", 4317));
    assertThat(otlp.grpcOptions())
        .isEqualTo(
            new ReceiverConfig.ServerOptions(
                new ReceiverConfig.ServerTls(
                    dir.resolve("certs/server.pem"),
                    dir.resolve("certs/server.key"),
                    dir.resolve("certs/ca.pem")),
                "bearertokenauth",
                new Secret(INGEST_TOKEN),
                32 * 1024 * 1024,
                200,
                Map.of(),
                0));
    assertThat(otlp.httpOptions())
        .isEqualTo(
            new ReceiverConfig.ServerOptions(
                new ReceiverConfig.ServerTls(
                    dir.resolve("certs/server.pem"), dir.resolve("certs/server.key"), null),
                "bearertokenauth",
                new Secret(INGEST_TOKEN),
                10 * 1024 * 1024,
                0,
                Map.of(Signal.TRACES, "/v1/traces", Signal.LOGS, "/ingest/logs"),
                0));

    OtlpExporterConfig primary = (OtlpExporterConfig) config.exporters().get("otlp/primary");
    assertThat(primary.endpoint()).isEqualTo("backend.example.com:4317");
    assertThat(primary.insecure()).isFalse();
    assertThat(primary.compression()).isEqualTo(Compression.ZSTD);
    assertThat(primary.timeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(primary.headers()).containsExactly(Map.entry("x-tenant", "acme"));
    assertThat(primary.tls())
        .isEqualTo(
            new ClientTls(
                dir.resolve("certs/ca.pem"),
                dir.resolve("certs/client.pem"),
                dir.resolve("certs/client.key")));
    assertThat(primary.authorization()).isEqualTo(new Secret(BACKEND_TOKEN));
    OtlpExporterConfig archive = (OtlpExporterConfig) config.exporters().get("otlphttp/archive");
    assertThat(archive.http()).isTrue();
    assertThat(archive.compression()).isEqualTo(Compression.NONE);
    assertThat(archive.timeout()).as("otlphttp's default").isEqualTo(Duration.ofSeconds(30));
    assertThat(archive.signalEndpoints())
        .containsExactly(Map.entry(Signal.TRACES, "https://archive.example.com/custom/traces"));
    assertThat(archive.authorization()).isNull();
    OtlpExporterConfig insecure = (OtlpExporterConfig) config.exporters().get("otlp/insecure");
    assertThat(insecure.insecure()).isTrue();
    assertThat(insecure.timeout()).as("otlp's default").isEqualTo(Duration.ofSeconds(5));
    assertThat(insecure.compression()).as("the Collector's default").isEqualTo(Compression.GZIP);

    assertThat(((DebugExporterConfig) config.exporters().get("debug/detailed")).verbosity())
        .isEqualTo(DebugExporter.Verbosity.DETAILED);
    assertThat(((DebugExporterConfig) config.exporters().get("debug")).verbosity())
        .isEqualTo(DebugExporter.Verbosity.BASIC);
    FileExporterConfig file = (FileExporterConfig) config.exporters().get("file/proto");
    assertThat(file)
        .isEqualTo(
            new FileExporterConfig(
                "file/proto",
                dir.resolve("./data/traces.binpb"),
                null,
                50L * 1024 * 1024,
                7,
                file.sendingQueue(),
                true,
                Duration.ofDays(3),
                true,
                true));

    assertResourceActions(((ResourceConfig) config.processors().get("resource/env")).rewrite());
    assertThat(config.toString() + config.receivers() + config.exporters())
        .doesNotContain(INGEST_TOKEN, BACKEND_TOKEN);
  }

  private static void assertResourceActions(io.otlp4j.wire.ResourceRewrite rewrite)
      throws Exception {
    ExportTraceServiceRequest request =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder()
                            .addAttributes(kv("deployment.environment", "dev"))
                            .addAttributes(kv("internal.debug", "on"))
                            .addAttributes(kv("host.name", "node-1"))))
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .setResource(
                        Resource.newBuilder().addAttributes(kv("service.namespace", "old"))))
            .build();
    ByteBuf in = Unpooled.wrappedBuffer(request.toByteArray());
    ByteBuf out = rewrite.apply(Signal.TRACES, in);
    try {
      ExportTraceServiceRequest parsed =
          ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(out));
      KeyValue replicas =
          KeyValue.newBuilder()
              .setKey("replicas")
              .setValue(AnyValue.newBuilder().setIntValue(3))
              .build();
      assertThat(parsed.getResourceSpans(0).getResource().getAttributesList())
          .containsExactly(
              kv("deployment.environment", "dev"),
              kv("host.name", "node-1"),
              kv("cloud.region", "eu-west-1"),
              replicas,
              kv("service.instance.id", "node-1"));
      assertThat(parsed.getResourceSpans(1).getResource().getAttributesList())
          .containsExactly(
              kv("service.namespace", "shop"),
              kv("deployment.environment", "production"),
              kv("cloud.region", "eu-west-1"),
              replicas);
    } finally {
      out.release();
      in.release();
    }
  }

  private static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setStringValue(value))
        .build();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "server tls without a key     | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        tls:\\n          cert_file: cert.pem\\n | line 5: receivers.otlp.protocols.grpc.tls: a server needs cert_file and key_file",
        "missing certificate file     | receivers:\\n  otlp:\\n    protocols:\\n      http:\\n        tls:\\n          cert_file: nope.pem\\n          key_file: cert.pem\\n | line 6: receivers.otlp.protocols.http.tls.cert_file: 'nope.pem' is not a readable file",
        "old tls version              | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        tls:\\n          cert_file: cert.pem\\n          key_file: cert.pem\\n          min_version: \"1.0\"\\n | line 8: receivers.otlp.protocols.grpc.tls.min_version: '1.0' is not supported",
        "bad message size             | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        max_recv_msg_size_mib: lots\\n | line 5: receivers.otlp.protocols.grpc.max_recv_msg_size_mib: must be a whole number",
        "bad stream limit             | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        max_concurrent_streams: 0\\n | line 5: receivers.otlp.protocols.grpc.max_concurrent_streams: must be at least 1",
        "bad body size                | receivers:\\n  otlp:\\n    protocols:\\n      http:\\n        max_request_body_size: -1\\n | line 5: receivers.otlp.protocols.http.max_request_body_size: must be at least 1",
        "unsupported server key       | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        read_buffer_size: 1024\\n | line 5: receivers.otlp.protocols.grpc.read_buffer_size: 'read_buffer_size' is not supported by otlp4j",
        "bad keepalive min_time       | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        keepalive:\\n          enforcement_policy:\\n            min_time: soon\\n | line 7: receivers.otlp.protocols.grpc.keepalive.enforcement_policy.min_time: must be a duration",
        "unknown keepalive key        | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        keepalive:\\n          server_parameters:\\n            max_idle: 1s\\n | line 7: receivers.otlp.protocols.grpc.keepalive.server_parameters.max_idle: unknown key",
        "zero idle timeout            | receivers:\\n  otlp:\\n    protocols:\\n      http:\\n        idle_timeout: 0s\\n | line 5: receivers.otlp.protocols.http.idle_timeout: must be positive",
        "shared url path              | receivers:\\n  otlp:\\n    protocols:\\n      http:\\n        traces_url_path: /ingest\\n        logs_url_path: ingest\\n | line 6: receivers.otlp.protocols.http.logs_url_path: '/ingest' is already another signal's path",
        "url path with query          | receivers:\\n  otlp:\\n    protocols:\\n      http:\\n        logs_url_path: /logs?x=1\\n | line 5: receivers.otlp.protocols.http.logs_url_path: '/logs?x=1' is not a URL path",
        "http key on grpc             | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        max_request_body_size: 10\\n | line 5: receivers.otlp.protocols.grpc.max_request_body_size: unknown key",
        "undefined authenticator      | receivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        auth:\\n          authenticator: bearertokenauth\\n | line 6: receivers.otlp.protocols.grpc.auth.authenticator: extension 'bearertokenauth' is not defined",
        "authenticator not enabled    | extensions:\\n  bearertokenauth:\\n    token: t\\nreceivers:\\n  otlp:\\n    protocols:\\n      grpc:\\n        auth:\\n          authenticator: bearertokenauth\\n | line 9: receivers.otlp.protocols.grpc.auth.authenticator: extension 'bearertokenauth' must be listed in service.extensions",
        "unknown extension type       | extensions:\\n  oauth2client:\\n    client_id: x\\n | line 2: extensions.oauth2client: unknown extension type 'oauth2client'",
        "token and filename           | extensions:\\n  bearertokenauth:\\n    token: t\\n    filename: cert.pem\\n | line 2: extensions.bearertokenauth: set exactly one of token and filename",
        "missing token file           | extensions:\\n  bearertokenauth:\\n    filename: gone.token\\n | line 3: extensions.bearertokenauth.filename: 'gone.token' is not a readable file",
        "other scheme                 | extensions:\\n  bearertokenauth:\\n    scheme: Basic\\n    token: t\\n | line 3: extensions.bearertokenauth.scheme: 'Basic' is not supported",
        "several tokens               | extensions:\\n  bearertokenauth:\\n    tokens: [a, b]\\n | line 3: extensions.bearertokenauth.tokens: 'tokens' is not supported by otlp4j",
        "undefined service extension  | service:\\n  extensions: [health_check]\\n  pipelines:\\n    traces:\\n      receivers: [otlp]\\n      exporters: [debug]\\n | line 2: service.extensions: extension 'health_check' is not defined",
        "skip verify                  | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    tls:\\n      insecure_skip_verify: true\\n | line 5: exporters.otlp.tls.insecure_skip_verify: true is not supported",
        "server name override         | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    tls:\\n      server_name_override: other\\n | line 5: exporters.otlp.tls.server_name_override: is not supported",
        "client cert without key      | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    tls:\\n      cert_file: cert.pem\\n | line 4: exporters.otlp.tls: cert_file and key_file must be given together",
        "bad insecure                 | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    tls:\\n      insecure: maybe\\n | line 5: exporters.otlp.tls.insecure: must be true or false",
        "other scheme endpoint        | exporters:\\n  otlphttp:\\n    endpoint: ftp://h:21\\n | line 3: exporters.otlphttp.endpoint: 'ftp://h:21' must use http or https",
        "grpc endpoint without port   | exporters:\\n  otlp:\\n    endpoint: backend\\n | line 3: exporters.otlp.endpoint: 'backend' must be host:port or a URL",
        "bad signal endpoint          | exporters:\\n  otlphttp:\\n    endpoint: http://h:4318\\n    logs_endpoint: ftp://h/logs\\n | line 4: exporters.otlphttp.logs_endpoint: 'ftp://h/logs' must use http or https",
        "json encoding                | exporters:\\n  otlphttp:\\n    endpoint: http://h:4318\\n    encoding: json\\n | line 4: exporters.otlphttp.encoding: 'json' is not supported",
        "signal endpoint on grpc      | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    traces_endpoint: http://h/t\\n | line 4: exporters.otlp.traces_endpoint: unknown key",
        "zero timeout                 | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    timeout: 0\\n | line 4: exporters.otlp.timeout: must be positive",
        "unsupported client key       | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    balancer_name: round_robin\\n | line 4: exporters.otlp.balancer_name: 'balancer_name' is not supported by otlp4j",
        "exporter authenticator       | exporters:\\n  otlp:\\n    endpoint: h:4317\\n    auth:\\n      authenticator: oidc\\n | line 5: exporters.otlp.auth.authenticator: extension 'oidc' is not defined",
        "bad verbosity                | exporters:\\n  debug:\\n    verbosity: loud\\n | line 3: exporters.debug.verbosity: unknown verbosity 'loud'",
        "bad sampling                 | exporters:\\n  debug:\\n    sampling_thereafter: 0\\n | line 3: exporters.debug.sampling_thereafter: must be at least 1",
        "bad file format              | exporters:\\n  file:\\n    path: out\\n    format: avro\\n | line 4: exporters.file.format: unknown format 'avro' (supported: json, proto)",
        "negative max_days            | exporters:\\n  file:\\n    path: out\\n    rotation:\\n      max_days: -1\\n | line 5: exporters.file.rotation.max_days: must be at least 0",
        "bad localtime                | exporters:\\n  file:\\n    path: out\\n    rotation:\\n      localtime: sometimes\\n | line 5: exporters.file.rotation.localtime: must be true or false",
        "bad flush interval           | exporters:\\n  file:\\n    path: out\\n    flush_interval: often\\n | line 4: exporters.file.flush_interval: must be a duration",
        "file compression             | exporters:\\n  file:\\n    path: out\\n    compression: zstd\\n | line 4: exporters.file.compression: 'compression' is not supported by otlp4j",
        "hash action                  | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        action: hash\\n | line 5: processors.resource.attributes[0].action: 'hash' is not supported by otlp4j",
        "from_attribute and value     | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        from_attribute: b\\n        value: c\\n        action: insert\\n | line 6: processors.resource.attributes[0].value: give value or from_attribute, not both",
        "delete from_attribute        | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        from_attribute: b\\n        action: delete\\n | line 6: processors.resource.attributes[0].action: 'delete' does not take from_attribute",
        "insert without value         | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        action: insert\\n | line 4: processors.resource.attributes[0].value: is required for insert",
        "list value                   | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        value: [1, 2]\\n        action: update\\n | line 5: processors.resource.attributes[0].value: is required for update",
        "unknown action               | processors:\\n  resource:\\n    attributes:\\n      - key: a\\n        value: b\\n        action: replace\\n | line 6: processors.resource.attributes[0].action: unknown action 'replace'"
      })
  void everyBadValueIsAnErrorNamingItsKeyAndLine(String name, String head, String expected) {
    String yaml = withDefaults(head.replace("\\n", "\n"));
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> RelayConfig.parse(yaml, v -> null, dir));
    assertThat(e).as("no error for %s", name).isNotNull();
    assertThat(e.errors()).anySatisfy(error -> assertThat(error).startsWith(expected));
  }

  /**
   * Adds a receiver, an exporter and a pipeline where {@code head} has none, after it (lines
   * unchanged).
   */
  private static String withDefaults(String head) {
    StringBuilder yaml = new StringBuilder(head);
    if (!head.contains("receivers:\n")) {
      yaml.append("receivers:\n  otlp:\n    protocols:\n      grpc:\n");
    }
    if (!head.contains("exporters:\n")) {
      yaml.append("exporters:\n  debug:\n");
    }
    if (!head.contains("service:\n")) {
      yaml.append(
          "service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n");
    }
    return yaml.toString();
  }

  @Test
  void tokensNeverAppearInErrors() throws Exception {
    Files.writeString(dir.resolve("token.txt"), "from-file-SECRET", StandardCharsets.UTF_8);
    String yaml =
        """
        extensions:
          bearertokenauth:
            token: inline-SECRET
            header: X-Token
          bearertokenauth/file:
            filename: token.txt
            scheme: Basic
        receivers:
          otlp:
            protocols:
              grpc:
                auth:
                  authenticator: bearertokenauth
        exporters:
          otlp:
            endpoint: h
            auth:
              authenticator: bearertokenauth/file
        service:
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp]
        """;
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> RelayConfig.parse(yaml, v -> null, dir));
    assertThat(e.errors())
        .hasSizeGreaterThanOrEqualTo(4)
        .noneSatisfy(error -> assertThat(error).containsAnyOf("SECRET"));
    assertThat(e.getMessage()).doesNotContain("SECRET");
    assertThat(new Secret("s3cret")).hasToString("[redacted]");
  }
}
