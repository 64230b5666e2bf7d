package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.relay.AckMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code otlp4j run}'s warm-up sends real requests through a private copy of the default relay in
 * every ack mode, answers them all, stays within its budget and leaves nothing behind.
 */
class RelayWarmupTest {

  private static List<Path> warmupDirs() throws Exception {
    try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return files.filter(p -> p.getFileName().toString().startsWith("otlp4j-warmup-")).toList();
    }
  }

  @ParameterizedTest
  @EnumSource(AckMode.class)
  void sendsThroughAPrivateRelayWithinItsBudgetAndDeletesItsDirectory(AckMode mode)
      throws Exception {
    List<Path> before = warmupDirs();
    Duration budget = Duration.ofSeconds(3);
    RelayWarmup.Result result = RelayWarmup.run(mode, budget);

    assertThat(result.requests()).isPositive();
    assertThat(result.failed()).isZero();
    // Sending stops at half the budget and the compiler wait at its end; starting and stopping the
    // private relay are outside the budget's control, so allow them on a loaded machine.
    assertThat(result.took()).isLessThan(budget.plusSeconds(30));
    assertThat(warmupDirs()).containsExactlyInAnyOrderElementsOf(before);
  }

  @Test
  void anIdleCompilerWithoutTrafficIsNotSettled() throws Exception {
    // No requests sent: however quiet the compiler, the warm-up has not warmed anything.
    long deadline = System.nanoTime() + Duration.ofMillis(4 * RelayWarmup.WINDOW_MILLIS).toNanos();
    assertThat(RelayWarmup.quietUnderTraffic(() -> 0, deadline)).isFalse();
    assertThat(System.nanoTime()).isGreaterThanOrEqualTo(deadline);
  }
}
