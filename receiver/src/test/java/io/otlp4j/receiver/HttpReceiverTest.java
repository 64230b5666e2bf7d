package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.exporter.TestCertificates;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NettyLeakCheck.class)
class HttpReceiverTest {

  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";

  private final RecordingSink sink = new RecordingSink();
  private HttpReceiver receiver;
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  @AfterEach
  void tearDown() {
    sink.releaseHeld();
    if (receiver != null) {
      receiver.shutdown(Duration.ofSeconds(5));
      assertThat(receiver.memoryBudget().usedBytes()).as("budget back to 0").isZero();
      assertThat(receiver.inFlightRequests()).isZero();
    }
  }

  private HttpReceiver start(HttpReceiver.Builder builder) {
    receiver = builder.port(0).ioThreads(2).build().start();
    return receiver;
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + receiver.address().getPort() + path);
  }

  private HttpResponse<byte[]> post(
      String path, String contentType, String encoding, byte[] body, String... headers)
      throws IOException, InterruptedException {
    return post(client, uri(path), contentType, encoding, body, headers);
  }

  static HttpResponse<byte[]> post(
      HttpClient client,
      URI uri,
      String contentType,
      String encoding,
      byte[] body,
      String... headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(10))
            .POST(BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (encoding != null) {
      b.header("Content-Encoding", encoding);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return client.send(b.build(), BodyHandlers.ofByteArray());
  }

  @Test
  void configuredUrlPathsServeTheirSignalAndOthersAnswer404() throws Exception {
    start(
        HttpReceiver.builder(sink)
            .path(Signal.TRACES, "/ingest/traces")
            .path(Signal.LOGS, "/v1/logs/"));
    byte[] traces = OtlpGenerator.realisticTraces(2).toByteArray();
    byte[] logs = OtlpGenerator.realisticLogs(2).toByteArray();
    byte[] metrics = OtlpGenerator.realisticMetrics(2).toByteArray();
    assertThat(post("/ingest/traces", PROTOBUF, null, traces).statusCode()).isEqualTo(200);
    assertThat(post("/v1/logs/", PROTOBUF, null, logs).statusCode()).isEqualTo(200);
    assertThat(post("/v1/metrics", PROTOBUF, null, metrics).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> oldPath = post("/v1/traces", PROTOBUF, null, traces);
    assertThat(oldPath.statusCode()).isEqualTo(404);
    assertThat(new String(oldPath.body(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("/ingest/traces");
    assertThat(sink.received)
        .extracting(RecordingSink.Received::signal)
        .containsExactly(Signal.TRACES, Signal.LOGS, Signal.METRICS);
    assertThat(sink.bytesOf(Signal.TRACES)).containsExactly(traces);
    assertThatThrownBy(() -> HttpReceiver.builder(sink).path(Signal.LOGS, "logs"))
        .hasMessageContaining("path");
    assertThatThrownBy(() -> HttpReceiver.builder(sink).path(Signal.LOGS, "/v1/traces").build())
        .hasMessageContaining("share the path");
  }

  static Stream<Arguments> signalsAndCompressions() {
    List<Arguments> args = new ArrayList<>();
    for (Signal s : Signal.values()) {
      for (Compression c : Compression.values()) {
        args.add(Arguments.of(s, c));
      }
    }
    return args.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("signalsAndCompressions")
  void protobufRequestArrivesAsTheSameBytes(Signal signal, Compression compression)
      throws Exception {
    MetricsRegistry registry = MetricsRegistry.create();
    start(HttpReceiver.builder(sink).metrics(registry));
    OtlpGenerator gen = new OtlpGenerator(signal.ordinal() * 7L + compression.ordinal());
    List<byte[]> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      byte[] request = gen.request(signal).toByteArray();
      HttpResponse<byte[]> response =
          post(
              signal.httpPath(),
              PROTOBUF,
              compression == Compression.NONE ? null : compression.encoding(),
              compression.compress(request));
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("content-type")).hasValue(PROTOBUF);
      assertThat(parseResponse(signal, response.body()).toByteArray()).isEmpty();
      sent.add(request);
    }
    assertThat(sink.bytesOf(signal)).containsExactlyElementsOf(sent);
    assertThat(GrpcReceiverTest.scrape(registry))
        .contains(
            "otlp4j_receiver_requests_total{outcome=\"accepted\",receiver=\"otlp\",transport=\"http\"} 5.0");
  }

  static Message parseResponse(Signal signal, byte[] body) throws IOException {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceResponse.parseFrom(body);
      case METRICS:
        return ExportMetricsServiceResponse.parseFrom(body);
      default:
        return ExportLogsServiceResponse.parseFrom(body);
    }
  }

  static Stream<Arguments> jsonExamples() {
    return Stream.of(
        Arguments.of(Signal.TRACES, "trace.json"),
        Arguments.of(Signal.METRICS, "metrics.json"),
        Arguments.of(Signal.LOGS, "logs.json"),
        Arguments.of(Signal.LOGS, "events.json"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("jsonExamples")
  void officialJsonExampleArrivesAsTheTranscodersProtobuf(Signal signal, String file)
      throws Exception {
    start(HttpReceiver.builder(sink));
    byte[] json;
    try (InputStream in = HttpReceiverTest.class.getResourceAsStream("/otlp-json/" + file)) {
      json = in.readAllBytes();
    }
    byte[] expected = OtlpJson.toProtobuf(signal, json);
    for (Compression compression : Compression.values()) {
      HttpResponse<byte[]> response =
          post(
              signal.httpPath(),
              JSON + "; charset=utf-8",
              compression == Compression.NONE ? null : compression.encoding(),
              compression.compress(json));
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("content-type")).hasValue(JSON);
      assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    }
    assertThat(sink.bytesOf(signal))
        .hasSize(3)
        .allSatisfy(bytes -> assertThat(bytes).isEqualTo(expected));
  }

  @Test
  void partialSuccessAndRefusalsInBothContentTypes() throws Exception {
    start(HttpReceiver.builder(sink));
    byte[] request = OtlpGenerator.realisticTraces(4).toByteArray();
    byte[] json = OtlpJson.toJson(Signal.TRACES, request);

    sink.answer = r -> Outcome.partiallyAccepted(3, "3 spans too old");
    HttpResponse<byte[]> proto = post("/v1/traces", PROTOBUF, null, request);
    assertThat(proto.statusCode()).isEqualTo(200);
    ExportTraceServiceResponse parsed = ExportTraceServiceResponse.parseFrom(proto.body());
    assertThat(parsed.getPartialSuccess().getRejectedSpans()).isEqualTo(3);
    assertThat(parsed.getPartialSuccess().getErrorMessage()).isEqualTo("3 spans too old");
    HttpResponse<byte[]> viaJson = post("/v1/traces", JSON, null, json);
    ExportTraceServiceResponse.Builder fromJson = ExportTraceServiceResponse.newBuilder();
    JsonFormat.parser().merge(new String(viaJson.body(), StandardCharsets.UTF_8), fromJson);
    assertThat(fromJson.build()).isEqualTo(parsed);

    sink.answer = r -> Outcome.retryable(Duration.ofMillis(2500), "queue full");
    HttpResponse<byte[]> retry = post("/v1/traces", PROTOBUF, null, request);
    assertThat(retry.statusCode()).isEqualTo(503);
    assertThat(retry.headers().firstValue("retry-after")).hasValue("3");
    com.google.rpc.Status status = com.google.rpc.Status.parseFrom(retry.body());
    assertThat(status.getMessage()).isEqualTo("queue full");
    assertThat(
            status
                .getDetails(0)
                .unpack(com.google.rpc.RetryInfo.class)
                .getRetryDelay()
                .getSeconds())
        .isEqualTo(2);

    sink.answer = r -> Outcome.overloaded(Duration.ofSeconds(2), "memory limit reached");
    HttpResponse<byte[]> overloaded = post("/v1/traces", PROTOBUF, null, request);
    assertThat(overloaded.statusCode()).isEqualTo(429);
    assertThat(overloaded.headers().firstValue("retry-after")).hasValue("2");
    assertThat(com.google.rpc.Status.parseFrom(overloaded.body()).getCode()).isEqualTo(8);

    sink.answer = r -> Outcome.permanent("nope");
    HttpResponse<byte[]> permanent = post("/v1/traces", JSON, null, json);
    assertThat(permanent.statusCode()).isEqualTo(400);
    com.google.rpc.Status.Builder jsonStatus = com.google.rpc.Status.newBuilder();
    JsonFormat.parser().merge(new String(permanent.body(), StandardCharsets.UTF_8), jsonStatus);
    assertThat(jsonStatus.getMessage()).isEqualTo("nope");
    assertThat(jsonStatus.getCode()).isEqualTo(3);
  }

  @Test
  void badInputGetsItsAnswerWhileAWellBehavedClientLosesNothing() throws Exception {
    int limit = 256 * 1024;
    MetricsRegistry registry = MetricsRegistry.create();
    start(HttpReceiver.builder(sink).maxRequestBytes(limit).bearerToken("t0ken").metrics(registry));
    String[] auth = {"Authorization", "Bearer t0ken"};

    // The well-behaved client: 150 requests, all must arrive.
    int goodCount = 150;
    List<byte[]> goodRequests = new ArrayList<>();
    for (int i = 0; i < goodCount; i++) {
      goodRequests.add(
          OtlpGenerator.realisticLogs(1 + i % 5).toBuilder()
              .setResourceLogs(
                  0,
                  OtlpGenerator.realisticLogs(1).getResourceLogs(0).toBuilder()
                      .setSchemaUrl("good-" + i))
              .build()
              .toByteArray());
    }
    HttpClient goodClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI logs = uri("/v1/logs");
    CompletableFuture<List<Integer>> good =
        CompletableFuture.supplyAsync(
            () -> {
              List<Integer> codes = new ArrayList<>();
              for (byte[] r : goodRequests) {
                try {
                  codes.add(
                      post(goodClient, logs, PROTOBUF, "gzip", Compression.GZIP.compress(r), auth)
                          .statusCode());
                } catch (IOException | InterruptedException e) {
                  throw new IllegalStateException(e);
                }
              }
              return codes;
            });

    byte[] valid = OtlpGenerator.realisticTraces(10).toByteArray();
    byte[] truncated = Arrays.copyOf(valid, valid.length - 5);
    byte[] garbage = new byte[512];
    new java.util.Random(7).nextBytes(garbage);
    byte[] bomb = Compression.GZIP.compress(new byte[10 * limit]);
    byte[] zstdBomb = Compression.ZSTD.compress(new byte[10 * limit]);
    byte[] corruptZstd = Compression.ZSTD.compress(valid);
    corruptZstd[corruptZstd.length / 2] ^= 0x55;

    assertStatus(post("/v1/traces", PROTOBUF, null, truncated, auth), 400, "offset");
    assertStatus(
        post("/v1/traces", PROTOBUF, null, garbage, auth), 400, "malformed traces request");
    assertStatus(
        post(
            "/v1/traces",
            JSON,
            null,
            "{\"resourceSpans\":[{]".getBytes(StandardCharsets.UTF_8),
            auth),
        400,
        "malformed traces request (JSON)");
    assertStatus(
        post("/v1/traces", "text/plain", null, valid, auth), 415, "unsupported content type");
    assertStatus(post("/v1/traces", PROTOBUF, "br", valid, auth), 415, "unsupported compression");
    assertStatus(post("/v1/traces", PROTOBUF, "gzip", bomb, auth), 413, "decompressed");
    assertStatus(post("/v1/traces", PROTOBUF, "zstd", zstdBomb, auth), 413, "decompressed");
    assertStatus(post("/v1/traces", PROTOBUF, "zstd", corruptZstd, auth), 400, "malformed");
    assertStatus(
        post("/v1/traces", PROTOBUF, null, new byte[limit + 1], auth), 413, "exceeds the limit");
    assertStatus(post("/v1/spans", PROTOBUF, null, valid, auth), 404, "/v1/spans");
    HttpResponse<byte[]> get =
        client.send(
            HttpRequest.newBuilder(uri("/v1/traces")).GET().build(), BodyHandlers.ofByteArray());
    assertStatus(get, 405, "POST");
    assertThat(get.headers().firstValue("allow")).hasValue("POST");
    assertStatus(post("/v1/traces", PROTOBUF, null, valid), 401, "bearer");
    assertStatus(
        post("/v1/traces", PROTOBUF, null, valid, "Authorization", "Bearer t0ken!"), 401, "bearer");

    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n"
              + "Content-Type: application/x-protobuf\r\nContent-Length: 1000000000\r\n\r\n");
      RawHttp.Response r = raw.read();
      assertThat(r.status()).isEqualTo(413);
      assertThat(r.head().toLowerCase(Locale.ROOT)).contains("connection: close");
    }
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n"
              + "Content-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n");
      byte[] chunk = new byte[16 * 1024];
      String chunkHead = Integer.toHexString(chunk.length) + "\r\n";
      for (int sent = 0; sent <= limit + chunk.length; sent += chunk.length) {
        raw.write(chunkHead);
        raw.write(chunk);
        raw.write("\r\n");
      }
      raw.write("0\r\n\r\n");
      RawHttp.Response r = raw.read();
      assertThat(r.status()).isEqualTo(413);
      assertThat(raw.closedByServer()).isTrue();
    }
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write("this is not HTTP at all\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(400);
    }

    assertThat(good.get(60, TimeUnit.SECONDS)).hasSize(goodCount).containsOnly(200);
    List<byte[]> arrived = sink.bytesOf(Signal.LOGS);
    assertThat(arrived).hasSize(goodCount);
    assertThat(arrived).containsExactlyInAnyOrderElementsOf(goodRequests);
    assertThat(sink.bytesOf(Signal.TRACES)).isEmpty();
    String text = GrpcReceiverTest.scrape(registry);
    assertThat(text).contains("outcome=\"too_large\",receiver=\"otlp\",transport=\"http\"} 5.0");
    assertThat(text)
        .contains("outcome=\"unauthenticated\",receiver=\"otlp\",transport=\"http\"} 2.0");
  }

  private static void assertStatus(HttpResponse<byte[]> response, int status, String messagePart)
      throws IOException {
    assertThat(response.statusCode()).as("status").isEqualTo(status);
    String contentType = response.headers().firstValue("content-type").orElse("");
    String message;
    if (contentType.equals(JSON)) {
      com.google.rpc.Status.Builder b = com.google.rpc.Status.newBuilder();
      JsonFormat.parser().merge(new String(response.body(), StandardCharsets.UTF_8), b);
      message = b.getMessage();
    } else {
      assertThat(contentType).isEqualTo(PROTOBUF);
      message = com.google.rpc.Status.parseFrom(response.body()).getMessage();
    }
    assertThat(message).containsIgnoringCase(messagePart);
  }

  @Test
  void fullBudgetAnswers429WithRetryAfterAndRecovers() throws Exception {
    byte[] request = OtlpGenerator.realisticMetrics(30).toByteArray();
    MemoryBudget budget =
        MemoryBudget.builder(request.length * 3L)
            .highWaterBytes(request.length * 3L)
            .lowWaterBytes(request.length * 2L)
            .build();
    MetricsRegistry registry = MetricsRegistry.create();
    start(
        HttpReceiver.builder(sink)
            .memoryBudget(budget)
            .retryAfter(Duration.ofSeconds(4))
            .metrics(registry));
    sink.hold = true;
    List<CompletableFuture<HttpResponse<byte[]>>> pending = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      pending.add(
          client.sendAsync(
              HttpRequest.newBuilder(uri("/v1/metrics"))
                  .header("Content-Type", PROTOBUF)
                  .POST(BodyPublishers.ofByteArray(request))
                  .build(),
              BodyHandlers.ofByteArray()));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 3);
    assertThat(budget.usedBytes()).isEqualTo(request.length * 3L);
    assertThat(GrpcReceiverTest.scrape(registry))
        .contains("otlp4j_receiver_in_flight_requests{receiver=\"otlp\",transport=\"http\"} 3.0");
    for (String type : new String[] {PROTOBUF, JSON}) {
      byte[] body = type.equals(JSON) ? OtlpJson.toJson(Signal.METRICS, request) : request;
      HttpResponse<byte[]> refused = post("/v1/metrics", type, null, body);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("retry-after")).hasValue("4");
      assertThat(refused.headers().firstValue("content-type")).hasValue(type);
    }
    sink.releaseHeld();
    for (CompletableFuture<HttpResponse<byte[]>> f : pending) {
      assertThat(f.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    assertThat(budget.usedBytes()).isZero();
    assertThat(post("/v1/metrics", PROTOBUF, null, request).statusCode()).isEqualTo(200);
    assertThat(GrpcReceiverTest.scrape(registry))
        .contains("outcome=\"memory_limited\",receiver=\"otlp\",transport=\"http\"} 2.0");
    assertThat(sink.bytesOf(Signal.METRICS)).hasSize(4);
  }

  @Test
  void chunkedBodyIsReservedAsItArrivesAndRefusedWhenTheBudgetRunsOut() throws Exception {
    MemoryBudget budget =
        MemoryBudget.builder(64 * 1024).highWaterBytes(64 * 1024).lowWaterBytes(32 * 1024).build();
    start(HttpReceiver.builder(sink).memoryBudget(budget).retryAfter(Duration.ofSeconds(1)));
    byte[] small = OtlpGenerator.realisticLogs(2).toByteArray();
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n");
      byte[] chunk = new byte[8 * 1024];
      for (int i = 0; i < 12; i++) { // 96 KiB: more than the whole budget
        raw.write(Integer.toHexString(chunk.length) + "\r\n");
        raw.write(chunk);
        raw.write("\r\n");
      }
      raw.write("0\r\n\r\n");
      RawHttp.Response refused = raw.read();
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.head().toLowerCase(Locale.ROOT)).contains("retry-after: 1");
      assertThat(budget.usedBytes()).isZero();
      // the connection carries on with the next request
      raw.write(
          "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + Integer.toHexString(small.length)
              + "\r\n");
      raw.write(small);
      raw.write("\r\n0\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
    }
    assertThat(sink.bytesOf(Signal.LOGS)).containsExactly(small);
  }

  @Test
  void aDeclaredLengthTheBudgetCannotAdmitIsRefusedBeforeTheBodyArrives() throws Exception {
    MemoryBudget budget = MemoryBudget.builder(64 * 1024).build();
    start(HttpReceiver.builder(sink).memoryBudget(budget).retryAfter(Duration.ofSeconds(2)));
    byte[] small = OtlpGenerator.realisticLogs(2).toByteArray();
    int declared = 200 * 1024; // under the size limit, over the whole budget
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
              + "Content-Length: "
              + declared
              + "\r\n\r\n");
      raw.write(new byte[100]); // a few bytes of the body; the rest has not been sent
      RawHttp.Response refused = raw.read();
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.head().toLowerCase(java.util.Locale.ROOT)).contains("retry-after: 2");
      assertThat(budget.usedBytes()).isZero();
      assertThat(receiver.inFlightRequests()).isZero();
      // HTTP/1.1 frames the connection by the declared body: once it has been sent (and dropped),
      // the connection carries the next request
      raw.write(new byte[declared - 100]);
      raw.write(
          "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
              + "Content-Length: "
              + small.length
              + "\r\n\r\n");
      raw.write(small);
      assertThat(raw.read().status()).isEqualTo(200);
    }
    assertThat(budget.peakBytes()).isLessThan(64 * 1024);
    assertThat(sink.bytesOf(Signal.LOGS)).containsExactly(small);
  }

  @Test
  void aChunkedBodyIsRefusedAsSoonAsItOutgrowsTheBudgetWithoutWaitingForItsEnd() throws Exception {
    MemoryBudget budget = MemoryBudget.builder(64 * 1024).build();
    start(
        HttpReceiver.builder(sink)
            .memoryBudget(budget)
            .maxRequestBytes(256 * 1024)
            .retryAfter(Duration.ofSeconds(1)));
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n");
      byte[] chunk = new byte[8 * 1024];
      for (int i = 0; i < 12; i++) { // 96 KiB: more than the whole budget, and no last chunk
        raw.write(Integer.toHexString(chunk.length) + "\r\n");
        raw.write(chunk);
        raw.write("\r\n");
      }
      RawHttp.Response refused = raw.read();
      assertThat(refused.status()).isEqualTo(429);
      assertThat(refused.head().toLowerCase(java.util.Locale.ROOT)).contains("retry-after: 1");
      assertThat(budget.usedBytes()).isZero();
      // a body that keeps going past the size limit is not drained for ever: the connection is
      // closed
      byte[] more = new byte[64 * 1024];
      for (int i = 0; i < 8 && raw.write(Integer.toHexString(more.length) + "\r\n"); i++) {
        raw.write(more);
        raw.write("\r\n");
      }
      assertThat(raw.closedByServer()).isTrue();
    }
    assertThat(sink.received).isEmpty();
  }

  @Test
  void clientThatDisconnectsMidBodyLeavesNothingReserved() throws Exception {
    start(HttpReceiver.builder(sink));
    try (RawHttp raw = new RawHttp(receiver.address())) {
      raw.write(
          "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
              + "Content-Length: 100000\r\n\r\n");
      raw.write(new byte[1000]);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> receiver.memoryBudget().usedBytes() == 100_000);
      assertThat(receiver.inFlightRequests()).isEqualTo(1);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> receiver.memoryBudget().usedBytes() == 0 && receiver.inFlightRequests() == 0);
    assertThat(sink.received).isEmpty();
  }

  @Test
  void tlsAndMutualTls(@TempDir Path dir) throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    start(
        HttpReceiver.builder(sink)
            .tls(
                ReceiverTls.server(certs.serverCert, certs.serverKey)
                    .requireClientCertificates(certs.caCert)));
    URI uri = URI.create("https://localhost:" + receiver.address().getPort() + "/v1/traces");
    byte[] request = OtlpGenerator.realisticTraces(2).toByteArray();

    HttpClient good = tlsClient(certs.caCert, certs.clientCert, certs.clientKey);
    assertThat(post(good, uri, PROTOBUF, null, request).statusCode()).isEqualTo(200);

    HttpClient noClientCert = tlsClient(certs.caCert, null, null);
    assertThatThrownBy(() -> post(noClientCert, uri, PROTOBUF, null, request))
        .isInstanceOf(IOException.class);
    HttpClient wrongCa = tlsClient(certs.otherCaCert, certs.clientCert, certs.clientKey);
    assertThatThrownBy(() -> post(wrongCa, uri, PROTOBUF, null, request))
        .isInstanceOf(IOException.class);
    assertThat(sink.received).hasSize(1);
  }

  private static HttpClient tlsClient(Path ca, Path cert, Path key) throws Exception {
    SslContextBuilder b =
        SslContextBuilder.forClient().sslProvider(SslProvider.JDK).trustManager(ca.toFile());
    if (cert != null) {
      b.keyManager(cert.toFile(), key.toFile());
    }
    SSLContext context = ((JdkSslContext) b.build()).context();
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .sslContext(context)
        .connectTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Test
  void shutdownLetsRequestsInFlightFinish() throws Exception {
    start(HttpReceiver.builder(sink));
    byte[] request = OtlpGenerator.realisticTraces(3).toByteArray();
    String head =
        "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: "
            + request.length
            + "\r\n\r\n";
    RawHttp idleConnection = new RawHttp(receiver.address());
    idleConnection.write(head);
    idleConnection.write(request);
    assertThat(idleConnection.read().status()).isEqualTo(200);
    sink.received.clear();
    sink.hold = true;
    CompletableFuture<HttpResponse<byte[]>> inFlight =
        client.sendAsync(
            HttpRequest.newBuilder(uri("/v1/traces"))
                .header("Content-Type", PROTOBUF)
                .POST(BodyPublishers.ofByteArray(request))
                .build(),
            BodyHandlers.ofByteArray());
    await().atMost(Duration.ofSeconds(30)).until(() -> sink.heldCount() == 1);
    URI after = uri("/v1/traces");
    CompletableFuture<Boolean> shutdown =
        CompletableFuture.supplyAsync(() -> receiver.shutdown(Duration.ofSeconds(60)));
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThatThrownBy(
                        () -> post(HttpClient.newHttpClient(), after, PROTOBUF, null, request))
                    .isInstanceOf(IOException.class));
    // a request on a connection opened before is answered 503 and the connection closed
    try (idleConnection) {
      idleConnection.write(head);
      idleConnection.write(request);
      RawHttp.Response refused = idleConnection.read();
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.head().toLowerCase(Locale.ROOT)).contains("retry-after:");
      assertThat(idleConnection.closedByServer()).isTrue();
    }
    assertThat(shutdown).isNotDone();
    sink.releaseHeld();
    assertThat(shutdown.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(inFlight.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(sink.received).hasSize(1);
  }

  @Test
  void keepAliveConnectionServesManyRequests() throws Exception {
    start(HttpReceiver.builder(sink));
    byte[] request = OtlpGenerator.realisticLogs(2).toByteArray();
    try (RawHttp raw = new RawHttp(receiver.address())) {
      for (int i = 0; i < 3; i++) {
        raw.write(
            "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: "
                + request.length
                + "\r\n\r\n");
        raw.write(request);
        assertThat(raw.read().status()).isEqualTo(200);
      }
      // a refusal with a body keeps the connection too
      raw.write(
          "POST /v1/nothing HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: "
              + request.length
              + "\r\n\r\n");
      raw.write(request);
      assertThat(raw.read().status()).isEqualTo(404);
      raw.write(
          "POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: "
              + request.length
              + "\r\n\r\n");
      raw.write(request);
      assertThat(raw.read().status()).isEqualTo(200);
    }
    assertThat(sink.received).hasSize(4);
  }

  @Test
  void builderRejectsBadSettings() {
    assertThatThrownBy(() -> HttpReceiver.builder(sink).port(-1)).hasMessageContaining("port");
    assertThatThrownBy(() -> HttpReceiver.builder(sink).maxRequestBytes(0))
        .hasMessageContaining("maxRequestBytes");
    assertThatThrownBy(() -> HttpReceiver.builder(sink).idleTimeout(Duration.ZERO))
        .hasMessageContaining("idleTimeout");
    assertThat(HttpReceiver.DEFAULT_PORT).isEqualTo(4318);
    assertThat(HttpReceiver.DEFAULT_HOST).isEqualTo("127.0.0.1");
    assertThat(HttpReceiver.builder(sink).bearerToken("abc").build().toString())
        .doesNotContain("abc");
  }
}
