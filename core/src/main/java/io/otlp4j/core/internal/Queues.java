package io.otlp4j.core.internal;

import java.util.Queue;
import org.jctools.queues.MpmcArrayQueue;
import org.jctools.queues.MpscArrayQueue;
import org.jctools.queues.QueueProgressIndicators;

/**
 * The one place where otlp4j reaches JCTools: factories for the bounded lock-free queues that the
 * batcher, the request coalescer and the pools are built on. Callers see only {@link Queue}, so the
 * implementation can change here without touching them.
 *
 * <p>Every queue returned here is bounded and array-backed, with its capacity rounded up to a power
 * of two (JCTools indexes with a mask). {@link Queue#offer} returns {@code false} when the queue is
 * full and never blocks or allocates; {@code null} elements are refused with a {@link
 * NullPointerException}. {@link Queue#size()} is an estimate while producers and consumers run.
 *
 * <p>Not part of the public API: free to change between releases.
 */
public final class Queues {

  /** The smallest capacity JCTools' array queues accept. */
  public static final int MIN_CAPACITY = 2;

  /** The largest capacity accepted, so that rounding up cannot overflow. */
  public static final int MAX_CAPACITY = 1 << 30;

  private Queues() {}

  /**
   * A bounded queue for many producers and <em>one</em> consumer. Any thread may call {@code
   * offer}; {@code poll}, {@code peek} and {@code clear} must be called by one consumer thread at a
   * time (a handover between consumers needs a happens-before edge, such as a lock or a volatile
   * flag). When full, {@code offer} returns {@code false}.
   */
  public static <E> Queue<E> mpscArray(int capacity) {
    return new MpscArrayQueue<>(roundCapacity(capacity));
  }

  /**
   * A bounded queue for many producers and many consumers: every method may be called from any
   * thread. When full, {@code offer} returns {@code false}.
   */
  public static <E> Queue<E> mpmcArray(int capacity) {
    return new MpmcArrayQueue<>(roundCapacity(capacity));
  }

  /**
   * How many elements were ever offered successfully to {@code queue}, one made here: its producer
   * index, which the successful {@code offer}'s CAS advances by one, so the count is exact and
   * moves at the same instant as the queue's contents (a derived count, such as elements taken plus
   * {@code size()}, misses the elements a consumer has polled but not yet counted).
   *
   * @throws IllegalArgumentException for a queue not made here
   */
  public static long offeredCount(Queue<?> queue) {
    if (queue instanceof QueueProgressIndicators) {
      return ((QueueProgressIndicators) queue).currentProducerIndex();
    }
    throw new IllegalArgumentException("not a queue made by Queues: " + queue.getClass());
  }

  /**
   * The capacity a queue created with {@code requested} actually has: the next power of two, at
   * least 2.
   */
  public static int roundCapacity(int requested) {
    if (requested < 1 || requested > MAX_CAPACITY) {
      throw new IllegalArgumentException(
          "capacity must be between 1 and " + MAX_CAPACITY + ", was " + requested);
    }
    int capacity = Math.max(MIN_CAPACITY, requested);
    return 1 << (32 - Integer.numberOfLeadingZeros(capacity - 1));
  }
}
