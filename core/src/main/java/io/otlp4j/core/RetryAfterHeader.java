package io.otlp4j.core;

import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Parses an HTTP {@code Retry-After} header value (RFC 9110 §10.2.3) into a delay: either
 * delta-seconds ({@code "120"}) or an HTTP-date in the preferred IMF-fixdate form ({@code "Sun, 06
 * Nov 1994 08:49:37 GMT"}) or the obsolete RFC 850 ({@code "Sunday, 06-Nov-94 08:49:37 GMT"}) and
 * asctime ({@code "Sun Nov 6 08:49:37 1994"}) forms, relative to a wall clock. A date in the past
 * gives a zero delay. A malformed value gives {@link #NO_DELAY}, meaning "ignore the header". RFC
 * 850's two-digit years are read in 1970–2069.
 *
 * <p><b>Thread-safety:</b> stateless; the formatters are immutable.
 */
public final class RetryAfterHeader {

  /** Returned for a missing or malformed value. */
  public static final long NO_DELAY = -1;

  /** Delta-seconds above this (about 68 years) are capped to it rather than overflow. */
  private static final long MAX_SECONDS = Integer.MAX_VALUE;

  private static final DateTimeFormatter IMF_FIXDATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC)
          .withResolverStyle(ResolverStyle.SMART);

  private static final DateTimeFormatter RFC_850 =
      new DateTimeFormatterBuilder()
          .appendPattern("EEEE, dd-MMM-")
          .appendValueReduced(ChronoField.YEAR, 2, 2, LocalDate.of(1970, 1, 1))
          .appendPattern(" HH:mm:ss 'GMT'")
          .toFormatter(Locale.US)
          .withZone(ZoneOffset.UTC);

  private static final DateTimeFormatter ASCTIME =
      DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).withZone(ZoneOffset.UTC);

  private RetryAfterHeader() {}

  /**
   * Parses {@code value} relative to {@code wallClock}; the delay in nanoseconds or {@link
   * #NO_DELAY}.
   */
  public static long parseDelayNanos(String value, Clock wallClock) {
    return parseDelayNanos(value, wallClock.millis());
  }

  /** Parses {@code value} relative to {@code nowEpochMillis}; nanoseconds or {@link #NO_DELAY}. */
  public static long parseDelayNanos(String value, long nowEpochMillis) {
    if (value == null) {
      return NO_DELAY;
    }
    String v = value.trim();
    if (v.isEmpty()) {
      return NO_DELAY;
    }
    if (isDigits(v)) {
      long seconds = v.length() > 10 ? MAX_SECONDS : Math.min(Long.parseLong(v), MAX_SECONDS);
      return TimeUnit.SECONDS.toNanos(seconds);
    }
    for (DateTimeFormatter format : new DateTimeFormatter[] {IMF_FIXDATE, RFC_850, ASCTIME}) {
      try {
        long at = ZonedDateTime.parse(v, format).toInstant().toEpochMilli();
        return TimeUnit.MILLISECONDS.toNanos(Math.max(0, at - nowEpochMillis));
      } catch (DateTimeParseException e) {
        // try the next form
      }
    }
    return NO_DELAY;
  }

  private static boolean isDigits(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
