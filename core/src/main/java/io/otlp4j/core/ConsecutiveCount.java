package io.otlp4j.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** A counter that a success resets only when it is non-zero, keeping its line shared. */
final class ConsecutiveCount {
  private static final VarHandle COUNT;

  static {
    try {
      COUNT = MethodHandles.lookup().findVarHandle(ConsecutiveCount.class, "count", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @SuppressWarnings("unused") // accessed through COUNT
  private volatile long count;

  long lvCount() {
    return (long) COUNT.getVolatile(this);
  }

  void soZero() {
    COUNT.setRelease(this, 0L);
  }

  long incrementAndGet() {
    return (long) COUNT.getAndAdd(this, 1L) + 1;
  }
}
