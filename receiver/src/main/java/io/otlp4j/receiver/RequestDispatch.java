package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Hands a walked request to the {@link ReceiverSink}, releases its budget reservation exactly once
 * when the sink's stage completes, and counts the outcome.
 *
 * <p><b>Buffer ownership:</b> {@link #dispatch} takes ownership of the request and passes it to the
 * sink. <b>Thread-safety:</b> thread-safe (immutable; the sink and the metrics are thread-safe).
 */
final class RequestDispatch {

  private static final Logger LOG = System.getLogger(RequestDispatch.class.getName());

  private final ReceiverSink sink;
  private final ReceiverMetrics metrics;

  RequestDispatch(ReceiverSink sink, ReceiverMetrics metrics) {
    this.sink = sink;
    this.metrics = metrics;
  }

  ReceiverMetrics metrics() {
    return metrics;
  }

  /**
   * Passes {@code request} (ownership transferred) to the sink. The returned stage completes
   * normally, always, with the outcome to answer (a sink that throws or fails its stage is answered
   * as a retryable refusal); by then {@code reservation} has been released, unless the sink took it
   * over.
   */
  CompletableFuture<Outcome> dispatch(
      Signal signal, ByteBuf request, WalkSummary summary, BudgetReservation reservation) {
    CompletionStage<Outcome> stage;
    try {
      stage = sink.accept(signal, request, summary, reservation);
      if (stage == null) {
        stage =
            CompletableFuture.failedFuture(new NullPointerException("the sink returned no stage"));
      }
    } catch (RuntimeException | Error e) {
      // The sink owns the buffer from the call on, even when it throws.
      stage = CompletableFuture.failedFuture(e);
    }
    return stage
        .handle(
            (outcome, error) -> {
              reservation.release();
              Outcome answer = outcome;
              if (error != null || outcome == null) {
                LOG.log(
                    Level.WARNING,
                    "the receiver sink failed a " + signal.id() + " request; answering retryable",
                    error);
                answer = Outcome.localFailure("the pipeline failed to take the data", error);
              }
              metrics.items(signal, summary.itemCount(), resultOf(answer), answer.rejectedItems());
              return answer;
            })
        .toCompletableFuture();
  }

  static RequestResult resultOf(Outcome outcome) {
    switch (outcome.kind()) {
      case ACCEPTED:
        return RequestResult.ACCEPTED;
      case PARTIALLY_ACCEPTED:
        return RequestResult.PARTIALLY_ACCEPTED;
      case RETRYABLE:
      case LOCAL_FAILURE:
        return RequestResult.REFUSED_RETRYABLE;
      default:
        return RequestResult.REFUSED_PERMANENT;
    }
  }
}
