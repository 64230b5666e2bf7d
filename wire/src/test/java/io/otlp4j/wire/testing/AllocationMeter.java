package io.otlp4j.wire.testing;

import java.lang.management.ManagementFactory;

/**
 * Measures the bytes of heap the current thread allocates while it runs an action, for assertions
 * of the form "decoding this input allocated no more than a small multiple of its size".
 *
 * <p>It reads HotSpot's per-thread allocation counter ({@code
 * com.sun.management.ThreadMXBean#getCurrentThreadAllocatedBytes}), which counts every TLAB and
 * outside-TLAB allocation of the thread, so it sees allocations freed again before the action
 * returns. Allocations by other threads (and off-heap memory: direct buffers' contents, native
 * codec memory) are not counted. The reading itself costs a few dozen bytes; {@link
 * #allocatedBytes(Action)} subtracts that overhead as measured once, so the result is accurate to
 * well under a kilobyte.
 *
 * <p>Thread-safe: every method measures the calling thread only.
 */
public final class AllocationMeter {

  /**
   * An action to measure; it may throw anything, which {@link #allocatedBytes(Action)} rethrows.
   */
  @FunctionalInterface
  public interface Action {
    void run() throws Exception;
  }

  /** What an action returned, and what it allocated. */
  public static final class Measured<T> {
    private final T value;
    private final long bytes;

    Measured(T value, long bytes) {
      this.value = value;
      this.bytes = bytes;
    }

    /** What the action returned. */
    public T value() {
      return value;
    }

    /** The bytes of heap the calling thread allocated while the action ran. */
    public long bytes() {
      return bytes;
    }
  }

  /** Something to measure that returns a value. */
  @FunctionalInterface
  public interface ValueAction<T> {
    T get() throws Exception;
  }

  private static final com.sun.management.ThreadMXBean THREADS = threads();
  private static final long OVERHEAD = calibrate();

  private AllocationMeter() {}

  /**
   * Whether the JVM can measure per-thread allocation (HotSpot can); every other method throws if
   * not.
   */
  public static boolean isSupported() {
    return THREADS != null
        && THREADS.isThreadAllocatedMemorySupported()
        && THREADS.isThreadAllocatedMemoryEnabled();
  }

  /**
   * The bytes the current thread has allocated since it started: take two readings and subtract.
   */
  public static long threadAllocatedBytes() {
    if (!isSupported()) {
      throw new UnsupportedOperationException("this JVM does not measure per-thread allocation");
    }
    return THREADS.getCurrentThreadAllocatedBytes();
  }

  /**
   * The bytes of heap the current thread allocates while it runs {@code action}.
   *
   * <p>Whatever {@code action} throws is rethrown as it is (sneakily, so callers need not declare
   * it).
   */
  public static long allocatedBytes(Action action) {
    return measure(
            () -> {
              action.run();
              return null;
            })
        .bytes();
  }

  /**
   * Runs {@code action} and returns its value together with the bytes the current thread allocated.
   */
  public static <T> Measured<T> measure(ValueAction<T> action) {
    long before = threadAllocatedBytes();
    T value;
    try {
      value = action.get();
    } catch (Exception e) {
      AllocationMeter.<RuntimeException>sneakyThrow(e);
      throw new AssertionError("unreachable", e);
    }
    long after = threadAllocatedBytes();
    return new Measured<>(value, Math.max(0, after - before - OVERHEAD));
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
    throw (E) t;
  }

  private static com.sun.management.ThreadMXBean threads() {
    try {
      java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
      if (bean instanceof com.sun.management.ThreadMXBean) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) bean;
        if (threads.isThreadAllocatedMemorySupported()
            && !threads.isThreadAllocatedMemoryEnabled()) {
          threads.setThreadAllocatedMemoryEnabled(true);
        }
        return threads;
      }
    } catch (RuntimeException | LinkageError e) {
      // Not HotSpot: isSupported() says so.
    }
    return null;
  }

  private static long calibrate() {
    if (THREADS == null || !THREADS.isThreadAllocatedMemorySupported()) {
      return 0;
    }
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 100; i++) {
      long before = THREADS.getCurrentThreadAllocatedBytes();
      long after = THREADS.getCurrentThreadAllocatedBytes();
      least = Math.min(least, after - before);
    }
    return least;
  }
}
