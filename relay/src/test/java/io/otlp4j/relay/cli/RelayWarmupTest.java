package io.otlp4j.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.relay.AckMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code otlp4j run}'s warm-up sends real requests through a private copy of the default relay in
 * every ack mode, answers them all, stays within its budget and leaves nothing in the data
 * directory, not even what a warm-up killed part-way left there.
 */
class RelayWarmupTest {

  @TempDir Path data;

  @ParameterizedTest
  @EnumSource(AckMode.class)
  void sendsThroughAPrivateRelayWithinItsBudgetAndLeavesNothing(AckMode mode) throws Exception {
    Path leftOver = data.resolve(RelayWarmup.DIR_PREFIX + "123").resolve("queue");
    Files.createDirectories(leftOver);
    Files.writeString(leftOver.resolve("segment"), "from a warm-up killed part-way");
    Duration budget = Duration.ofSeconds(3);
    RelayWarmup.Result result = RelayWarmup.run(mode, budget, data);

    assertThat(result.requests()).isPositive().isLessThanOrEqualTo(RelayWarmup.MAX_REQUESTS);
    assertThat(result.failed()).isZero();
    // Sending stops at 60 % of the budget and the compiler wait at its end; starting and stopping
    // the private relay are outside the budget's control, so allow them on a loaded machine.
    assertThat(result.took()).isLessThan(budget.plusSeconds(30));
    try (Stream<Path> files = Files.list(data)) {
      assertThat(files).isEmpty();
    }
  }

  @Test
  void anIdleCompilerWithoutTrafficIsNotSettled() throws Exception {
    // No requests sent: however quiet the compiler, the warm-up has not warmed anything.
    long deadline = System.nanoTime() + Duration.ofMillis(4 * RelayWarmup.WINDOW_MILLIS).toNanos();
    assertThat(RelayWarmup.quietUnderTraffic(() -> 0, deadline)).isFalse();
    assertThat(System.nanoTime()).isGreaterThanOrEqualTo(deadline);
  }
}
