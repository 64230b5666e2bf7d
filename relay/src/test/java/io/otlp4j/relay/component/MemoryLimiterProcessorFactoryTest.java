package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.otlp4j.relay.Relay;
import io.otlp4j.relay.config.MemoryLimiterConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code memory_limiter}'s limits in MiB or in percent of the JVM's maximum heap, with the
 * Collector's checks.
 */
class MemoryLimiterProcessorFactoryTest {
  private static final long MIB = 1024L * 1024L;

  @TempDir Path dir;

  private static String yaml(String memoryLimiter) {
    return """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        processors:
          memory_limiter: %s
        exporters:
          debug:
        service:
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], processors: [memory_limiter], exporters: [debug] }
        """
        .formatted(memoryLimiter);
  }

  /** The built-in components with percentages taken of {@code maxHeap}. */
  private static Components withMaxHeap(LongSupplier maxHeap) {
    return Components.builder()
        .receiver(new OtlpReceiverFactory())
        .exporter(new DebugExporterFactory())
        .processor(new MemoryLimiterProcessorFactory(maxHeap))
        .build();
  }

  private static MemoryLimiterConfig read(String memoryLimiter, LongSupplier maxHeap)
      throws RelayConfigException {
    RelayConfig config =
        RelayConfig.parse(yaml(memoryLimiter), v -> null, Path.of("."), withMaxHeap(maxHeap));
    return (MemoryLimiterConfig) config.processors().get("memory_limiter");
  }

  @Test
  void limitMibIsTheBudgetAndSpikeLimitMibIsKept() throws Exception {
    MemoryLimiterConfig c =
        read("{ check_interval: 1s, limit_mib: 300, spike_limit_mib: 60 }", () -> 1);
    assertThat(c.limitBytes()).isEqualTo(300 * MIB);
    assertThat(c.spikeLimitBytes()).isEqualTo(60 * MIB);
    assertThat(c.limitPercentage()).isZero();
  }

  @Test
  void limitPercentageIsOfTheJvmMaximumHeap() throws Exception {
    MemoryLimiterConfig c =
        read(
            "{ check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 15 }",
            () -> 1000 * MIB);
    assertThat(c.limitBytes()).isEqualTo(800 * MIB);
    assertThat(c.spikeLimitBytes()).isEqualTo(150 * MIB);
    assertThat(c.limitPercentage()).isEqualTo(80);
    assertThat(c.spikeLimitPercentage()).isEqualTo(15);
  }

  @Test
  void limitPercentageWithoutSpikeLimit() throws Exception {
    MemoryLimiterConfig c = read("{ limit_percentage: 50 }", () -> 1000 * MIB);
    assertThat(c.limitBytes()).isEqualTo(500 * MIB);
    assertThat(c.spikeLimitBytes()).isZero();
  }

  @Test
  void builtInPercentageIsOfRuntimeMaxMemory() throws Exception {
    RelayConfig config = RelayConfig.parse(yaml("{ limit_percentage: 50 }"), v -> null, dir);
    assertThat(((MemoryLimiterConfig) config.processors().get("memory_limiter")).limitBytes())
        .isEqualTo(Runtime.getRuntime().maxMemory() / 100 * 50);
  }

  @Test
  void aRunningRelaysBudgetIsThePercentageOfTheMaximumHeap() throws Exception {
    RelayConfig config =
        RelayConfig.parse(
            yaml("{ limit_percentage: 25, spike_limit_percentage: 5 }"), v -> null, dir);
    try (Relay relay = Relay.start(config)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      relay.metrics().writePrometheusText(out);
      String limitLine =
          out.toString(StandardCharsets.UTF_8)
              .lines()
              .filter(l -> l.startsWith("otlp4j_memory_limit_bytes "))
              .findFirst()
              .orElseThrow();
      assertThat(Double.parseDouble(limitLine.substring(limitLine.indexOf(' ') + 1)))
          .isEqualTo((double) (Runtime.getRuntime().maxMemory() / 100 * 25));
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "spike MiB not below the limit   | { limit_mib: 100, spike_limit_mib: 100 }                  | line 6: processors.memory_limiter.spike_limit_mib: must be smaller than limit_mib (100), was 100",
        "spike percent not below limit   | { limit_percentage: 20, spike_limit_percentage: 30 }      | line 6: processors.memory_limiter.spike_limit_percentage: must be smaller than limit_percentage (20), was 30",
        "percentage above 100            | { limit_percentage: 101 }                                 | line 6: processors.memory_limiter.limit_percentage: must be at most 100, was 101",
        "spike percentage above 100      | { limit_percentage: 100, spike_limit_percentage: 101 }    | line 6: processors.memory_limiter.spike_limit_percentage: must be at most 100, was 101",
        "zero percentage                 | { limit_percentage: 0 }                                   | line 6: processors.memory_limiter.limit_percentage: must be at least 1, was 0",
        "zero MiB                        | { limit_mib: 0 }                                          | line 6: processors.memory_limiter.limit_mib: must be at least 1, was 0",
        "both kinds of limit             | { limit_mib: 100, limit_percentage: 50 }                  | line 6: processors.memory_limiter: give limit_mib and spike_limit_mib, or limit_percentage and spike_limit_percentage, not both kinds",
        "MiB limit with percent spike    | { limit_mib: 100, spike_limit_percentage: 10 }            | line 6: processors.memory_limiter: give limit_mib and spike_limit_mib, or limit_percentage and spike_limit_percentage, not both kinds",
        "no limit                        | { check_interval: 1s }                                    | line 6: processors.memory_limiter.limit_mib: is required (or limit_percentage)",
        "spike without a limit           | { spike_limit_mib: 10 }                                   | line 6: processors.memory_limiter.limit_mib: is required (or limit_percentage)",
        "zero check interval             | { check_interval: 0s, limit_mib: 100 }                    | line 6: processors.memory_limiter.check_interval: must be greater than zero"
      })
  void collectorsRulesAreErrorsNamingTheKeyAndLine(
      String name, String memoryLimiter, String expected) {
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class, () -> read(memoryLimiter, () -> 1000 * MIB));
    assertThat(e).as("no error for %s", name).isNotNull();
    // The first error; a processor with errors is not defined, so the pipeline listing it says so
    // too.
    assertThat(e.errors().get(0)).isEqualTo(expected);
  }

  @Test
  void aPercentageNeedsAMaximumHeap() {
    RelayConfigException e =
        catchThrowableOfType(
            RelayConfigException.class,
            () -> read("{ limit_percentage: 50 }", () -> Long.MAX_VALUE));
    assertThat(e.errors().get(0))
        .isEqualTo(
            "line 6: processors.memory_limiter.limit_percentage: the JVM has no "
                + "maximum heap to take a percentage of: set -Xmx or use limit_mib");
  }
}
