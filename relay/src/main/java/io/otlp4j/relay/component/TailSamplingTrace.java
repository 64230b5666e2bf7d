package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MemoryBudget;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One trace that {@code tail_sampling} knows: what the policies need of its spans (a summary built
 * on arrival) and, until it is decided, where its spans' bytes are ({@link Chunk}s of the requests
 * that brought them).
 *
 * <p>Thread-safety: guarded by the processor's lock.
 *
 * <p><b>Buffer ownership:</b> each chunk holds one reference to its {@link HeldRequest} request;
 * {@link #releaseChunks} gives them back.
 */
final class TailSamplingTrace {
  static final byte UNDECIDED = 0;
  static final byte SAMPLED = 1;
  static final byte NOT_SAMPLED = 2;
  static final byte DROPPED = 3;

  final long traceIdHigh;
  final long traceIdLow;
  final long arrivalNanos;
  long decisionNanos;
  byte decision = UNDECIDED;
  boolean evicted;

  // The summary the policies read.
  long spanCount;
  long minStart;
  long maxEnd;
  int statusMask;
  long matched;

  Chunk first;
  Chunk last;

  TailSamplingTrace(long traceIdHigh, long traceIdLow, long arrivalNanos) {
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.arrivalNanos = arrivalNanos;
  }

  void add(Chunk chunk) {
    if (last == null) {
      first = chunk;
    } else {
      last.next = chunk;
    }
    last = chunk;
  }

  /** Detaches the chunks (to encode them or release them). */
  Chunk takeChunks() {
    Chunk c = first;
    first = null;
    last = null;
    return c;
  }

  static void releaseChunks(Chunk c) {
    for (; c != null; c = c.next) {
      c.source.release();
    }
  }

  /**
   * The spans of one trace from one {@code ResourceSpans} of one request: byte ranges of the held
   * request ({@link TailSamplingScan#layout}).
   */
  static final class Chunk {
    final HeldRequest source;
    final int[] layout;
    final int spans;
    Chunk next;

    Chunk(HeldRequest source, int[] layout, int spans) {
      this.source = source;
      this.layout = layout;
      this.spans = spans;
    }
  }

  /**
   * A request whose spans are held: one pooled copy of its bytes, counted in the memory budget,
   * freed when the last chunk that points into it is released. Thread-safe.
   */
  static final class HeldRequest {
    final ByteBuf bytes;
    private final MemoryBudget budget;
    private final long charged;
    private final AtomicInteger refs;

    /**
     * @param bytes ownership is transferred
     * @param charged bytes reserved in {@code budget}, given back with the buffer
     * @param refs the chunks that will point into it
     */
    HeldRequest(ByteBuf bytes, MemoryBudget budget, long charged, int refs) {
      this.bytes = bytes;
      this.budget = budget;
      this.charged = charged;
      this.refs = new AtomicInteger(refs);
    }

    /** One more chunk points into the request. */
    void retain() {
      refs.incrementAndGet();
    }

    void release() {
      if (refs.decrementAndGet() == 0) {
        bytes.release();
        budget.release(charged);
      }
    }
  }
}
