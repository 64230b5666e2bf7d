package io.otlp4j.core;

import io.otlp4j.core.internal.Queues;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Collects items offered by many threads into batches and hands each batch to an asynchronous
 * exporter, with a bounded number of batches in flight.
 *
 * <h2>Roles</h2>
 *
 * <ul>
 *   <li><b>Producers</b>: any number of threads call {@link #offer(Object)}. It never throws for an
 *       expected condition; it returns an {@link OfferResult}.
 *   <li><b>Drainer</b>: one thread (started by {@link Builder#build()}) takes items out of the
 *       queue, forms batches and calls the exporter. The exporter runs on the drainer thread and
 *       should only <em>start</em> the export and return its {@link CompletionStage}; the stage may
 *       complete on any thread.
 * </ul>
 *
 * <h2>When a batch goes</h2>
 *
 * A batch never holds more than {@link Builder#maxBatchSize(int) maxBatchSize} items nor (with a
 * weigher) more than {@link Builder#maxBatchBytes(long, ToLongFunction) maxBatchBytes} bytes,
 * except that a single item heavier than the byte limit goes alone. A batch is sent when a permit
 * is free (at most {@link Builder#maxInFlight(int) maxInFlight} exports run at once) and one of
 * these holds:
 *
 * <ul>
 *   <li>it is full (item or byte limit reached) — every strategy;
 *   <li>{@link Strategy#TIME}, {@link Strategy#HYBRID}: its first item has waited {@code maxDelay};
 *   <li>{@link Strategy#ADAPTIVE}: no export is in flight (a lone item goes at once; under load
 *       items accumulate while exports run, so batches grow with load and no timer adds latency);
 *   <li>a {@link #flush()} or {@link #shutdown(Duration)} covers its items.
 * </ul>
 *
 * The delay of a batch counts from the moment the drainer first sees its first item: an idle
 * drainer of a timed strategy is woken by the first item of a batch (one wake-up per batch, not per
 * item).
 *
 * <h2>When the queue is full</h2>
 *
 * The queue holds {@link #capacity()} items (the configured capacity rounded up to a power of two).
 * {@link Overflow#REJECT} returns {@link OfferResult#REJECTED} and the caller keeps the item;
 * {@link Overflow#DROP_NEWEST} returns {@link OfferResult#DROPPED} and counts it (the batcher took
 * responsibility and discarded it); {@link Overflow#BLOCK} waits up to the block timeout for space
 * and returns {@link OfferResult#TIMED_OUT} if none came.
 *
 * <h2>Ownership</h2>
 *
 * The batcher never inspects, copies or releases items (reference-counted buffers included). An
 * {@link OfferResult#ACCEPTED ACCEPTED} item belongs to the batcher until it is handed to the
 * exporter (which then owns it: ownership is transferred with the batch list) or, after a timed-out
 * shutdown, to the discard listener (which must release it). Any other result leaves the item with
 * the caller.
 *
 * <h2>Thread-safety and invariants</h2>
 *
 * Thread-safe. Every accepted item is handed to the exporter exactly once, or — only when {@link
 * #shutdown(Duration)} times out — counted as dropped and passed to the discard listener. Items are
 * exported in the order the queue received them; batches may complete in any order.
 *
 * @param <T> the item type
 */
public final class Batcher<T> {

  /*
   * Design notes.
   *
   * Concurrency: producers share one bounded JCTools MPSC array queue (a CAS on the producer index,
   * no lock, no allocation). The drainer is the queue's only consumer. Items stay in the queue until
   * a batch is ready, so the queue's size *is* the pending count and producers can see fullness
   * without a counter of their own; only a configured weigher adds one contended AtomicLong (bytes).
   * Statistics on the hot path cost nothing: "enqueued" is the queue's producer index (not taken +
   * still queued: that sum missed the items the drainer had polled and not yet counted, which
   * RequestCoalescerLincheckTest found), the
   * overflow counters are LongAdders touched only when full.
   *
   * Memory ordering: the drainer publishes *what would wake it* in `state` (a volatile int: RUNNING,
   * WAKE_ON_ANY, WAKE_ON_FULL, WAKE_ON_COMPLETION) before re-checking that condition and parking; a
   * producer enqueues (the queue's CAS) and then reads `state`. Both sides do a volatile write then a
   * volatile read (Dekker), so either the drainer's re-check sees the item or the producer sees the
   * state and wakes it: no lost wake-up. Only the producer that CASes the state back to RUNNING calls
   * LockSupport.unpark, so a batch costs at most one wake-up. Export completions (inFlight decrement,
   * then state read) and control requests (controlPending write, then state read) follow the same
   * protocol. After termination the consumer role passes from the drainer to whoever holds
   * `sweepLock`: `lifecycle` = TERMINATED is written before the final sweep, and producers read it
   * after enqueueing, so an item racing with termination is swept by one of them.
   *
   * Parking: after a step that sent batches the drainer spins briefly (Thread.onSpinWait, bounded)
   * for the next batch before it publishes its wait state and parks. Under sustained load it stays
   * awake and producers never unpark it; once load stops it parks after one short spin.
   *
   * Backpressure: the queue bound is the only memory the batcher holds besides batches in flight,
   * which the permit counter bounds. A producer of the BLOCK policy waits on a Condition; the drainer
   * signals it only when blockedProducers > 0 (volatile read per batch), so non-blocking configurations
   * never touch the lock.
   *
   * References: Martin Thompson's "smart batching"; Caffeine's BoundedBuffer (status codes).
   */

  /** Which condition, besides fullness, makes a batch go. */
  public enum Strategy {
    /**
     * Only a full batch goes (or a flush/shutdown). A lone item waits: choose HYBRID for a latency
     * bound.
     */
    SIZE,
    /** A batch goes when its first item has waited {@code maxDelay}, or when full. */
    TIME,
    /** Items, bytes (a weigher is required) and delay: whichever limit comes first. */
    HYBRID,
    /** Smart batching: a batch goes when no export is in flight, or when full; no timer. */
    ADAPTIVE
  }

  /** What {@link #offer(Object)} does when the queue is full. */
  public enum Overflow {
    /** Wait for space up to the block timeout, then give up with {@link OfferResult#TIMED_OUT}. */
    BLOCK,
    /** Discard the offered item and count it: {@link OfferResult#DROPPED}. */
    DROP_NEWEST,
    /** Hand the item back to the caller: {@link OfferResult#REJECTED}. */
    REJECT
  }

  /**
   * The outcome of {@link #offer(Object)}; only {@link #ACCEPTED} means the batcher owns the item.
   */
  public enum OfferResult {
    /** Queued: it will be exported (or, if shutdown times out, counted as dropped). */
    ACCEPTED,
    /**
     * The queue was full and the item was discarded (DROP_NEWEST); counted in {@link
     * #droppedCount()}.
     */
    DROPPED,
    /**
     * The queue was full and the caller keeps the item (REJECT); counted in {@link
     * #rejectedCount()}.
     */
    REJECTED,
    /**
     * The queue stayed full for the whole block timeout (BLOCK); counted in {@link
     * #timedOutCount()}.
     */
    TIMED_OUT,
    /** The batcher is shut down. */
    CLOSED;

    /** Whether the batcher took the item. */
    public boolean accepted() {
      return this == ACCEPTED;
    }
  }

  public static final int DEFAULT_CAPACITY = 2048;
  public static final int DEFAULT_MAX_BATCH_SIZE = 512;
  public static final Duration DEFAULT_MAX_DELAY = Duration.ofMillis(200);
  public static final int DEFAULT_MAX_IN_FLIGHT = 2;
  public static final Strategy DEFAULT_STRATEGY = Strategy.TIME;
  public static final Overflow DEFAULT_OVERFLOW = Overflow.DROP_NEWEST;
  public static final Duration DEFAULT_BLOCK_TIMEOUT = Duration.ofSeconds(1);

  // Drainer states: what would wake it.
  static final int RUNNING = 0;
  static final int WAKE_ON_ANY = 1;
  static final int WAKE_ON_FULL = 2;
  static final int WAKE_ON_COMPLETION = 3;

  // Lifecycle.
  private static final int OPEN = 0;
  private static final int CLOSED = 1;
  private static final int TERMINATED = 2;

  static final long NO_DEADLINE = Long.MIN_VALUE;
  private static final int SPINS_BEFORE_PARK = 1 << 10;
  private static final long NO_BATCH = Long.MIN_VALUE;

  private static final System.Logger LOGGER = System.getLogger(Batcher.class.getName());
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Batcher.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Queue<T> queue;
  private final int capacity;
  private final Function<? super List<T>, ? extends CompletionStage<?>> exporter;
  private final Strategy strategy;
  private final int maxBatchSize;
  private final long maxBatchBytes;
  private final ToLongFunction<? super T> weigher; // null: no byte limit
  private final long maxDelayNanos;
  private final int maxInFlight;
  private final BooleanSupplier mayStartAnother; // null: only maxInFlight limits
  private final Overflow overflow;
  private final long blockTimeoutNanos;
  private final NanoClock clock;
  private final Consumer<? super T> discardListener;
  private final boolean logFirstFailure;
  private final Thread drainer; // null in manual mode

  // Shared state.
  private volatile int state = RUNNING;
  private volatile int lifecycle = OPEN;
  private volatile boolean controlPending;
  private volatile boolean terminateRequested;
  private volatile Boolean shutdownOutcome; // set by shutdown when the drain finished or timed out
  private volatile boolean drainerExited;
  private final AtomicLong pendingBytes;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger blockedProducers = new AtomicInteger();
  private final ReentrantLock blockLock = new ReentrantLock();
  private final Condition notFull = blockLock.newCondition();
  private final Object sweepLock = new Object();
  private final Object lifecycleLock = new Object();
  private final ConcurrentLinkedQueue<FlushRequest> flushRequests = new ConcurrentLinkedQueue<>();
  private final CompletableFuture<Boolean> shutdownResult = new CompletableFuture<>();

  // Statistics.
  private volatile long taken; // items taken out of the queue; written by the consumer only
  private final LongAdder dropped = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder timedOut = new LongAdder();
  private final AtomicLong batchesSent = new AtomicLong();
  private final AtomicLong itemsSent = new AtomicLong();
  private final AtomicLong batchesFailed = new AtomicLong();
  private final AtomicLong drainerFailures = new AtomicLong();
  private final AtomicLong itemsFailed = new AtomicLong();
  private volatile int lastBatchSize;
  private volatile int largestBatchSize;

  // Drainer-confined.
  private long batchStart = NO_BATCH;
  private long forcedUntil; // items up to this take-count go regardless of readiness (flush)
  private final ArrayDeque<CompletableFuture<Void>> unfinishedBatches = new ArrayDeque<>();
  private final ArrayList<FlushRequest> waitingFlushes = new ArrayList<>();
  private int waitKind;
  private long waitDeadline = NO_DEADLINE;

  private Batcher(Builder<T> builder, boolean startDrainer) {
    this.capacity = Queues.roundCapacity(builder.capacity);
    this.queue = Queues.mpscArray(capacity);
    this.exporter = builder.exporter;
    this.strategy = builder.strategy;
    this.maxBatchSize = builder.maxBatchSize;
    this.maxBatchBytes = builder.maxBatchBytes;
    this.weigher = builder.weigher;
    this.pendingBytes = weigher == null ? null : new AtomicLong();
    this.maxDelayNanos = builder.maxDelay.toNanos();
    this.maxInFlight = builder.maxInFlight;
    this.mayStartAnother = builder.mayStartAnother;
    this.overflow = builder.overflow;
    this.blockTimeoutNanos = builder.blockTimeout.toNanos();
    this.clock = builder.clock;
    this.discardListener = builder.discardListener;
    this.logFirstFailure = builder.logFirstFailure;
    if (startDrainer) {
      this.drainer = builder.threadFactory.newThread(this::runDrainer);
      drainer.start();
    } else {
      this.drainer = null;
    }
  }

  /** Starts a builder whose batches go to {@code exporter}. */
  public static <T> Builder<T> builder(
      Function<? super List<T>, ? extends CompletionStage<?>> exporter) {
    return new Builder<>(exporter);
  }

  // ------------------------------------------------------------------------------------ producers

  /**
   * Queues {@code item} for export. Never throws for a full queue; returns what happened.
   * Allocation-free unless the BLOCK policy has to wait.
   *
   * @throws NullPointerException if {@code item} is null
   */
  public OfferResult offer(T item) {
    Objects.requireNonNull(item, "item");
    if (lifecycle != OPEN) {
      return OfferResult.CLOSED;
    }
    long weight = 0;
    long bytes = 0;
    if (pendingBytes != null) {
      // Counted before the item is visible, so pendingBytes never under-counts the queue.
      weight = weigher.applyAsLong(item);
      bytes = pendingBytes.addAndGet(weight);
    }
    if (queue.offer(item)) {
      afterEnqueue(bytes);
      return OfferResult.ACCEPTED;
    }
    return whenFull(item, weight);
  }

  private void afterEnqueue(long bytes) {
    int s = state; // volatile read after the queue's CAS: see "Memory ordering"
    if (s != RUNNING && (s == WAKE_ON_ANY || (s == WAKE_ON_FULL && isFull(queue.size(), bytes)))) {
      wake(s);
    }
    if (lifecycle == TERMINATED) {
      sweep(); // the drainer is gone: do not leave the item behind
    }
  }

  private OfferResult whenFull(T item, long weight) {
    switch (overflow) {
      case REJECT:
        unweigh(weight);
        rejected.increment();
        return OfferResult.REJECTED;
      case DROP_NEWEST:
        unweigh(weight);
        dropped.increment();
        return OfferResult.DROPPED;
      default:
        return offerBlocking(item, weight);
    }
  }

  private void unweigh(long weight) {
    if (pendingBytes != null) {
      pendingBytes.addAndGet(-weight);
    }
  }

  private OfferResult offerBlocking(T item, long weight) {
    long nanos = blockTimeoutNanos;
    blockLock.lock();
    try {
      blockedProducers.incrementAndGet();
      try {
        for (; ; ) {
          if (lifecycle != OPEN) {
            unweigh(weight);
            return OfferResult.CLOSED;
          }
          if (queue.offer(item)) {
            break;
          }
          // A full queue is a full batch (capacity >= maxBatchSize): make sure the drainer knows.
          int s = state;
          if (s == WAKE_ON_ANY || s == WAKE_ON_FULL) {
            wake(s);
          }
          if (nanos <= 0) {
            unweigh(weight);
            timedOut.increment();
            return OfferResult.TIMED_OUT;
          }
          nanos = notFull.awaitNanos(nanos);
        }
      } finally {
        blockedProducers.decrementAndGet();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      unweigh(weight);
      timedOut.increment();
      return OfferResult.TIMED_OUT;
    } finally {
      blockLock.unlock();
    }
    afterEnqueue(pendingBytes == null ? 0 : pendingBytes.get());
    return OfferResult.ACCEPTED;
  }

  private boolean isFull(int pendingItems, long bytes) {
    return pendingItems >= maxBatchSize || (pendingBytes != null && bytes >= maxBatchBytes);
  }

  private void wake(int expected) {
    if (STATE.compareAndSet(this, expected, RUNNING) && drainer != null) {
      LockSupport.unpark(drainer);
    }
  }

  private void wakeUnconditionally() {
    int s = state;
    if (s != RUNNING) {
      wake(s);
    }
  }

  // ------------------------------------------------------------------------------------ control

  /**
   * Exports everything offered before this call (in happens-before order) without waiting for the
   * batch triggers. The future completes when every batch holding such an item has finished
   * exporting — successfully or not (failures are counted in {@link #batchesFailed()}); never
   * exceptionally. Still subject to the in-flight limit.
   */
  public CompletableFuture<Void> flush() {
    FlushRequest request = new FlushRequest();
    if (lifecycle == TERMINATED) {
      request.future.complete(null);
      return request.future;
    }
    flushRequests.add(request);
    controlPending = true;
    wakeUnconditionally();
    if (lifecycle == TERMINATED) {
      // Raced with termination: the drainer may never see it.
      flushRequests.remove(request);
      request.future.complete(null);
    }
    return request.future;
  }

  /**
   * Refuses new items ({@link OfferResult#CLOSED}) and exports everything already queued. The
   * future completes with {@code true} when all of it was exported (the exports finished) within
   * {@code timeout}, or with {@code false} when the timeout passed first; then the items still
   * queued are counted as dropped and passed to the discard listener, and the drainer thread ends.
   * Calling it again returns the same future.
   */
  public CompletableFuture<Boolean> shutdown(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    synchronized (lifecycleLock) {
      if (lifecycle != OPEN) {
        return shutdownResult;
      }
      lifecycle = CLOSED;
    }
    // Wake producers blocked for space: they must see CLOSED.
    if (blockedProducers.get() > 0) {
      signalNotFull();
    }
    flush()
        .thenApply(v -> Boolean.TRUE)
        .completeOnTimeout(Boolean.FALSE, timeout.toNanos(), TimeUnit.NANOSECONDS)
        .whenComplete((drained, error) -> terminate(drained != null && drained));
    return shutdownResult;
  }

  /** Ends the drainer; the shutdown future completes once the leftovers are swept. */
  private void terminate(boolean drained) {
    shutdownOutcome = drained;
    terminateRequested = true;
    if (drainer == null) {
      lifecycle = TERMINATED;
      sweep();
      completeAllFlushes();
      shutdownResult.complete(drained);
    } else {
      controlPending = true;
      wakeUnconditionally();
      LockSupport.unpark(drainer);
      if (drainerExited) {
        shutdownResult.complete(drained); // the drainer ended earlier (it failed)
      }
    }
  }

  /** Takes the consumer role after termination and discards whatever is left. */
  private void sweep() {
    synchronized (sweepLock) {
      T item;
      long count = 0;
      while ((item = queue.poll()) != null) {
        count++;
        unweigh(pendingBytes == null ? 0 : weigher.applyAsLong(item));
        dropped.increment();
        try {
          discardListener.accept(item);
        } catch (RuntimeException e) {
          // A listener's failure must not strand the remaining items.
        }
      }
      if (count > 0) {
        long t =
            taken; // single writer (the consumer role, here under sweepLock): read, then publish
        taken = t + count;
      }
    }
  }

  // ------------------------------------------------------------------------------------ drainer

  private void runDrainer() {
    try {
      while (!terminateRequested) {
        state = RUNNING;
        int sent;
        try {
          sent = step(clock.nanoTime());
        } catch (Throwable e) {
          // Our own failure (an allocation under memory pressure, a listener's bug): the drainer
          // must
          // outlive it, or every queued item would be swept and no later one ever sent. Items stay
          // in
          // the queue; the drainer backs off briefly and goes on.
          onDrainerFailure(e);
          LockSupport.parkNanos(this, DRAINER_FAILURE_BACKOFF_NANOS);
          continue;
        }
        if (terminateRequested) {
          break;
        }
        int kind = waitKind;
        if (sent > 0 && spinUntilReady(kind)) {
          continue; // under sustained load: no park, no producer-side unpark
        }
        state = kind; // volatile write before the re-check: see "Memory ordering"
        if (mustRunAgain(kind)) {
          continue;
        }
        if (kind == WAKE_ON_FULL && waitDeadline != NO_DEADLINE) {
          long delay = waitDeadline - clock.nanoTime();
          if (delay > 0) {
            LockSupport.parkNanos(this, delay);
          }
        } else {
          LockSupport.park(this);
        }
      }
    } finally {
      state = RUNNING;
      lifecycle = TERMINATED; // written before the sweep: producers that enqueue later sweep too
      sweep();
      completeAllFlushes();
      drainerExited = true;
      Boolean outcome = shutdownOutcome;
      if (outcome != null) {
        shutdownResult.complete(outcome);
      }
    }
  }

  /** How long the drainer waits after a failure of its own before it tries again. */
  private static final long DRAINER_FAILURE_BACKOFF_NANOS = 10_000_000L;

  private void onDrainerFailure(Throwable e) {
    try {
      if (drainerFailures.getAndIncrement() == 0) {
        LOGGER.log(
            System.Logger.Level.ERROR,
            "batcher drainer failed; it goes on (further failures are only "
                + "counted: drainerFailures)",
            e);
      }
    } catch (Throwable ignored) {
      // even logging failed (out of memory): carrying on is what matters
    }
  }

  /** Failures of the drainer's own code that it survived (see {@link #runDrainer}). */
  public long drainerFailures() {
    return drainerFailures.get();
  }

  private void completeAllFlushes() {
    takeControlRequests();
    completeWaitingFlushes(true);
  }

  /**
   * After a step that sent batches, spins briefly (about tens of microseconds) for the next batch
   * before parking: under sustained load the next batch is usually ready within that time, and a
   * park/unpark round trip would let producers fill the queue and drop. While spinning the state
   * stays RUNNING, so producers never pay for an unpark. Returns whether the wait is over.
   */
  private boolean spinUntilReady(int kind) {
    for (int i = 0; i < SPINS_BEFORE_PARK; i++) {
      Thread.onSpinWait();
      if (mustRunAgain(kind)) {
        return true;
      }
    }
    return false;
  }

  private boolean mustRunAgain(int kind) {
    if (controlPending || terminateRequested) {
      return true;
    }
    switch (kind) {
      case WAKE_ON_ANY:
        return !queue.isEmpty();
      case WAKE_ON_FULL:
        return isFull(queue.size(), pendingBytes == null ? 0 : pendingBytes.get())
            || (strategy == Strategy.ADAPTIVE && inFlight.get() == 0);
      case WAKE_ON_COMPLETION:
        return permitFree();
      default:
        return true;
    }
  }

  /**
   * Manual mode (tests): runs the drainer's logic once at time {@code now} on the calling thread,
   * sending every batch that is ready, and returns how many it sent. Only for a batcher built with
   * {@link Builder#buildManual()}; the caller is the consumer.
   */
  int drainOnce(long now) {
    if (drainer != null) {
      throw new IllegalStateException("drainOnce is only for a batcher built with buildManual()");
    }
    if (lifecycle == TERMINATED) {
      return 0;
    }
    return step(now);
  }

  /** Producers waiting for space under the BLOCK policy (tests). */
  int blockedProducerCount() {
    return blockedProducers.get();
  }

  /** Manual mode: what the drainer would wait for after the last {@link #drainOnce(long)}. */
  int waitKind() {
    return waitKind;
  }

  /** Manual mode: when the pending batch's delay expires, or {@link #NO_DEADLINE}. */
  long waitDeadline() {
    return waitDeadline;
  }

  private int step(long now) {
    int sent = sendReadyBatches(now);
    completeWaitingFlushes(false);
    return sent;
  }

  private int sendReadyBatches(long now) {
    takeControlRequests();
    int sent = 0;
    waitDeadline = NO_DEADLINE;
    for (; ; ) {
      int pending = queue.size();
      if (pending == 0) {
        batchStart = NO_BATCH;
        waitKind = WAKE_ON_ANY;
        return sent;
      }
      if (batchStart == NO_BATCH) {
        batchStart = now;
      }
      boolean ready =
          taken < forcedUntil
              || lifecycle != OPEN
              || isFull(pending, pendingBytes == null ? 0 : pendingBytes.get())
              || (strategy == Strategy.ADAPTIVE && inFlight.get() == 0)
              || (isTimed() && now - batchStart >= maxDelayNanos);
      if (!ready) {
        waitKind = WAKE_ON_FULL;
        waitDeadline = isTimed() ? batchStart + maxDelayNanos : NO_DEADLINE;
        return sent;
      }
      if (!tryAcquirePermit()) {
        waitKind = WAKE_ON_COMPLETION;
        return sent;
      }
      List<T> batch;
      try {
        batch = takeBatch(pending);
      } catch (Throwable e) {
        inFlight
            .decrementAndGet(); // nothing was taken (the list is allocated before the first poll)
        throw e;
      }
      if (batch.isEmpty()) {
        inFlight.decrementAndGet();
        continue;
      }
      send(batch);
      sent++;
      if (queue.isEmpty()) {
        batchStart = NO_BATCH;
      }
      // else: leftovers keep the older start, so none waits longer than maxDelay.
    }
  }

  private boolean isTimed() {
    return strategy == Strategy.TIME || strategy == Strategy.HYBRID;
  }

  private void takeControlRequests() {
    if (!controlPending) {
      return;
    }
    controlPending = false; // cleared before reading the requests, so a later one sets it again
    FlushRequest request;
    while ((request = flushRequests.poll()) != null) {
      // Everything offered before flush() is in the queue now: the queue's size covers it.
      request.target = taken + queue.size();
      forcedUntil = Math.max(forcedUntil, request.target);
      waitingFlushes.add(request);
    }
  }

  private boolean tryAcquirePermit() {
    // The drainer is the only thread that acquires, so get-then-increment cannot overshoot.
    if (!permitFree()) {
      return false;
    }
    inFlight.incrementAndGet();
    return true;
  }

  private boolean permitFree() {
    int n = inFlight.get();
    return n < maxInFlight && (n == 0 || mayStartAnother == null || mayStartAnother.getAsBoolean());
  }

  private List<T> takeBatch(int pending) {
    // The list never grows past its first allocation: once an item is polled nothing can fail.
    int limit = Math.min(pending, maxBatchSize);
    ArrayList<T> batch = new ArrayList<>(limit);
    if (weigher == null) {
      T item;
      while (batch.size() < limit && (item = queue.poll()) != null) {
        batch.add(item);
      }
    } else {
      long bytes = 0;
      T item;
      try {
        while (batch.size() < limit && (item = queue.peek()) != null) {
          long weight = weigher.applyAsLong(item);
          if (!batch.isEmpty() && bytes + weight > maxBatchBytes) {
            break;
          }
          queue.poll();
          bytes += weight;
          batch.add(item);
        }
      } catch (Throwable e) {
        if (batch.isEmpty()) {
          throw e; // nothing taken: the item stays queued
        }
        // else send what was taken; the item the weigher failed on stays queued
      } finally {
        pendingBytes.addAndGet(-bytes);
      }
    }
    long t = taken; // single writer (the drainer): read, then publish with one volatile write
    taken = t + batch.size();
    if (blockedProducers.get() > 0) {
      signalNotFull();
    }
    return batch;
  }

  private void signalNotFull() {
    blockLock.lock();
    try {
      notFull.signalAll();
    } finally {
      blockLock.unlock();
    }
  }

  /**
   * Hands {@code batch} (taken from the queue, with an in-flight permit held) to the exporter. The
   * permit is given back exactly once, whatever throws: if anything fails before the exporter has
   * the batch, the items go to the discard listener rather than vanish; after that they are the
   * exporter's.
   */
  private void send(List<T> batch) {
    int size = batch.size();
    CompletableFuture<Void> finished = new CompletableFuture<>();
    boolean handed = false;
    boolean completionRegistered = false;
    try {
      batchesSent.incrementAndGet();
      itemsSent.addAndGet(size);
      lastBatchSize = size;
      if (size > largestBatchSize) {
        largestBatchSize = size;
      }
      unfinishedBatches.removeIf(CompletableFuture::isDone); // at most maxInFlight entries survive
      unfinishedBatches.add(finished);
      List<T> view = Collections.unmodifiableList(batch);
      CompletionStage<?> stage;
      try {
        handed = true;
        stage = exporter.apply(view);
        if (stage == null) {
          stage =
              CompletableFuture.failedFuture(new NullPointerException("exporter returned null"));
        }
      } catch (Throwable e) {
        stage = CompletableFuture.failedFuture(e);
      }
      stage.whenComplete((result, error) -> onExportComplete(size, error, finished));
      completionRegistered = true;
    } finally {
      if (!completionRegistered) {
        if (!handed) {
          for (T item : batch) {
            dropped.increment();
            try {
              discardListener.accept(item);
            } catch (Throwable ignored) {
              // a listener's failure must not strand the remaining items
            }
          }
        }
        onExportComplete(size, null, finished);
      }
    }
  }

  private void onExportComplete(int size, Throwable error, CompletableFuture<Void> finished) {
    try {
      if (error != null) {
        itemsFailed.addAndGet(size);
        if (batchesFailed.getAndIncrement() == 0 && logFirstFailure) {
          LOGGER.log(
              System.Logger.Level.WARNING,
              "batch export failed ("
                  + size
                  + " items); further failures are only counted (batchesFailed, itemsFailed)",
              error);
        }
      }
    } catch (Throwable ignored) {
      // counting or logging failed (out of memory): the permit below must still come back
    } finally {
      inFlight.decrementAndGet();
      finished.complete(null);
      wakeUnconditionally(); // at most once per batch; the drainer re-checks what it waits for
    }
  }

  private void completeWaitingFlushes(boolean all) {
    if (waitingFlushes.isEmpty()) {
      return;
    }
    unfinishedBatches.removeIf(CompletableFuture::isDone);
    Iterator<FlushRequest> it = waitingFlushes.iterator();
    CompletableFuture<Void> allSent = null;
    while (it.hasNext()) {
      FlushRequest request = it.next();
      if (all || taken >= request.target) {
        it.remove();
        if (allSent == null) {
          allSent = CompletableFuture.allOf(unfinishedBatches.toArray(new CompletableFuture<?>[0]));
        }
        allSent.whenComplete((v, e) -> request.future.complete(null));
      }
    }
  }

  private static final class FlushRequest {
    final CompletableFuture<Void> future = new CompletableFuture<>();
    long target;
  }

  // ------------------------------------------------------------------------------------ statistics

  /** The queue's capacity: the configured one rounded up to a power of two. */
  public int capacity() {
    return capacity;
  }

  /** Items accepted so far (exported, queued, or dropped at a timed-out shutdown). */
  public long enqueuedCount() {
    return Queues.offeredCount(queue);
  }

  /** Items waiting in the queue (an estimate while producers run). */
  public int queuedCount() {
    return queue.size();
  }

  /** Items discarded: DROP_NEWEST overflow plus items left when a shutdown timed out. */
  public long droppedCount() {
    return dropped.sum();
  }

  /** Offers refused by the REJECT policy. */
  public long rejectedCount() {
    return rejected.sum();
  }

  /** Offers of the BLOCK policy that found no space within the timeout. */
  public long timedOutCount() {
    return timedOut.sum();
  }

  /** Batches handed to the exporter. */
  public long batchesSent() {
    return batchesSent.get();
  }

  /** Items handed to the exporter. */
  public long itemsSent() {
    return itemsSent.get();
  }

  /** Batches whose export failed (the stage completed exceptionally or the exporter threw). */
  public long batchesFailed() {
    return batchesFailed.get();
  }

  /** Items in failed batches. */
  public long itemsFailed() {
    return itemsFailed.get();
  }

  /** Exports started and not yet finished; never more than {@code maxInFlight}. */
  public int inFlightCount() {
    return inFlight.get();
  }

  /** The size of the last batch sent, or 0. */
  public int lastBatchSize() {
    return lastBatchSize;
  }

  /** The largest batch sent so far, or 0. */
  public int largestBatchSize() {
    return largestBatchSize;
  }

  /** Items per batch on average, or 0 before the first batch. */
  public double averageBatchSize() {
    long batches = batchesSent.get();
    return batches == 0 ? 0 : (double) itemsSent.get() / batches;
  }

  @Override
  public String toString() {
    return "Batcher{strategy="
        + strategy
        + ", queued="
        + queuedCount()
        + ", inFlight="
        + inFlightCount()
        + ", batchesSent="
        + batchesSent()
        + ", dropped="
        + droppedCount()
        + '}';
  }

  // ------------------------------------------------------------------------------------ builder

  /**
   * Configures a {@link Batcher}. Not thread-safe; every setter validates its argument and names it
   * in the exception.
   */
  public static final class Builder<T> {
    private final Function<? super List<T>, ? extends CompletionStage<?>> exporter;
    private Strategy strategy = DEFAULT_STRATEGY;
    private int capacity = DEFAULT_CAPACITY;
    private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
    private long maxBatchBytes = Long.MAX_VALUE;
    private ToLongFunction<? super T> weigher;
    private Duration maxDelay = DEFAULT_MAX_DELAY;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private BooleanSupplier mayStartAnother;
    private Overflow overflow = DEFAULT_OVERFLOW;
    private Duration blockTimeout = DEFAULT_BLOCK_TIMEOUT;
    private NanoClock clock = NanoClock.system();
    private ThreadFactory threadFactory =
        runnable -> {
          Thread thread = new Thread(runnable, "otlp4j-batcher");
          thread.setDaemon(true);
          return thread;
        };
    private Consumer<? super T> discardListener = item -> {};
    private boolean logFirstFailure = true;

    private Builder(Function<? super List<T>, ? extends CompletionStage<?>> exporter) {
      this.exporter = Objects.requireNonNull(exporter, "exporter");
    }

    /** The batch trigger; default {@link #DEFAULT_STRATEGY}. */
    public Builder<T> strategy(Strategy strategy) {
      this.strategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    /** Queue capacity, rounded up to a power of two; at least {@code maxBatchSize}. */
    public Builder<T> capacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be positive, was " + capacity);
      }
      this.capacity = capacity;
      return this;
    }

    /** The most items in one batch; default {@link #DEFAULT_MAX_BATCH_SIZE}. */
    public Builder<T> maxBatchSize(int maxBatchSize) {
      if (maxBatchSize < 1) {
        throw new IllegalArgumentException("maxBatchSize must be positive, was " + maxBatchSize);
      }
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    /**
     * The most bytes in one batch as counted by {@code weigher}, which must be cheap, non-negative,
     * and return the same value for an item every time (it is called on offer and on take).
     */
    public Builder<T> maxBatchBytes(long maxBatchBytes, ToLongFunction<? super T> weigher) {
      if (maxBatchBytes < 1) {
        throw new IllegalArgumentException("maxBatchBytes must be positive, was " + maxBatchBytes);
      }
      this.maxBatchBytes = maxBatchBytes;
      this.weigher = Objects.requireNonNull(weigher, "weigher");
      return this;
    }

    /**
     * The longest a batch's first item waits (TIME and HYBRID); default {@link #DEFAULT_MAX_DELAY}.
     */
    public Builder<T> maxDelay(Duration maxDelay) {
      Objects.requireNonNull(maxDelay, "maxDelay");
      if (maxDelay.isNegative() || maxDelay.isZero()) {
        throw new IllegalArgumentException("maxDelay must be positive, was " + maxDelay);
      }
      this.maxDelay = maxDelay;
      return this;
    }

    /** The most exports running at once; default {@link #DEFAULT_MAX_IN_FLIGHT}. */
    public Builder<T> maxInFlight(int maxInFlight) {
      if (maxInFlight < 1) {
        throw new IllegalArgumentException("maxInFlight must be positive, was " + maxInFlight);
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    /**
     * A further limit on exports in flight, asked by the drainer before it starts an export while
     * others run (never when none runs, so one export can always go): {@code false} keeps the batch
     * queued until an export finishes. It must change only when an export starts or finishes (an
     * export's completion wakes the drainer; nothing else does), for example a budget of bytes in
     * flight.
     */
    public Builder<T> mayStartAnother(BooleanSupplier mayStartAnother) {
      this.mayStartAnother = Objects.requireNonNull(mayStartAnother, "mayStartAnother");
      return this;
    }

    /** What a full queue does; default {@link #DEFAULT_OVERFLOW}. */
    public Builder<T> overflow(Overflow overflow) {
      this.overflow = Objects.requireNonNull(overflow, "overflow");
      return this;
    }

    /**
     * How long {@link Overflow#BLOCK} waits for space, in wall-clock time (a blocked thread waits
     * on a condition, not on the {@link NanoClock}); default {@link #DEFAULT_BLOCK_TIMEOUT}.
     */
    public Builder<T> blockTimeout(Duration blockTimeout) {
      Objects.requireNonNull(blockTimeout, "blockTimeout");
      if (blockTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "blockTimeout must not be negative, was " + blockTimeout);
      }
      this.blockTimeout = blockTimeout;
      return this;
    }

    /** The time source for batch delays; default {@link NanoClock#system()}. */
    public Builder<T> clock(NanoClock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Creates the drainer thread; default a daemon thread named {@code otlp4j-batcher}. */
    public Builder<T> threadFactory(ThreadFactory threadFactory) {
      this.threadFactory = Objects.requireNonNull(threadFactory, "threadFactory");
      return this;
    }

    /** Receives each item left in the queue when a shutdown times out (for example to fail it). */
    public Builder<T> discardListener(Consumer<? super T> discardListener) {
      this.discardListener = Objects.requireNonNull(discardListener, "discardListener");
      return this;
    }

    /**
     * Whether the first failed export is logged (a user that reports failures itself turns it off).
     */
    public Builder<T> logFirstFailure(boolean logFirstFailure) {
      this.logFirstFailure = logFirstFailure;
      return this;
    }

    /** Builds the batcher and starts its drainer thread. */
    public Batcher<T> build() {
      validate();
      return new Batcher<>(this, true);
    }

    /** Builds a batcher without a drainer thread, driven by {@code drainOnce(now)} (tests). */
    Batcher<T> buildManual() {
      validate();
      return new Batcher<>(this, false);
    }

    private void validate() {
      if (Queues.roundCapacity(capacity) < maxBatchSize) {
        throw new IllegalArgumentException(
            "capacity (" + capacity + ") must be at least maxBatchSize (" + maxBatchSize + ")");
      }
      if (strategy == Strategy.HYBRID && weigher == null) {
        throw new IllegalArgumentException(
            "strategy HYBRID needs a byte limit: call maxBatchBytes(limit, weigher)");
      }
    }
  }
}
