package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.exporter.TestCertificates;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relay configured as a Collector gateway with TLS and {@code bearertokenauth} on both receivers
 * and on its {@code otlp} exporter: clients with the right token get through, clients without it
 * get 401 / UNAUTHENTICATED, and the exporter reaches a mutual-TLS grpc-java upstream with its own
 * token.
 */
class RelaySecurityTest {
  private static final String CLIENT_TOKEN = "client-token-7f3a";
  private static final String UPSTREAM_TOKEN = "upstream-token-91c2";

  @TempDir Path dir;

  private Server upstream;
  private Relay relay;
  private final ConcurrentLinkedQueue<ExportTraceServiceRequest> received =
      new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> upstreamAuthorization = new ConcurrentLinkedQueue<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (relay != null) {
      relay.shutdown(Duration.ofSeconds(5));
    }
    if (upstream != null) {
      upstream.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void tlsAndBearerTokenOnBothReceiversAndOnTheExporter() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    startTlsUpstream(certs);
    Files.writeString(dir.resolve("upstream.token"), UPSTREAM_TOKEN + "\n", StandardCharsets.UTF_8);
    String yaml =
        """
        extensions:
          bearertokenauth/clients:
            scheme: Bearer
            token: ${env:CLIENT_TOKEN}
          bearertokenauth/upstream:
            filename: upstream.token
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 127.0.0.1:0
                max_recv_msg_size_mib: 16
                tls:
                  cert_file: server.pem
                  key_file: server.key
                auth:
                  authenticator: bearertokenauth/clients
              http:
                endpoint: 127.0.0.1:0
                max_request_body_size: 16777216
                traces_url_path: /secure/traces
                tls:
                  cert_file: server.pem
                  key_file: server.key
                  min_version: "1.2"
                auth:
                  authenticator: bearertokenauth/clients
        exporters:
          otlp/upstream:
            endpoint: 127.0.0.1:%d
            tls:
              ca_file: ca.pem
              cert_file: client.pem
              key_file: client.key
            auth:
              authenticator: bearertokenauth/upstream
        service:
          extensions: [bearertokenauth/clients, bearertokenauth/upstream]
          telemetry:
            metrics:
              address: 127.0.0.1:0
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp/upstream]
        """
            .formatted(upstream.getPort());
    RelayConfig config = RelayConfig.parse(yaml, Map.of("CLIENT_TOKEN", CLIENT_TOKEN)::get, dir);
    assertThat(config.toString()).doesNotContain(CLIENT_TOKEN, UPSTREAM_TOKEN);
    assertThat(config.receivers().get("otlp").toString()).doesNotContain(CLIENT_TOKEN);
    assertThat(config.exporters().get("otlp/upstream").toString()).doesNotContain(UPSTREAM_TOKEN);
    relay = Relay.start(config);

    // OTLP/gRPC over TLS: the official stub with and without the token.
    ExportTraceServiceRequest grpcRequest = named("grpc-", 3);
    ManagedChannel channel = tlsChannel(certs, relay.grpcAddress("otlp"));
    TraceServiceGrpc.TraceServiceBlockingStub stub =
        TraceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    assertThatThrownBy(() -> stub.export(grpcRequest))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    Metadata wrong = new Metadata();
    wrong.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + UPSTREAM_TOKEN);
    assertThatThrownBy(
            () ->
                stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong))
                    .export(grpcRequest))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    Metadata right = new Metadata();
    right.put(
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
        "Bearer " + CLIENT_TOKEN);
    stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(right)).export(grpcRequest);

    // OTLP/HTTP over TLS: a raw client, 401 without the token, 200 with it.
    ExportTraceServiceRequest httpRequest = named("http-", 4);
    HttpClient client = tlsHttpClient(certs);
    URI uri =
        URI.create("https://127.0.0.1:" + relay.httpAddress("otlp").getPort() + "/secure/traces");
    HttpRequest.Builder post =
        HttpRequest.newBuilder(uri)
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(httpRequest.toByteArray()));
    HttpResponse<String> refused = client.send(post.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.body()).doesNotContain(CLIENT_TOKEN);
    HttpResponse<String> accepted =
        client.send(
            post.header("Authorization", "Bearer " + CLIENT_TOKEN).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(accepted.statusCode()).isEqualTo(200);

    // The exporter reached the TLS upstream, presenting its own token; every span arrived once.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(spanNames()).hasSize(7));
    assertThat(spanNames())
        .containsExactlyInAnyOrder(
            "grpc-0", "grpc-1", "grpc-2", "http-0", "http-1", "http-2", "http-3");
    assertThat(upstreamAuthorization)
        .isNotEmpty()
        .allSatisfy(a -> assertThat(a).isEqualTo("Bearer " + UPSTREAM_TOKEN));
  }

  private List<String> spanNames() {
    List<String> names = new ArrayList<>();
    for (ExportTraceServiceRequest r : received) {
      for (ResourceSpans rs : r.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span s : ss.getSpansList()) {
            names.add(s.getName());
          }
        }
      }
    }
    return names;
  }

  private static ExportTraceServiceRequest named(String prefix, int spans) {
    ExportTraceServiceRequest.Builder b = OtlpGenerator.realisticTraces(spans).toBuilder();
    int n = 0;
    for (ResourceSpans.Builder rs : b.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        for (Span.Builder s : ss.getSpansBuilderList()) {
          s.setName(prefix + n++);
        }
      }
    }
    return b.build();
  }

  private void startTlsUpstream(TestCertificates certs) throws Exception {
    ServerInterceptor recordAuthorization =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            String a =
                headers.get(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER));
            upstreamAuthorization.add(String.valueOf(a));
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                next.startCall(call, headers)) {};
          }
        };
    TraceServiceGrpc.TraceServiceImplBase service =
        new TraceServiceGrpc.TraceServiceImplBase() {
          @Override
          public void export(
              ExportTraceServiceRequest request,
              StreamObserver<ExportTraceServiceResponse> response) {
            received.add(request);
            response.onNext(ExportTraceServiceResponse.getDefaultInstance());
            response.onCompleted();
          }
        };
    upstream =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(
                GrpcSslContexts.forServer(certs.serverCert.toFile(), certs.serverKey.toFile())
                    .trustManager(certs.caCert.toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build())
            .addService(ServerInterceptors.intercept(service, recordAuthorization))
            .build()
            .start();
  }

  private ManagedChannel tlsChannel(TestCertificates certs, InetSocketAddress address)
      throws Exception {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(address.getHostString(), address.getPort())
            .sslContext(GrpcSslContexts.forClient().trustManager(certs.caCert.toFile()).build())
            .build();
    channels.add(channel);
    return channel;
  }

  private static HttpClient tlsHttpClient(TestCertificates certs) throws Exception {
    SSLContext context =
        ((JdkSslContext)
                SslContextBuilder.forClient()
                    .sslProvider(SslProvider.JDK)
                    .trustManager(certs.caCert.toFile())
                    .build())
            .context();
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .sslContext(context)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }
}
