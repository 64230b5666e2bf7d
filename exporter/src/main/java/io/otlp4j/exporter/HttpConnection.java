package io.otlp4j.exporter;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One pooled HTTP/1.1 connection, the last handler of its pipeline: it runs one request/response
 * exchange at a time (no pipelining) and reports the response, or why there was none.
 *
 * <p>A connection becomes unusable (and is closed, never handed out again) when an exchange times
 * out, the server says {@code Connection: close}, a response arrives unasked, or the channel fails.
 *
 * <p><b>Buffer ownership:</b> {@link #execute} takes ownership of the request (Netty releases it
 * once written, or on failure; it is released here when the event loop refuses the task, and the
 * exchange then fails); responses are released here after their body has been copied out.
 *
 * <p>Thread-safety: the exchange state is confined to the channel's event loop; the pool's fields
 * ({@link #lastUsedNanos}, {@link #forgotten}) are guarded by the pool's lock or volatile.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {

  /** What an exchange reports: the response, or the failure. */
  interface Exchange {
    /** Response status, headers and the body copied out (the response itself is released after). */
    void onResponse(FullHttpResponse response, byte[] body, boolean connectionReusable);

    void onFailure(String what, Throwable cause, boolean timedOut);
  }

  final Channel channel;
  private final ConnectionPool pool;
  volatile long createdNanos;
  volatile long lastUsedNanos;

  /** Set once the pool has dropped it; guarded by the pool's lock. */
  boolean forgotten;

  private volatile boolean reusable = true;

  // Event-loop confined.
  private Exchange current;
  private ScheduledFuture<?> timeout;
  private Throwable lastError;

  HttpConnection(Channel channel, ConnectionPool pool) {
    this.channel = channel;
    this.pool = pool;
  }

  boolean isReusable() {
    return reusable;
  }

  /** Sends {@code request} (ownership transferred) and reports to {@code exchange} once. */
  void execute(FullHttpRequest request, long timeoutNanos, Exchange exchange) {
    if (!channel.eventLoop().inEventLoop()) {
      try {
        channel.eventLoop().execute(() -> execute(request, timeoutNanos, exchange));
      } catch (RejectedExecutionException e) {
        // The event loop is shutting down: the task, and with it the request, would never run.
        ReferenceCountUtil.release(request);
        reusable = false;
        exchange.onFailure(
            "connection to " + channel.remoteAddress() + " is shutting down", e, false);
      }
      return;
    }
    if (current != null || !channel.isActive()) {
      ReferenceCountUtil.release(request);
      reusable = false;
      channel.close();
      exchange.onFailure(
          "connection to " + channel.remoteAddress() + " was not usable", lastError, false);
      return;
    }
    current = exchange;
    timeout =
        channel
            .eventLoop()
            .schedule(
                () -> {
                  if (current == exchange) {
                    current = null;
                    reusable =
                        false; // a late response would be taken for the next request's: never reuse
                    channel.close();
                    exchange.onFailure(
                        "no response within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms",
                        null,
                        true);
                  }
                },
                timeoutNanos,
                TimeUnit.NANOSECONDS);
    channel
        .writeAndFlush(request)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                lastError = f.cause();
                reusable = false;
                channel.close(); // channelInactive reports the exchange
              }
            });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Exchange exchange = current;
    if (!(msg instanceof FullHttpResponse) || exchange == null) {
      ReferenceCountUtil.release(msg);
      reusable = false;
      ctx.close();
      return;
    }
    FullHttpResponse response = (FullHttpResponse) msg;
    current = null;
    timeout.cancel(false);
    try {
      byte[] body = ByteBufUtil.getBytes(response.content());
      boolean keepAlive = HttpUtil.isKeepAlive(response) && response.decoderResult().isSuccess();
      if (keepAlive) {
        pool.release(this);
      } else {
        reusable = false;
        ctx.close();
      }
      exchange.onResponse(response, body, keepAlive);
    } finally {
      response.release();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    reusable = false;
    Exchange exchange = current;
    if (exchange != null) {
      current = null;
      timeout.cancel(false);
      exchange.onFailure("connection closed before the response", lastError, false);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    lastError = cause;
    reusable = false;
    ctx.close();
  }
}
