package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CliTest {
  @TempDir Path dir;

  /** The result of one run of the command line. */
  private static final class Run {
    int exit;
    byte[] out;
    String err;

    String outText() {
      return new String(out, StandardCharsets.UTF_8);
    }
  }

  private static Run run(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Run run = new Run();
    run.exit =
        Cli.execute(
            args,
            new ByteArrayInputStream(stdin),
            new PrintStream(out, true),
            new PrintStream(err, true));
    run.out = out.toByteArray();
    run.err = err.toString(StandardCharsets.UTF_8);
    return run;
  }

  private static Run run(String... args) {
    return run(new byte[0], args);
  }

  private Path example(String name) throws IOException {
    Path target = dir.resolve(name);
    try (InputStream in = CliTest.class.getResourceAsStream("/otlp-json/" + name)) {
      Files.copy(in, target);
    }
    return target;
  }

  @ParameterizedTest
  @CsvSource({
    "trace.json,   traces,  1, 1, 1",
    "metrics.json, metrics, 1, 1, 4",
    "logs.json,    logs,    1, 1, 1",
    "events.json,  logs,    1, 1, 1"
  })
  void inspectJsonPrintsExactlyTheFiveKeysForEachOfficialExample(
      String file, String signal, int resources, int scopes, int items) throws IOException {
    Path json = example(file);
    Run run = run("inspect", "--json", json.toString());
    assertThat(run.err).isEmpty();
    assertThat(run.exit).isZero();

    Path proto = dir.resolve(file + ".pb");
    assertThat(run("convert", "--to", "proto", json.toString(), proto.toString()).exit).isZero();
    long bytes = Files.size(proto);
    assertThat(run.outText().trim())
        .isEqualTo(
            String.format(
                "{\"signal\":\"%s\",\"resources\":%d,\"scopes\":%d,\"items\":%d,\"bytes\":%d}",
                signal, resources, scopes, items, bytes));
  }

  @Test
  void inspectPrintsAReadableSummary() throws IOException {
    Run run = run("inspect", example("metrics.json").toString());
    assertThat(run.exit).isZero();
    assertThat(run.outText())
        .contains("signal:    metrics")
        .contains("resources: 1")
        .contains("items:     4 data points")
        .contains("metrics:   4");
  }

  @ParameterizedTest
  @CsvSource({"trace.json", "metrics.json", "logs.json", "events.json"})
  void convertToProtoGivesWhatTheOfficialClassesParseAndBackToJsonIsStable(String file)
      throws Exception {
    Path json = example(file);
    Path proto = dir.resolve("a.pb");
    Path json2 = dir.resolve("b.json");
    Path proto2 = dir.resolve("c.pb");
    assertThat(run("convert", "--to", "proto", json.toString(), proto.toString()).exit).isZero();
    assertThat(run("convert", "--to", "json", proto.toString(), json2.toString()).exit).isZero();
    assertThat(run("convert", "--to", "proto", json2.toString(), proto2.toString()).exit).isZero();
    byte[] bytes = Files.readAllBytes(proto);
    assertThat(Files.readAllBytes(proto2)).isEqualTo(bytes);
    // The official classes parse it, and nothing is lost in the round trip.
    switch (file) {
      case "trace.json":
        assertThat(
                ExportTraceServiceRequest.parseFrom(bytes)
                    .getResourceSpans(0)
                    .getScopeSpans(0)
                    .getSpans(0)
                    .getName())
            .isNotEmpty();
        break;
      case "metrics.json":
        assertThat(
                ExportMetricsServiceRequest.parseFrom(bytes)
                    .getResourceMetrics(0)
                    .getScopeMetrics(0)
                    .getMetricsCount())
            .isEqualTo(4);
        break;
      default:
        assertThat(
                ExportLogsServiceRequest.parseFrom(bytes)
                    .getResourceLogs(0)
                    .getScopeLogs(0)
                    .getLogRecordsCount())
            .isEqualTo(1);
    }
  }

  @Test
  void stdinAndStdoutWorkWithDash() throws IOException {
    byte[] json = Files.readAllBytes(example("trace.json"));
    Run toProto = run(json, "convert", "--to", "proto", "-", "-");
    assertThat(toProto.exit).isZero();
    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(toProto.out);
    assertThat(request.getResourceSpansCount()).isEqualTo(1);

    Run toJson = run(toProto.out, "convert", "--to", "json", "-", "-");
    assertThat(toJson.exit).isZero();
    assertThat(toJson.outText()).startsWith("{\"resourceSpans\":[");
  }

  @ParameterizedTest
  @CsvSource({"traces", "metrics", "logs"})
  void protobufSignalIsDetectedAndCompressedInputIsAccepted(String signalId) throws IOException {
    Signal signal = Signal.fromId(signalId);
    byte[] proto;
    switch (signal) {
      case TRACES:
        proto = OtlpGenerator.realisticTraces(20).toByteArray();
        break;
      case METRICS:
        proto = OtlpGenerator.realisticMetrics(20).toByteArray();
        break;
      default:
        proto = OtlpGenerator.realisticLogs(20).toByteArray();
    }
    for (Compression compression : Compression.values()) {
      Path file = dir.resolve(signalId + "." + compression.encoding());
      Files.write(file, compression == Compression.NONE ? proto : compression.compress(proto));
      Run run = run("inspect", "--json", file.toString());
      assertThat(run.err).isEmpty();
      assertThat(run.outText())
          .startsWith("{\"signal\":\"" + signalId + "\"")
          .contains("\"bytes\":" + proto.length + "}");
    }
  }

  @Test
  void malformedProtobufGetsOneLineNamingTheOffsetAndExitCode2() throws IOException {
    byte[] proto = OtlpGenerator.realisticTraces(3).toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(proto, proto.length - 7);
    Path file = dir.resolve("bad.pb");
    Files.write(file, truncated);
    Run run = run("inspect", "--signal", "traces", file.toString());
    assertThat(run.exit).isEqualTo(2);
    assertThat(run.out).isEmpty();
    assertThat(run.err)
        .matches("otlp4j inspect: .*bad\\.pb: offset \\d+: .+\\R")
        .doesNotContain("\tat ");
  }

  @Test
  void malformedJsonGetsOneLineNamingTheOffsetAndNoOutputFile() throws IOException {
    Path file = dir.resolve("bad.json");
    Files.writeString(
        file, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"xyz\"}]}]}]}");
    Path out = dir.resolve("out.pb");
    Run run = run("convert", "--to", "proto", file.toString(), out.toString());
    assertThat(run.exit).isEqualTo(2);
    assertThat(run.err).matches("otlp4j convert: .*bad\\.json: offset \\d+: .+\\R");
    assertThat(out).doesNotExist();
  }

  @Test
  void protobufMetricsWithSummaryPointsAreInspectedAndConvertedWithoutSignalOption()
      throws IOException {
    io.opentelemetry.proto.metrics.v1.SummaryDataPoint point =
        io.opentelemetry.proto.metrics.v1.SummaryDataPoint.newBuilder()
            .setTimeUnixNano(2)
            .setCount(3)
            .setSum(4.5)
            .addQuantileValues(
                io.opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile.newBuilder()
                    .setQuantile(0.99)
                    .setValue(7.0))
            .build();
    byte[] proto =
        ExportMetricsServiceRequest.newBuilder()
            .addResourceMetrics(
                io.opentelemetry.proto.metrics.v1.ResourceMetrics.newBuilder()
                    .addScopeMetrics(
                        io.opentelemetry.proto.metrics.v1.ScopeMetrics.newBuilder()
                            .addMetrics(
                                io.opentelemetry.proto.metrics.v1.Metric.newBuilder()
                                    .setName("rpc.duration")
                                    .setUnit("ms")
                                    .setSummary(
                                        io.opentelemetry.proto.metrics.v1.Summary.newBuilder()
                                            .addDataPoints(point)))))
            .build()
            .toByteArray();
    Path file = dir.resolve("summary.pb");
    Files.write(file, proto);
    Run inspect = run("inspect", "--json", file.toString());
    assertThat(inspect.err).isEmpty();
    assertThat(inspect.outText()).startsWith("{\"signal\":\"metrics\"");
    Path json = dir.resolve("summary.json");
    Run convert = run("convert", "--to", "json", file.toString(), json.toString());
    assertThat(convert.err).isEmpty();
    assertThat(Files.readString(json)).startsWith("{\"resourceMetrics\":[");
  }

  @Test
  void everyGeneratedProtobufRequestWithItemsIsInspectedAsItsSignal() throws IOException {
    OtlpGenerator generator = new OtlpGenerator(5);
    Path file = dir.resolve("generated.pb");
    for (Signal signal : Signal.values()) {
      for (int i = 0; i < 50; i++) {
        byte[] proto = generator.request(signal).toByteArray();
        Files.write(file, proto);
        Run run = run("inspect", "--json", file.toString());
        if (run.exit == 0) {
          assertThat(run.outText()).startsWith("{\"signal\":\"" + signal.id() + "\"");
        } else {
          // Only a truly ambiguous request is refused, naming the signals it could be (its own
          // among them).
          assertThat(run.err).contains("could be").contains(signal.id()).contains("--signal");
        }
      }
    }
  }

  @Test
  void undetectableSignalAsksForSignalOption() throws IOException {
    Path file = dir.resolve("empty.pb");
    Files.write(file, new byte[0]);
    Run run = run("inspect", file.toString());
    assertThat(run.exit).isEqualTo(2);
    assertThat(run.err).contains("--signal").contains("could be traces or metrics or logs");
    assertThat(run("inspect", "--signal", "logs", "--json", file.toString()).outText().trim())
        .isEqualTo("{\"signal\":\"logs\",\"resources\":0,\"scopes\":0,\"items\":0,\"bytes\":0}");
  }

  @Test
  void missingFileIsAnIoErrorAndBadOptionsAreUsageErrors() {
    Run missing = run("inspect", dir.resolve("nope.json").toString());
    assertThat(missing.exit).isEqualTo(1);
    assertThat(missing.err).contains("no such file");
    Run badSignal = run("inspect", "--signal", "spans", "x");
    assertThat(badSignal.exit).isEqualTo(2);
    assertThat(badSignal.err).contains("unknown signal 'spans'");
    assertThat(run("convert", "--to", "xml", "a", "b").exit).isEqualTo(2);
  }
}
