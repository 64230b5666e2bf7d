package io.otlp4j.bench.relay;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
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
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The upstream end of the pass-through benchmark: an OTLP/gRPC server (grpc-java, a byte-counting
 * marshaller that never parses) and an OTLP/HTTP server (Netty, 200 with an empty body) that drop
 * every payload and count its bytes and the requests. Spans are not walked here (that would spend
 * the CPU the middle needs on a 2-core machine): every middle forwards the load generator's request
 * bytes unchanged (the relay concatenates whole requests, the naive relay re-encodes to the same
 * length, the forwarder copies bytes), so spans = payload bytes × spans per request / bytes per
 * request.
 *
 * <p>Faults: with {@link #failFraction} above 0 that fraction of requests is answered with a
 * retryable error instead ({@code UNAVAILABLE} over gRPC, {@code 503} with {@code Retry-After: 1}
 * over HTTP), counted in {@link #refused()} and not in the bytes or requests.
 *
 * <p>Thread-safe; counters may be read at any time. {@link #close()} stops both servers and drops
 * their connections: the benchmark's "upstream down" phase; a new instance on the same ports
 * ({@link #CountingUpstream(int, int, int)}) brings it back.
 */
final class CountingUpstream implements AutoCloseable {

  private static final ThreadLocal<byte[]> SCRATCH =
      ThreadLocal.withInitial(() -> new byte[64 * 1024]);

  private final EventLoopGroup group;
  private final Server grpc;
  private final Channel http;
  private final ChannelGroup httpConnections =
      new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final LongAdder bytes = new LongAdder();
  private final LongAdder requests = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private volatile double failFraction;

  CountingUpstream(int ioThreads) throws IOException, InterruptedException {
    this(ioThreads, 0, 0);
  }

  /** Listens on the given ports (0: any free port). */
  CountingUpstream(int ioThreads, int grpcPort, int httpPort)
      throws IOException, InterruptedException {
    group = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
    MethodDescriptor.Marshaller<Object> counting =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(Object value) {
            return new ByteArrayInputStream(new byte[0]);
          }

          @Override
          public Object parse(InputStream stream) {
            try {
              // bulk reads into a per-thread scratch array: the bytes are only counted
              byte[] scratch = SCRATCH.get();
              long n = 0;
              for (int r; (r = stream.read(scratch)) > 0; ) {
                n += r;
              }
              return n; // counted by the handler, unless it refuses the request

            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", grpcPort))
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group)
            .channelType(NioServerSocketChannel.class)
            .maxInboundMessageSize(256 * 1024 * 1024)
            .withChildOption(ChannelOption.TCP_NODELAY, true)
            .directExecutor();
    for (Signal signal : Signal.values()) {
      MethodDescriptor<Object, Object> method =
          MethodDescriptor.newBuilder(counting, counting)
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
                        if (refuse()) {
                          response.onError(
                              Status.UNAVAILABLE
                                  .withDescription("injected fault")
                                  .asRuntimeException());
                          return;
                        }
                        bytes.add((Long) request);
                        requests.increment();
                        response.onNext(Boolean.TRUE);
                        response.onCompleted();
                      }))
              .build());
    }
    grpc = builder.build().start();
    http =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    httpConnections.add(ch);
                    ch.pipeline()
                        .addLast(
                            new HttpServerCodec(),
                            new ChannelInboundHandlerAdapter() {
                              private long body; // bytes of the request being read

                              @Override
                              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof HttpContent content) {
                                  body += content.content().readableBytes();
                                }
                                boolean last = msg instanceof LastHttpContent;
                                ReferenceCountUtil.release(msg);
                                if (last) {
                                  boolean fail = refuse();
                                  if (!fail) {
                                    bytes.add(body);
                                    requests.increment();
                                  }
                                  body = 0;
                                  DefaultFullHttpResponse ok =
                                      new DefaultFullHttpResponse(
                                          HttpVersion.HTTP_1_1,
                                          fail
                                              ? HttpResponseStatus.SERVICE_UNAVAILABLE
                                              : HttpResponseStatus.OK);
                                  if (fail) {
                                    ok.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
                                  }
                                  ok.headers()
                                      .set(HttpHeaderNames.CONTENT_TYPE, "application/x-protobuf");
                                  ok.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
                                  ctx.writeAndFlush(ok);
                                }
                              }
                            });
                  }
                })
            .bind("127.0.0.1", httpPort)
            .sync()
            .channel();
  }

  int grpcPort() {
    return grpc.getPort();
  }

  int httpPort() {
    return ((InetSocketAddress) http.localAddress()).getPort();
  }

  /** Payload bytes received so far (gRPC message bytes, HTTP body bytes). */
  long bytes() {
    return bytes.sum();
  }

  /** Export requests received (and not refused) so far. */
  long requests() {
    return requests.sum();
  }

  /** Requests answered with an injected retryable error so far. */
  long refused() {
    return refused.sum();
  }

  /** From now on, answer {@code fraction} (0 to 1) of the requests with a retryable error. */
  void failFraction(double fraction) {
    this.failFraction = fraction;
  }

  private boolean refuse() {
    double f = failFraction;
    if (f > 0 && ThreadLocalRandom.current().nextDouble() < f) {
      refused.increment();
      return true;
    }
    return false;
  }

  @Override
  public void close() throws InterruptedException {
    grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    http.close().sync();
    httpConnections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }
}
