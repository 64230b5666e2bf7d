package io.otlp4j.core.internal;

import java.util.Objects;

/**
 * A test-only seam that makes the data path fail at a named {@link Stage}: tests {@link #install} a
 * {@link Hook} that may throw (any {@link RuntimeException} or {@link Error}), and each stage's
 * code calls {@link #check} at the point where its own code could fail, so that a test can prove
 * the error paths release every buffer, answer every client and lose nothing that was acknowledged.
 *
 * <p><b>Cost when off:</b> in production no hook is installed; {@link #check} is then one volatile
 * read and a null test, no allocation. It is placed once per request, batch or part at each stage,
 * never in a per-item or per-byte loop.
 *
 * <p><b>Where each stage fires</b> (the code at a check owns what it would own if its own next call
 * threw, and handles the throw as it would handle that call's):
 *
 * <ul>
 *   <li>{@link Stage#RECEIVE}: a receiver (gRPC, HTTP) has a request's bytes, admitted by the
 *       budget;
 *   <li>{@link Stage#WALK}: just before the receiver walks the request;
 *   <li>{@link Stage#PROCESSOR}: before each processor of a pipeline;
 *   <li>{@link Stage#ENQUEUE}: an exporter's in-memory queue is offered a request;
 *   <li>{@link Stage#BATCH}: a batch is made into requests (merged);
 *   <li>{@link Stage#SPLIT}: a merged batch is cut to {@code send_batch_max_size};
 *   <li>{@link Stage#EXPORT}: a part is handed to its exporter;
 *   <li>{@link Stage#QUEUE_APPEND}: a request is appended to the durable queue;
 *   <li>{@link Stage#CHECKPOINT}: a durable queue consumer commits its checkpoint.
 * </ul>
 *
 * <p><b>Thread-safety:</b> the hook is called concurrently from every thread of the data path; it
 * must be thread-safe. Only one hook is installed at a time (tests that install one do not run in
 * parallel).
 */
public final class FaultInjection {

  /** Where a fault can be injected. */
  public enum Stage {
    RECEIVE,
    WALK,
    PROCESSOR,
    ENQUEUE,
    BATCH,
    SPLIT,
    EXPORT,
    QUEUE_APPEND,
    CHECKPOINT
  }

  /** Called at every check while installed; throws to inject a fault there. */
  @FunctionalInterface
  public interface Hook {
    void at(Stage stage);
  }

  /** Removes the installed hook when closed. */
  public interface Installed extends AutoCloseable {
    @Override
    void close();
  }

  private static volatile Hook hook; // null in production

  private FaultInjection() {}

  /**
   * Runs the installed hook for {@code stage}, if any: a volatile read and a null test when none
   * is.
   *
   * @throws RuntimeException or {@link Error}, whatever the installed hook throws
   */
  public static void check(Stage stage) {
    Hook h = hook;
    if (h != null) {
      h.at(stage);
    }
  }

  /**
   * Installs {@code h} (tests only) until the returned handle is closed.
   *
   * @throws IllegalStateException when a hook is installed already
   */
  public static synchronized Installed install(Hook h) {
    Objects.requireNonNull(h, "hook");
    if (hook != null) {
      throw new IllegalStateException("a fault injection hook is installed already");
    }
    hook = h;
    return () -> {
      synchronized (FaultInjection.class) {
        if (hook == h) {
          hook = null;
        }
      }
    };
  }
}
