package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The four official OTLP/JSON examples, POSTed to the relay as JSON, come out of the {@code file}
 * exporter as OTLP/JSON lines with the same content (compared through the official classes).
 */
class FileExporterOtlpJsonExamplesTest {

  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({
    "trace.json, traces",
    "metrics.json, metrics",
    "logs.json, logs",
    "events.json, logs"
  })
  void officialExamplePostedAsJsonIsWrittenAsTheSameRequest(String example, String signalId)
      throws Exception {
    Signal signal = Signal.fromId(signalId);
    byte[] json = resource(example);
    Path out = dir.resolve("out.jsonl");
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        exporters:
          file:
            path: out.jsonl
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            %s:
              receivers: [otlp]
              exporters: [file]
        """
            .formatted(signalId);
    Relay relay = Relay.start(RelayConfig.parse(yaml, name -> null, dir));
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:"
                                  + relay.httpAddress("otlp").getPort()
                                  + signal.httpPath()))
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofByteArray(json))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Files.exists(out) && lines(out).size() == 1);
    } finally {
      assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    }
    List<String> lines = lines(out);
    assertThat(lines).hasSize(1);
    Message written =
        parse(signal, OtlpJson.toProtobuf(signal, lines.get(0).getBytes(StandardCharsets.UTF_8)));
    Message expected = parse(signal, OtlpJson.toProtobuf(signal, json));
    assertThat(written).isEqualTo(expected);
  }

  @Test
  void fileRotatesBySizeAndKeepsABoundedNumberOfBackups() throws Exception {
    byte[] json = resource("trace.json");
    byte[] protobuf = OtlpJson.toProtobuf(Signal.TRACES, json);
    int lineBytes = OtlpJson.toJson(Signal.TRACES, protobuf).length + 1;
    FileExporter exporter =
        FileExporter.builder("file")
            .path(dir.resolve("spans.jsonl"))
            .maxBytes(2L * lineBytes)
            .maxBackups(2)
            .build();
    for (int i = 0; i < 9; i++) {
      assertThat(
              exporter
                  .export(Signal.TRACES, io.netty.buffer.Unpooled.wrappedBuffer(protobuf), 1)
                  .join()
                  .isSuccess())
          .isTrue();
    }
    exporter.shutdown(Duration.ofSeconds(1)).join();
    List<Path> files;
    try (var list = Files.list(dir)) {
      files = list.sorted().toList();
    }
    // 9 lines, 2 per file: the current file holds the last line, 2 rotated files are kept, 2
    // deleted.
    assertThat(files).hasSize(3);
    assertThat(lines(dir.resolve("spans.jsonl"))).hasSize(1);
    for (Path f : files) {
      for (String line : lines(f)) {
        assertThat(
                ExportTraceServiceRequest.parseFrom(
                    OtlpJson.toProtobuf(Signal.TRACES, line.getBytes(StandardCharsets.UTF_8))))
            .isEqualTo(ExportTraceServiceRequest.parseFrom(protobuf));
      }
    }
  }

  private static List<String> lines(Path file) throws IOException {
    return Files.readAllLines(file, StandardCharsets.UTF_8);
  }

  private static byte[] resource(String name) throws IOException {
    try (InputStream in =
        FileExporterOtlpJsonExamplesTest.class.getResourceAsStream("/otlp-json/" + name)) {
      return in.readAllBytes();
    }
  }

  private static Message parse(Signal signal, byte[] protobuf)
      throws InvalidProtocolBufferException {
    return switch (signal) {
      case TRACES -> ExportTraceServiceRequest.parseFrom(protobuf);
      case METRICS -> ExportMetricsServiceRequest.parseFrom(protobuf);
      case LOGS -> ExportLogsServiceRequest.parseFrom(protobuf);
    };
  }
}
