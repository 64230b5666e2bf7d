package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutcomeTest {

  @Test
  void worstRanksPermanentOverLocalFailureOverRetryableOverPartialOverAccepted() {
    Outcome accepted = Outcome.accepted();
    Outcome partial = Outcome.partiallyAccepted(3, "some");
    Outcome retryable = Outcome.retryable("down");
    Outcome local = Outcome.localFailure("bug", new IllegalStateException());
    Outcome permanent = Outcome.permanent("bad");
    List<Outcome> order = List.of(accepted, partial, retryable, local, permanent);
    for (int i = 0; i < order.size(); i++) {
      for (int j = 0; j < order.size(); j++) {
        assertThat(Outcome.worst(order.get(i), order.get(j))).isSameAs(order.get(Math.max(i, j)));
      }
    }
    assertThat(Outcome.worst(null, retryable)).isSameAs(retryable);
    assertThat(Outcome.worst(retryable, null)).isSameAs(retryable);
  }

  @Test
  void worstOfTwoRetryablesKeepsTheLongerDelayAndOfTwoPartialsTheLargerRejection() {
    Outcome none = Outcome.retryable("no delay");
    Outcome two = Outcome.retryable(Duration.ofSeconds(2), "two");
    Outcome five = Outcome.retryable(Duration.ofSeconds(5), "five");
    assertThat(Outcome.worst(two, five)).isSameAs(five);
    assertThat(Outcome.worst(five, two)).isSameAs(five);
    assertThat(Outcome.worst(none, two)).isSameAs(two);
    Outcome p1 = Outcome.partiallyAccepted(1, "");
    Outcome p9 = Outcome.partiallyAccepted(9, "");
    assertThat(Outcome.worst(p1, p9)).isSameAs(p9);
  }

  @Test
  void aRetryableOutcomeKeepsTheServersDelayAndTellsClientsTheDefaultWithoutOne() {
    Outcome given = Outcome.retryable("x", null, Duration.ofSeconds(2).toNanos());
    assertThat(given.hasRetryDelay()).isTrue();
    assertThat(given.retryAfter()).isEqualTo(Duration.ofSeconds(2));
    Outcome none = Outcome.retryable("x", null, Outcome.NO_DELAY);
    assertThat(none.hasRetryDelay()).isFalse();
    assertThat(none.retryAfterNanos()).isEqualTo(Outcome.NO_DELAY);
    assertThat(none.retryAfter()).isEqualTo(Outcome.DEFAULT_RETRY_AFTER);
  }

  @Test
  void aLocalFailureIsRetryableAndNeverASuccessOrAPermanentRejection() {
    Outcome local = Outcome.localFailure("bug", new OutOfMemoryError("test"));
    assertThat(local.isRetryable()).isTrue();
    assertThat(local.isSuccess()).isFalse();
    assertThat(local.kind()).isNotEqualTo(Outcome.Kind.PERMANENT);
    assertThat(Outcome.permanent("bad").isRetryable()).isFalse();
  }

  @Test
  void aNegativePartialCountReadsAsZeroAndAttemptsAreCarried() {
    assertThat(Outcome.partiallyAccepted(-4, "m").rejectedItems()).isZero();
    assertThat(Outcome.accepted().withAttempts(3).attempts()).isEqualTo(3);
    assertThat(Outcome.accepted().withAttempts(3).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
  }
}
