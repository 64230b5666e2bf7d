package io.otlp4j.core;

import io.otlp4j.core.internal.Queues;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A bounded pool of reusable objects — marshalers, {@code io.otlp4j.wire.ProtoWriter}s, scratch
 * arrays — whose borrow and release allocate nothing in steady state.
 *
 * <pre>{@code
 * ObjectPool<ProtoWriter> writers =
 *     ObjectPool.builder(ProtoWriter::new).reset(ProtoWriter::reset).maxTotal(64).build();
 * ProtoWriter writer = writers.tryBorrow();
 * if (writer == null) writer = new ProtoWriter(); // exhausted: the caller decides
 * ...
 * writers.release(writer); // only a pooled one; an extra one is simply dropped
 * }</pre>
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>At most {@code maxTotal} objects created by this pool are alive (borrowed or idle) at any
 *       time; {@link #tryBorrow()} returns {@code null} rather than exceed it ({@link #exhaustedCount()}).
 *   <li>A borrowed object belongs to its borrower until it calls {@link #release(Object)} (the pool
 *       resets it and keeps it) or {@link #discard(Object)} (the pool forgets it and may create a new
 *       one). Releasing the same object twice, or an object the pool did not hand out, is a bug: in
 *       debug mode (on when assertions are enabled for this class, or by
 *       {@link Builder#debug(boolean)}) it throws {@link IllegalStateException}; otherwise it is
 *       undetected and corrupts the pool.
 *   <li>The reset runs on the releasing thread before the object becomes visible to any borrower.
 * </ul>
 *
 * <p>Thread-safe: any thread may borrow, release or discard.
 *
 * @param <T> the pooled type
 */
public final class ObjectPool<T> {

  /*
   * Design notes.
   *
   * Concurrency: idle objects live in (1) striped slots — a few reference slots per stripe, a stripe
   * chosen by hashing the thread's id, so a thread usually takes back what it released, with one
   * uncontended CAS on a cache line no other thread writes — and (2) a shared bounded JCTools MPMC
   * queue for the overflow. A borrow tries its own stripe, then the shared queue, then creates (if
   * the alive count is under maxTotal), then steals from the other stripes. Unlike ThreadLocal
   * caches, every idle object stays reachable by every thread, so the pool reports "exhausted" only
   * when maxTotal objects are really borrowed (a steal scan may miss an object released at that very
   * moment: tryBorrow is a best effort, never an over-allocation).
   *
   * Memory ordering: a slot holds an object or null. Release resets the object, then publishes it
   * with a CAS null -> object; borrow takes it with a CAS object -> null. The CASes order the reset
   * before any later use and hand each object to one borrower only. The shared queue gives the same
   * guarantees (ordered element store, CAS on the consumer index).
   *
   * Backpressure: maxTotal bounds alive objects by an AtomicInteger reserved before the factory runs
   * and released by discard. The shared queue's capacity is at least maxTotal, so a release always
   * finds room.
   *
   * Allocation: borrow and release touch only preallocated arrays and LongAdder cells (which are
   * allocated once per contended cell); ObjectPoolBenchmark measures 0 B/op with -prof gc, and
   * ObjectPoolTest checks it with the thread's allocation counter.
   */

  public static final int DEFAULT_MAX_TOTAL = 256;

  private static final int SLOTS_PER_STRIPE = 4;
  // References (4 bytes with compressed oops): 128 bytes, so that stripes share neither a cache line
  // nor an adjacent-line prefetch pair.
  private static final int STRIPE_STRIDE = 32;
  private static final int MIN_STRIPES = 16; // few threads rarely hash to one stripe
  private static final int MAX_STRIPES = 64;

  private final Supplier<? extends T> factory;
  private final Consumer<? super T> reset;
  private final int maxTotal;
  private final int stripeMask;
  private final AtomicReferenceArray<T> slots;
  private final Queue<T> shared;
  private final AtomicInteger alive = new AtomicInteger();
  private final Set<T> borrowed; // debug mode only: identities handed out and not yet returned

  private final LongAdder hits = new LongAdder();
  private final LongAdder created = new LongAdder();
  private final LongAdder discarded = new LongAdder();
  private final LongAdder exhausted = new LongAdder();

  private ObjectPool(Builder<T> builder) {
    this.factory = builder.factory;
    this.reset = builder.reset;
    this.maxTotal = builder.maxTotal;
    int stripes =
        Math.min(
            MAX_STRIPES,
            Queues.roundCapacity(
                Math.max(MIN_STRIPES, Runtime.getRuntime().availableProcessors() * 4)));
    this.stripeMask = stripes - 1;
    this.slots = new AtomicReferenceArray<>(stripes * STRIPE_STRIDE);
    this.shared = Queues.mpmcArray(maxTotal);
    this.borrowed =
        builder.debug ? Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>())) : null;
  }

  /** Starts a builder for a pool whose objects come from {@code factory}. */
  public static <T> Builder<T> builder(Supplier<? extends T> factory) {
    return new Builder<>(factory);
  }

  /**
   * Returns an idle object, or a new one if fewer than {@code maxTotal} are alive, or {@code null} if
   * the pool is exhausted. Allocation-free except when it has to create.
   */
  public T tryBorrow() {
    int base = stripeBase();
    T object = takeFromStripe(base);
    if (object == null) {
      object = shared.poll();
    }
    if (object != null) {
      hits.increment();
      return track(object);
    }
    if (reserve()) {
      try {
        object = Objects.requireNonNull(factory.get(), "factory returned null");
      } catch (RuntimeException | Error e) {
        alive.decrementAndGet();
        throw e;
      }
      created.increment();
      return track(object);
    }
    object = steal(base);
    if (object != null) {
      hits.increment();
      return track(object);
    }
    exhausted.increment();
    return null;
  }

  /**
   * Resets {@code object} and keeps it for the next borrower. If the reset throws, the object is
   * discarded instead. Allocation-free.
   *
   * @throws IllegalStateException in debug mode, if the object is not currently borrowed from this
   *     pool (a double release)
   */
  public void release(T object) {
    Objects.requireNonNull(object, "object");
    untrack(object, "released");
    try {
      reset.accept(object);
    } catch (RuntimeException e) {
      forget();
      return;
    }
    int base = stripeBase();
    for (int i = base; i < base + SLOTS_PER_STRIPE; i++) {
      if (slots.getAcquire(i) == null && slots.compareAndSet(i, null, object)) {
        return;
      }
    }
    if (!shared.offer(object)) {
      forget(); // cannot happen while alive <= maxTotal <= capacity; stay bounded anyway
    }
  }

  /**
   * Forgets a borrowed {@code object} (broken, or too large to keep), freeing its place under
   * {@code maxTotal}.
   *
   * @throws IllegalStateException in debug mode, if the object is not currently borrowed from this pool
   */
  public void discard(T object) {
    Objects.requireNonNull(object, "object");
    untrack(object, "discarded");
    forget();
  }

  private void forget() {
    alive.decrementAndGet();
    discarded.increment();
  }

  private int stripeBase() {
    long id = Thread.currentThread().getId();
    int hash = (int) ((id * 0x9E3779B97F4A7C15L) >>> 32);
    return (hash & stripeMask) * STRIPE_STRIDE;
  }

  private T takeFromStripe(int base) {
    for (int i = base; i < base + SLOTS_PER_STRIPE; i++) {
      T object = slots.getAcquire(i);
      if (object != null && slots.compareAndSet(i, object, null)) {
        return object;
      }
    }
    return null;
  }

  private T steal(int ownBase) {
    int length = slots.length();
    for (int base = 0; base < length; base += STRIPE_STRIDE) {
      if (base != ownBase) {
        T object = takeFromStripe(base);
        if (object != null) {
          return object;
        }
      }
    }
    return shared.poll();
  }

  private boolean reserve() {
    for (; ; ) {
      int current = alive.get();
      if (current >= maxTotal) {
        return false;
      }
      if (alive.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  private T track(T object) {
    if (borrowed != null && !borrowed.add(object)) {
      throw new IllegalStateException("pool handed out an object that is already borrowed: " + object);
    }
    return object;
  }

  private void untrack(T object, String action) {
    if (borrowed != null && !borrowed.remove(object)) {
      throw new IllegalStateException(
          action + " an object that is not borrowed from this pool (double release?): " + object);
    }
  }

  // ------------------------------------------------------------------------------------ statistics

  /** The most objects alive at once. */
  public int maxTotal() {
    return maxTotal;
  }

  /** Borrows served by an idle object. */
  public long hitCount() {
    return hits.sum();
  }

  /** Borrows that had to create an object (equal to {@link #createdCount()}). */
  public long missCount() {
    return created.sum();
  }

  /** Objects the factory created. */
  public long createdCount() {
    return created.sum();
  }

  /** Objects discarded: by {@link #discard(Object)} or because their reset threw. */
  public long discardedCount() {
    return discarded.sum();
  }

  /** Borrows that returned {@code null} because {@code maxTotal} objects were alive. */
  public long exhaustedCount() {
    return exhausted.sum();
  }

  /** Objects alive now (borrowed or idle); never more than {@link #maxTotal()}. */
  public int aliveCount() {
    return alive.get();
  }

  /** Idle objects now (an estimate while threads borrow and release; scans the slots). */
  public int idleCount() {
    int idle = shared.size();
    for (int i = 0; i < slots.length(); i++) {
      if (slots.getAcquire(i) != null) {
        idle++;
      }
    }
    return idle;
  }

  /** Whether double releases are detected (debug mode). */
  public boolean isDebug() {
    return borrowed != null;
  }

  @Override
  public String toString() {
    return "ObjectPool{alive=" + aliveCount() + "/" + maxTotal + ", hits=" + hitCount()
        + ", created=" + createdCount() + ", discarded=" + discardedCount()
        + ", exhausted=" + exhaustedCount() + '}';
  }

  // ------------------------------------------------------------------------------------ builder

  /** Configures an {@link ObjectPool}. Not thread-safe; setters validate and name the bad parameter. */
  public static final class Builder<T> {
    private final Supplier<? extends T> factory;
    private Consumer<? super T> reset = object -> {};
    private int maxTotal = DEFAULT_MAX_TOTAL;
    private boolean debug = ObjectPool.class.desiredAssertionStatus();

    private Builder(Supplier<? extends T> factory) {
      this.factory = Objects.requireNonNull(factory, "factory");
    }

    /** Runs on every released object before it is kept; default none. */
    public Builder<T> reset(Consumer<? super T> reset) {
      this.reset = Objects.requireNonNull(reset, "reset");
      return this;
    }

    /** The most objects alive at once; default {@link #DEFAULT_MAX_TOTAL}. */
    public Builder<T> maxTotal(int maxTotal) {
      if (maxTotal < 1 || maxTotal > Queues.MAX_CAPACITY) {
        throw new IllegalArgumentException(
            "maxTotal must be between 1 and " + Queues.MAX_CAPACITY + ", was " + maxTotal);
      }
      this.maxTotal = maxTotal;
      return this;
    }

    /**
     * Tracks borrowed identities to detect double releases, at the cost of a lock per operation;
     * default on when assertions are enabled ({@code -ea}) for this class.
     */
    public Builder<T> debug(boolean debug) {
      this.debug = debug;
      return this;
    }

    public ObjectPool<T> build() {
      return new ObjectPool<>(this);
    }
  }
}
