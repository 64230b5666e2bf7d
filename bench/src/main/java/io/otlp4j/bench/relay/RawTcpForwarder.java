package io.otlp4j.bench.relay;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The physical limit of a relay: a TCP forwarder that copies bytes between each client connection
 * and its own upstream connection (one upstream connection per client connection), in both
 * directions, without looking at them. OTLP/gRPC and OTLP/HTTP pass through it unchanged because it
 * never parses.
 *
 * <p>Backpressure: each side reads only after its last read was written to the other side
 * (auto-read off, one read per completed write), so a slow peer stalls its sender instead of
 * filling memory.
 *
 * <p><b>Buffer ownership:</b> every buffer read from one side is handed to {@code writeAndFlush} on
 * the other, which releases it; a buffer read after the other side closed is released here.
 *
 * <p>Thread-safe; each connection pair lives on one event loop. Must be closed.
 */
final class RawTcpForwarder implements AutoCloseable {

  private final EventLoopGroup group;
  private final Channel server;

  private RawTcpForwarder(EventLoopGroup group, Channel server) {
    this.group = group;
    this.server = server;
  }

  /**
   * Listens on {@code 127.0.0.1}, any free port, forwarding every accepted connection to {@code
   * upstream}.
   *
   * @param ioThreads event loop threads (0: Netty's default, twice the cores)
   */
  static RawTcpForwarder start(InetSocketAddress upstream, int ioThreads)
      throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
    try {
      Channel server =
          new ServerBootstrap()
              .group(group)
              .channel(NioServerSocketChannel.class)
              .childOption(ChannelOption.TCP_NODELAY, true)
              .childOption(ChannelOption.AUTO_READ, false)
              .childHandler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline().addLast(new ClientSide(upstream));
                    }
                  })
              .bind("127.0.0.1", 0)
              .sync()
              .channel();
      return new RawTcpForwarder(group, server);
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** The port clients connect to. */
  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  /** The client connection: opens the upstream connection, then copies client bytes to it. */
  private static final class ClientSide extends ChannelInboundHandlerAdapter {
    private final InetSocketAddress upstream;
    private Channel upstreamChannel;

    ClientSide(InetSocketAddress upstream) {
      this.upstream = upstream;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Channel client = ctx.channel();
      ChannelFuture connect =
          new Bootstrap()
              .group(client.eventLoop())
              .channel(NioSocketChannel.class)
              .option(ChannelOption.TCP_NODELAY, true)
              .option(ChannelOption.AUTO_READ, false)
              .handler(new UpstreamSide(client))
              .connect(upstream);
      upstreamChannel = connect.channel();
      connect.addListener(
          (ChannelFutureListener)
              f -> {
                if (f.isSuccess()) {
                  client.read();
                  f.channel().read();
                } else {
                  client.close();
                }
              });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      forward(msg, ctx.channel(), upstreamChannel);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (upstreamChannel != null) {
        closeOnFlush(upstreamChannel);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeOnFlush(ctx.channel());
    }
  }

  /** The upstream connection: copies upstream bytes (responses) back to the client. */
  private static final class UpstreamSide extends ChannelInboundHandlerAdapter {
    private final Channel client;

    UpstreamSide(Channel client) {
      this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      forward(msg, ctx.channel(), client);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeOnFlush(client);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeOnFlush(ctx.channel());
    }
  }

  /**
   * Writes {@code msg} (ownership transferred) to {@code to}, then reads the next chunk from {@code
   * from}.
   */
  private static void forward(Object msg, Channel from, Channel to) {
    if (!to.isActive()) {
      io.netty.util.ReferenceCountUtil.release(msg);
      closeOnFlush(from);
      return;
    }
    to.writeAndFlush(msg)
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (f.isSuccess()) {
                    from.read();
                  } else {
                    f.channel().close();
                    closeOnFlush(from);
                  }
                });
  }

  private static void closeOnFlush(Channel ch) {
    if (ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
