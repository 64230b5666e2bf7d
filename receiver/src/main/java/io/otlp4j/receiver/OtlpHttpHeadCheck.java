package io.otlp4j.receiver;

import static io.otlp4j.receiver.HttpAnswers.isProtobuf;
import static io.otlp4j.receiver.HttpAnswers.response;
import static io.otlp4j.receiver.HttpAnswers.statusBody;
import static io.otlp4j.receiver.OtlpHttpHandler.JSON;
import static io.otlp4j.receiver.OtlpHttpHandler.PROTOBUF;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;

/**
 * Routes and checks an OTLP/HTTP request head before any of its body is read, for {@link
 * OtlpHttpHandler}: the path names the signal, then the method, the bearer token, the content type
 * and the content encoding are checked, in that order; the first that fails gives the refusal.
 * Stateless.
 */
final class OtlpHttpHeadCheck {

  /**
   * The verdict on one head: the signal its path names ({@code null} if none), and either the
   * compression of an admitted body or the result and answer of a refusal.
   *
   * <p><b>Buffer ownership:</b> the refusal's {@link #answer} is owned by whoever holds the
   * verdict, who must send or release it.
   */
  static final class Verdict {
    final Signal signal;
    final Compression compression;
    final RequestResult refusal;
    final FullHttpResponse answer;

    private Verdict(
        Signal signal, Compression compression, RequestResult refusal, FullHttpResponse answer) {
      this.signal = signal;
      this.compression = compression;
      this.refusal = refusal;
      this.answer = answer;
    }

    boolean admitted() {
      return answer == null;
    }
  }

  private OtlpHttpHeadCheck() {}

  /** Checks {@code req}; {@code json} says whether its content type is OTLP/JSON. */
  static Verdict check(HttpRequest req, HttpReceiver.Shared shared, boolean json) {
    String uri = req.uri();
    int query = uri.indexOf('?');
    String path = query >= 0 ? uri.substring(0, query) : uri;
    Signal signal = shared.paths.get(path);
    if (signal == null) {
      return refused(
          signal,
          RequestResult.NOT_FOUND,
          status(
              json,
              HttpResponseStatus.NOT_FOUND,
              OtlpResponses.CODE_NOT_FOUND,
              "no OTLP endpoint at "
                  + path
                  + " (expected one of "
                  + new java.util.TreeSet<>(shared.paths.keySet())
                  + ")"));
    }
    if (!HttpMethod.POST.equals(req.method())) {
      FullHttpResponse r =
          status(
              json,
              HttpResponseStatus.METHOD_NOT_ALLOWED,
              OtlpResponses.CODE_UNIMPLEMENTED,
              req.method() + " is not allowed on " + path + "; use POST");
      r.headers().set(HttpHeaderNames.ALLOW, "POST");
      return refused(signal, RequestResult.METHOD_NOT_ALLOWED, r);
    }
    if (!shared.auth.permits(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
      FullHttpResponse r =
          status(
              json,
              HttpResponseStatus.UNAUTHORIZED,
              OtlpResponses.CODE_UNAUTHENTICATED,
              "missing or invalid bearer token");
      r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
      return refused(signal, RequestResult.UNAUTHENTICATED, r);
    }
    String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (!json && !isProtobuf(contentType)) {
      return refused(
          signal,
          RequestResult.UNSUPPORTED_MEDIA_TYPE,
          status(
              json,
              HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
              OtlpResponses.CODE_INVALID_ARGUMENT,
              "unsupported content type '"
                  + contentType
                  + "' (expected "
                  + PROTOBUF
                  + " or "
                  + JSON
                  + ")"));
    }
    Compression compression;
    try {
      compression = Compression.fromEncoding(req.headers().get(HttpHeaderNames.CONTENT_ENCODING));
    } catch (IllegalArgumentException e) {
      return refused(
          signal,
          RequestResult.UNSUPPORTED_MEDIA_TYPE,
          status(
              json,
              HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
              OtlpResponses.CODE_INVALID_ARGUMENT,
              e.getMessage()));
    }
    return new Verdict(signal, compression, null, null);
  }

  private static Verdict refused(Signal signal, RequestResult result, FullHttpResponse answer) {
    return new Verdict(signal, null, result, answer);
  }

  private static FullHttpResponse status(
      boolean json, HttpResponseStatus httpStatus, int code, String message) {
    return response(httpStatus, json, statusBody(json, code, message, null));
  }
}
