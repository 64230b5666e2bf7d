package io.otlp4j.receiver;

import static io.otlp4j.receiver.HttpAnswers.isJson;
import static io.otlp4j.receiver.HttpAnswers.outcomeAnswer;
import static io.otlp4j.receiver.HttpAnswers.response;
import static io.otlp4j.receiver.HttpAnswers.statusBody;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.otlp4j.core.internal.FaultInjection;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import io.otlp4j.wire.WireFormatException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * One connection's OTLP/HTTP request handling, after {@code HttpServerCodec}: checks the head
 * (path, method, token, content type, encoding, declared length) before any body is read,
 * aggregates the body under the size limit and the memory budget, decompresses, transcodes JSON,
 * walks, dispatches to the sink and answers. The head's routing and checks are {@link
 * OtlpHttpHeadCheck}'s, the body's decompression and transcoding {@link OtlpHttpBodyDecoder}'s.
 *
 * <p><b>States:</b> IDLE (waiting for a request head) → READING (aggregating an admitted body) →
 * DISPATCHED (in the sink; reading paused) → IDLE after the answer. A refused head goes to
 * DISCARDING, which drops the body (at most the size limit) and answers at its end, keeping the
 * connection; a body too large to drop is answered at once and the connection closed. A request the
 * memory budget refuses (on its declared length, or as a chunked body outgrows the reservation) is
 * answered 429 at once and its body dropped as it arrives, in DISCARDING, without holding it
 * ({@link #answerBeforeBody}).
 *
 * <p><b>Buffer ownership:</b> every inbound message is released here, in {@link #channelRead}'s
 * {@code finally}. The aggregated body is owned by {@link #body} until it is decoded; the decoded
 * request is handed with ownership to the sink. {@link #channelInactive} releases what a broken
 * connection leaves. <b>Thread-safety:</b> confined to the channel's event loop, except the sink's
 * completion, which hops back onto it.
 */
final class OtlpHttpHandler extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = System.getLogger(OtlpHttpHandler.class.getName());

  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";

  private enum State {
    IDLE,
    READING,
    DISCARDING,
    DISPATCHED,
    DRAINING,
    CLOSING
  }

  private final HttpReceiver.Shared shared;

  private State state = State.IDLE;
  private boolean keepAlive;
  private boolean closeAfterAnswer;
  private boolean counted;
  private Signal signal;
  private boolean json;
  private Compression compression;
  private ByteBuf body;
  private BudgetReservation reservation;
  private FullHttpResponse pendingAnswer;
  private long discarded;

  OtlpHttpHandler(HttpReceiver.Shared shared) {
    this.shared = shared;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest) {
        onHead(ctx, (HttpRequest) msg);
      }
      if (msg instanceof HttpContent) {
        onContent(ctx, (HttpContent) msg);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  // ------------------------------------------------------------------------------------------ head

  private void onHead(ChannelHandlerContext ctx, HttpRequest req) {
    if (state == State.CLOSING || state == State.DRAINING) {
      return;
    }
    if (state != State.IDLE) {
      // A pipelined request while one is being handled: not supported; answer the first, then
      // close.
      closeAfterAnswer = true;
      return;
    }
    keepAlive = HttpUtil.isKeepAlive(req);
    closeAfterAnswer = false;
    json = isJson(req.headers().get(HttpHeaderNames.CONTENT_TYPE));
    if (req.decoderResult().isFailure()) {
      shared.dispatch.metrics().request(RequestResult.MALFORMED);
      answerAndClose(
          ctx,
          status(
              HttpResponseStatus.BAD_REQUEST,
              OtlpResponses.CODE_INVALID_ARGUMENT,
              "malformed HTTP request: " + req.decoderResult().cause()));
      return;
    }
    if (shared.inFlight.draining()) {
      shared.dispatch.metrics().request(RequestResult.SHUTTING_DOWN);
      FullHttpResponse r =
          status(
              HttpResponseStatus.SERVICE_UNAVAILABLE,
              OtlpResponses.CODE_UNAVAILABLE,
              "the receiver is shutting down");
      r.headers()
          .set(HttpHeaderNames.RETRY_AFTER, OtlpResponses.retryAfterSeconds(shared.retryAfter));
      answerAndClose(ctx, r);
      return;
    }
    OtlpHttpHeadCheck.Verdict verdict = OtlpHttpHeadCheck.check(req, shared, json);
    signal = verdict.signal;
    if (!verdict.admitted()) {
      refuse(ctx, req, verdict.refusal, verdict.answer);
      return;
    }
    compression = verdict.compression;
    long declared = HttpUtil.getContentLength(req, -1L);
    if (declared > shared.maxRequestBytes) {
      shared.dispatch.metrics().request(RequestResult.TOO_LARGE);
      answerThenDrain(
          ctx,
          tooLarge("declared Content-Length " + declared),
          HttpUtil.is100ContinueExpected(req));
      return;
    }
    reservation = new BudgetReservation(shared.budget);
    if (declared > 0 && !reservation.resize(declared)) {
      // Refused on the declared length, before a byte of the body is read or held.
      reservation = null;
      shared.dispatch.metrics().request(RequestResult.MEMORY_LIMITED);
      discarded = 0;
      answerBeforeBody(ctx, memoryLimited(), false, HttpUtil.is100ContinueExpected(req));
      return;
    }
    body = declared > 0 ? ctx.alloc().heapBuffer((int) declared) : ctx.alloc().heapBuffer(1024);
    state = State.READING;
    shared.inFlight.begin();
    counted = true;
    if (HttpUtil.is100ContinueExpected(req)) {
      ctx.writeAndFlush(
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
    }
  }

  /**
   * Answers {@code answer} after dropping the request's body (bounded), or at once when there is
   * none to wait for.
   */
  private void refuse(
      ChannelHandlerContext ctx, HttpRequest req, RequestResult result, FullHttpResponse answer) {
    shared.dispatch.metrics().request(result);
    if (HttpUtil.is100ContinueExpected(req)) {
      // The client waits for our word before sending the body: answer now and do not reuse the
      // connection.
      answerAndClose(ctx, answer);
      return;
    }
    pendingAnswer = answer;
    discarded = 0;
    state = State.DISCARDING;
  }

  // ------------------------------------------------------------------------------------------ body

  private void onContent(ChannelHandlerContext ctx, HttpContent content) {
    ByteBuf data = content.content();
    boolean last = content instanceof LastHttpContent;
    switch (state) {
      case READING:
        if (content.decoderResult().isFailure()) {
          shared.dispatch.metrics().request(RequestResult.MALFORMED);
          dropRequest();
          answerAndClose(
              ctx,
              status(
                  HttpResponseStatus.BAD_REQUEST,
                  OtlpResponses.CODE_INVALID_ARGUMENT,
                  "malformed HTTP body: " + content.decoderResult().cause()));
          return;
        }
        long size = (long) body.readableBytes() + data.readableBytes();
        if (size > shared.maxRequestBytes) {
          shared.dispatch.metrics().request(RequestResult.TOO_LARGE);
          dropRequest();
          answerThenDrain(
              ctx, tooLarge("body of more than " + shared.maxRequestBytes + " bytes"), last);
          return;
        }
        if (size > reservation.bytes() && !reservation.resize(size)) {
          // Refused as soon as the bytes read so far do not fit; the rest is not held.
          shared.dispatch.metrics().request(RequestResult.MEMORY_LIMITED);
          dropRequest();
          discarded = size;
          answerBeforeBody(ctx, memoryLimited(), last, false);
          return;
        }
        body.writeBytes(data);
        if (last) {
          state = State.DISPATCHED;
          ctx.channel().config().setAutoRead(false);
          decodeAndDispatch(ctx);
        }
        return;
      case DISCARDING:
        discarded += data.readableBytes();
        if (pendingAnswer == null) {
          // answered already (answerBeforeBody): the connection is reusable once the body has ended
          if (last) {
            state = State.IDLE;
          } else if (discarded > shared.maxRequestBytes) {
            state = State.CLOSING;
            ctx.close();
          }
          return;
        }
        if (discarded > shared.maxRequestBytes) {
          FullHttpResponse answer = pendingAnswer;
          pendingAnswer = null;
          answerAndClose(ctx, answer);
        } else if (last) {
          finishDiscarding(ctx);
        }
        return;
      case DRAINING:
        discarded += data.readableBytes();
        if (last || discarded > shared.maxRequestBytes) {
          state = State.CLOSING;
          ctx.close();
        }
        return;
      default:
        // IDLE after a close, or DISPATCHED with a pipelined request: dropped (see onHead).
    }
  }

  /**
   * Answers a refused request at once, before (the rest of) its body arrives, so that a client gets
   * its answer without sending or waiting for a body the receiver will not hold. HTTP/1.1 still
   * frames the connection by that body: the rest is read and dropped as it arrives (no byte held)
   * and the connection is reused after it; a body that runs past the size limit closes the
   * connection instead. A client that expects {@code 100 Continue} has sent no body: the connection
   * is closed at once. {@code discarded} must hold the body bytes already read.
   */
  private void answerBeforeBody(
      ChannelHandlerContext ctx, FullHttpResponse answer, boolean last, boolean expectsContinue) {
    if (expectsContinue) {
      answerAndClose(ctx, answer);
      return;
    }
    if (last) {
      state = State.IDLE;
      answer(ctx, answer);
      return;
    }
    if (!keepAlive || closeAfterAnswer || shared.inFlight.draining()) {
      answerThenDrain(ctx, answer, false);
      return;
    }
    endRequest();
    pendingAnswer = null;
    state = State.DISCARDING;
    HttpUtil.setKeepAlive(answer, true);
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(answer);
    } else {
      answer.release();
    }
  }

  private void finishDiscarding(ChannelHandlerContext ctx) {
    FullHttpResponse answer = pendingAnswer;
    pendingAnswer = null;
    state = State.IDLE;
    answer(ctx, answer);
  }

  // ------------------------------------------------------------------------------------------
  // decode

  private void decodeAndDispatch(ChannelHandlerContext ctx) {
    ByteBuf payload = body;
    body = null;
    BudgetReservation held = reservation;
    reservation = null;
    // From here payload is owned by this method until it is released or handed to the sink.
    try {
      try {
        FaultInjection.check(FaultInjection.Stage.RECEIVE);
      } catch (Throwable e) {
        payload.release();
        throw e;
      }
      payload =
          OtlpHttpBodyDecoder.toProtobuf(
              payload, compression, json, signal, ctx.alloc(), shared.maxRequestBytes, held);
      if (payload == null) {
        held.release();
        shared.dispatch.metrics().request(RequestResult.MEMORY_LIMITED);
        answerRequest(ctx, memoryLimited());
        return;
      }
      WalkSummary summary;
      try {
        FaultInjection.check(FaultInjection.Stage.WALK);
        summary = shared.walker.walk(signal, payload);
      } catch (Throwable e) {
        payload.release();
        throw e;
      }
      Signal s = signal;
      boolean j = json;
      shared
          .dispatch
          .dispatch(s, payload, summary, held)
          .thenAccept(
              outcome ->
                  ctx.executor().execute(() -> answerRequest(ctx, outcomeAnswer(s, j, outcome))));
    } catch (WireFormatException e) {
      // payload has been released on every path that throws this
      held.release();
      boolean tooLarge = e.reason().startsWith("decompressed size exceeds");
      shared
          .dispatch
          .metrics()
          .request(tooLarge ? RequestResult.TOO_LARGE : RequestResult.MALFORMED);
      answerRequest(
          ctx,
          tooLarge
              ? tooLarge("decompressed body of more than " + shared.maxRequestBytes + " bytes")
              : status(
                  HttpResponseStatus.BAD_REQUEST,
                  OtlpResponses.CODE_INVALID_ARGUMENT,
                  "malformed "
                      + signal.id()
                      + " request"
                      + (json ? " (JSON)" : "")
                      + ": "
                      + e.getMessage()));
    } catch (Throwable e) {
      // Not expected: a bug or an exhausted allocator; the payload was released where it was owned.
      // Our
      // own failure, so the client is asked to send again (503; a 500 is not retried by OTLP
      // clients).
      held.release();
      LOG.log(Level.WARNING, "OTLP/HTTP request failed unexpectedly; answering retryable", e);
      shared.dispatch.metrics().request(RequestResult.REFUSED_RETRYABLE);
      answerRequest(
          ctx,
          status(
              HttpResponseStatus.SERVICE_UNAVAILABLE,
              OtlpResponses.CODE_UNAVAILABLE,
              "internal error: " + e));
    }
  }

  // ------------------------------------------------------------------------------------------
  // answers

  /** Answers the request that was READING or DISPATCHED and resumes reading the connection. */
  private void answerRequest(ChannelHandlerContext ctx, FullHttpResponse answer) {
    state = State.IDLE;
    answer(ctx, answer);
    if (!closeAfterAnswer && ctx.channel().isActive()) {
      ctx.channel().config().setAutoRead(true);
      ctx.read();
    }
  }

  private void answer(ChannelHandlerContext ctx, FullHttpResponse answer) {
    endRequest();
    boolean close = !keepAlive || closeAfterAnswer || shared.inFlight.draining();
    if (close) {
      closeAfterAnswer = true;
      state = State.CLOSING;
    }
    if (!ctx.channel().isActive()) {
      answer.release();
      return;
    }
    HttpUtil.setKeepAlive(answer, !close);
    if (close) {
      ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(answer);
    }
  }

  private void answerAndClose(ChannelHandlerContext ctx, FullHttpResponse answer) {
    closeAfterAnswer = true;
    state = State.CLOSING;
    ctx.channel().config().setAutoRead(false);
    answer(ctx, answer);
  }

  /**
   * Answers at once and closes the connection after reading (and dropping) at most the size limit
   * more of the body, so that a client still sending can read the answer instead of a reset.
   */
  private void answerThenDrain(
      ChannelHandlerContext ctx, FullHttpResponse answer, boolean closeNow) {
    if (closeNow) {
      answerAndClose(ctx, answer);
      return;
    }
    endRequest();
    closeAfterAnswer = true;
    state = State.DRAINING;
    discarded = 0;
    HttpUtil.setKeepAlive(answer, false);
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(answer);
    } else {
      answer.release();
    }
  }

  private void endRequest() {
    if (counted) {
      counted = false;
      shared.inFlight.end();
    }
  }

  private void dropRequest() {
    if (body != null) {
      body.release();
      body = null;
    }
    if (reservation != null) {
      reservation.release();
      reservation = null;
    }
  }

  private FullHttpResponse tooLarge(String what) {
    return status(
        HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
        OtlpResponses.CODE_RESOURCE_EXHAUSTED,
        what + " exceeds the limit of " + shared.maxRequestBytes + " bytes");
  }

  private FullHttpResponse memoryLimited() {
    String message =
        "memory limit reached: "
            + shared.budget.usedBytes()
            + " of "
            + shared.budget.limitBytes()
            + " bytes in use; retry later";
    FullHttpResponse r =
        response(
            HttpResponseStatus.TOO_MANY_REQUESTS,
            json,
            statusBody(json, OtlpResponses.CODE_RESOURCE_EXHAUSTED, message, shared.retryAfter));
    r.headers()
        .set(HttpHeaderNames.RETRY_AFTER, OtlpResponses.retryAfterSeconds(shared.retryAfter));
    return r;
  }

  private FullHttpResponse status(HttpResponseStatus httpStatus, int code, String message) {
    return response(httpStatus, json, statusBody(json, code, message, null));
  }

  // ------------------------------------------------------------------------------------------
  // lifecycle

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      if (state != State.DISPATCHED) {
        ctx.close();
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cleanUp();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cleanUp();
  }

  private void cleanUp() {
    dropRequest();
    if (pendingAnswer != null) {
      pendingAnswer.release();
      pendingAnswer = null;
    }
    if (state != State.DISPATCHED) {
      endRequest(); // a DISPATCHED request ends when the sink answers
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(
        Level.DEBUG,
        "OTLP/HTTP connection " + ctx.channel().remoteAddress() + " failed; closing",
        cause);
    ctx.close();
  }
}
