package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * One step of a pipeline that may change requests: it gets each request still encoded, with what
 * the receiver's walk counted, and returns the request to pass on (the same bytes, or new ones with
 * attributes changed or items removed) or says that nothing is left of it.
 *
 * <p><b>Buffer ownership:</b> {@link #process} takes ownership of {@code request}, on every path:
 * it releases the request (or hands it on inside its result) exactly once, also when it throws. The
 * buffer of a {@link Forward} result belongs to the caller. A processor that changes a part
 * rewrites only that part and slices the rest ({@code retainedSlice}, a composite buffer), as
 * {@code ResourceRewrite} does.
 *
 * <p><b>Errors:</b> a {@link WireFormatException} rejects the request as malformed (a permanent
 * error for the client); any other exception is our own failure (the client gets a retryable
 * answer).
 *
 * <p><b>Thread-safety:</b> implementations are thread-safe: {@code process} is called concurrently
 * by the receivers' threads, and must not block.
 *
 * <p><b>Holding and emitting later:</b> a processor that keeps data for a while (such as {@code
 * tail_sampling}, which waits for the rest of a trace) answers {@link Held} and later hands what it
 * decided to pass on to the {@link Downstream} it got in {@link #start}: the rest of the pipeline
 * (the processors after it, then the exporters). The pipeline calls {@link #start} once before the
 * first request and {@link #shutdown} once when it stops, before its exporters' queues close, so
 * that a processor can emit (or release) everything it still holds.
 */
public interface RelayProcessor {

  /** The component id from the configuration, such as {@code resource/env}. */
  String id();

  /**
   * Processes one encoded {@code Export*ServiceRequest} of {@code signal}.
   *
   * @param request the protobuf bytes between reader and writer index; ownership is transferred
   * @param summary what the walk of {@code request} counted (items, resources, bytes)
   * @return what to pass on: {@link #forward} or {@link #dropped}
   * @throws WireFormatException when the request is malformed (the request has been released)
   */
  Result process(Signal signal, ByteBuf request, WalkSummary summary);

  /**
   * Called once by the pipeline before the first {@link #process}: where this processor sends the
   * requests it emits later. The default does nothing (a processor that never holds data).
   */
  default void start(Downstream downstream) {}

  /**
   * The longest this processor may keep data it answered {@link Held} for before it emits it
   * ({@link Duration#ZERO}, the default, for one that never holds data). A receiver that can read
   * data again (the {@code kafka} receiver) keeps such data uncommitted this long, so that a relay
   * killed while holding it loses nothing.
   */
  default Duration maxHold() {
    return Duration.ZERO;
  }

  /**
   * Called once by the pipeline when it stops, after the last {@link #process} and while {@link
   * Downstream#emit} still works: a processor emits or releases everything it holds before it
   * returns. The default does nothing.
   */
  default void shutdown() {}

  /**
   * The rest of a pipeline after one processor. Thread-safe.
   *
   * <p><b>Buffer ownership:</b> {@link #emit} takes ownership of the request on every path.
   */
  interface Downstream {
    /**
     * Passes {@code request} through the processors after the emitting one and queues it for the
     * exporters, as if a client had sent it; no client waits for the outcome. The pipeline holds
     * the request's bytes in the relay's memory budget until the exporters are done with it (in
     * every ack mode: no receiver's reservation covers it), and never refuses it for memory: it was
     * acknowledged already ({@code MemoryBudget.acquireAccepted}; new requests are refused instead
     * while usage is above the high water mark).
     *
     * @param request an encoded {@code Export*ServiceRequest}; ownership is transferred
     * @param summary its counts
     * @return the outcome (accepted, or why the exporters' queues refused it); never fails
     */
    CompletionStage<Outcome> emit(ByteBuf request, WalkSummary summary);
  }

  /** What became of a request. */
  sealed interface Result permits Forward, Dropped, Held, Refused {}

  /**
   * Pass {@code request} on, described by {@code summary}.
   *
   * @param request owned by the caller from now on (may be the processed request itself)
   * @param summary the request's counts; a processor that removes items must give the counts of
   *     what it returns (walk the new bytes), one that only changes attributes may pass the summary
   *     it got
   */
  record Forward(ByteBuf request, WalkSummary summary) implements Result {
    public Forward {
      Objects.requireNonNull(request, "request");
      Objects.requireNonNull(summary, "summary");
    }
  }

  /**
   * Nothing of the request is left (every item was filtered or sampled out); the processor has
   * released it. The client is answered as if the request had been exported, as the Collector does.
   *
   * @param items how many items were dropped, for the pipeline's counts
   */
  record Dropped(long items) implements Result {}

  /**
   * The processor keeps (the rest of) the request to emit later, or not, through its {@link
   * Downstream}; it owns the bytes it keeps and has released the request otherwise. The client is
   * answered as accepted now, as the Collector answers when {@code tail_sampling} holds the spans.
   *
   * @param items how many items of the request the processor holds
   */
  record Held(long items) implements Result {}

  /**
   * The processor cannot take the request now (it would exceed the memory budget): the client is
   * answered with a retryable refusal ({@link Outcome#overloaded}); the processor has released the
   * request and changed nothing.
   *
   * @param reason why, for the client's answer
   */
  record Refused(String reason) implements Result {
    public Refused {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** {@link Forward}: pass {@code request} (ownership to the caller) on. */
  static Result forward(ByteBuf request, WalkSummary summary) {
    return new Forward(request, summary);
  }

  /**
   * {@link Dropped}: nothing left of a request of {@code items} items; the processor released it.
   */
  static Result dropped(long items) {
    return new Dropped(items);
  }
}
