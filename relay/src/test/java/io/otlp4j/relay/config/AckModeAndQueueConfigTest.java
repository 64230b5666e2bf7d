package io.otlp4j.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.SendingQueueSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code service.ack_mode}, {@code retry_on_failure}, {@code sending_queue} and {@code
 * file_storage}.
 */
class AckModeAndQueueConfigTest {
  private static final Path BASE = Path.of("/etc/otlp4j");

  private static final String PIPELINE =
      """
      receivers:
        otlp:
          protocols:
            grpc:
      service:
        pipelines:
          traces:
            receivers: [otlp]
            exporters: [otlp]
      """;

  private static RelayConfig parse(String yaml) throws RelayConfigException {
    return RelayConfig.parse(yaml, v -> null, BASE);
  }

  @Test
  void absentKeysTakeTheCollectorDefaultsAndAckModeReceived() throws Exception {
    RelayConfig config =
        parse(
            """
        exporters:
          otlp:
            endpoint: collector:4317
        """
                + PIPELINE);
    assertThat(config.ackMode()).isEqualTo(AckMode.RECEIVED);
    OtlpExporterConfig otlp = (OtlpExporterConfig) config.exporters().get("otlp");
    assertThat(otlp.sendingQueue()).isEqualTo(new SendingQueueSettings(true, 10, 1000, null));
    RetryPolicy retry = otlp.retry();
    // 5s initial interval, 1.5 multiplier, 30s cap, 5 minutes in all, no bound on attempts.
    assertThat(retry.maxElapsedNanos()).isEqualTo(Duration.ofMinutes(5).toNanos());
    assertThat(retry.maxAttempts()).isEqualTo(Integer.MAX_VALUE);
    assertThat(retry.decide(1, 0, -1).delayNanos())
        .isBetween(Duration.ofMillis(2500).toNanos(), Duration.ofSeconds(5).toNanos());
    assertThat(retry.decide(20, 0, -1).delayNanos())
        .isBetween(Duration.ofSeconds(15).toNanos(), Duration.ofSeconds(30).toNanos());
  }

  @Test
  void everyQueueAndRetryKeyIsRead() throws Exception {
    RelayConfig config =
        parse(
            """
        extensions:
          file_storage/wal:
            directory: ./queue
            max_size_mib: 16
            segment_size_mib: 4
            fsync: interval
            fsync_interval: 250ms
            when_full: drop_oldest
        exporters:
          otlp:
            endpoint: collector:4317
            retry_on_failure:
              enabled: true
              initial_interval: 100ms
              randomization_factor: 0
              multiplier: 2
              max_interval: 1s
              max_elapsed_time: 0
            sending_queue:
              enabled: true
              num_consumers: 3
              queue_size: 77
              storage: file_storage/wal
        receivers:
          otlp:
            protocols:
              grpc:
        service:
          extensions: [file_storage/wal]
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp]
        """);
    // A queue on disk makes durable the default.
    assertThat(config.ackMode()).isEqualTo(AckMode.DURABLE);
    OtlpExporterConfig otlp = (OtlpExporterConfig) config.exporters().get("otlp");
    assertThat(otlp.sendingQueue())
        .isEqualTo(new SendingQueueSettings(true, 3, 77, "file_storage/wal"));
    assertThat(otlp.retry().decide(1, 0, -1).delayNanos())
        .isEqualTo(Duration.ofMillis(100).toNanos());
    assertThat(otlp.retry().decide(3, 0, -1).delayNanos())
        .isEqualTo(Duration.ofMillis(400).toNanos());
    assertThat(otlp.retry().decide(10, 0, -1).delayNanos())
        .isEqualTo(Duration.ofSeconds(1).toNanos());
    // max_elapsed_time: 0 retries without end.
    assertThat(otlp.retry().decide(1_000, Duration.ofDays(365).toNanos(), -1).shouldRetry())
        .isTrue();
    assertThat(config.storages().get("file_storage/wal"))
        .isEqualTo(
            new FileStorageConfig(
                "file_storage/wal",
                BASE.resolve("./queue"),
                16L << 20,
                4L << 20,
                FileStorageConfig.FsyncMode.INTERVAL,
                Duration.ofMillis(250),
                true));
  }

  @Test
  void disabledRetryMakesOneAttemptAndDisabledQueueHasNone() throws Exception {
    RelayConfig config =
        parse(
            """
        exporters:
          otlp:
            endpoint: collector:4317
            retry_on_failure:
              enabled: false
            sending_queue:
              enabled: false
        """
                + PIPELINE);
    OtlpExporterConfig otlp = (OtlpExporterConfig) config.exporters().get("otlp");
    assertThat(otlp.retry().maxAttempts()).isEqualTo(1);
    assertThat(otlp.sendingQueue().enabled()).isFalse();
  }

  @Test
  void ackModeIsReadAndTheCommandLineMayOverrideIt() throws Exception {
    RelayConfig config =
        parse(
            """
        exporters:
          otlp:
            endpoint: collector:4317
        """
                + PIPELINE.replace("service:\n", "service:\n  ack_mode: delivered\n"));
    assertThat(config.ackMode()).isEqualTo(AckMode.DELIVERED);
    assertThat(config.withAckMode(AckMode.RECEIVED).ackMode()).isEqualTo(AckMode.RECEIVED);
    assertThatThrownBy(() -> config.withAckMode(AckMode.DURABLE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("needs an exporter whose sending_queue has a storage");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "unknown ack mode            | ack_mode: eventually\\n                       | line 12: service.ack_mode: unknown ack mode 'eventually'",
        "durable without a storage   | ack_mode: durable\\n                          | line 12: service.ack_mode: durable needs an exporter",
        "retry key unknown           | RETRY initial_delay: 1s\\n                    | line 5: exporters.otlp.retry_on_failure.initial_delay: unknown key",
        "retry bad duration          | RETRY initial_interval: soon\\n               | line 5: exporters.otlp.retry_on_failure.initial_interval: must be a duration",
        "retry bad enabled           | RETRY enabled: maybe\\n                       | line 5: exporters.otlp.retry_on_failure.enabled: must be true or false",
        "retry factor out of range   | RETRY randomization_factor: 1.5\\n            | line 5: exporters.otlp.retry_on_failure.randomization_factor: must be between 0 and 1",
        "retry multiplier not number | RETRY multiplier: fast\\n                     | line 5: exporters.otlp.retry_on_failure.multiplier: must be a number",
        "retry max below initial     | RETRY max_interval: 1s\\n                     | line 5: exporters.otlp.retry_on_failure.max_interval: must be at least initial_interval",
        "queue key unknown           | QUEUE size: 3\\n                              | line 5: exporters.otlp.sending_queue.size: unknown key",
        "queue size zero             | QUEUE queue_size: 0\\n                        | line 5: exporters.otlp.sending_queue.queue_size: must be at least 1",
        "queue consumers not number  | QUEUE num_consumers: many\\n                  | line 5: exporters.otlp.sending_queue.num_consumers: must be a whole number",
        "queue bad enabled           | QUEUE enabled: yes please\\n                  | line 5: exporters.otlp.sending_queue.enabled: must be true or false",
        "storage undefined           | QUEUE storage: file_storage/x\\n              | line 5: exporters.otlp.sending_queue.storage: extension 'file_storage/x' is not defined",
        "storage not in service      | QUEUE storage: file_storage\\n                | line 5: exporters.otlp.sending_queue.storage: extension 'file_storage' must be listed in service.extensions",
      })
  void badAckModeRetryOrQueueValueIsAnErrorNamingKeyAndLine(
      String name, String line, String expected) {
    String option = line.replace("\\n", "\n");
    String exporterExtra = "";
    String serviceExtra = "";
    if (option.startsWith("RETRY ")) {
      exporterExtra = "    retry_on_failure:\n      " + option.substring(6);
    } else if (option.startsWith("QUEUE ")) {
      exporterExtra = "    sending_queue:\n      " + option.substring(6);
    } else {
      serviceExtra = "  " + option;
    }
    String yaml =
        """
        exporters:
          otlp:
            endpoint: collector:4317
        %sextensions:
          file_storage:
            directory: /var/lib/otlp4j
        receivers:
          otlp:
            protocols:
              grpc:
        service:
        %s  pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp]
        """
            .formatted(exporterExtra.isEmpty() ? "" : exporterExtra, serviceExtra);
    RelayConfigException e = catchThrowableOfType(RelayConfigException.class, () -> parse(yaml));
    assertThat(e).as("no error for %s in\n%s", name, yaml).isNotNull();
    assertThat(e.errors()).as(yaml).anySatisfy(error -> assertThat(error).startsWith(expected));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "directory missing       | max_size_mib: 4           | line 2: extensions.file_storage.directory: is required",
        "max size not a number   | max_size_mib: big         | line 4: extensions.file_storage.max_size_mib: must be a whole number",
        "segment larger than max | segment_size_mib: 2048    | line 4: extensions.file_storage.segment_size_mib: must not exceed max_size_mib",
        "unknown fsync           | fsync: sometimes          | line 4: extensions.file_storage.fsync: unknown fsync policy 'sometimes'",
        "bad fsync interval      | fsync_interval: often     | line 4: extensions.file_storage.fsync_interval: must be a duration",
        "unknown when_full       | when_full: block          | line 4: extensions.file_storage.when_full: unknown policy 'block'",
        "unknown key             | path: /tmp                | line 4: extensions.file_storage.path: unknown key 'path'",
      })
  void badFileStorageValueIsAnErrorNamingKeyAndLine(String name, String setting, String expected) {
    String yaml =
        """
        extensions:
          file_storage:
            %s
            %s
        exporters:
          otlp:
            endpoint: collector:4317
            sending_queue:
              storage: file_storage
        receivers:
          otlp:
            protocols:
              grpc:
        service:
          extensions: [file_storage]
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp]
        """
            .formatted(
                name.equals("directory missing") ? "" : "directory: /var/lib/otlp4j", setting)
            .replace("\n    \n", "\n");
    RelayConfigException e = catchThrowableOfType(RelayConfigException.class, () -> parse(yaml));
    assertThat(e).as("no error for %s", name).isNotNull();
    assertThat(e.errors()).as(yaml).anySatisfy(error -> assertThat(error).startsWith(expected));
  }

  @Test
  void unknownExtensionAndQueueOnDiskWithAnotherAckModeAreErrors() {
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class,
            () ->
                parse(
                    """
        extensions:
          sigv4auth:
          file_storage:
            directory: /var/lib/otlp4j
        exporters:
          otlp:
            endpoint: collector:4317
            sending_queue:
              storage: file_storage
        receivers:
          otlp:
            protocols:
              grpc:
        service:
          ack_mode: delivered
          extensions: [file_storage, pprof]
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp]
        """));
    assertThat(e.errors())
        .anySatisfy(
            error ->
                assertThat(error)
                    .startsWith(
                        "line 2: extensions.sigv4auth: unknown extension type 'sigv4auth'"));
    assertThat(e.errors())
        .anySatisfy(
            error ->
                assertThat(error)
                    .startsWith("line 16: service.extensions: extension 'pprof' is not defined"));
  }

  @Test
  void queueOnDiskNeedsAckModeDurable() {
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class,
            () ->
                parse(
                    """
        extensions:
          file_storage:
            directory: /var/lib/otlp4j
        exporters:
          otlp:
            endpoint: collector:4317
            sending_queue:
              storage: file_storage
        receivers:
          otlp:
            protocols:
              grpc:
        service:
          ack_mode: received
          extensions: [file_storage]
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [otlp]
        """));
    assertThat(e.errors())
        .containsExactly(
            "line 14: service.ack_mode: received exporters [otlp] keep their "
                + "queue in a file_storage, which is only used with ack mode durable");
  }
}
