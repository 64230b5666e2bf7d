package io.otlp4j.bench.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos soak, compressed to fit CI: {@code bench/run soak --duration 80s} (the same code as the
 * 30-minute run; faults closer together): the relay as a child JVM in the durable ack mode, the
 * OpenTelemetry SDK and {@code otlp4j send} sending, every proxy fault, SIGKILLs, upstream restarts
 * and a disk-full episode. Every acknowledged item reaches the upstream, duplicates stay within
 * their bound and the relay's resources stay flat over the second half.
 */
class ChaosSoakTest {
  @TempDir Path dir;

  @Test
  void everyAcknowledgedItemIsDeliveredThroughKillsFaultsAndAFullDisk() throws Exception {
    SoakOptions options =
        new SoakOptions(Duration.ofSeconds(80), dir, 17L, 150, 4, SoakOptions.DEFAULT_RELAY_JVM);
    SoakResult result = new ChaosSoak(options, System.err).run();
    String summary = result.summaryText();
    System.err.println(summary);

    assertThat(result.exercised()).as(summary).isTrue();
    assertThat(result.counts().acknowledged()).as(summary).isPositive();
    assertThat(result.drained()).as(summary).isTrue();
    assertThat(result.counts().lost()).as("acknowledged - delivered\n" + summary).isZero();
    assertThat(result.counts().duplicates())
        .as(summary)
        .isLessThanOrEqualTo(result.duplicateBound());
    assertThat(result.flatness())
        .as(summary)
        .allSatisfy(f -> assertThat(f.flat()).as(f.resource()).isTrue());
  }
}
