package io.otlp4j.bench.soak;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.TimeUnit;

/**
 * The soak's upstream: a Netty OTLP/HTTP server (protobuf, uncompressed) that decodes every request
 * with the official opentelemetry-proto classes and records each span in the {@link Ledger}, then
 * answers 200 with an empty {@code ExportTraceServiceResponse} and the header {@value
 * #ITEMS_HEADER} (the spans in the request), which the {@link FaultProxy} reads to count the items
 * of an answer it could not deliver. A body that does not decode is answered 400 and counted.
 *
 * <p>{@link #close()} stops the server and drops its connections (an upstream restart is a close
 * and a new instance on the same port). Thread-safe.
 */
final class SoakSink implements AutoCloseable {
  static final String ITEMS_HEADER = "x-soak-items";
  private static final int MAX_BODY = 64 * 1024 * 1024;

  private final EventLoopGroup group;
  private final Channel server;
  private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

  SoakSink(int port, Ledger ledger) throws InterruptedException {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    ChannelGroup all = channels;
    try {
      server =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .option(io.netty.channel.ChannelOption.SO_REUSEADDR, true)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      all.add(ch);
                      ch.pipeline()
                          .addLast(
                              new HttpServerCodec(),
                              new HttpObjectAggregator(MAX_BODY),
                              new Handler(ledger));
                    }
                  })
              .bind("127.0.0.1", port)
              .sync()
              .channel();
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** Decodes, records, answers. The aggregated request is released by the superclass. */
  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Ledger ledger;

    Handler(Ledger ledger) {
      this.ledger = ledger;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      FullHttpResponse response;
      try (InputStream in = new ByteBufInputStream(request.content().duplicate())) {
        ExportTraceServiceRequest decoded = ExportTraceServiceRequest.parseFrom(in);
        int spans = ledger.delivered(decoded);
        byte[] body = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
        response =
            new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(body));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-protobuf");
        response.headers().set(ITEMS_HEADER, spans);
      } catch (IOException | RuntimeException e) {
        ledger.undecodable();
        response =
            new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST);
      }
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
