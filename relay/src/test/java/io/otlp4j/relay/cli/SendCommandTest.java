package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Status;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.Relay;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code otlp4j send} against real peers: a grpc-java server decoding with the official OTLP
 * classes, the relay itself (its file exporter's output parsed with the official classes), a JDK
 * HTTP server answering 429, and a port nobody listens on.
 */
class SendCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private MockOtlpServer server;

  @BeforeEach
  void startServer() throws Exception {
    server = MockOtlpServer.started();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void grpcDeliversExactlyCountRequestsOfItemsThatTheOfficialClassesParse(Signal signal)
      throws Exception {
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--signal",
            signal.id(),
            "--count",
            "6",
            "--compression",
            signal == Signal.METRICS ? "gzip" : "none",
            "--items-per-request",
            "23",
            "--rate",
            "0",
            "--concurrency",
            "3",
            "--json");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    JsonNode summary = r.json();
    assertThat(summary.get("requests").asLong()).isEqualTo(6);
    assertThat(summary.get("succeeded").asLong()).isEqualTo(6);
    assertThat(summary.get("failed").asLong()).isZero();
    assertThat(summary.get("items").asLong()).isEqualTo(6 * 23);
    assertThat(summary.get("errors").size()).isZero();
    assertThat(summary.get("latency_ms").get("count").asLong()).isEqualTo(6);
    assertThat(summary.get("mode").asText()).isEqualTo("closed-loop");

    long bytes = 0;
    switch (signal) {
      case TRACES:
        {
          assertThat(server.traceRequests()).hasSize(6);
          Set<ByteString> traceIds = new HashSet<>();
          Set<ByteString> spanIds = new HashSet<>();
          for (ExportTraceServiceRequest request : server.traceRequests()) {
            bytes += request.getSerializedSize();
            assertThat(request.getResourceSpans(0).getResource().getAttributesList())
                .extracting(KeyValue::getKey)
                .contains("service.name", "service.instance.id", "telemetry.sdk.language");
            List<Span> spans = request.getResourceSpans(0).getScopeSpans(0).getSpansList();
            assertThat(spans).hasSize(23);
            for (Span span : spans) {
              assertThat(span.getTraceId().size()).isEqualTo(16);
              assertThat(span.getAttributesList()).hasSizeGreaterThanOrEqualTo(8);
              assertThat(span.getEndTimeUnixNano()).isGreaterThan(span.getStartTimeUnixNano());
              traceIds.add(span.getTraceId());
              spanIds.add(span.getSpanId());
            }
          }
          // Fresh ids in every request: a trace per 10 spans (3 per request), every span id
          // distinct.
          assertThat(traceIds).hasSize(6 * 3);
          assertThat(spanIds).hasSize(6 * 23);
          break;
        }
      case METRICS:
        assertThat(server.metricsRequests()).hasSize(6);
        for (ExportMetricsServiceRequest request : server.metricsRequests()) {
          bytes += request.getSerializedSize();
          long points = 0;
          for (Metric m : request.getResourceMetrics(0).getScopeMetrics(0).getMetricsList()) {
            assertThat(m.getSum().getIsMonotonic()).isTrue();
            points += m.getSum().getDataPointsCount();
          }
          assertThat(points).isEqualTo(23);
        }
        break;
      default:
        assertThat(server.logsRequests()).hasSize(6);
        for (ExportLogsServiceRequest request : server.logsRequests()) {
          bytes += request.getSerializedSize();
          List<LogRecord> records = request.getResourceLogs(0).getScopeLogs(0).getLogRecordsList();
          assertThat(records).hasSize(23);
          assertThat(records.get(0).getBody().getStringValue()).isNotEmpty();
          assertThat(records.get(0).getSpanId().size()).isEqualTo(8);
        }
        break;
    }
    assertThat(summary.get("bytes").asLong()).isEqualTo(bytes);
  }

  @Test
  void httpProtobufAndHttpJsonDeliverEveryItemThroughTheRelay() throws Exception {
    Path data = dir.resolve("data");
    Relay relay =
        Relay.start(RelayConfig.defaults(data, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"));
    List<Result> results = new ArrayList<>();
    try {
      String endpoint = "http://127.0.0.1:" + relay.httpAddress("otlp").getPort();
      results.add(
          send(
              "--endpoint",
              endpoint,
              "--protocol",
              "http/protobuf",
              "--compression",
              "gzip",
              "--signal",
              "traces",
              "--count",
              "5",
              "--items-per-request",
              "40",
              "--rate",
              "0",
              "--json"));
      results.add(
          send(
              "--endpoint",
              endpoint,
              "--protocol",
              "http/json",
              "--compression",
              "zstd",
              "--signal",
              "logs",
              "--count",
              "5",
              "--items-per-request",
              "40",
              "--rate",
              "0",
              "--json"));
      results.add(
          send(
              "--endpoint",
              endpoint,
              "--protocol",
              "http/json",
              "--signal",
              "metrics",
              "--count",
              "5",
              "--items-per-request",
              "40",
              "--rate",
              "0",
              "--json"));
    } finally {
      assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue(); // drains into the files
    }

    Signal[] signals = {Signal.TRACES, Signal.LOGS, Signal.METRICS};
    for (int i = 0; i < signals.length; i++) {
      Result r = results.get(i);
      assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
      JsonNode summary = r.json();
      assertThat(summary.get("protocol").asText())
          .isEqualTo(i == 0 ? "http/protobuf" : "http/json");
      assertThat(summary.get("succeeded").asLong()).isEqualTo(5);
      assertThat(summary.get("items").asLong()).isEqualTo(200);
      long items = 0;
      for (String line :
          Files.readAllLines(data.resolve(signals[i].id() + ".jsonl"), StandardCharsets.UTF_8)) {
        items +=
            officialItemCount(
                signals[i], OtlpJson.toProtobuf(signals[i], line.getBytes(StandardCharsets.UTF_8)));
      }
      assertThat(items).as(signals[i].id()).isEqualTo(200);
    }
  }

  @Test
  void aFileIsSentAsItIsAndCountedByItsItems() throws Exception {
    Path trace = Path.of(SendCommandTest.class.getResource("/otlp-json/trace.json").toURI());
    byte[] expected = OtlpJson.toProtobuf(Signal.TRACES, Files.readAllBytes(trace));
    long spansInFile = officialItemCount(Signal.TRACES, expected);

    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--file",
            trace.toString(),
            "--count",
            "3",
            "--rate",
            "0",
            "--json");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    assertThat(server.traceRequests())
        .hasSize(3)
        .allSatisfy(
            request ->
                assertThat(request).isEqualTo(ExportTraceServiceRequest.parseFrom(expected)));
    assertThat(r.json().get("items").asLong()).isEqualTo(3 * spansInFile);
    assertThat(r.json().get("items_per_request").asLong()).isEqualTo(spansInFile);
  }

  @Test
  void anOpenLoopRateIsHeldAndReportedWithProgressLines() throws Exception {
    long started = System.nanoTime();
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--count",
            "75",
            "--rate",
            "30",
            "--items-per-request",
            "5");
    double seconds = (System.nanoTime() - started) / 1e9;

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    assertThat(server.traceRequests()).hasSize(75);
    // Request i is due at i/30 s: the last one leaves no earlier than 74/30 s after the first.
    // The upper bound only keeps the run bounded: a cold JVM on a loaded CI machine is slow to
    // start.
    assertThat(seconds).isGreaterThanOrEqualTo(74 / 30.0).isLessThan(60);
    assertThat(r.err)
        .contains("open loop at 30.0 requests/s")
        // the first progress line comes a second in, or later if the machine stalls: the run
        // lasts at least 2.47 s, so that a stall of a second still leaves one to print
        .containsPattern("\\[ +\\d+\\.\\ds\\] .* requests/s");
    assertThat(r.out)
        .contains("requests    75 sent, 75 ok, 0 failed")
        .containsPattern(
            "latency ms  p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  p99.9 [0-9.]+  max [0-9.]+")
        .containsPattern("client lag  p50 [0-9.]+  p99 [0-9.]+  max [0-9.]+ ms")
        .contains("errors      none");
  }

  @Test
  void aDurationBoundsAClosedLoopRun() throws Exception {
    long started = System.nanoTime();
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--duration",
            "400ms",
            "--rate",
            "0",
            "--concurrency",
            "2",
            "--items-per-request",
            "2",
            "--json");
    double seconds = (System.nanoTime() - started) / 1e9;

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    assertThat(seconds).isGreaterThanOrEqualTo(0.4).isLessThan(60);
    JsonNode summary = r.json();
    assertThat(summary.get("succeeded").asLong())
        .isPositive()
        .isEqualTo(server.traceRequests().size());
    assertThat(summary.get("elapsed_seconds").asDouble()).isGreaterThanOrEqualTo(0.4);
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http/protobuf"})
  void nobodyListeningCountsConnectRefused(String protocol) throws Exception {
    int port = MockOtlpServer.freePort(); // nothing listens there
    Result r =
        send(
            "--endpoint",
            "http://127.0.0.1:" + port,
            "--protocol",
            protocol,
            "--count",
            "3",
            "--rate",
            "0",
            "--concurrency",
            "1",
            "--json");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_IO_ERROR);
    JsonNode summary = r.json();
    assertThat(summary.get("failed").asLong()).isEqualTo(3);
    assertThat(summary.get("succeeded").asLong()).isZero();
    assertThat(summary.get("errors").toString()).isEqualTo("{\"connect refused\":3}");
    assertThat(summary.get("retryable_refusals").asLong()).as("not the endpoint's answer").isZero();
  }

  @Test
  void grpcUnavailableIsCountedByKindAndRetriedOnlyWhenAsked() throws Exception {
    server.failWith(Status.UNAVAILABLE.withDescription("upstream is down"));
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--count",
            "4",
            "--rate",
            "0",
            "--concurrency",
            "2",
            "--json");
    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_IO_ERROR);
    assertThat(r.json().get("errors").toString()).isEqualTo("{\"UNAVAILABLE\":4}");
    assertThat(r.json().get("error_samples").get("UNAVAILABLE").asText())
        .contains("upstream is down");
    assertThat(r.json().get("retryable_refusals").asLong()).isEqualTo(4);
    assertThat(server.requestCount()).isEqualTo(4);

    Result retried =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--count",
            "2",
            "--rate",
            "0",
            "--retries",
            "1",
            "--json");
    assertThat(retried.json().get("errors").toString()).isEqualTo("{\"UNAVAILABLE\":2}");
    assertThat(server.requestCount()).isEqualTo(4 + 2 * 2);
  }

  /**
   * Flat out into a relay whose durable queue is full (its upstream is down), as the main-job
   * benchmark's flat-out runs were when the file exporter fell a queue's worth (1 GiB) behind: the
   * relay refuses retryably (UNAVAILABLE, "queue is full") and the summary says that these errors
   * are the endpoint's retryable refusals, not lost or failed requests of unknown cause.
   */
  @Test
  void aFullDurableQueuesRefusalsAreReportedAsRetryableRefusals() throws Exception {
    int closed = MockOtlpServer.freePort(); // nothing listens there
    String yaml =
        """
        receivers:
          otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } }
        exporters:
          otlp:
            endpoint: 127.0.0.1:%d
            tls: { insecure: true }
            sending_queue: { storage: file_storage }
        extensions:
          file_storage: { directory: %s, max_size_mib: 1, segment_size_mib: 1 }
        service:
          ack_mode: durable
          extensions: [file_storage]
          telemetry: { metrics: { address: 127.0.0.1:0 } }
          pipelines:
            traces: { receivers: [otlp], exporters: [otlp] }
        """
            .formatted(closed, dir.resolve("queue"));
    Relay relay = Relay.start(RelayConfig.parse(yaml, name -> null, dir));
    Result json;
    Result text;
    try {
      String endpoint = "http://127.0.0.1:" + relay.grpcAddress("otlp").getPort();
      // ~50 KB per request: about 20 fit in the 1 MiB queue, the rest are refused
      String[] options = {
        "--endpoint", endpoint, "--count", "40", "--rate", "0", "--concurrency", "4"
      };
      json = send(Stream.concat(Stream.of(options), Stream.of("--json")).toArray(String[]::new));
      text = send(options);
    } finally {
      relay.shutdown(Duration.ofSeconds(5));
    }

    JsonNode summary = json.json();
    assertThat(summary.get("failed").asLong()).as(json.out).isPositive();
    assertThat(summary.get("errors").toString())
        .isEqualTo("{\"UNAVAILABLE\":" + summary.get("failed").asLong() + "}");
    assertThat(summary.get("error_samples").get("UNAVAILABLE").asText()).contains("queue is full");
    assertThat(summary.get("retryable_refusals").asLong())
        .isEqualTo(summary.get("failed").asLong());
    assertThat(text.exit).isEqualTo(Cli.EXIT_IO_ERROR);
    assertThat(text.out)
        .contains("40 of them retryable refusals: the endpoint answered that it cannot take")
        .containsPattern("UNAVAILABLE +40  retryable refusal, e.g. .*queue is full");
  }

  @Test
  void http429AndHttpTimeoutsAreCountedByKind() throws Exception {
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    AtomicInteger posts = new AtomicInteger();
    http.createContext(
        "/v1/logs",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          posts.incrementAndGet();
          exchange.getResponseHeaders().set("Retry-After", "1");
          exchange.sendResponseHeaders(429, -1);
          exchange.close();
        });
    http.createContext(
        "/v1/traces",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          posts.incrementAndGet(); // and never answers
        });
    http.start();
    try {
      String endpoint = "http://127.0.0.1:" + http.getAddress().getPort();
      Result r =
          send(
              "--endpoint",
              endpoint,
              "--protocol",
              "http/protobuf",
              "--signal",
              "logs",
              "--count",
              "3",
              "--rate",
              "0",
              "--json");
      assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_IO_ERROR);
      assertThat(r.json().get("errors").toString()).isEqualTo("{\"HTTP 429\":3}");
      assertThat(r.json().get("retryable_refusals").asLong()).isEqualTo(3);
      assertThat(posts.get()).isEqualTo(3);

      Result timedOut =
          send(
              "--endpoint",
              endpoint,
              "--protocol",
              "http/json",
              "--signal",
              "traces",
              "--count",
              "2",
              "--rate",
              "0",
              "--timeout",
              "300ms",
              "--json");
      assertThat(timedOut.exit).as(timedOut.err).isEqualTo(Cli.EXIT_IO_ERROR);
      assertThat(timedOut.json().get("errors").toString()).isEqualTo("{\"timeout\":2}");
      assertThat(timedOut.json().get("retryable_refusals").asLong())
          .as("a timeout is no answer")
          .isZero();
    } finally {
      http.stop(0);
    }
  }

  @Test
  void anOpenLoopNeverQueuesBeyondItsConcurrencyAndCountsTimeouts() throws Exception {
    server.defaultAnswer(Answer.noAnswer()); // the first request hangs until its deadline
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--count",
            "10",
            "--rate",
            "1000",
            "--concurrency",
            "1",
            "--timeout",
            "1s",
            "--json");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_IO_ERROR);
    assertThat(r.json().get("errors").toString())
        .isEqualTo("{\"client overloaded\":9,\"timeout\":1}");
    assertThat(r.json().get("retryable_refusals").asLong()).isZero();
    assertThat(r.json().get("requests").asLong()).isEqualTo(10);
    assertThat(server.requestCount()).isEqualTo(1);
  }

  @Test
  void warmupRequestsAreSentButNotCountedAndTheSummarySaysSo() throws Exception {
    // Open loop at 40/s: requests due at 0, 25, ..., 475 ms are the warm-up (20), then 10 are
    // measured.
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--warmup",
            "500ms",
            "--rate",
            "40",
            "--count",
            "10",
            "--items-per-request",
            "3");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    assertThat(server.traceRequests()).hasSize(20 + 10);
    assertThat(r.out)
        .contains("requests    10 sent, 10 ok, 0 failed")
        .contains("(30 spans,")
        .contains("(of 10 accepted requests, from when each was due)")
        .contains("warm-up     0.5 s before the above: 20 requests sent, not counted (0 failed)");
    assertThat(r.err).contains("after a 0.5 s warm-up (sent, not counted)");
  }

  @Test
  void aClosedLoopWarmupIsTalliedApartInTheJsonSummary() throws Exception {
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--warmup",
            "300ms",
            "--rate",
            "0",
            "--concurrency",
            "2",
            "--count",
            "5",
            "--items-per-request",
            "2",
            "--json");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    JsonNode summary = r.json();
    long warmupRequests = summary.get("warmup_requests").asLong();
    assertThat(warmupRequests).isPositive();
    assertThat(summary.get("warmup_seconds").asDouble()).isEqualTo(0.3);
    assertThat(summary.get("warmup_failed").asLong()).isZero();
    assertThat(summary.get("requests").asLong()).isEqualTo(5);
    assertThat(summary.get("succeeded").asLong()).isEqualTo(5);
    assertThat(summary.get("items").asLong()).isEqualTo(10);
    assertThat(summary.get("latency_ms").get("count").asLong()).isEqualTo(5);
    assertThat(server.traceRequests()).hasSize((int) (warmupRequests + 5));
  }

  @Test
  void aWarmupFailureIsNotCountedAsAMeasuredError() throws Exception {
    server.failWith(Status.UNAVAILABLE.withDescription("still starting"));
    Result r =
        send(
            "--endpoint",
            server.grpcEndpoint(),
            "--warmup",
            "200ms",
            "--rate",
            "20",
            "--count",
            "1",
            "--json");

    JsonNode summary = r.json();
    assertThat(summary.get("warmup_requests").asLong()).isEqualTo(4);
    assertThat(summary.get("warmup_failed").asLong()).isEqualTo(4);
    assertThat(summary.get("errors").toString()).isEqualTo("{\"UNAVAILABLE\":1}");
    assertThat(server.requestCount()).isEqualTo(4 + 1);
  }

  @Test
  void theWarmupIsOnByDefault() throws Exception {
    Result r =
        sendAsIs(
            "send", "--endpoint", server.grpcEndpoint(), "--rate", "20", "--count", "1", "--json");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    JsonNode summary = r.json();
    assertThat(summary.get("warmup_seconds").asDouble()).isEqualTo(3.0);
    assertThat(summary.get("warmup_requests").asLong()).isEqualTo(3 * 20);
    assertThat(summary.get("succeeded").asLong()).isEqualTo(1);
    assertThat(server.traceRequests()).hasSize(3 * 20 + 1);
    assertThat(r.err).contains("after a 3.0 s warm-up (sent, not counted)");
  }

  @Test
  void warmupZeroSendsNothingBeforeTheMeasurement() throws Exception {
    Result r =
        sendAsIs(
            "send",
            "--endpoint",
            server.grpcEndpoint(),
            "--warmup",
            "0",
            "--rate",
            "20",
            "--count",
            "3");

    assertThat(r.exit).as(r.err).isEqualTo(Cli.EXIT_OK);
    assertThat(server.traceRequests()).hasSize(3);
    assertThat(r.out).contains("requests    3 sent, 3 ok, 0 failed").doesNotContain("warm-up");
    assertThat(r.err).doesNotContain("warm-up");
  }

  static Stream<Arguments> badOptions() {
    return Stream.of(
        Arguments.of(List.of("--rate", "-1"), "--rate"),
        Arguments.of(List.of("--rate", "fast"), "--rate"),
        Arguments.of(List.of("--protocol", "http/xml"), "unknown OTLP protocol"),
        Arguments.of(List.of("--compression", "brotli"), "unsupported compression"),
        Arguments.of(List.of("--items-per-request", "0"), "--items-per-request"),
        Arguments.of(List.of("--count", "0"), "--count"),
        Arguments.of(List.of("--concurrency", "0"), "--concurrency"),
        Arguments.of(List.of("--duration", "soon"), "not a duration"),
        Arguments.of(List.of("--warmup", "-1s"), "not a duration"),
        Arguments.of(List.of("--header", "novalue"), "novalue"),
        Arguments.of(List.of("--endpoint", "ftp://example.com"), "must use http or https"),
        Arguments.of(
            List.of("--file", "x.json", "--items-per-request", "5"), "does not go with --file"),
        Arguments.of(
            List.of("--ca-file", "/nonexistent/ca.pem", "--endpoint", "https://127.0.0.1:1"),
            "ca.pem"),
        Arguments.of(List.of("--nonsense"), "nonsense"));
  }

  @ParameterizedTest
  @MethodSource("badOptions")
  void badOptionsExitTwoWithAMessageAndNothingOnStdout(List<String> options, String message)
      throws Exception {
    List<String> args = new ArrayList<>(options);
    args.add("--json");
    Result r = send(args.toArray(new String[0]));
    assertThat(r.exit).isEqualTo(Cli.EXIT_BAD_INPUT);
    assertThat(r.err).contains(message);
    assertThat(r.out).isEmpty();
    assertThat(server.requestCount()).isZero();
  }

  private static long officialItemCount(Signal signal, byte[] protobuf) throws Exception {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceRequest.parseFrom(protobuf).getResourceSpansList().stream()
            .flatMap(rs -> rs.getScopeSpansList().stream())
            .mapToLong(ss -> ss.getSpansCount())
            .sum();
      case METRICS:
        return ExportMetricsServiceRequest.parseFrom(protobuf).getResourceMetricsList().stream()
            .flatMap(rm -> rm.getScopeMetricsList().stream())
            .flatMap(sm -> sm.getMetricsList().stream())
            .mapToLong(
                m ->
                    m.getSum().getDataPointsCount()
                        + m.getGauge().getDataPointsCount()
                        + m.getHistogram().getDataPointsCount()
                        + m.getExponentialHistogram().getDataPointsCount()
                        + m.getSummary().getDataPointsCount())
            .sum();
      default:
        return ExportLogsServiceRequest.parseFrom(protobuf).getResourceLogsList().stream()
            .flatMap(rl -> rl.getScopeLogsList().stream())
            .mapToLong(sl -> sl.getLogRecordsCount())
            .sum();
    }
  }

  /**
   * Runs {@code send} with these options and, unless they set one, {@code --warmup 0}: most tests
   * count exactly the requests a server saw, which a warm-up would add to.
   */
  private static Result send(String... options) {
    List<String> args = new ArrayList<>();
    args.add("send");
    args.addAll(List.of(options));
    if (!args.contains("--warmup")) {
      args.add("--warmup");
      args.add("0");
    }
    return sendAsIs(args.toArray(new String[0]));
  }

  /** Runs the CLI with exactly these arguments. */
  private static Result sendAsIs(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Cli.execute(
            args,
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true),
            new PrintStream(err, true));
    return new Result(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private record Result(int exit, String out, String err) {
    /** stdout holds exactly one JSON object. */
    JsonNode json() throws Exception {
      assertThat(out.strip()).as(err).startsWith("{").endsWith("}").doesNotContain("\n");
      return JSON.readTree(out);
    }
  }
}
