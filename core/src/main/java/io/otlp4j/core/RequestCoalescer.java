package io.otlp4j.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/**
 * Merges concurrent requests into one downstream operation — one fsync, one upstream export — and
 * gives each caller its own answer ("group commit").
 *
 * <h2>Roles</h2>
 *
 * Any number of callers {@link #submit(Object, long)}; one dispatcher thread forms groups and
 * starts the operation, which receives the payloads in submission order and returns a stage of a
 * {@link GroupResult}. The operation runs on the dispatcher thread and should only start the work.
 *
 * <h2>Grouping</h2>
 *
 * A group holds at most {@code maxGroupSize} payloads and {@code maxGroupBytes} bytes (a payload
 * larger than the byte limit goes alone). With {@code linger} zero (the default) grouping is
 * adaptive: when no operation runs a lone request goes at once, and requests that arrive while one
 * runs join the next group, so groups grow with load and a quiet system adds no latency. With a
 * positive {@code linger} a group also waits up to that long from its first request to gather more.
 * At most {@code maxInFlight} operations run at once (default 1: the next group forms while one
 * runs).
 *
 * <h2>Outcome contract</h2>
 *
 * Every future returned by {@code submit} completes exactly once, with the outcome of the one
 * operation that carried its payload: its value in the {@link GroupResult}, or the operation's
 * failure (the same cause, unwrapped from {@link CompletionException}), or its own failure in a
 * per-payload result. An operation that throws, returns {@code null}, or returns a per-payload
 * result of the wrong size fails every future of its group (with an {@link IllegalStateException}
 * naming the sizes in the last case).
 *
 * <h2>When full</h2>
 *
 * At most {@code maxPending} submissions wait (rounded up to a power of two); beyond that {@code
 * submit} returns a future already failed with a {@link RejectedExecutionException} — a retryable
 * condition — and counts it. After {@link #shutdown(Duration)} submissions fail with an {@link
 * IllegalStateException}; submissions still waiting when a shutdown times out fail with a {@link
 * RejectedExecutionException}.
 *
 * <h2>Ownership</h2>
 *
 * Payloads (reference-counted buffers included) pass through untouched: an accepted payload is
 * handed to the operation, which owns it from then on; a payload whose future fails at submit
 * (full, shut down) or at a timed-out shutdown was never handed over, and its caller must release
 * it.
 *
 * <p>Thread-safe.
 *
 * @param <P> the payload type
 * @param <R> the per-caller result type
 */
public final class RequestCoalescer<P, R> {

  /*
   * Design notes.
   *
   * Concurrency: built on a Batcher of submissions (payload, bytes, future): its MPSC queue and
   * single drainer are the dispatcher, its permits bound operations in flight, its ADAPTIVE strategy
   * is the linger-zero group commit and HYBRID (bytes, count, delay) the lingering one. So the
   * coalescer inherits the batcher's lost-wake-up-free parking protocol and its tests.
   *
   * Memory ordering: a submission's fields are final and published by the queue's ordered store;
   * each future is completed by exactly one thread — the one completing the carrying operation's
   * stage, or the shutdown sweep for a submission never carried — because the batcher hands each item
   * to exactly one of them.
   *
   * Backpressure: the pending bound is the batcher's capacity with the REJECT policy; refused callers
   * learn it from their future at once, and no caller ever blocks in submit.
   */

  public static final int DEFAULT_MAX_GROUP_SIZE = 512;
  public static final long DEFAULT_MAX_GROUP_BYTES = 8L * 1024 * 1024;
  public static final Duration DEFAULT_LINGER = Duration.ZERO;
  public static final int DEFAULT_MAX_IN_FLIGHT = 1;
  public static final int DEFAULT_MAX_PENDING = 4096;

  private final Function<? super List<P>, ? extends CompletionStage<GroupResult<R>>> operation;
  private final Batcher<Submission<P, R>> batcher;
  private final int maxPending;

  private RequestCoalescer(Builder<P, R> builder, boolean manual) {
    this.operation = builder.operation;
    Batcher.Builder<Submission<P, R>> batcherBuilder =
        Batcher.<Submission<P, R>>builder(this::startGroup)
            .strategy(builder.linger.isZero() ? Batcher.Strategy.ADAPTIVE : Batcher.Strategy.HYBRID)
            .maxBatchSize(builder.maxGroupSize)
            .maxBatchBytes(builder.maxGroupBytes, submission -> submission.bytes)
            .maxInFlight(builder.maxInFlight)
            .capacity(Math.max(builder.maxPending, builder.maxGroupSize))
            .overflow(Batcher.Overflow.REJECT)
            .clock(builder.clock)
            .threadFactory(builder.threadFactory)
            .logFirstFailure(false) // every carried caller receives the failure itself
            .discardListener(
                submission ->
                    submission.future.completeExceptionally(
                        new RejectedExecutionException(
                            "request coalescer shut down before this request was carried")));
    if (!builder.linger.isZero()) {
      batcherBuilder.maxDelay(builder.linger);
    }
    this.batcher = manual ? batcherBuilder.buildManual() : batcherBuilder.build();
    this.maxPending = batcher.capacity();
  }

  /** Starts a builder for groups carried by {@code operation}. */
  public static <P, R> Builder<P, R> builder(
      Function<? super List<P>, ? extends CompletionStage<GroupResult<R>>> operation) {
    return new Builder<>(operation);
  }

  /**
   * Submits {@code payload}, weighing {@code bytes} towards the group's byte limit. Never blocks;
   * never throws for a full coalescer (the future fails instead).
   *
   * @throws NullPointerException if {@code payload} is null
   * @throws IllegalArgumentException if {@code bytes} is negative
   */
  public CompletableFuture<R> submit(P payload, long bytes) {
    Objects.requireNonNull(payload, "payload");
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must not be negative, was " + bytes);
    }
    Submission<P, R> submission = new Submission<>(payload, bytes);
    switch (batcher.offer(submission)) {
      case ACCEPTED:
        break;
      case CLOSED:
        submission.future.completeExceptionally(
            new IllegalStateException("request coalescer is shut down"));
        break;
      default:
        submission.future.completeExceptionally(
            new RejectedExecutionException(
                "request coalescer is full: " + maxPending + " submissions pending"));
    }
    return submission.future;
  }

  /**
   * Starts the operations for everything submitted before this call; completes when they finish.
   */
  public CompletableFuture<Void> flush() {
    return batcher.flush();
  }

  /**
   * Refuses new submissions and carries the pending ones; completes with {@code true} if all of
   * them finished within {@code timeout}, else {@code false} (the rest fail, see the class
   * comment).
   */
  public CompletableFuture<Boolean> shutdown(Duration timeout) {
    return batcher.shutdown(timeout);
  }

  /** Manual mode (tests): one dispatcher step at {@code now}; returns the groups started. */
  int drainOnce(long now) {
    return batcher.drainOnce(now);
  }

  private CompletionStage<?> startGroup(List<Submission<P, R>> group) {
    List<P> payloads = new ArrayList<>(group.size());
    for (Submission<P, R> submission : group) {
      payloads.add(submission.payload);
    }
    CompletionStage<GroupResult<R>> stage;
    try {
      stage = operation.apply(payloads);
      if (stage == null) {
        stage = CompletableFuture.failedFuture(new NullPointerException("operation returned null"));
      }
    } catch (RuntimeException | Error e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage.whenComplete((result, error) -> complete(group, result, error));
  }

  private static <P, R> void complete(
      List<Submission<P, R>> group, GroupResult<R> result, Throwable error) {
    if (error == null && result == null) {
      error = new NullPointerException("operation completed with a null GroupResult");
    }
    if (error == null && !result.isUniform() && result.size() != group.size()) {
      error =
          new IllegalStateException(
              "operation returned "
                  + result.size()
                  + " per-payload results for a group of "
                  + group.size()
                  + " payloads");
    }
    if (error != null) {
      Throwable cause = unwrap(error);
      for (Submission<P, R> submission : group) {
        submission.future.completeExceptionally(cause);
      }
      return;
    }
    for (int i = 0; i < group.size(); i++) {
      complete(group.get(i).future, result.outcome(i));
    }
  }

  @SuppressWarnings("unchecked")
  private static <R> void complete(CompletableFuture<R> future, Object outcome) {
    if (outcome instanceof GroupResult.Failure) {
      future.completeExceptionally(((GroupResult.Failure) outcome).cause);
    } else {
      future.complete((R) outcome);
    }
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  private static final class Submission<P, R> {
    final P payload;
    final long bytes;
    final CompletableFuture<R> future = new CompletableFuture<>();

    Submission(P payload, long bytes) {
      this.payload = payload;
      this.bytes = bytes;
    }
  }

  // ------------------------------------------------------------------------------------ statistics

  /** Submissions accepted so far (carried, waiting, or failed at a timed-out shutdown). */
  public long submittedCount() {
    return batcher.enqueuedCount();
  }

  /** Submissions refused because {@code maxPending} were waiting. */
  public long refusedCount() {
    return batcher.rejectedCount();
  }

  /** Submissions waiting for a group. */
  public int pendingCount() {
    return batcher.queuedCount();
  }

  /** Operations started. */
  public long operationsStarted() {
    return batcher.batchesSent();
  }

  /** Operations that failed as a whole. */
  public long operationsFailed() {
    return batcher.batchesFailed();
  }

  /** Operations running now; never more than {@code maxInFlight}. */
  public int inFlightCount() {
    return batcher.inFlightCount();
  }

  /** Payloads per operation on average, or 0 before the first. */
  public double averageGroupSize() {
    return batcher.averageBatchSize();
  }

  /** The largest group so far, or 0. */
  public int largestGroupSize() {
    return batcher.largestBatchSize();
  }

  /** The capacity for waiting submissions: the configured one rounded up to a power of two. */
  public int maxPending() {
    return maxPending;
  }

  // ------------------------------------------------------------------------------------ builder

  /**
   * Configures a {@link RequestCoalescer}. Not thread-safe; setters validate and name the bad
   * parameter.
   */
  public static final class Builder<P, R> {
    private final Function<? super List<P>, ? extends CompletionStage<GroupResult<R>>> operation;
    private int maxGroupSize = DEFAULT_MAX_GROUP_SIZE;
    private long maxGroupBytes = DEFAULT_MAX_GROUP_BYTES;
    private Duration linger = DEFAULT_LINGER;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private int maxPending = DEFAULT_MAX_PENDING;
    private NanoClock clock = NanoClock.system();
    private ThreadFactory threadFactory =
        runnable -> {
          Thread thread = new Thread(runnable, "otlp4j-coalescer");
          thread.setDaemon(true);
          return thread;
        };

    private Builder(
        Function<? super List<P>, ? extends CompletionStage<GroupResult<R>>> operation) {
      this.operation = Objects.requireNonNull(operation, "operation");
    }

    /** The most payloads one operation carries; default {@link #DEFAULT_MAX_GROUP_SIZE}. */
    public Builder<P, R> maxGroupSize(int maxGroupSize) {
      if (maxGroupSize < 1) {
        throw new IllegalArgumentException("maxGroupSize must be positive, was " + maxGroupSize);
      }
      this.maxGroupSize = maxGroupSize;
      return this;
    }

    /** The most bytes one operation carries; default {@link #DEFAULT_MAX_GROUP_BYTES}. */
    public Builder<P, R> maxGroupBytes(long maxGroupBytes) {
      if (maxGroupBytes < 1) {
        throw new IllegalArgumentException("maxGroupBytes must be positive, was " + maxGroupBytes);
      }
      this.maxGroupBytes = maxGroupBytes;
      return this;
    }

    /** How long a group waits for company; zero (default) means adaptive grouping. */
    public Builder<P, R> linger(Duration linger) {
      Objects.requireNonNull(linger, "linger");
      if (linger.isNegative()) {
        throw new IllegalArgumentException("linger must not be negative, was " + linger);
      }
      this.linger = linger;
      return this;
    }

    /** The most operations running at once; default {@link #DEFAULT_MAX_IN_FLIGHT}. */
    public Builder<P, R> maxInFlight(int maxInFlight) {
      if (maxInFlight < 1) {
        throw new IllegalArgumentException("maxInFlight must be positive, was " + maxInFlight);
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    /**
     * The most submissions waiting (rounded up to a power of two); default {@link
     * #DEFAULT_MAX_PENDING}.
     */
    public Builder<P, R> maxPending(int maxPending) {
      if (maxPending < 1) {
        throw new IllegalArgumentException("maxPending must be positive, was " + maxPending);
      }
      this.maxPending = maxPending;
      return this;
    }

    /** The time source for the linger; default {@link NanoClock#system()}. */
    public Builder<P, R> clock(NanoClock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Creates the dispatcher thread; default a daemon thread named {@code otlp4j-coalescer}. */
    public Builder<P, R> threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /** Builds the coalescer and starts its dispatcher thread. */
    public RequestCoalescer<P, R> build() {
      return new RequestCoalescer<>(this, false);
    }

    /** Builds a coalescer without a dispatcher thread, driven by {@code drainOnce(now)} (tests). */
    RequestCoalescer<P, R> buildManual() {
      return new RequestCoalescer<>(this, true);
    }
  }
}
