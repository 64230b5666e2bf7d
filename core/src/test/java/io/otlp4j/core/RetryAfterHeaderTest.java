package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetryAfterHeaderTest {

  /** Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110. */
  private static final Instant EXAMPLE = Instant.parse("1994-11-06T08:49:37Z");

  private static final Clock TEN_SECONDS_BEFORE =
      Clock.fixed(EXAMPLE.minusSeconds(10), ZoneOffset.UTC);

  @Test
  void deltaSecondsAreTakenAsTheDelay() {
    assertThat(RetryAfterHeader.parseDelayNanos("120", TEN_SECONDS_BEFORE))
        .isEqualTo(TimeUnit.SECONDS.toNanos(120));
    assertThat(RetryAfterHeader.parseDelayNanos(" 0 ", TEN_SECONDS_BEFORE)).isZero();
  }

  @Test
  void hugeDeltaSecondsAreCappedInsteadOfOverflowing() {
    assertThat(RetryAfterHeader.parseDelayNanos("99999999999999999999999", TEN_SECONDS_BEFORE))
        .isEqualTo(TimeUnit.SECONDS.toNanos(Integer.MAX_VALUE));
  }

  @Test
  void imfFixdateIsRelativeToTheWallClock() {
    assertThat(
            RetryAfterHeader.parseDelayNanos("Sun, 06 Nov 1994 08:49:37 GMT", TEN_SECONDS_BEFORE))
        .isEqualTo(TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void obsoleteRfc850DateIsAccepted() {
    assertThat(
            RetryAfterHeader.parseDelayNanos("Sunday, 06-Nov-94 08:49:37 GMT", TEN_SECONDS_BEFORE))
        .isEqualTo(TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void obsoleteAsctimeDateIsAccepted() {
    assertThat(RetryAfterHeader.parseDelayNanos("Sun Nov  6 08:49:37 1994", TEN_SECONDS_BEFORE))
        .isEqualTo(TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void aDateInThePastMeansRetryNow() {
    Clock later = Clock.fixed(EXAMPLE.plusSeconds(3600), ZoneOffset.UTC);
    assertThat(RetryAfterHeader.parseDelayNanos("Sun, 06 Nov 1994 08:49:37 GMT", later)).isZero();
  }

  @ParameterizedTest(name = "\"{0}\" is ignored")
  @ValueSource(
      strings = {
        "",
        "   ",
        "-5",
        "1.5",
        "soon",
        "12s",
        "Sun, 06 Nov 1994 08:49:37",
        "Mon, 06 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "2024-01-01T00:00:00Z"
      })
  void malformedValuesAreIgnored(String value) {
    assertThat(RetryAfterHeader.parseDelayNanos(value, TEN_SECONDS_BEFORE))
        .isEqualTo(RetryAfterHeader.NO_DELAY);
  }

  @Test
  void aMissingHeaderIsIgnored() {
    assertThat(RetryAfterHeader.parseDelayNanos(null, TEN_SECONDS_BEFORE))
        .isEqualTo(RetryAfterHeader.NO_DELAY);
  }
}
