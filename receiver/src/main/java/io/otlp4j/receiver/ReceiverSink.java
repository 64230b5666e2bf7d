package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
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
 * receiver refuse new ones with a retryable answer instead of buffering without bound.
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
}
