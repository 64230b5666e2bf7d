package io.otlp4j.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter, bounded by a number of attempts and an elapsed-time budget; a
 * delay given by the server (gRPC {@code RetryInfo}, HTTP {@code Retry-After}) overrides the
 * computed one.
 *
 * <p>The delay before retry number {@code n} (after {@code n} attempts) is {@code base =
 * min(initialDelay * multiplier^(n-1), maxDelay)}, then jittered: {@link Jitter#FULL} draws
 * uniformly from {@code [0, base]}, {@link Jitter#EQUAL} from {@code [base/2, base]}, {@link
 * Jitter#NONE} uses {@code base}. A retry is abandoned when the attempts are used up, or when the
 * next attempt would start after the elapsed-time budget (whether the delay is ours or the
 * server's).
 *
 * <p><b>Thread-safety:</b> immutable and thread-safe (the random source must be too; the default is
 * {@link ThreadLocalRandom}).
 */
public final class RetryPolicy {

  /** How a computed delay is randomized. */
  public enum Jitter {
    /** No randomization. */
    NONE,
    /** Uniform in {@code [0, base]}: spreads retries the most. */
    FULL,
    /** Uniform in {@code [base/2, base]}: keeps at least half the backoff. */
    EQUAL
  }

  /** Why a retry is not attempted. */
  public enum GiveUpReason {
    /** The outcome is not retryable. */
    NOT_RETRYABLE,
    /** The maximum number of attempts was made. */
    MAX_ATTEMPTS,
    /** The computed delay would end after the elapsed-time budget. */
    MAX_ELAPSED,
    /** The server asked for a delay that ends after the elapsed-time budget. */
    SERVER_DELAY_EXCEEDS_BUDGET
  }

  /** Default first delay (the Collector's {@code retry_on_failure.initial_interval}). */
  public static final Duration DEFAULT_INITIAL_DELAY = Duration.ofSeconds(5);

  /** Default growth per attempt (the Collector's backoff multiplier). */
  public static final double DEFAULT_MULTIPLIER = 1.5;

  /** Default cap of a single delay (the Collector's {@code max_interval}). */
  public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(30);

  /**
   * Default elapsed-time budget, first attempt included (the Collector's {@code max_elapsed_time}).
   */
  public static final Duration DEFAULT_MAX_ELAPSED = Duration.ofMinutes(5);

  /** Default maximum number of attempts, the first included. */
  public static final int DEFAULT_MAX_ATTEMPTS = 100;

  /** Default jitter. */
  public static final Jitter DEFAULT_JITTER = Jitter.EQUAL;

  private final long initialDelayNanos;
  private final double multiplier;
  private final long maxDelayNanos;
  private final long maxElapsedNanos;
  private final int maxAttempts;
  private final Jitter jitter;
  private final DoubleSupplier random;

  private RetryPolicy(Builder b) {
    this.initialDelayNanos = b.initialDelay.toNanos();
    this.multiplier = b.multiplier;
    this.maxDelayNanos = b.maxDelay.toNanos();
    this.maxElapsedNanos = b.maxElapsed.toNanos();
    this.maxAttempts = b.maxAttempts;
    this.jitter = b.jitter;
    this.random = b.random;
  }

  /** A builder with every default. */
  public static Builder builder() {
    return new Builder();
  }

  /** A policy with every default. */
  public static RetryPolicy defaults() {
    return builder().build();
  }

  /** The maximum number of attempts, the first included. */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** The elapsed-time budget, in nanoseconds. */
  public long maxElapsedNanos() {
    return maxElapsedNanos;
  }

  /**
   * Decides whether to retry after a retryable failure.
   *
   * @param attempts attempts made so far (>= 1)
   * @param elapsedNanos time since the first attempt started
   * @param serverDelayNanos the delay the server asked for, or a negative value when it gave none
   */
  public RetryDecision decide(int attempts, long elapsedNanos, long serverDelayNanos) {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1: " + attempts);
    }
    if (attempts >= maxAttempts) {
      return RetryDecision.giveUp(GiveUpReason.MAX_ATTEMPTS);
    }
    long remaining = maxElapsedNanos - elapsedNanos;
    if (serverDelayNanos >= 0) {
      return serverDelayNanos <= remaining
          ? RetryDecision.retryAfter(serverDelayNanos)
          : RetryDecision.giveUp(GiveUpReason.SERVER_DELAY_EXCEEDS_BUDGET);
    }
    long delay = jittered(baseDelayNanos(attempts));
    return delay <= remaining
        ? RetryDecision.retryAfter(delay)
        : RetryDecision.giveUp(GiveUpReason.MAX_ELAPSED);
  }

  /** The un-jittered delay after {@code attempts} attempts. */
  long baseDelayNanos(int attempts) {
    double d = initialDelayNanos * Math.pow(multiplier, attempts - 1);
    return d >= maxDelayNanos ? maxDelayNanos : (long) d;
  }

  private long jittered(long base) {
    switch (jitter) {
      case FULL:
        return (long) (base * unit());
      case EQUAL:
        long half = base / 2;
        return half + (long) ((base - half) * unit());
      default:
        return base;
    }
  }

  private double unit() {
    double r = random.getAsDouble();
    // Clamp a misbehaving source into [0, 1] rather than produce negative or huge delays.
    return r < 0 ? 0 : Math.min(r, 1.0);
  }

  /** A retry decision: retry after a delay, or give up with a reason. Immutable. */
  public static final class RetryDecision {
    private final long delayNanos;
    private final GiveUpReason reason;

    private RetryDecision(long delayNanos, GiveUpReason reason) {
      this.delayNanos = delayNanos;
      this.reason = reason;
    }

    static RetryDecision retryAfter(long delayNanos) {
      return new RetryDecision(delayNanos, null);
    }

    static RetryDecision giveUp(GiveUpReason reason) {
      return new RetryDecision(-1, reason);
    }

    /** Whether to retry. */
    public boolean shouldRetry() {
      return reason == null;
    }

    /** The delay before the retry, in nanoseconds; -1 when giving up. */
    public long delayNanos() {
      return delayNanos;
    }

    /** Why the retry is abandoned, or {@code null} when retrying. */
    public GiveUpReason giveUpReason() {
      return reason;
    }

    @Override
    public String toString() {
      return shouldRetry() ? "retry after " + delayNanos + "ns" : "give up: " + reason;
    }
  }

  /** Configures a {@link RetryPolicy}. Not thread-safe. */
  public static final class Builder {
    private Duration initialDelay = DEFAULT_INITIAL_DELAY;
    private double multiplier = DEFAULT_MULTIPLIER;
    private Duration maxDelay = DEFAULT_MAX_DELAY;
    private Duration maxElapsed = DEFAULT_MAX_ELAPSED;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Jitter jitter = DEFAULT_JITTER;
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

    private Builder() {}

    /** The delay after the first attempt (default 5 s). */
    public Builder initialDelay(Duration initialDelay) {
      this.initialDelay = requirePositive(initialDelay, "initialDelay");
      return this;
    }

    /** The growth of the delay per attempt, >= 1 (default 1.5). */
    public Builder multiplier(double multiplier) {
      if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be finite and >= 1: " + multiplier);
      }
      this.multiplier = multiplier;
      return this;
    }

    /** The cap of one computed delay (default 30 s). */
    public Builder maxDelay(Duration maxDelay) {
      this.maxDelay = requirePositive(maxDelay, "maxDelay");
      return this;
    }

    /** The elapsed-time budget from the first attempt (default 5 min). */
    public Builder maxElapsed(Duration maxElapsed) {
      this.maxElapsed = requirePositive(maxElapsed, "maxElapsed");
      return this;
    }

    /** The maximum number of attempts, the first included, >= 1 (default 100). */
    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1: " + maxAttempts);
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    /** The jitter (default {@link Jitter#EQUAL}). */
    public Builder jitter(Jitter jitter) {
      this.jitter = Objects.requireNonNull(jitter, "jitter");
      return this;
    }

    /** The source of uniform values in {@code [0, 1)} for jitter; thread-safe. For tests. */
    public Builder random(DoubleSupplier random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Builds the policy. */
    public RetryPolicy build() {
      if (maxDelay.compareTo(initialDelay) < 0) {
        throw new IllegalArgumentException(
            "maxDelay must be >= initialDelay: " + maxDelay + " < " + initialDelay);
      }
      return new RetryPolicy(this);
    }

    private static Duration requirePositive(Duration d, String parameter) {
      Objects.requireNonNull(d, parameter);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(parameter + " must be positive: " + d);
      }
      return d;
    }
  }
}
