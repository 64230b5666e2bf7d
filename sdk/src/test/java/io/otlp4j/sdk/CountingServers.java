package io.otlp4j.sdk;

import io.grpc.Attributes;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
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
import io.otlp4j.grpc.ByteArrayMarshaller;
import io.otlp4j.grpc.ZstdCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real grpc-java server and a real Netty HTTP/1.1 server on 127.0.0.1 that count what a client
 * does: connections opened, calls or requests started (to any method or path), and for HTTP the
 * bytes received. Every call or request is answered with success and an empty response.
 */
final class CountingServers implements AutoCloseable {

  final AtomicInteger grpcConnections = new AtomicInteger();
  final AtomicInteger grpcCalls = new AtomicInteger();
  final AtomicInteger httpConnections = new AtomicInteger();
  final AtomicInteger httpRequests = new AtomicInteger();
  final AtomicLong httpBytes = new AtomicLong();

  private final Server grpc;
  private final EventLoopGroup httpGroup;
  private final Channel http;

  CountingServers() {
    ServerCallHandler<byte[], byte[]> answer =
        (call, headers) -> {
          grpcCalls.incrementAndGet();
          call.request(1);
          return new ServerCall.Listener<>() {
            @Override
            public void onHalfClose() {
              call.sendHeaders(new Metadata());
              call.sendMessage(new byte[0]);
              call.close(Status.OK, new Metadata());
            }
          };
        };
    HandlerRegistry anyMethod =
        new HandlerRegistry() {
          @Override
          public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
            return ServerMethodDefinition.create(
                MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setType(MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName(method)
                    .setRequestMarshaller(ByteArrayMarshaller.INSTANCE)
                    .setResponseMarshaller(ByteArrayMarshaller.INSTANCE)
                    .build(),
                answer);
          }
        };
    try {
      grpc =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .fallbackHandlerRegistry(anyMethod)
              .decompressorRegistry(ZstdCodec.decompressors())
              .addTransportFilter(
                  new ServerTransportFilter() {
                    @Override
                    public Attributes transportReady(Attributes attributes) {
                      grpcConnections.incrementAndGet();
                      return attributes;
                    }
                  })
              .build()
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    httpGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    http =
        new ServerBootstrap()
            .group(httpGroup)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    httpConnections.incrementAndGet();
                    ch.pipeline()
                        .addLast(
                            new ChannelInboundHandlerAdapter() {
                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                httpBytes.addAndGet(((ByteBuf) msg).readableBytes());
                                ctx.fireChannelRead(msg);
                              }
                            })
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(64 * 1024 * 1024))
                        .addLast(
                            new SimpleChannelInboundHandler<FullHttpRequest>() {
                              @Override
                              protected void channelRead0(
                                  ChannelHandlerContext ctx, FullHttpRequest request) {
                                httpRequests.incrementAndGet();
                                FullHttpResponse response =
                                    new DefaultFullHttpResponse(
                                        HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
                                response
                                    .headers()
                                    .set(HttpHeaderNames.CONTENT_TYPE, "application/x-protobuf")
                                    .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                                ctx.writeAndFlush(response);
                              }
                            });
                  }
                })
            .bind("127.0.0.1", 0)
            .syncUninterruptibly()
            .channel();
  }

  String grpcEndpoint() {
    return "http://127.0.0.1:" + grpc.getPort();
  }

  String httpEndpoint() {
    return "http://127.0.0.1:" + ((InetSocketAddress) http.localAddress()).getPort();
  }

  /** Connections this protocol's server has seen. */
  int connections(boolean grpcProtocol) {
    return grpcProtocol ? grpcConnections.get() : httpConnections.get();
  }

  /** Calls or requests this protocol's server has seen. */
  int requests(boolean grpcProtocol) {
    return grpcProtocol ? grpcCalls.get() : httpRequests.get();
  }

  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    http.close().syncUninterruptibly();
    httpGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
