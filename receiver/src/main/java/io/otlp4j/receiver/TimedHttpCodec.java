package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/1.1 server codec of the OTLP/HTTP receiver with the Collector's {@code confighttp}
 * request timeouts, with Go's {@code net/http} meaning:
 *
 * <ul>
 *   <li>{@code read_header_timeout}: from the first byte of a request to the end of its headers;
 *   <li>{@code read_timeout}: from the first byte of a request to the end of its body.
 * </ul>
 *
 * <p>A request "begins" when its first byte is in the decoder, whether it arrived alone or behind a
 * previous request on the same read (so a client cannot pipeline the start of a request behind a
 * complete one to dodge the timer). When a timer runs out the connection is closed without an
 * answer, as Go's server does; the request handler then releases what the request held (its
 * memory-budget reservation, its partial body). Time spent in the pipeline after the body is read
 * is not counted. A zero duration turns a timeout off.
 *
 * <p>The decoder remembers the method of the request being answered so that the encoder writes no
 * body after a {@code HEAD} (the one thing {@code HttpServerCodec} adds to the plain encoder that
 * matters here: the receiver answers one request at a time).
 *
 * <p><b>Concurrency:</b> one per connection; every method and timer runs on the connection's event
 * loop.
 */
final class TimedHttpCodec
    extends CombinedChannelDuplexHandler<TimedHttpCodec.Decoder, TimedHttpCodec.Encoder> {

  private static final System.Logger LOG = System.getLogger(TimedHttpCodec.class.getName());

  TimedHttpCodec(Duration readHeaderTimeout, Duration readTimeout) {
    Decoder decoder = new Decoder(readHeaderTimeout.toNanos(), readTimeout.toNanos());
    init(decoder, new Encoder(decoder));
  }

  static final class Decoder extends HttpRequestDecoder {
    private final long headerTimeoutNanos;
    private final long readTimeoutNanos;
    private boolean inRequest;
    private boolean head;
    private ScheduledFuture<?> headerTimer;
    private ScheduledFuture<?> readTimer;

    Decoder(long headerTimeoutNanos, long readTimeoutNanos) {
      super(new HttpDecoderConfig());
      this.headerTimeoutNanos = headerTimeoutNanos;
      this.readTimeoutNanos = readTimeoutNanos;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
        throws Exception {
      if (!inRequest && buffer.isReadable()) {
        inRequest = true;
        headerTimer = schedule(ctx, headerTimeoutNanos, "read_header_timeout");
        readTimer = schedule(ctx, readTimeoutNanos, "read_timeout");
      }
      int before = out.size();
      super.decode(ctx, buffer, out);
      for (int i = before; i < out.size(); i++) {
        Object msg = out.get(i);
        if (msg instanceof HttpRequest) {
          head = HttpMethod.HEAD.equals(((HttpRequest) msg).method());
          headerTimer = cancel(headerTimer);
        }
        if (msg instanceof LastHttpContent) {
          inRequest = false;
          headerTimer = cancel(headerTimer);
          readTimer = cancel(readTimer);
        }
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      headerTimer = cancel(headerTimer);
      readTimer = cancel(readTimer);
      super.channelInactive(ctx);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
      headerTimer = cancel(headerTimer);
      readTimer = cancel(readTimer);
      super.handlerRemoved0(ctx);
    }

    private static ScheduledFuture<?> schedule(
        ChannelHandlerContext ctx, long nanos, String timeout) {
      if (nanos <= 0) {
        return null;
      }
      return ctx.executor()
          .schedule(
              () -> {
                LOG.log(
                    System.Logger.Level.DEBUG,
                    () ->
                        "OTLP/HTTP connection "
                            + ctx.channel().remoteAddress()
                            + " ran past "
                            + timeout
                            + "; closing");
                ctx.close();
              },
              nanos,
              TimeUnit.NANOSECONDS);
    }

    private static ScheduledFuture<?> cancel(ScheduledFuture<?> timer) {
      if (timer != null) {
        timer.cancel(false);
      }
      return null;
    }
  }

  static final class Encoder extends HttpResponseEncoder {
    private final Decoder decoder;

    Encoder(Decoder decoder) {
      this.decoder = decoder;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      return decoder.head || super.isContentAlwaysEmpty(msg);
    }
  }
}
