package io.otlp4j.relay;

import static io.otlp4j.relay.RelayUnderTest.JSON;
import static io.otlp4j.relay.RelayUnderTest.PROTOBUF;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.receiver.GrpcReceiver;
import io.otlp4j.receiver.HttpReceiver;
import io.otlp4j.relay.component.Components;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad input matrix on both receivers of a running relay: each hostile or malformed request gets
 * its documented answer (HTTP status and an OTLP {@code google.rpc.Status} body; gRPC status code),
 * while well-behaved clients sending at the same time lose nothing and duplicate nothing upstream;
 * with only {@code batch} in the pipelines, and with every processor type in them ({@link
 * #EVERY_PROCESSOR}), where valid requests with content hostile to the processors are added.
 *
 * <p>The relay's configuration has no request size keys, so "oversized" is measured against the
 * receivers' default limits (HTTP: 20 MiB, the Collector's {@code confighttp} default); nor has it
 * authentication keys, so a bad or missing bearer token is left to the receiver module's tests
 * until it does.
 */
class RelayBadInputTest extends RelayScenarioTest {

  private static final int LIMIT = HttpReceiver.DEFAULT_MAX_REQUEST_BYTES;
  private static final int GRPC_LIMIT = GrpcReceiver.DEFAULT_MAX_MESSAGE_BYTES;
  private static final int GOOD_TRACE_REQUESTS = 30;
  private static final int SPANS_PER_REQUEST = 5;
  private static final int GOOD_LOG_REQUESTS = 10;
  private static final int GOOD_METRIC_REQUESTS = 10;

  private MockOtlpServer upstream;

  /**
   * Every processor type the relay has, one line each, configured so that the well-behaved clients'
   * data passes them all (the filter drops only the hostile items below, after the others have
   * processed them). A new processor type is one more line here; {@link
   * #everyProcessorTypeIsInTheMatrix} fails until it is added.
   */
  static final Map<String, String> EVERY_PROCESSOR = new LinkedHashMap<>();

  static {
    EVERY_PROCESSOR.put("memory_limiter", "{ check_interval: 1s, limit_mib: 512 }");
    EVERY_PROCESSOR.put(
        "resource/all", "{ attributes: [ { key: relay.tier, value: gateway, action: upsert } ] }");
    EVERY_PROCESSOR.put(
        "attributes/all", "{ actions: [ { key: relay.seen, value: true, action: upsert } ] }");
    EVERY_PROCESSOR.put(
        "probabilistic_sampler/all", "{ sampling_percentage: 100, fail_closed: false }");
    EVERY_PROCESSOR.put(
        "filter/all",
        "{ traces: { span: ['IsMatch(name, \"^hostile\")'] },"
            + " logs: { log_record: ['IsMatch(body, \"^hostile\")'] } }");
    EVERY_PROCESSOR.put(
        "tail_sampling/all",
        "{ decision_wait: 200ms, policies: [ { name: all, type: always_sample } ] }");
    EVERY_PROCESSOR.put("batch", "{ send_batch_size: 64, timeout: 10ms }");
  }

  static Stream<Arguments> matrix() {
    return RelayUnderTest.ackModes()
        .flatMap(mode -> Stream.of(Arguments.of(mode, false), Arguments.of(mode, true)));
  }

  @Test
  void everyProcessorTypeIsInTheMatrix() {
    assertThat(
            EVERY_PROCESSOR.keySet().stream()
                .map(id -> id.contains("/") ? id.substring(0, id.indexOf('/')) : id))
        .containsExactlyInAnyOrderElementsOf(Components.builtIn().types("processors"));
  }

  private static String relayConfig(boolean everyProcessor) {
    Map<String, String> processors =
        everyProcessor
            ? EVERY_PROCESSOR
            : Map.of("batch", "{ send_batch_size: 64, timeout: 10ms }");
    StringBuilder section = new StringBuilder();
    processors.forEach(
        (id, body) -> section.append("  ").append(id).append(": ").append(body).append('\n'));
    String list = String.join(", ", processors.keySet());
    String head =
        """
        receivers:
          otlp:
            protocols:
              grpc: { endpoint: "127.0.0.1:0" }
              http: { endpoint: "127.0.0.1:0" }
        processors:
        """;
    String tail =
        """
        exporters:
          otlp:
            endpoint: ${env:UPSTREAM}
            tls: { insecure: true }
            timeout: 30s
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [%s], exporters: [otlp] }
            metrics: { receivers: [otlp], processors: [%s], exporters: [otlp] }
            logs: { receivers: [otlp], processors: [%s], exporters: [otlp] }
        """;
    return head + section + tail.formatted(list, list, list);
  }

  @ParameterizedTest(name = "ack mode {0}, every processor type in the pipelines: {1}")
  @MethodSource("matrix")
  void everyBadRequestGetsItsAnswerWhileWellBehavedClientsLoseNothing(
      AckMode ackMode, boolean everyProcessor) throws Exception {
    assertThat(GRPC_LIMIT)
        .as("the gzip bomb, one byte over LIMIT, is over both limits")
        .isLessThanOrEqualTo(LIMIT);
    upstream = startUpstream();
    relay =
        RelayUnderTest.start(
            relayConfig(everyProcessor), Map.of("UPSTREAM", upstream.grpcEndpoint()), ackMode, dir);

    // Two well-behaved clients, one per transport, each sending a bounded number of requests.
    ManagedChannel goodChannel = relay.grpcChannel();
    CompletableFuture<Integer> goodGrpc =
        CompletableFuture.supplyAsync(
            () -> {
              TraceServiceGrpc.TraceServiceBlockingStub traces =
                  TraceServiceGrpc.newBlockingStub(goodChannel);
              LogsServiceGrpc.LogsServiceBlockingStub logs =
                  LogsServiceGrpc.newBlockingStub(goodChannel);
              int ok = 0;
              for (int i = 0; i < GOOD_TRACE_REQUESTS; i++) {
                traces
                    .withDeadlineAfter(20, TimeUnit.SECONDS)
                    .export(OtlpRequests.spans("grpc-" + i, SPANS_PER_REQUEST));
                ok++;
                if (i < GOOD_LOG_REQUESTS) {
                  logs.withDeadlineAfter(20, TimeUnit.SECONDS)
                      .export(OtlpRequests.logs("grpc-" + i, 3));
                  ok++;
                }
              }
              return ok;
            });
    CompletableFuture<List<Integer>> goodHttp =
        CompletableFuture.supplyAsync(
            () -> {
              List<Integer> statuses = new ArrayList<>();
              for (int i = 0; i < GOOD_TRACE_REQUESTS; i++) {
                byte[] request = OtlpRequests.spans("http-" + i, SPANS_PER_REQUEST).toByteArray();
                HttpResponse<byte[]> r =
                    switch (i % 3) {
                      case 0 -> relay.post("/v1/traces", request);
                      case 1 ->
                          relay.post(
                              relay.httpUri("/v1/traces"),
                              JSON,
                              null,
                              OtlpJson.toJson(Signal.TRACES, request));
                      default ->
                          relay.post(
                              relay.httpUri("/v1/traces"),
                              PROTOBUF,
                              "gzip",
                              Compression.GZIP.compress(request));
                    };
                statuses.add(r.statusCode());
                if (i < GOOD_METRIC_REQUESTS) {
                  statuses.add(
                      relay
                          .post("/v1/metrics", OtlpRequests.metricPoints("http-" + i).toByteArray())
                          .statusCode());
                }
              }
              return statuses;
            });

    httpBadInputs();
    grpcBadInputs();
    int hostileSpans = everyProcessor ? hostileButValidInputs() : 0;

    assertThat(goodGrpc.get(30, TimeUnit.SECONDS))
        .isEqualTo(GOOD_TRACE_REQUESTS + GOOD_LOG_REQUESTS);
    assertThat(goodHttp.get(30, TimeUnit.SECONDS))
        .hasSize(GOOD_TRACE_REQUESTS + GOOD_METRIC_REQUESTS)
        .containsOnly(200);

    Map<String, Long> expectedSpans = new HashMap<>();
    Map<String, Long> expectedLogs = new HashMap<>();
    Map<String, Long> expectedPoints = new HashMap<>();
    for (int i = 0; i < GOOD_TRACE_REQUESTS; i++) {
      for (int s = 0; s < SPANS_PER_REQUEST; s++) {
        expectedSpans.put("grpc-" + i + "-" + s, 1L);
        expectedSpans.put("http-" + i + "-" + s, 1L);
      }
    }
    for (int i = 0; i < GOOD_LOG_REQUESTS; i++) {
      for (int r = 0; r < 3; r++) {
        expectedLogs.put("grpc-" + i + "-" + r, 1L);
      }
    }
    for (int i = 0; i < GOOD_METRIC_REQUESTS; i++) {
      expectedPoints.putAll(
          Map.of(
              "http-" + i + ".gauge",
              2L,
              "http-" + i + ".sum",
              3L,
              "http-" + i + ".histogram",
              1L,
              "http-" + i + ".exp_histogram",
              1L,
              "http-" + i + ".summary",
              1L));
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                upstream.spans().size() >= expectedSpans.size()
                    && upstream.logRecords().size() >= expectedLogs.size()
                    && upstream.pointCount()
                        >= GOOD_METRIC_REQUESTS * OtlpRequests.POINTS_PER_METRICS_REQUEST);
    assertThat(upstream.spanNameCounts())
        .as("every good span exactly once, nothing else")
        .isEqualTo(expectedSpans);
    assertThat(upstream.logBodyCounts()).isEqualTo(expectedLogs);
    assertThat(upstream.metricPointCounts()).isEqualTo(expectedPoints);

    // Only the good requests' items were accepted; the bad ones never reached a pipeline.
    long spansPerTransport = (long) GOOD_TRACE_REQUESTS * SPANS_PER_REQUEST;
    assertThat(
            relay.metric(
                "otelcol_receiver_accepted_spans_total", "receiver", "otlp", "transport", "grpc"))
        .isEqualTo(spansPerTransport);
    assertThat(
            relay.metric(
                "otelcol_receiver_accepted_spans_total", "receiver", "otlp", "transport", "http"))
        .isEqualTo(spansPerTransport + hostileSpans);
    assertThat(relay.metric("otelcol_receiver_accepted_log_records_total", "transport", "grpc"))
        .isEqualTo(GOOD_LOG_REQUESTS * 3);
    assertThat(relay.metric("otelcol_receiver_accepted_metric_points_total", "transport", "http"))
        .isEqualTo(GOOD_METRIC_REQUESTS * OtlpRequests.POINTS_PER_METRICS_REQUEST);
    assertThat(relay.metric("otelcol_exporter_sent_spans_total", "exporter", "otlp"))
        .isEqualTo(2 * spansPerTransport);
    if (everyProcessor) {
      // the hostile spans went through the processors before the filter dropped them
      assertThat(
              relay.metric(
                  "otelcol_processor_incoming_items_total",
                  "processor",
                  "probabilistic_sampler/all",
                  "otel_signal",
                  "traces"))
          .isEqualTo(2 * spansPerTransport + hostileSpans);
      assertThat(
              relay.metric(
                  "otelcol_processor_outgoing_items_total",
                  "processor",
                  "filter/all",
                  "otel_signal",
                  "traces"))
          .isEqualTo(2 * spansPerTransport);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> relay.metric("otlp4j_memory_used_bytes") == 0);
  }

  /**
   * Valid requests whose content is hostile to the processors (a trace state of 100 KB, sampling
   * attributes of the wrong type and syntax, a priority that is a map, a 64 KB attribute, spans
   * with no trace id): each is accepted and goes through every processor; the filter, last, drops
   * them, so nothing of them reaches the upstream. Returns the spans sent.
   */
  private int hostileButValidInputs() throws Exception {
    AnyValue map =
        AnyValue.newBuilder()
            .setKvlistValue(
                KeyValueList.newBuilder()
                    .addValues(KeyValue.newBuilder().setKey("x").setValue(string("y"))))
            .build();
    List<Span> spans = new ArrayList<>();
    spans.add(
        Span.newBuilder()
            .setName("hostile-trace-state")
            .setTraceId(
                ByteString.copyFrom(
                    new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
            .setTraceState("ot=th:" + "f".repeat(100_000))
            .build());
    spans.add(
        Span.newBuilder()
            .setName("hostile-priority")
            .setTraceId(
                ByteString.copyFrom(new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}))
            .setTraceState("a=b,,,   ,c=d,ot=rv:zz")
            .addAttributes(KeyValue.newBuilder().setKey("sampling.priority").setValue(map))
            .addAttributes(
                KeyValue.newBuilder().setKey("big").setValue(string("x".repeat(64 * 1024))))
            .build());
    spans.add(
        Span.newBuilder().setName("hostile-no-trace-id").setTraceState("\u00e9=\u00e9").build());
    ExportTraceServiceRequest traces =
        ExportTraceServiceRequest.newBuilder()
            .addResourceSpans(
                ResourceSpans.newBuilder()
                    .addScopeSpans(ScopeSpans.newBuilder().addAllSpans(spans)))
            .build();
    assertThat(relay.post("/v1/traces", traces.toByteArray()).statusCode()).isEqualTo(200);
    ExportLogsServiceRequest logs =
        ExportLogsServiceRequest.newBuilder()
            .addResourceLogs(
                ResourceLogs.newBuilder()
                    .addScopeLogs(
                        ScopeLogs.newBuilder()
                            .addLogRecords(
                                LogRecord.newBuilder()
                                    .setBody(string("hostile-log"))
                                    .addAttributes(
                                        KeyValue.newBuilder()
                                            .setKey("sampling.threshold")
                                            .setValue(string("not-hex")))
                                    .addAttributes(
                                        KeyValue.newBuilder()
                                            .setKey("sampling.randomness")
                                            .setValue(map)))))
            .build();
    assertThat(relay.post("/v1/logs", logs.toByteArray()).statusCode()).isEqualTo(200);
    return spans.size();
  }

  private static AnyValue string(String s) {
    return AnyValue.newBuilder().setStringValue(s).build();
  }

  private void httpBadInputs() throws Exception {
    byte[] valid = OtlpRequests.spans("bad", 10).toByteArray();
    byte[] garbage = new byte[512];
    new Random(7).nextBytes(garbage);
    URI traces = relay.httpUri("/v1/traces");

    assertHttp(
        relay.post(traces, PROTOBUF, null, Arrays.copyOf(valid, valid.length - 5)),
        400,
        3,
        PROTOBUF);
    assertHttp(relay.post(traces, PROTOBUF, null, garbage), 400, 3, PROTOBUF);
    assertHttp(
        relay.post(traces, JSON, null, "{\"resourceSpans\":[{]".getBytes(StandardCharsets.UTF_8)),
        400,
        3,
        JSON);
    assertHttp(
        relay.post(traces, JSON, null, "[1, 2".getBytes(StandardCharsets.UTF_8)), 400, 3, JSON);
    assertHttp(relay.post(traces, "text/plain", null, valid), 415, 3, PROTOBUF);
    assertHttp(relay.post(traces, PROTOBUF, "br", valid), 415, 3, PROTOBUF);
    // A gzip bomb: about 300 KiB on the wire, one byte over the limit once inflated.
    assertHttp(relay.post(traces, PROTOBUF, "gzip", gzipBomb()), 413, 8, PROTOBUF);
    assertHttp(relay.post(relay.httpUri("/v1/spans"), PROTOBUF, null, valid), 404, 5, PROTOBUF);
    HttpResponse<byte[]> get =
        relay.http.send(
            HttpRequest.newBuilder(traces).timeout(Duration.ofSeconds(10)).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertHttp(get, 405, 12, PROTOBUF);
    assertThat(get.headers().firstValue("allow")).hasValue("POST");

    InetSocketAddress address = relay.relay.httpAddress("otlp");
    // Oversized: a declared body over the limit is refused before it is read, and the connection
    // closed.
    String tooLarge =
        rawExchange(
            address,
            "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
                + PROTOBUF
                + "\r\nContent-Length: "
                + (LIMIT + 1L)
                + "\r\n\r\n");
    assertThat(tooLarge).startsWith("HTTP/1.1 413").containsIgnoringCase("connection: close");
    assertThat(rawExchange(address, "this is not HTTP at all\r\n\r\n")).startsWith("HTTP/1.1 400");
  }

  private void grpcBadInputs() throws IOException {
    ManagedChannel channel = relay.grpcChannel();
    byte[] valid = OtlpRequests.spans("bad", 10).toByteArray();
    byte[] garbage = new byte[512];
    new Random(11).nextBytes(garbage);

    assertGrpc(
        () -> GrpcRaw.export(channel, Signal.TRACES, Arrays.copyOf(valid, valid.length - 5)),
        Status.Code.INVALID_ARGUMENT);
    assertGrpc(() -> GrpcRaw.export(channel, Signal.TRACES, garbage), Status.Code.INVALID_ARGUMENT);
    assertGrpc(
        () -> GrpcRaw.export(channel, Signal.TRACES, OtlpJson.toJson(Signal.TRACES, valid)),
        Status.Code.INVALID_ARGUMENT);
    // Oversized: one byte over the limit, uncompressed; and the gzip bomb as a gzip-compressed gRPC
    // message.
    assertGrpc(
        () -> GrpcRaw.exportZeros(channel, Signal.TRACES, GRPC_LIMIT + 1L, null),
        Status.Code.RESOURCE_EXHAUSTED);
    byte[] bomb = gzipBomb();
    ManagedChannel precompressed =
        relay.grpcChannel(
            NettyChannelBuilder.forAddress(relay.relay.grpcAddress("otlp"))
                .usePlaintext()
                .compressorRegistry(GrpcRaw.PRECOMPRESSED_GZIP));
    assertGrpc(
        () ->
            GrpcRaw.call(
                precompressed,
                MethodDescriptor.generateFullMethodName(Signal.LOGS.grpcService(), "Export"),
                bomb,
                "gzip"),
        Status.Code.RESOURCE_EXHAUSTED);
    assertGrpc(
        () ->
            GrpcRaw.call(
                channel, "opentelemetry.proto.collector.trace.v1.TraceService/Upload", valid, null),
        Status.Code.UNIMPLEMENTED);
    assertGrpc(
        () ->
            GrpcRaw.call(
                channel,
                "opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
                valid,
                null),
        Status.Code.UNIMPLEMENTED);
    // The channel carries on after all of that.
    assertThat(
            TraceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .export(ExportTraceServiceRequest.getDefaultInstance())
                .getSerializedSize())
        .isZero();
  }

  private static void assertHttp(
      HttpResponse<byte[]> response, int status, int grpcCode, String contentType) {
    assertThat(response.statusCode()).as("HTTP status").isEqualTo(status);
    assertThat(response.headers().firstValue("content-type"))
        .as("answered in the request's content type")
        .hasValue(contentType);
    com.google.rpc.Status body = RelayUnderTest.statusBody(response);
    assertThat(body.getCode()).as("OTLP Status code").isEqualTo(grpcCode);
    assertThat(body.getMessage()).as("OTLP Status message").isNotBlank();
  }

  private static void assertGrpc(Runnable call, Status.Code code) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code));
  }

  private static byte[] gzipBomb;

  /** Gzip of one byte over the limit of zeros (about 64 KiB), made once at the fastest level. */
  static synchronized byte[] gzipBomb() throws IOException {
    if (gzipBomb == null) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      byte[] zeros = new byte[1024 * 1024];
      long n = LIMIT + 1L;
      try (GZIPOutputStream gzip =
          new GZIPOutputStream(out, 64 * 1024) {
            {
              def.setLevel(Deflater.BEST_SPEED);
            }
          }) {
        for (long written = 0; written < n; written += zeros.length) {
          gzip.write(zeros, 0, (int) Math.min(zeros.length, n - written));
        }
      }
      gzipBomb = out.toByteArray();
    }
    return gzipBomb;
  }

  /** Writes {@code request} on a plain socket and returns the response head. */
  static String rawExchange(InetSocketAddress address, String request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(address, 5000);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        head.write(b);
      }
      return head.toString(StandardCharsets.US_ASCII);
    }
  }
}
