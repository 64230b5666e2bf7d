package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.concurrent.CompletionStage;

/**
 * Where a receiver hands every request it has admitted: the relay's pipelines implement it.
 *
 * <p>A request reaches the sink only after it was decompressed, converted to protobuf (if it came
 * as OTLP/JSON), validated and counted by {@link io.otlp4j.wire.OtlpWalker}, and its bytes were
 * reserved in the receiver's {@link io.otlp4j.core.MemoryBudget}. The reservation is held until the
 * returned stage completes, so a sink that holds requests (a full queue, a slow upstream) makes the
 * receiver refuse new ones with a retryable answer instead of buffering without bound. A sink that
 * keeps a request past its answer takes the reservation over ({@link #accept(Signal, ByteBuf,
 * WalkSummary, Reservation)}) rather than reserving the bytes a second time.
 *
 * <p><b>Buffer ownership:</b> {@link #accept} takes ownership of {@code request}: the sink must
 * release it exactly once (after passing it on, or at once if it keeps nothing), also when it
 * answers with a refusal and also when it throws. The receiver never touches the buffer after the
 * call.
 *
 * <p><b>Thread-safety:</b> implementations must be thread-safe: {@code accept} is called
 * concurrently from the receivers' I/O and worker threads. It must not block; slow work completes
 * the stage later from any thread. The receiver answers the client when the stage completes.
 */
@FunctionalInterface
public interface ReceiverSink {

  /**
   * Takes one encoded {@code Export*ServiceRequest}.
   *
   * @param signal which signal the request carries
   * @param request the protobuf bytes of the request between its reader and writer index; ownership
   *     is transferred to the sink, which must release it exactly once
   * @param summary the walker's counts for the request (items, resources, bytes)
   * @return the outcome the client is told; a stage completed exceptionally is answered as a
   *     retryable refusal
   */
  CompletionStage<Outcome> accept(Signal signal, ByteBuf request, WalkSummary summary);

  /**
   * Takes one request with its reservation in the receiver's budget, which the sink may take over
   * ({@link Reservation#takeOver}) during this call: a sink that keeps the request after its answer
   * (an in-memory queue in ack mode {@code received}) then holds the receiver's bytes instead of
   * reserving the request a second time while the receiver still holds it. Counted twice at the
   * hand-off, a request the budget admitted whole could be refused by its own first reservation
   * (under a flood, about every other admitted request was). The default ignores the reservation,
   * which the receiver releases when the stage completes. Buffer ownership as {@link
   * #accept(Signal, ByteBuf, WalkSummary)}.
   */
  default CompletionStage<Outcome> accept(
      Signal signal, ByteBuf request, WalkSummary summary, Reservation reservation) {
    return accept(signal, request, summary);
  }

  /** A request's bytes held in the receiver's memory budget, offered to the sink. */
  @FunctionalInterface
  interface Reservation {

    /** Nothing to take over. */
    Reservation NONE = budget -> 0;

    /**
     * Hands the bytes held for the request to the caller if they are held in {@code budget}: the
     * caller then owns them and must release them to {@code budget} exactly once; the receiver
     * releases nothing more for the request. Only during the call to {@code accept}.
     *
     * @return the bytes taken over; 0 when they are held in another budget, or already taken
     */
    long takeOver(MemoryBudget budget);
  }
}
