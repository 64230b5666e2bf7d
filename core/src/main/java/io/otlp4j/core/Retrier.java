package io.otlp4j.core;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs an asynchronous operation, classifies each outcome and schedules the next attempt on a timer
 * according to a {@link RetryPolicy}; no thread ever sleeps.
 *
 * <p>The future returned by {@link #execute} completes like the last attempt: with its value or its
 * exception, whether that attempt succeeded, failed permanently or was the last retryable failure
 * the policy allowed. Cancelling the returned future stops further attempts.
 *
 * <p><b>Thread-safety:</b> immutable and thread-safe; any number of executions may run at once.
 * Each execution's attempts happen one after another (an attempt starts only after the previous
 * outcome was classified), on the scheduler's thread or the thread that completed the previous
 * attempt.
 */
public final class Retrier {

  private static final System.Logger LOGGER = System.getLogger(Retrier.class.getName());

  /** Runs a task after a delay. Netty's {@code EventExecutor} fits through {@link #of}. */
  @FunctionalInterface
  public interface Scheduler {
    /** Runs {@code task} once after {@code delayNanos}; may throw if shut down. */
    void schedule(Runnable task, long delayNanos);

    /** A scheduler backed by a {@link ScheduledExecutorService} (or a Netty event executor). */
    static Scheduler of(ScheduledExecutorService executor) {
      Objects.requireNonNull(executor, "executor");
      return (task, delayNanos) -> executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** What an attempt's outcome means. Immutable. */
  public static final class Verdict {
    /** The attempt succeeded: stop and return it. */
    public static final Verdict SUCCESS = new Verdict(0, -1);
    /** The attempt failed and must not be retried. */
    public static final Verdict PERMANENT = new Verdict(1, -1);
    /** The attempt failed and may be retried after a computed backoff. */
    public static final Verdict RETRYABLE = new Verdict(2, -1);

    private final int kind;
    private final long serverDelayNanos;

    private Verdict(int kind, long serverDelayNanos) {
      this.kind = kind;
      this.serverDelayNanos = serverDelayNanos;
    }

    /** Retryable after the delay the server asked for (RetryInfo, Retry-After); >= 0. */
    public static Verdict retryableAfter(long serverDelayNanos) {
      if (serverDelayNanos < 0) {
        throw new IllegalArgumentException("serverDelayNanos must be >= 0: " + serverDelayNanos);
      }
      return new Verdict(2, serverDelayNanos);
    }

    /** Whether the outcome may be retried. */
    public boolean isRetryable() {
      return kind == 2;
    }

    /** The server's delay, or -1 if none. */
    public long serverDelayNanos() {
      return serverDelayNanos;
    }
  }

  /** Classifies an attempt's outcome: exactly one of {@code result}, {@code failure} is meaningful. */
  @FunctionalInterface
  public interface Classifier<T> {
    /** The verdict on an attempt that produced {@code result} or failed with {@code failure}. */
    Verdict classify(T result, Throwable failure);
  }

  /** Observes give-ups; for metrics and logs. Must not throw. */
  @FunctionalInterface
  public interface GiveUpListener {
    /** An execution stopped retrying after {@code attempts} attempts for {@code reason}. */
    void onGiveUp(int attempts, RetryPolicy.GiveUpReason reason);
  }

  private final RetryPolicy policy;
  private final Scheduler scheduler;
  private final NanoClock clock;
  private final GiveUpListener giveUpListener;

  private Retrier(RetryPolicy policy, Scheduler scheduler, NanoClock clock, GiveUpListener l) {
    this.policy = policy;
    this.scheduler = scheduler;
    this.clock = clock;
    this.giveUpListener = l;
  }

  /** A retrier with the system clock and no give-up listener. */
  public static Retrier create(RetryPolicy policy, Scheduler scheduler) {
    return create(policy, scheduler, NanoClock.system(), (attempts, reason) -> {});
  }

  /** A retrier with every collaborator given (tests pass a fake clock and scheduler). */
  public static Retrier create(
      RetryPolicy policy, Scheduler scheduler, NanoClock clock, GiveUpListener giveUpListener) {
    return new Retrier(
        Objects.requireNonNull(policy, "policy"),
        Objects.requireNonNull(scheduler, "scheduler"),
        Objects.requireNonNull(clock, "clock"),
        Objects.requireNonNull(giveUpListener, "giveUpListener"));
  }

  /**
   * Starts the first attempt now, on the calling thread, and retries per the policy.
   *
   * @param attempt starts one attempt; a thrown exception counts as a failed attempt
   * @param classifier classifies each outcome
   */
  public <T> CompletableFuture<T> execute(
      Supplier<? extends CompletionStage<T>> attempt, Classifier<? super T> classifier) {
    Objects.requireNonNull(attempt, "attempt");
    Objects.requireNonNull(classifier, "classifier");
    Execution<T> execution = new Execution<>(attempt, classifier, clock.nanoTime());
    execution.run();
    return execution.result;
  }

  private final class Execution<T> {
    final Supplier<? extends CompletionStage<T>> attempt;
    final Classifier<? super T> classifier;
    final long startNanos;
    final CompletableFuture<T> result = new CompletableFuture<>();
    // Attempts run one after another, but the outcome may be delivered on another thread than
    // the one that started the attempt: volatile keeps the count visible without relying on the
    // caller's future implementation for a happens-before edge.
    volatile int attempts;

    Execution(
        Supplier<? extends CompletionStage<T>> attempt,
        Classifier<? super T> classifier,
        long startNanos) {
      this.attempt = attempt;
      this.classifier = classifier;
      this.startNanos = startNanos;
    }

    void run() {
      if (result.isDone()) {
        return; // cancelled by the caller
      }
      int previous = attempts; // single writer: attempts never overlap, so read-then-write is enough
      attempts = previous + 1;
      CompletionStage<T> stage;
      try {
        stage = Objects.requireNonNull(attempt.get(), "attempt returned null");
      } catch (RuntimeException | Error e) {
        onOutcome(null, e);
        return;
      }
      stage.whenComplete(this::onOutcome);
    }

    void onOutcome(T value, Throwable failure) {
      Throwable cause = unwrap(failure);
      Verdict verdict;
      try {
        verdict = classifier.classify(value, cause);
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
        return;
      }
      if (!verdict.isRetryable()) {
        if (verdict != Verdict.SUCCESS) {
          giveUp(RetryPolicy.GiveUpReason.NOT_RETRYABLE);
        }
        complete(value, cause);
        return;
      }
      RetryPolicy.RetryDecision decision =
          policy.decide(attempts, clock.nanoTime() - startNanos, verdict.serverDelayNanos());
      if (!decision.shouldRetry()) {
        giveUp(decision.giveUpReason());
        complete(value, cause);
        return;
      }
      try {
        scheduler.schedule(this::run, decision.delayNanos());
      } catch (RuntimeException e) {
        result.completeExceptionally(e);
      }
    }

    private void giveUp(RetryPolicy.GiveUpReason reason) {
      try {
        giveUpListener.onGiveUp(attempts, reason);
      } catch (RuntimeException e) {
        LOGGER.log(System.Logger.Level.WARNING, "retry give-up listener threw", e);
      }
    }

    private void complete(T value, Throwable cause) {
      if (cause != null) {
        result.completeExceptionally(cause);
      } else {
        result.complete(value);
      }
    }
  }

  private static Throwable unwrap(Throwable t) {
    if (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      return t.getCause();
    }
    return t;
  }
}
