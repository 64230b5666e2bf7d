package io.otlp4j.exporter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The OTEL_EXPORTER_OTLP_* variables, read through an injected lookup (never the real environment).
 */
class EnvironmentConfigurationTest {

  private static OtlpExporter fromEnv(Map<String, String> env, Signal signal) {
    Function<String, String> lookup = env::get;
    return OtlpExporter.builder().ioThreads(1).fromEnvironment(lookup, signal).build();
  }

  @Test
  void defaultsAreHttpProtobufToLocalhost4318WithSignalPaths() {
    try (OtlpExporter e = fromEnv(Map.of(), null)) {
      assertThat(e.protocol()).isEqualTo(Protocol.HTTP_PROTOBUF);
      assertThat(e.endpoint(Signal.TRACES)).isEqualTo("http://localhost:4318/v1/traces");
      assertThat(e.endpoint(Signal.METRICS)).isEqualTo("http://localhost:4318/v1/metrics");
      assertThat(e.endpoint(Signal.LOGS)).isEqualTo("http://localhost:4318/v1/logs");
      assertThat(e.timeout()).isEqualTo(Duration.ofSeconds(10));
      assertThat(e.compression()).isEqualTo(Compression.NONE);
    }
  }

  @Test
  void grpcDefaultsToLocalhost4317() {
    try (OtlpExporter e = fromEnv(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), null)) {
      assertThat(e.protocol()).isEqualTo(Protocol.GRPC);
      assertThat(e.endpoint(Signal.LOGS)).isEqualTo("http://localhost:4317");
    }
  }

  @Test
  void theGenericHttpEndpointGetsTheSignalPathAndPerSignalEndpointsAreUsedAsTheyAre() {
    Map<String, String> env = new HashMap<>();
    env.put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
    env.put("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:9000/otlp/");
    env.put("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces.example:7000/custom/path");
    try (OtlpExporter e = fromEnv(env, null)) {
      assertThat(e.protocol()).isEqualTo(Protocol.HTTP_JSON);
      assertThat(e.endpoint(Signal.TRACES)).isEqualTo("http://traces.example:7000/custom/path");
      assertThat(e.endpoint(Signal.METRICS))
          .isEqualTo("https://collector.example:9000/otlp/v1/metrics");
      assertThat(e.endpoint(Signal.LOGS)).isEqualTo("https://collector.example:9000/otlp/v1/logs");
    }
  }

  @Test
  void headersTimeoutAndCompressionAreParsedWithUrlDecodedValues() {
    Map<String, String> env = new HashMap<>();
    env.put("OTEL_EXPORTER_OTLP_HEADERS", "api-key=secret%3D%3D, x-scope = a%20b%2Cc ,empty=");
    env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "2500");
    env.put("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    try (OtlpExporter e = fromEnv(env, null)) {
      assertThat(e.headers())
          .containsEntry("api-key", "secret==")
          .containsEntry("x-scope", "a b,c")
          .containsEntry("empty", "");
      assertThat(e.timeout()).isEqualTo(Duration.ofMillis(2500));
      assertThat(e.compression()).isEqualTo(Compression.GZIP);
    }
  }

  @Test
  void perSignalVariablesWinForAnExporterDedicatedToThatSignal() {
    Map<String, String> env = new HashMap<>();
    env.put("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    env.put("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc");
    env.put("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip");
    env.put("OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "zstd");
    env.put("OTEL_EXPORTER_OTLP_TIMEOUT", "1000");
    env.put("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "3000");
    env.put("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs.example:4317");
    try (OtlpExporter e = fromEnv(env, Signal.LOGS)) {
      assertThat(e.protocol()).isEqualTo(Protocol.GRPC);
      assertThat(e.compression()).isEqualTo(Compression.ZSTD);
      assertThat(e.timeout()).isEqualTo(Duration.ofSeconds(3));
      assertThat(e.endpoint(Signal.LOGS)).isEqualTo("http://logs.example:4317");
    }
  }

  @Test
  void aUrlWithoutAPortUsesItsSchemesPortAndABareHostTheProtocolsPort() {
    Map<String, String> env = new HashMap<>();
    env.put("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example");
    env.put("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs.example/v1/logs");
    try (OtlpExporter e = fromEnv(env, null)) {
      assertThat(e.endpoint(Signal.TRACES)).isEqualTo("https://collector.example:443/v1/traces");
      assertThat(e.endpoint(Signal.LOGS)).isEqualTo("http://logs.example:80/v1/logs");
    }
    try (OtlpExporter e =
        fromEnv(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "collector.example"), null)) {
      assertThat(e.endpoint(Signal.TRACES)).isEqualTo("http://collector.example:4318/v1/traces");
    }
  }

  @Test
  void insecureDecidesTlsForAGrpcEndpointWithoutScheme() {
    Map<String, String> env = new HashMap<>();
    env.put("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    env.put("OTEL_EXPORTER_OTLP_ENDPOINT", "collector.example:4317");
    try (OtlpExporter secure = fromEnv(env, null)) {
      assertThat(secure.endpoint(Signal.TRACES)).isEqualTo("https://collector.example:4317");
    }
    env.put("OTEL_EXPORTER_OTLP_INSECURE", "true");
    try (OtlpExporter insecure = fromEnv(env, null)) {
      assertThat(insecure.endpoint(Signal.TRACES)).isEqualTo("http://collector.example:4317");
    }
  }

  @Test
  void malformedValuesFailNamingTheVariable() {
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "thrift"), null))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_PROTOCOL")
        .hasMessageContaining("thrift");
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"), null))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_TIMEOUT");
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"), null))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_COMPRESSION");
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_HEADERS", "novalue"), null))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_HEADERS");
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_INSECURE", "yes"), null))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_INSECURE");
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/k.pem"), null))
        .hasMessageContaining("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
    assertThatThrownBy(() -> fromEnv(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x:1"), null))
        .hasMessageContaining("ftp://x:1");
  }

  @Test
  void theUserAgentNamesOtlp4jAndItsVersion() {
    assertThat(OtlpExporter.userAgent()).matches("otlp4j/\\d+\\.\\d+\\.\\d+.*");
  }
}
