package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.Relay;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code otlp4j run} with the default configuration, and {@code otlp4j validate}, driven
 * in-process.
 */
class RunCommandTest {

  @TempDir Path dir;

  @AfterEach
  void resetListener() {
    RunCommand.startedListener = relay -> {};
  }

  @Test
  void runWithDefaultConfigServesHealthWritesSdkSpansAndStopsCleanly() throws Exception {
    AtomicReference<Relay> started = new AtomicReference<>();
    RunCommand.startedListener = started::set;
    Path data = dir.resolve("data");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> failures = new CopyOnWriteArrayList<>();
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () ->
                Cli.execute(
                    new String[] {
                      "run",
                      "--data-dir",
                      data.toString(),
                      "--grpc-endpoint",
                      "127.0.0.1:0",
                      "--http-endpoint",
                      "127.0.0.1:0",
                      "--admin-endpoint",
                      "127.0.0.1:0"
                    },
                    new ByteArrayInputStream(new byte[0]),
                    new PrintStream(new ByteArrayOutputStream(), true),
                    new PrintStream(err, true)));
    await().atMost(Duration.ofSeconds(20)).until(() -> started.get() != null || exit.isDone());
    Relay relay = started.get();
    assertThat(relay).as(err.toString(StandardCharsets.UTF_8)).isNotNull();

    String log = err.toString(StandardCharsets.UTF_8);
    assertThat(log)
        .contains(
            "OTLP/gRPC receiver otlp listening on 127.0.0.1:" + relay.grpcAddress("otlp").getPort())
        .contains(
            "OTLP/HTTP receiver otlp listening on 127.0.0.1:" + relay.httpAddress("otlp").getPort())
        .contains(
            "admin (/metrics, /healthz) listening on http://127.0.0.1:"
                + relay.adminAddress().getPort());
    HttpResponse<String> health =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + relay.adminAddress().getPort() + "/healthz"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);

    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .setResource(
                Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "run-test")))
            .addSpanProcessor(
                SimpleSpanProcessor.create(
                    new FailureRecordingExporter(
                        OtlpGrpcSpanExporter.builder()
                            .setEndpoint("http://127.0.0.1:" + relay.grpcAddress("otlp").getPort())
                            .build(),
                        failures)))
            .build();
    for (int i = 0; i < 5; i++) {
      provider.get("run-test").spanBuilder("span-" + i).startSpan().end();
    }
    // The exporter's own timeout is 10 s per attempt and it retries: give a loaded machine time.
    assertThat(provider.shutdown().join(60, TimeUnit.SECONDS).isSuccess())
        .as("SDK export failures: %s; relay log: %s", failures, err)
        .isTrue();

    // Stopping drains the queues into the file before run returns.
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    assertThat(exit.get(20, TimeUnit.SECONDS)).isEqualTo(Cli.EXIT_OK);
    assertThat(relay.isReady()).isFalse();
    List<String> lines = Files.readAllLines(data.resolve("traces.jsonl"), StandardCharsets.UTF_8);
    long spans = 0;
    for (String line : lines) {
      ExportTraceServiceRequest request =
          ExportTraceServiceRequest.parseFrom(
              OtlpJson.toProtobuf(Signal.TRACES, line.getBytes(StandardCharsets.UTF_8)));
      spans +=
          request.getResourceSpansList().stream()
              .flatMap(rs -> rs.getScopeSpansList().stream())
              .mapToLong(ss -> ss.getSpansCount())
              .sum();
      assertThat(request.getResourceSpans(0).getResource().getAttributesList())
          .anySatisfy(kv -> assertThat(kv.getValue().getStringValue()).isEqualTo("run-test"));
    }
    // The warm-up ran (by default) before the listeners, and none of its spans reached the data.
    assertThat(spans).isEqualTo(5);
    assertThat(log)
        .containsPattern("otlp4j: warmed up in [0-9.]+ s: [1-9][0-9]* requests \\(0 failed\\)");
    assertThat(log.indexOf("otlp4j: warmed up")).isLessThan(log.indexOf("listening on"));
    try (var files = Files.list(data)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("traces.jsonl", "queue");
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("otlp4j: stopped");
  }

  @ParameterizedTest(name = "--ack-mode {0}")
  @ValueSource(strings = {"received", "delivered", "durable"})
  void runWithoutConfigFollowsTheAckModeFlag(String mode) throws Exception {
    AtomicReference<Relay> started = new AtomicReference<>();
    RunCommand.startedListener = started::set;
    Path data = dir.resolve("data");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () ->
                Cli.execute(
                    new String[] {
                      "run",
                      "--ack-mode",
                      mode,
                      "--warmup",
                      "2s",
                      "--data-dir",
                      data.toString(),
                      "--grpc-endpoint",
                      "127.0.0.1:0",
                      "--http-endpoint",
                      "127.0.0.1:0",
                      "--admin-endpoint",
                      "127.0.0.1:0"
                    },
                    new ByteArrayInputStream(new byte[0]),
                    new PrintStream(new ByteArrayOutputStream(), true),
                    new PrintStream(err, true)));
    await().atMost(Duration.ofSeconds(20)).until(() -> started.get() != null || exit.isDone());
    Relay relay = started.get();
    assertThat(relay).as(err.toString(StandardCharsets.UTF_8)).isNotNull();
    assertThat(relay.ackMode()).isEqualTo(AckMode.fromId(mode));

    SdkTracerProvider provider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                SimpleSpanProcessor.create(
                    OtlpGrpcSpanExporter.builder()
                        .setEndpoint("http://127.0.0.1:" + relay.grpcAddress("otlp").getPort())
                        .build()))
            .build();
    for (int i = 0; i < 3; i++) {
      provider.get("run-test").spanBuilder("span-" + i).startSpan().end();
    }
    assertThat(provider.shutdown().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(relay.shutdown(Duration.ofSeconds(10))).isTrue();
    assertThat(exit.get(20, TimeUnit.SECONDS)).isEqualTo(Cli.EXIT_OK);

    assertThat(Files.readAllLines(data.resolve("traces.jsonl"), StandardCharsets.UTF_8))
        .isNotEmpty();
    // Only the durable mode keeps a queue on disk.
    assertThat(Files.exists(data.resolve("queue"))).isEqualTo(mode.equals("durable"));
  }

  @Test
  void validateExitsZeroForAValidConfigAndTwoWithErrorsNamingLines() throws Exception {
    Path good = dir.resolve("good.yaml");
    Files.writeString(
        good,
        """
        receivers:
          otlp:
            protocols:
              grpc:
        exporters:
          debug:
        service:
          pipelines:
            logs:
              receivers: [otlp]
              exporters: [debug]
        """);
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(
        bad,
        """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 127.0.0.1:4317
                max_streams: 3
        exporters:
          zipkin:
        service:
          pipelines:
            logs:
              receivers: [otlp]
              exporters: [zipkin]
        """);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(
            Cli.execute(
                new String[] {"validate", "--config", good.toString()},
                new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true),
                new PrintStream(err, true)))
        .isEqualTo(Cli.EXIT_OK);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("valid");

    assertThat(
            Cli.execute(
                new String[] {"validate", "--config", bad.toString()},
                new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true),
                new PrintStream(err, true)))
        .isEqualTo(Cli.EXIT_BAD_INPUT);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("line 6: receivers.otlp.protocols.grpc.max_streams: unknown key 'max_streams'")
        .contains("line 8: exporters.zipkin: unknown exporter type 'zipkin'");
  }

  /** Passes spans on and keeps why an export failed, so a failed assertion says it. */
  private static final class FailureRecordingExporter implements SpanExporter {
    private final SpanExporter delegate;
    private final List<String> failures;

    FailureRecordingExporter(SpanExporter delegate, List<String> failures) {
      this.delegate = delegate;
      this.failures = failures;
    }

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      CompletableResultCode result = delegate.export(spans);
      result.whenComplete(
          () -> {
            if (!result.isSuccess()) {
              failures.add(String.valueOf(result.getFailureThrowable()));
            }
          });
      return result;
    }

    @Override
    public CompletableResultCode flush() {
      return delegate.flush();
    }

    @Override
    public CompletableResultCode shutdown() {
      return delegate.shutdown();
    }
  }
}
