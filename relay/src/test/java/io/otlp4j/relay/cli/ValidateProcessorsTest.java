package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code otlp4j validate} accepts a gateway config with the {@code attributes} and {@code filter}
 * processors.
 */
class ValidateProcessorsTest {
  @TempDir Path dir;

  @Test
  void validateAcceptsAttributesAndFilterProcessors() throws Exception {
    Path config = dir.resolve("gateway.yaml");
    Files.writeString(
        config,
        """
        receivers:
          otlp:
            protocols:
              grpc:
        processors:
          attributes/redact:
            include: { match_type: regexp, services: ["^checkout"] }
            actions:
              - { key: user.email, action: hash }
              - { key: db.statement, action: delete }
              - { key: deployment.environment, value: prod, action: upsert }
          filter/health:
            error_mode: ignore
            traces:
              span: ['attributes["http.target"] == "/health"']
            logs:
              log_record: ['severity_number < SEVERITY_NUMBER_WARN']
          filter/new:
            trace_conditions: ['span.end_time_unix_nano - span.start_time_unix_nano < 1000000']
        exporters:
          debug:
        service:
          pipelines:
            traces: { receivers: [otlp], processors: [filter/health, filter/new, attributes/redact], exporters: [debug] }
            logs: { receivers: [otlp], processors: [filter/health], exporters: [debug] }
        """);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Cli.execute(
            new String[] {"validate", "--config", config.toString()},
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true),
            new PrintStream(err, true));
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(exit).isEqualTo(Cli.EXIT_OK);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("valid");
  }
}
