package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.otlp4j.core.MetricsRegistry;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Bounds the HTTP/2 frames a client may send on one OTLP/gRPC connection that carry no call: {@code
 * SETTINGS}, {@code PING} (acknowledgements too), {@code WINDOW_UPDATE}, {@code PRIORITY}, {@code
 * DATA} without payload and without {@code END_STREAM}, and frames of unknown types. grpc-java and
 * Netty answer or process each of them and bound none by rate (grpc-java bounds only the
 * acknowledgements it has queued unread, at 10,000, and pings without calls through its keepalive
 * enforcement), so a client that reads its answers can keep a core busy with them for ever
 * (CVE-2019-9515 and its family). And bounds the streams a client resets beyond the calls it was
 * answered on the connection (rapid reset, CVE-2023-44487, from many short connections).
 *
 * <h2>The rule</h2>
 *
 * Per connection and per {@code window} (a fixed window that starts at the connection's first
 * frame): at most {@code maxFrames} such frames, plus {@value #CREDIT_PER_CALL_FRAME} for every
 * {@code HEADERS} frame and every {@code DATA} frame with payload the client sent in the window.
 * The credit keeps busy, well-behaved clients clear of the limit: grpc-java's client sends at most
 * two flow-control pings per frame it writes, and its window updates follow the (small) answers. A
 * connection past the limit gets {@code GOAWAY ENHANCE_YOUR_CALM "too_many_control_frames"} and is
 * closed (at the latest a second later, when a client that does not read keeps the {@code GOAWAY}
 * from being written); nothing it sent after the limit reaches grpc-java. Calls on that connection
 * end as on any closed connection; other connections are not affected.
 *
 * <h2>Resets</h2>
 *
 * Per connection, over its whole life: the streams the client reset minus the calls the server
 * answered ({@code HEADERS} or {@code DATA} frames with {@code END_STREAM} it wrote: a gRPC answer
 * ends with its trailers) may not exceed {@code maxUnansweredResets}; past it, {@code GOAWAY
 * ENHANCE_YOUR_CALM "too_many_unanswered_resets"} and close, as above, counted in {@value
 * #RESET_FLOODS_METRIC}. grpc-java's own bound (Netty's {@code maxRstFramesPerWindow}, 200 per 30
 * s) applies per connection, so an attacker that reconnects as soon as it is closed had 200 calls
 * created and cancelled on each connection; this bound serves such a connection at most {@code
 * maxUnansweredResets}, and as the check happens before grpc-java reads the buffer that carries the
 * reset over the limit, none of the streams in that buffer is created. A client that wants more
 * resets has to be answered as many calls, each a full round trip that costs the server no more
 * than any call (see {@link GrpcConnectionPolicy#DEFAULT_MAX_UNANSWERED_RESETS} for why real
 * clients never come near it). A reset counts once per stream, and not at all on a stream the
 * server had ended (answered, or reset itself when the call's deadline passed): grpc-java's client
 * answers every frame that reaches it on a stream it has closed with a {@code RST_STREAM} (up to
 * three for one late answer: its headers, message and trailers), which is not a cancellation. The
 * streams ended last, {@value #RECENTLY_ENDED} of them, are remembered in a ring of ints scanned at
 * each reset and each answer; a reset on a stream ended longer ago counts.
 *
 * <h2>How</h2>
 *
 * An inbound handler ahead of grpc-java's HTTP/2 handler (after the {@link SslHandler} when the
 * connection uses TLS: it moves itself there at the first read), added by the receiver's server
 * channel to every accepted connection ({@link ConnectionLimit}): a public hook of {@code
 * NettyServerBuilder#channelFactory}, no grpc-java internals. It reads only the 9-byte frame
 * headers (and a padded {@code DATA} frame's pad length) as the bytes pass, and passes every buffer
 * on unchanged: no copy, no allocation per frame. A connection that does not start with the HTTP/2
 * client preface is passed through unchecked (grpc-java refuses it).
 *
 * <p>The answers are counted from the 9-byte headers of the frames the server writes, as they pass
 * on their way out (after grpc-java's HTTP/2 handler, ahead of the TLS layer): no copy, no
 * allocation. Over TLS, the instance ahead of the {@link SslHandler} passes the TLS records it sees
 * written without reading them; the one it puts behind the {@link SslHandler} counts.
 *
 * <p><b>Buffer ownership:</b> a buffer read is passed on to the next handler with its ownership,
 * except once the connection is over the limit: then this handler releases it. A buffer written is
 * passed on with its ownership, always.
 *
 * <p><b>Concurrency:</b> one instance per connection, used on the connection's event loop only.
 */
final class Http2ControlFrameGuard extends ChannelDuplexHandler {

  /** Frames of no call allowed for each {@code HEADERS} or non-empty {@code DATA} frame. */
  static final int CREDIT_PER_CALL_FRAME = 4;

  static final String GOAWAY_DEBUG = "too_many_control_frames";

  static final String FLOODS_METRIC = "otlp4j_receiver_control_frame_floods_total";

  static final String FLOODS_HELP =
      "gRPC connections ended with GOAWAY ENHANCE_YOUR_CALM for sending too many frames that carry"
          + " no call (SETTINGS, PING, WINDOW_UPDATE, PRIORITY, empty DATA).";

  static final String RESETS_GOAWAY_DEBUG = "too_many_unanswered_resets";

  static final String RESET_FLOODS_METRIC = "otlp4j_receiver_rapid_reset_connections_total";

  static final String RESET_FLOODS_HELP =
      "gRPC connections ended with GOAWAY ENHANCE_YOUR_CALM for resetting more streams than the"
          + " calls answered on them plus max_unanswered_resets (rapid reset, CVE-2023-44487).";

  private static final byte[] PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int FRAME_HEADER = 9;
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int PUSH_PROMISE = 5;
  private static final int GOAWAY = 7;
  private static final int CONTINUATION = 9;
  private static final int END_STREAM = 0x1;
  private static final int PADDED = 0x8;
  private static final long ENHANCE_YOUR_CALM = 0xb;
  private static final long CLOSE_AFTER_SECONDS = 1;

  /**
   * How many ended streams a connection remembers, to count one reset per stream: as many as the
   * calls one connection may have in flight by default ({@code max_concurrent_streams}, 256); the
   * OpenTelemetry SDK and the Collector have a few.
   */
  static final int RECENTLY_ENDED = 256;

  private final int maxFrames;
  private final long windowNanos;
  private final int maxUnansweredResets;
  private final LongSupplier nanoClock;
  private final MetricsRegistry.Counter floods;
  private final MetricsRegistry.Counter resetFloods;

  // Parse state: bytes of the preface matched, then frame headers and payloads.
  private int prefaceMatched;
  private boolean passThrough;
  private boolean over;
  private boolean overOnResets;
  private boolean relocated;

  /** Set on an instance that put another behind the SslHandler: it reads and counts nothing. */
  private boolean moved;

  private final byte[] header = new byte[FRAME_HEADER];
  private int headerFill;

  /** Payload bytes of the current frame still to skip. */
  private long skip;

  /** A padded DATA frame whose pad-length byte is next: its payload length, else -1. */
  private int paddedDataLength = -1;

  private int paddedDataFlags;
  private int lastStreamId;

  // The window.
  private long windowStart;
  private boolean windowStarted;
  private long controlFrames;
  private long callFrames;

  // Resets: the client's RST_STREAM frames, the server's answers.
  private long resets;
  private long answered;
  private final byte[] outHeader = new byte[FRAME_HEADER];

  /** The streams ended last (answered or reset, by either side): 0 where none yet. */
  private final int[] recentlyEnded = new int[RECENTLY_ENDED];

  private int recentlyEndedNext;
  private int outHeaderFill;
  private long outSkip;

  /**
   * @param maxFrames frames of no call allowed per window (plus the credit); 0: no limit
   * @param maxUnansweredResets {@code RST_STREAM} frames allowed beyond the answered calls; 0: no
   *     limit
   * @param floods counts the connections ended for too many frames of no call
   * @param resetFloods counts the connections ended for too many unanswered resets
   */
  Http2ControlFrameGuard(
      int maxFrames,
      long windowNanos,
      int maxUnansweredResets,
      LongSupplier nanoClock,
      MetricsRegistry.Counter floods,
      MetricsRegistry.Counter resetFloods) {
    this.maxFrames = maxFrames;
    this.windowNanos = windowNanos;
    this.maxUnansweredResets = maxUnansweredResets;
    this.nanoClock = nanoClock;
    this.floods = floods;
    this.resetFloods = resetFloods;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!relocated) {
      relocated = true;
      ChannelPipeline p = ctx.pipeline();
      ChannelHandlerContext tls = p.context(SslHandler.class);
      if (tls != null) {
        // TLS: the frames are readable only after the SslHandler; continue there, fresh.
        Http2ControlFrameGuard next =
            new Http2ControlFrameGuard(
                maxFrames, windowNanos, maxUnansweredResets, nanoClock, floods, resetFloods);
        next.relocated = true;
        moved = true;
        p.addAfter(tls.name(), null, next);
        ctx.fireChannelRead(msg);
        p.remove(this);
        return;
      }
    }
    if (over) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (!passThrough && msg instanceof ByteBuf buf) {
      scan(buf);
      if (over) {
        buf.release();
        goAway(ctx);
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (maxUnansweredResets > 0 && !moved && msg instanceof ByteBuf buf) {
      if (!relocated && ctx.pipeline().get(SslHandler.class) != null) {
        // TLS records, before the first read: the instance behind the SslHandler counts.
        moved = true;
      } else {
        scanOut(buf);
      }
    }
    ctx.write(msg, promise);
  }

  /** Counts the answers ({@code END_STREAM} on a stream) among the frames the server writes. */
  private void scanOut(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (outSkip > 0) {
        int n = (int) Math.min(outSkip, end - i);
        i += n;
        outSkip -= n;
        continue;
      }
      outHeader[outHeaderFill++] = buf.getByte(i++);
      if (outHeaderFill == FRAME_HEADER) {
        outHeaderFill = 0;
        int length =
            ((outHeader[0] & 0xff) << 16) | ((outHeader[1] & 0xff) << 8) | (outHeader[2] & 0xff);
        outSkip = length;
        int type = outHeader[3] & 0xff;
        int stream = streamId(outHeader);
        boolean answer = (type == HEADERS || type == DATA) && (outHeader[4] & END_STREAM) != 0;
        if (stream != 0 && (answer || type == RST_STREAM)) {
          if (!ended(stream)) {
            markEnded(stream);
            if (type != RST_STREAM) {
              answered++;
            }
          }
        }
      }
    }
  }

  private void scan(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end && !passThrough && !over) {
      if (prefaceMatched < PREFACE.length) {
        if (buf.getByte(i) != PREFACE[prefaceMatched]) {
          passThrough = true;
          return;
        }
        prefaceMatched++;
        i++;
      } else if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        i += n;
        skip -= n;
      } else if (paddedDataLength >= 0) {
        int padding = buf.getUnsignedByte(i);
        i++;
        skip = paddedDataLength - 1L;
        boolean empty = paddedDataLength - 1 - padding <= 0;
        paddedDataLength = -1;
        countData(empty, paddedDataFlags);
      } else {
        header[headerFill++] = buf.getByte(i++);
        if (headerFill == FRAME_HEADER) {
          headerFill = 0;
          frame();
        }
      }
    }
  }

  private void frame() {
    int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
    int type = header[3] & 0xff;
    int flags = header[4] & 0xff;
    int stream = streamId(header);
    if (type == HEADERS && stream > lastStreamId) {
      lastStreamId = stream;
    }
    skip = length;
    switch (type) {
      case DATA -> {
        if ((flags & PADDED) != 0 && length > 0) {
          paddedDataLength = length;
          paddedDataFlags = flags;
          skip = 0;
        } else {
          countData(length == 0, flags);
        }
      }
      case HEADERS -> count(false);
      case RST_STREAM -> reset();
      // Bounded elsewhere: CONTINUATION by Netty's header-list bound, GOAWAY and PUSH_PROMISE end
      // the connection.
      case CONTINUATION, GOAWAY, PUSH_PROMISE -> {}
      default -> count(true);
    }
  }

  private void reset() {
    int stream = streamId(header);
    if (ended(stream)) {
      // Ended already: by the server (an answer, or its own reset at the call's deadline), or by
      // an earlier reset. A client answers each frame that reaches it on a stream it has closed
      // with a reset: those are not the client's cancellations.
      return;
    }
    markEnded(stream);
    resets++;
    if (maxUnansweredResets > 0 && resets - answered > maxUnansweredResets) {
      over = true;
      overOnResets = true;
    }
  }

  private static int streamId(byte[] h) {
    return ((h[5] & 0x7f) << 24) | ((h[6] & 0xff) << 16) | ((h[7] & 0xff) << 8) | (h[8] & 0xff);
  }

  /** Whether {@code stream} is among the last {@link #RECENTLY_ENDED} streams ended. */
  private boolean ended(int stream) {
    for (int s : recentlyEnded) {
      if (s == stream) {
        return true;
      }
    }
    return false;
  }

  private void markEnded(int stream) {
    recentlyEnded[recentlyEndedNext] = stream;
    recentlyEndedNext = (recentlyEndedNext + 1) % RECENTLY_ENDED;
  }

  private void countData(boolean empty, int flags) {
    if (!empty) {
      count(false);
    } else if ((flags & END_STREAM) == 0) {
      count(true);
    }
  }

  private void count(boolean control) {
    if (maxFrames == 0) {
      return;
    }
    long now = nanoClock.getAsLong();
    if (!windowStarted || now - windowStart >= windowNanos) {
      windowStarted = true;
      windowStart = now;
      controlFrames = 0;
      callFrames = 0;
    }
    if (!control) {
      callFrames++;
      return;
    }
    controlFrames++;
    if (controlFrames > maxFrames + CREDIT_PER_CALL_FRAME * callFrames) {
      over = true;
    }
  }

  private void goAway(ChannelHandlerContext ctx) {
    (overOnResets ? resetFloods : floods).increment();
    byte[] debug =
        (overOnResets ? RESETS_GOAWAY_DEBUG : GOAWAY_DEBUG).getBytes(StandardCharsets.US_ASCII);
    ByteBuf frame = ctx.alloc().buffer(FRAME_HEADER + 8 + debug.length);
    frame.writeMedium(8 + debug.length).writeByte(GOAWAY).writeByte(0).writeInt(0);
    frame.writeInt(lastStreamId).writeInt((int) ENHANCE_YOUR_CALM).writeBytes(debug);
    // Read no more of the flood; close once the GOAWAY is written, or after a second when a client
    // that does not read keeps it from being written.
    ctx.channel().config().setAutoRead(false);
    // ctx.close(), not the channel's: grpc-java's handler, further on, would answer a close with a
    // graceful GOAWAY NO_ERROR and wait for the attacker's calls.
    ctx.writeAndFlush(frame).addListener(f -> ctx.close());
    ctx.executor().schedule(() -> ctx.close(), CLOSE_AFTER_SECONDS, TimeUnit.SECONDS);
  }
}
