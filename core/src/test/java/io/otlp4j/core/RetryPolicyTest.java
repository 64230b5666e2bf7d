package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.otlp4j.core.RetryPolicy.GiveUpReason;
import io.otlp4j.core.RetryPolicy.Jitter;
import io.otlp4j.core.RetryPolicy.RetryDecision;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  private static final long SECOND = 1_000_000_000L;

  private static RetryPolicy.Builder base() {
    return RetryPolicy.builder()
        .initialDelay(Duration.ofSeconds(1))
        .multiplier(2)
        .maxDelay(Duration.ofSeconds(10))
        .maxAttempts(100)
        .maxElapsed(Duration.ofHours(1))
        .jitter(Jitter.NONE);
  }

  @Test
  void delaysGrowExponentiallyUpToTheMax() {
    RetryPolicy policy = base().build();
    long[] expected = {1, 2, 4, 8, 10, 10};
    for (int attempts = 1; attempts <= expected.length; attempts++) {
      RetryDecision d = policy.decide(attempts, 0, -1);
      assertThat(d.shouldRetry()).isTrue();
      assertThat(d.delayNanos())
          .as("after %d attempts", attempts)
          .isEqualTo(expected[attempts - 1] * SECOND);
    }
  }

  @Test
  void fullJitterDrawsFromZeroToTheBase() {
    assertThat(base().jitter(Jitter.FULL).random(() -> 0.0).build().decide(3, 0, -1).delayNanos())
        .isZero();
    assertThat(base().jitter(Jitter.FULL).random(() -> 0.25).build().decide(3, 0, -1).delayNanos())
        .isEqualTo(SECOND);
    assertThat(base().jitter(Jitter.FULL).random(() -> 1.0).build().decide(3, 0, -1).delayNanos())
        .isEqualTo(4 * SECOND);
  }

  @Test
  void equalJitterKeepsAtLeastHalfTheBase() {
    assertThat(base().jitter(Jitter.EQUAL).random(() -> 0.0).build().decide(3, 0, -1).delayNanos())
        .isEqualTo(2 * SECOND);
    assertThat(base().jitter(Jitter.EQUAL).random(() -> 0.5).build().decide(3, 0, -1).delayNanos())
        .isEqualTo(3 * SECOND);
    assertThat(base().jitter(Jitter.EQUAL).random(() -> 1.0).build().decide(3, 0, -1).delayNanos())
        .isEqualTo(4 * SECOND);
  }

  @Test
  void aMisbehavingRandomSourceIsClamped() {
    assertThat(base().jitter(Jitter.FULL).random(() -> -3).build().decide(1, 0, -1).delayNanos())
        .isZero();
    assertThat(base().jitter(Jitter.FULL).random(() -> 7).build().decide(1, 0, -1).delayNanos())
        .isEqualTo(SECOND);
  }

  @Test
  void givesUpAfterMaxAttempts() {
    RetryPolicy policy = base().maxAttempts(3).build();
    assertThat(policy.decide(2, 0, -1).shouldRetry()).isTrue();
    RetryDecision d = policy.decide(3, 0, -1);
    assertThat(d.shouldRetry()).isFalse();
    assertThat(d.giveUpReason()).isEqualTo(GiveUpReason.MAX_ATTEMPTS);
    assertThat(d.delayNanos()).isEqualTo(-1);
  }

  @Test
  void givesUpWhenTheNextAttemptWouldStartAfterMaxElapsed() {
    RetryPolicy policy = base().maxElapsed(Duration.ofSeconds(10)).build();
    assertThat(policy.decide(3, 6 * SECOND, -1).delayNanos()).isEqualTo(4 * SECOND); // ends at 10 s
    assertThat(policy.decide(3, 6 * SECOND + 1, -1).giveUpReason())
        .isEqualTo(GiveUpReason.MAX_ELAPSED);
  }

  @Test
  void serverDelayOverridesTheComputedDelay() {
    RetryPolicy policy = base().build();
    assertThat(policy.decide(1, 0, 30 * SECOND).delayNanos()).isEqualTo(30 * SECOND); // > maxDelay
    assertThat(policy.decide(5, 0, 0).delayNanos()).isZero();
  }

  @Test
  void serverDelayThatDoesNotFitTheBudgetGivesUpWithThatReason() {
    RetryPolicy policy = base().maxElapsed(Duration.ofSeconds(60)).build();
    assertThat(policy.decide(1, 50 * SECOND, 10 * SECOND).shouldRetry()).isTrue();
    RetryDecision d = policy.decide(1, 50 * SECOND, 11 * SECOND);
    assertThat(d.giveUpReason()).isEqualTo(GiveUpReason.SERVER_DELAY_EXCEEDS_BUDGET);
  }

  @Test
  void serverDelayDoesNotBypassMaxAttempts() {
    RetryPolicy policy = base().maxAttempts(2).build();
    assertThat(policy.decide(2, 0, SECOND).giveUpReason()).isEqualTo(GiveUpReason.MAX_ATTEMPTS);
  }

  @Test
  void defaultsFollowTheCollectorsRetryOnFailure() {
    RetryPolicy policy = RetryPolicy.defaults();
    assertThat(policy.maxElapsedNanos()).isEqualTo(300 * SECOND);
    assertThat(policy.baseDelayNanos(1)).isEqualTo(5 * SECOND);
    assertThat(policy.baseDelayNanos(100)).isEqualTo(30 * SECOND);
  }

  @Test
  void builderRejectsBadValuesNamingTheParameter() {
    RetryPolicy.Builder b = RetryPolicy.builder();
    assertThatThrownBy(() -> b.initialDelay(Duration.ZERO)).hasMessageContaining("initialDelay");
    assertThatThrownBy(() -> b.multiplier(0.9)).hasMessageContaining("multiplier");
    assertThatThrownBy(() -> b.maxDelay(Duration.ofSeconds(-1))).hasMessageContaining("maxDelay");
    assertThatThrownBy(() -> b.maxElapsed(null)).hasMessageContaining("maxElapsed");
    assertThatThrownBy(() -> b.maxAttempts(0)).hasMessageContaining("maxAttempts");
    assertThatThrownBy(
            () ->
                RetryPolicy.builder()
                    .initialDelay(Duration.ofSeconds(10))
                    .maxDelay(Duration.ofSeconds(1))
                    .build())
        .hasMessageContaining("maxDelay");
    assertThatThrownBy(() -> base().build().decide(0, 0, -1)).hasMessageContaining("attempts");
  }
}
