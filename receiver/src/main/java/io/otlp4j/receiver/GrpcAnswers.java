package io.otlp4j.receiver;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.otlp4j.core.Outcome;
import io.otlp4j.grpc.RpcStatus;
import java.time.Duration;

/**
 * How {@link GrpcReceiver} ends a call: an export's {@link Outcome} as the OTLP/gRPC status (with
 * the {@code google.rpc.Status} trailers and {@code RetryInfo} that {@link RpcStatus} writes). A
 * call cancelled or closed meanwhile is left alone: nobody is left to answer. Stateless; called on
 * whichever thread completes the export.
 */
final class GrpcAnswers {

  private GrpcAnswers() {}

  static void answer(Outcome outcome, ServerCall<GrpcInbound, byte[]> call) {
    try {
      switch (outcome.kind()) {
        case ACCEPTED:
        case PARTIALLY_ACCEPTED:
          call.sendHeaders(new Metadata());
          call.sendMessage(OtlpResponses.exportResponse(outcome));
          call.close(Status.OK, new Metadata());
          break;
        case RETRYABLE:
        case LOCAL_FAILURE: // our own failure: the client sends again
          if (outcome.isOverload()) {
            close(
                call,
                Status.RESOURCE_EXHAUSTED,
                OtlpResponses.CODE_RESOURCE_EXHAUSTED,
                outcome.message(),
                outcome.retryAfter());
          } else {
            close(
                call,
                Status.UNAVAILABLE,
                OtlpResponses.CODE_UNAVAILABLE,
                outcome.message(),
                outcome.retryAfter());
          }
          break;
        default:
          close(
              call,
              Status.INVALID_ARGUMENT,
              OtlpResponses.CODE_INVALID_ARGUMENT,
              outcome.message(),
              null);
          break;
      }
    } catch (RuntimeException e) {
      // the call was cancelled or closed meanwhile: nobody is left to answer
    }
  }

  static void close(
      ServerCall<?, ?> call, Status status, int code, String message, Duration retryDelay) {
    try {
      call.close(status.withDescription(message), RpcStatus.trailers(code, message, retryDelay));
    } catch (RuntimeException e) {
      // the call was cancelled or closed meanwhile: nobody is left to answer
    }
  }
}
