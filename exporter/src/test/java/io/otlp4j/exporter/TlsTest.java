package io.otlp4j.exporter;

import static io.otlp4j.exporter.TestRequests.buffer;
import static io.otlp4j.exporter.TestRequests.fastRetries;
import static io.otlp4j.exporter.TestRequests.tagged;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.otlp4j.core.Outcome;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** TLS and mutual TLS against real gRPC and HTTPS servers, with certificates made for the test. */
@ExtendWith(NettyLeakCheck.class)
class TlsTest {

  @TempDir static Path dir;
  private static TestCertificates certs;

  /** gRPC over TLS and HTTPS, the server authenticated. */
  private static MockOtlpServer serverAuth;

  /** gRPC over TLS and HTTPS, both sides authenticated. */
  private static MockOtlpServer mutual;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCertificates.create(dir);
    serverAuth =
        MockOtlpServer.builder()
            .grpcTls(
                GrpcSslContexts.forServer(certs.serverCert.toFile(), certs.serverKey.toFile())
                    .build())
            .httpTls(jdkServerContext(false), false)
            .requireContentLength()
            .start();
    mutual =
        MockOtlpServer.builder()
            .grpcTls(
                GrpcSslContexts.forServer(certs.serverCert.toFile(), certs.serverKey.toFile())
                    .trustManager(certs.caCert.toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build())
            .httpTls(jdkServerContext(true), true)
            .requireContentLength()
            .start();
  }

  private static javax.net.ssl.SSLContext jdkServerContext(boolean mutual) throws Exception {
    SslContextBuilder b =
        SslContextBuilder.forServer(certs.serverCert.toFile(), certs.serverKey.toFile())
            .sslProvider(SslProvider.JDK);
    if (mutual) {
      b.trustManager(certs.caCert.toFile()).clientAuth(ClientAuth.REQUIRE);
    }
    SslContext ctx = b.build();
    return ((JdkSslContext) ctx).context();
  }

  @AfterAll
  static void stop() throws Exception {
    serverAuth.close();
    mutual.close();
  }

  private static String endpoint(Protocol protocol, boolean mutual) {
    MockOtlpServer server = mutual ? TlsTest.mutual : serverAuth;
    int port = protocol == Protocol.GRPC ? server.grpcPort() : server.httpPort();
    return "https://127.0.0.1:" + port;
  }

  private static Outcome export(OtlpExporter.Builder builder) throws Exception {
    try (OtlpExporter exporter =
        builder.retryPolicy(fastRetries(1)).timeout(Duration.ofSeconds(5)).ioThreads(1).build()) {
      return exporter.export(Signal.LOGS, buffer(tagged("tls", 100)), 1).get(60, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void serverAuthenticatedTlsWithTheTrustedCa(Protocol protocol) throws Exception {
    Outcome result =
        export(
            OtlpExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint(protocol, false))
                .trustedCertificates(certs.caCert));

    assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void mutualTlsWithAClientCertificate(Protocol protocol) throws Exception {
    Outcome result =
        export(
            OtlpExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint(protocol, true))
                .trustedCertificates(certs.caCert)
                .clientCertificate(certs.clientCert, certs.clientKey));

    assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void aServerRequiringClientCertificatesRefusesAClientWithout(Protocol protocol) throws Exception {
    Outcome result =
        export(
            OtlpExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint(protocol, true))
                .trustedCertificates(certs.caCert));

    assertThat(result.isSuccess()).as(result.toString()).isFalse();
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void aServerCertificateFromAnotherCaIsRefusedWithAClearError(Protocol protocol) throws Exception {
    Outcome result =
        export(
            OtlpExporter.builder()
                .protocol(protocol)
                .endpoint(endpoint(protocol, false))
                .trustedCertificates(certs.otherCaCert));

    assertThat(result.kind()).isEqualTo(Outcome.Kind.RETRYABLE);
    assertThat(result.message()).contains("certification path");
    assertThat(result.cause()).isNotNull();
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void mutualTlsConfiguredThroughTheEnvironmentVariables(Protocol protocol) throws Exception {
    java.util.Map<String, String> env =
        java.util.Map.of(
            "OTEL_EXPORTER_OTLP_PROTOCOL", protocol.configName(),
            "OTEL_EXPORTER_OTLP_ENDPOINT", endpoint(protocol, true),
            "OTEL_EXPORTER_OTLP_CERTIFICATE", certs.caCert.toString(),
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", certs.clientCert.toString(),
            "OTEL_EXPORTER_OTLP_CLIENT_KEY", certs.clientKey.toString());

    Outcome result = export(OtlpExporter.builder().fromEnvironment(env::get, null));

    assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
  }

  @Test
  void aMissingCertificateFileFailsAtBuildTimeNamingIt() {
    assertThatThrownBy(
            () ->
                OtlpExporter.builder()
                    .protocol(Protocol.GRPC)
                    .endpoint("https://127.0.0.1:1")
                    .trustedCertificates(dir.resolve("nope.pem"))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope.pem");
  }
}
