package io.otlp4j.core;

import io.otlp4j.core.internal.Queues;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * A pool of heap {@code byte[]} scratch buffers in power-of-two size classes, for code that encodes
 * into plain arrays (marshalers, {@code ProtoWriter}-like writers, compression staging) and then
 * copies or wraps the result.
 *
 * <p>Why {@code byte[]} and not {@code ByteBuf}: Netty's pooled allocator already pools direct and
 * heap {@code ByteBuf}s with reference counting, and otlp4j uses it wherever a buffer crosses a
 * channel. What it does not cover is a plain array a marshaler writes into before it knows the final
 * size; this pool does, with no reference counting: ownership is by convention, as below.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>{@link #borrow(int)} always returns an array of at least the requested length: a pooled one
 *       of the size class (the next power of two, at least {@code minSize}) when the request is at
 *       most {@code maxSize}, else a fresh unpooled array of exactly the requested length. Its
 *       contents are unspecified (not zeroed).
 *   <li>The borrower owns the array until {@link #release(byte[])}; after that it must not touch it.
 *       Releasing an array of a non-class length (an unpooled one) just drops it.
 *   <li>Retained memory is bounded: each class keeps at most {@code maxIdlePerClass} idle arrays; a
 *       release beyond that drops the array ({@link #droppedCount()}).
 *   <li>Debug mode (on with {@code -ea} for this class, or {@link Builder#debug(boolean)}) detects a
 *       double release with an {@link IllegalStateException}.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class ByteArrayPool {

  /*
   * Concurrency: one bounded JCTools MPMC queue of idle arrays per size class; borrow is a poll,
   * release an offer — each one CAS, no lock, no allocation on a hit.
   * Memory ordering: the queue's ordered element store publishes the array to the next borrower.
   * Backpressure: when a class's queue is full the released array is dropped for the GC.
   */

  public static final int DEFAULT_MIN_SIZE = 256;
  public static final int DEFAULT_MAX_SIZE = 1 << 20;
  public static final int DEFAULT_MAX_IDLE_PER_CLASS = 32;

  private final int minShift;
  private final int maxSize;
  private final Queue<byte[]>[] classes;
  private final int maxIdlePerClass;
  private final Set<byte[]> idle; // debug mode only

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder unpooled = new LongAdder();
  private final LongAdder dropped = new LongAdder();

  @SuppressWarnings("unchecked")
  private ByteArrayPool(Builder builder) {
    this.minShift = Integer.numberOfTrailingZeros(Queues.roundCapacity(builder.minSize));
    this.maxSize = Queues.roundCapacity(builder.maxSize);
    int classCount = Integer.numberOfTrailingZeros(maxSize) - minShift + 1;
    this.classes = new Queue[classCount];
    for (int i = 0; i < classCount; i++) {
      classes[i] = Queues.mpmcArray(builder.maxIdlePerClass);
    }
    this.maxIdlePerClass = Queues.roundCapacity(builder.maxIdlePerClass);
    this.idle =
        builder.debug ? Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>())) : null;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** An array of at least {@code minLength} bytes; ownership passes to the caller. */
  public byte[] borrow(int minLength) {
    if (minLength < 0) {
      throw new IllegalArgumentException("minLength must not be negative, was " + minLength);
    }
    if (minLength > maxSize) {
      unpooled.increment();
      return new byte[minLength];
    }
    int index = classIndex(minLength);
    byte[] array = classes[index].poll();
    if (array != null) {
      if (idle != null && !idle.remove(array)) {
        throw new IllegalStateException("pool handed out a borrowed array");
      }
      hits.increment();
      return array;
    }
    misses.increment();
    return new byte[1 << (index + minShift)];
  }

  /**
   * Gives {@code array} back; ownership passes to the pool.
   *
   * @throws IllegalStateException in debug mode, if the array is already idle (a double release)
   */
  public void release(byte[] array) {
    Objects.requireNonNull(array, "array");
    int length = array.length;
    if (length > maxSize || Integer.bitCount(length) != 1 || length < (1 << minShift)) {
      return; // unpooled
    }
    if (idle != null && !idle.add(array)) {
      throw new IllegalStateException("array released twice (length " + length + ")");
    }
    if (!classes[Integer.numberOfTrailingZeros(length) - minShift].offer(array)) {
      if (idle != null) {
        idle.remove(array);
      }
      dropped.increment();
    }
  }

  private int classIndex(int length) {
    int shift = length <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(length - 1);
    return Math.max(0, shift - minShift);
  }

  /** Borrows served by an idle array. */
  public long hitCount() {
    return hits.sum();
  }

  /** Borrows that allocated a pooled-size array. */
  public long missCount() {
    return misses.sum();
  }

  /** Borrows larger than {@code maxSize}, served by an unpooled array. */
  public long unpooledCount() {
    return unpooled.sum();
  }

  /** Releases dropped because their class already held {@code maxIdlePerClass} arrays. */
  public long droppedCount() {
    return dropped.sum();
  }

  /** Bytes held by idle arrays now (an estimate while threads borrow and release). */
  public long idleBytes() {
    long bytes = 0;
    for (int i = 0; i < classes.length; i++) {
      bytes += (long) classes[i].size() << (i + minShift);
    }
    return bytes;
  }

  /** The most bytes idle arrays can hold: the retention bound. */
  public long maxIdleBytes() {
    long bytes = 0;
    for (int i = 0; i < classes.length; i++) {
      bytes += (long) maxIdlePerClass << (i + minShift);
    }
    return bytes;
  }

  /** Configures a {@link ByteArrayPool}. Not thread-safe; setters validate and name the bad parameter. */
  public static final class Builder {
    private int minSize = DEFAULT_MIN_SIZE;
    private int maxSize = DEFAULT_MAX_SIZE;
    private int maxIdlePerClass = DEFAULT_MAX_IDLE_PER_CLASS;
    private boolean debug = ByteArrayPool.class.desiredAssertionStatus();

    private Builder() {}

    /** The smallest size class (rounded up to a power of two); default {@link #DEFAULT_MIN_SIZE}. */
    public Builder minSize(int minSize) {
      if (minSize < 1 || minSize > Queues.MAX_CAPACITY) {
        throw new IllegalArgumentException("minSize must be between 1 and 2^30, was " + minSize);
      }
      this.minSize = minSize;
      return this;
    }

    /** The largest pooled size (rounded up to a power of two); default {@link #DEFAULT_MAX_SIZE}. */
    public Builder maxSize(int maxSize) {
      if (maxSize < 1 || maxSize > Queues.MAX_CAPACITY) {
        throw new IllegalArgumentException("maxSize must be between 1 and 2^30, was " + maxSize);
      }
      this.maxSize = maxSize;
      return this;
    }

    /** Idle arrays kept per size class (rounded up to a power of two); default {@link #DEFAULT_MAX_IDLE_PER_CLASS}. */
    public Builder maxIdlePerClass(int maxIdlePerClass) {
      if (maxIdlePerClass < 1 || maxIdlePerClass > Queues.MAX_CAPACITY) {
        throw new IllegalArgumentException(
            "maxIdlePerClass must be between 1 and 2^30, was " + maxIdlePerClass);
      }
      this.maxIdlePerClass = maxIdlePerClass;
      return this;
    }

    /** Detects double releases (a lock per operation); default on with {@code -ea}. */
    public Builder debug(boolean debug) {
      this.debug = debug;
      return this;
    }

    public ByteArrayPool build() {
      if (Queues.roundCapacity(minSize) > Queues.roundCapacity(maxSize)) {
        throw new IllegalArgumentException(
            "minSize (" + minSize + ") must not exceed maxSize (" + maxSize + ")");
      }
      return new ByteArrayPool(this);
    }
  }
}
