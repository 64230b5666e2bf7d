package io.otlp4j.bench.exporter;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Loopback servers that read and drop every byte, answering as cheaply as their protocol allows, so
 * a benchmark measures the client: an OTLP/gRPC server (byte-draining marshaller, empty response),
 * an OTLP/HTTP server (Netty, 200 with no body) and a raw TCP sink (the physical limit's other
 * end).
 */
final class DiscardServers implements AutoCloseable {

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
  private final Server grpc;
  private final Channel http;
  private final Channel sink;

  DiscardServers() throws IOException, InterruptedException {
    MethodDescriptor.Marshaller<Object> discard =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(Object value) {
            return new ByteArrayInputStream(new byte[0]);
          }

          @Override
          public Object parse(InputStream stream) {
            try {
              stream.skip(Long.MAX_VALUE);
              while (stream.read() >= 0) {
                stream.skip(Long.MAX_VALUE);
              }
              return Boolean.TRUE;
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .maxInboundMessageSize(64 * 1024 * 1024)
            .withChildOption(ChannelOption.TCP_NODELAY, true)
            .directExecutor();
    for (Signal signal : Signal.values()) {
      MethodDescriptor<Object, Object> method =
          MethodDescriptor.newBuilder(discard, discard)
              .setType(MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(
                  MethodDescriptor.generateFullMethodName(signal.grpcService(), "Export"))
              .build();
      builder.addService(
          ServerServiceDefinition.builder(signal.grpcService())
              .addMethod(
                  method,
                  ServerCalls.asyncUnaryCall(
                      (request, response) -> {
                        response.onNext(Boolean.TRUE);
                        response.onCompleted();
                      }))
              .build());
    }
    grpc = builder.build().start();
    http =
        bind(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast(
                        new HttpServerCodec(),
                        new ChannelInboundHandlerAdapter() {
                          @Override
                          public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            boolean last = msg instanceof LastHttpContent;
                            ReferenceCountUtil.release(msg);
                            if (last) {
                              DefaultFullHttpResponse ok =
                                  new DefaultFullHttpResponse(
                                      HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                              ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                              ctx.writeAndFlush(ok);
                            }
                          }
                        });
              }
            });
    sink =
        bind(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast(
                        new ChannelInboundHandlerAdapter() {
                          @Override
                          public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ReferenceCountUtil.release(msg);
                          }
                        });
              }
            });
  }

  private Channel bind(ChannelInitializer<Channel> init) throws InterruptedException {
    return new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(init)
        .bind("127.0.0.1", 0)
        .sync()
        .channel();
  }

  int grpcPort() {
    return grpc.getPort();
  }

  int httpPort() {
    return ((InetSocketAddress) http.localAddress()).getPort();
  }

  int sinkPort() {
    return ((InetSocketAddress) sink.localAddress()).getPort();
  }

  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    http.close().sync();
    sink.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }
}
