package io.otlp4j.receiver;

import static io.otlp4j.receiver.OtlpHttpHandler.JSON;
import static io.otlp4j.receiver.OtlpHttpHandler.PROTOBUF;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.otlp4j.core.Outcome;
import io.otlp4j.grpc.RpcStatus;
import io.otlp4j.wire.Signal;
import java.util.Locale;

/**
 * The OTLP/HTTP side of {@link OtlpHttpHandler} that needs no connection state: the response for an
 * export's {@link Outcome} or a refusal (protobuf or JSON, as the request was), and the
 * content-type checks. Stateless.
 *
 * <p><b>Buffer ownership:</b> each response returned wraps a heap array (unpooled); ownership
 * passes to the caller, who writes it to the channel (which releases it) or releases it.
 */
final class HttpAnswers {

  private HttpAnswers() {}

  static FullHttpResponse outcomeAnswer(Signal s, boolean j, Outcome outcome) {
    switch (outcome.kind()) {
      case ACCEPTED:
      case PARTIALLY_ACCEPTED:
        byte[] bytes =
            j
                ? OtlpResponses.exportResponseJson(s, outcome)
                : OtlpResponses.exportResponse(outcome);
        return response(HttpResponseStatus.OK, j, bytes);
      case RETRYABLE:
      case LOCAL_FAILURE: // our own failure: the client sends again
        FullHttpResponse r =
            outcome.isOverload()
                ? response(
                    HttpResponseStatus.TOO_MANY_REQUESTS,
                    j,
                    statusBody(
                        j,
                        OtlpResponses.CODE_RESOURCE_EXHAUSTED,
                        outcome.message(),
                        outcome.retryAfter()))
                : response(
                    HttpResponseStatus.SERVICE_UNAVAILABLE,
                    j,
                    statusBody(
                        j,
                        OtlpResponses.CODE_UNAVAILABLE,
                        outcome.message(),
                        outcome.retryAfter()));
        r.headers()
            .set(
                HttpHeaderNames.RETRY_AFTER, OtlpResponses.retryAfterSeconds(outcome.retryAfter()));
        return r;
      default:
        return response(
            HttpResponseStatus.BAD_REQUEST,
            j,
            statusBody(j, OtlpResponses.CODE_INVALID_ARGUMENT, outcome.message(), null));
    }
  }

  static byte[] statusBody(boolean json, int code, String message, java.time.Duration retryDelay) {
    return json
        ? OtlpResponses.statusJson(code, message)
        : RpcStatus.encode(code, message, retryDelay);
  }

  static FullHttpResponse response(HttpResponseStatus status, boolean json, byte[] body) {
    FullHttpResponse r =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, json ? JSON : PROTOBUF);
    r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // parsing

  static boolean isJson(String contentType) {
    return JSON.equals(mediaType(contentType));
  }

  static boolean isProtobuf(String contentType) {
    String media = mediaType(contentType);
    return PROTOBUF.equals(media) || "application/protobuf".equals(media);
  }

  private static String mediaType(String contentType) {
    if (contentType == null) {
      return "";
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType)
        .trim()
        .toLowerCase(Locale.ROOT);
  }
}
