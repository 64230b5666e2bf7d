package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class Otlp4jBatchLogRecordProcessorTest {

  /** Holds exports until opened. */
  private static final class GatedLogExporter implements LogRecordExporter {
    final List<LogRecordData> received = new CopyOnWriteArrayList<>();
    final Queue<CompletableResultCode> waiting = new ConcurrentLinkedQueue<>();
    volatile boolean open;
    volatile boolean shutdownCalled;

    @Override
    public CompletableResultCode export(Collection<LogRecordData> logs) {
      received.addAll(logs);
      CompletableResultCode code = new CompletableResultCode();
      waiting.add(code);
      if (open) {
        openGate();
      }
      return code;
    }

    void openGate() {
      open = true;
      CompletableResultCode code;
      while ((code = waiting.poll()) != null) {
        code.succeed();
      }
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      shutdownCalled = true;
      return CompletableResultCode.ofSuccess();
    }
  }

  @Test
  void fullQueueDropsAreCountedAndShutdownDeliversTheRest() {
    GatedLogExporter exporter = new GatedLogExporter();
    Otlp4jBatchLogRecordProcessor processor =
        Otlp4jBatchLogRecordProcessor.builder(exporter)
            .maxQueueSize(4)
            .maxExportBatchSize(4)
            .maxConcurrentExports(1)
            .scheduleDelay(Duration.ofHours(1))
            .build();
    SdkLoggerProvider provider =
        SdkLoggerProvider.builder().addLogRecordProcessor(processor).build();
    Logger logger = provider.get("test");

    for (int i = 0; i < 4; i++) {
      logger.logRecordBuilder().setBody("first " + i).emit();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.received.size() == 4);
    for (int i = 0; i < 7; i++) {
      logger.logRecordBuilder().setBody("second " + i).emit();
    }
    assertThat(processor.droppedCount()).isEqualTo(3);

    exporter.openGate();
    assertThat(provider.shutdown().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
    assertThat(exporter.received).hasSize(8);
    assertThat(exporter.shutdownCalled).isTrue();
  }

  @Test
  void blrpEnvironmentVariablesAndConfigurationApply() {
    GatedLogExporter exporter = new GatedLogExporter();
    exporter.openGate();
    Otlp4jBatchLogRecordProcessor processor =
        Otlp4jBatchLogRecordProcessor.builder(exporter)
            .fromEnvironment(
                Map.of(
                        "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
                        "3",
                        "OTEL_BLRP_SCHEDULE_DELAY",
                        "10",
                        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                        "999")
                    ::get)
            .fromConfig(
                io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties
                    .createFromMap(Map.of("otel.blrp.max.queue.size", "64")))
            .build();
    SdkLoggerProvider provider =
        SdkLoggerProvider.builder().addLogRecordProcessor(processor).build();
    for (int i = 0; i < 10; i++) {
      provider.get("t").logRecordBuilder().setBody("r" + i).emit();
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.received.size() == 10); // no flush
    assertThat(processor.exportedCount()).isEqualTo(10);
    provider.shutdown().join(10, TimeUnit.SECONDS);
  }
}
