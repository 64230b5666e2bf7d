package io.otlp4j.bench.relay;

import io.grpc.CallOptions;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The load generator of the pass-through benchmark: {@code connections} OTLP clients (each its own
 * TCP connection: a grpc-java channel with a byte-passthrough marshaller, or a Netty HTTP/1.1
 * keep-alive connection), each with at most one export in flight, all sending the same pre-encoded
 * request.
 *
 * <ul>
 *   <li><b>Closed loop</b> ({@link #startClosedLoop}): each connection sends its next request as
 *       soon as the last is answered — the maximum rate. After a refusal it waits {@code
 *       retryBackoff} (as an OTLP client honouring {@code Retry-After} would, shortened) instead of
 *       hammering.
 *   <li><b>Open loop</b> ({@link #startOpenLoop}): requests are due at a fixed rate whatever the
 *       answers (a 1 ms scheduler tick releases every request due); a due request takes an idle
 *       connection or waits for one, and its latency counts from the time it was due, so queueing
 *       is not hidden (no coordinated omission). At most {@link #MAX_PENDING} requests wait; more
 *       are counted as dropped.
 * </ul>
 *
 * <p>Thread-safety: start, stop and read counters from one driver thread; answers arrive on I/O
 * threads.
 */
final class LoadGenerator implements AutoCloseable {

  /** Due requests waiting for a free connection in the open loop before more are dropped. */
  static final int MAX_PENDING = 100_000;

  /** How long one export may take before it counts as failed. */
  static final long EXPORT_TIMEOUT_MS = 10_000;

  /** One client connection with at most one export in flight. */
  interface Connection extends AutoCloseable {
    /** Sends the payload; {@code answer} is called exactly once, on any thread. */
    void send(Answer answer);

    @Override
    void close();
  }

  /** The outcome of one export. */
  @FunctionalInterface
  interface Answer {
    void answered(boolean success);
  }

  private final List<Connection> connections = new ArrayList<>();
  private final EventLoopGroup group;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "load-scheduler");
            t.setDaemon(true);
            return t;
          });
  private final long retryBackoffMs;

  private final LongAdder succeeded = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final Recorder latency = new Recorder(TimeUnit.SECONDS.toNanos(60), 3);
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object idleLock = new Object();

  private volatile boolean running;

  /**
   * Bumped by every start, so a closed-loop retry scheduled in an earlier phase never fires in a
   * later one.
   */
  private volatile int phase;

  private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
  private final ArrayDeque<Long> pending = new ArrayDeque<>(); // due times, guarded by itself
  private ScheduledFuture<?> ticker;

  private LoadGenerator(int ioThreads, long retryBackoffMs) {
    this.group = new MultiThreadIoEventLoopGroup(ioThreads, NioIoHandler.newFactory());
    this.retryBackoffMs = retryBackoffMs;
  }

  /** {@code connections} OTLP/gRPC clients of {@code 127.0.0.1:port}. */
  static LoadGenerator grpc(
      int port, int connections, byte[] payload, int ioThreads, long retryBackoffMs) {
    return grpc(port, connections, payload, ioThreads, retryBackoffMs, false);
  }

  /**
   * As {@link #grpc(int, int, byte[], int, long)}; with {@code freshTraceIds} every export carries
   * new trace ids ({@link FreshTraceIds}), so that a {@code tail_sampling} middle sees new traces.
   */
  static LoadGenerator grpc(
      int port,
      int connections,
      byte[] payload,
      int ioThreads,
      long retryBackoffMs,
      boolean freshTraceIds) {
    LoadGenerator g = new LoadGenerator(ioThreads, retryBackoffMs);
    for (int i = 0; i < connections; i++) {
      byte[] p = freshTraceIds ? payload.clone() : payload;
      Connection c = new GrpcConnection(g.group, port, p);
      g.connections.add(freshTraceIds ? new FreshTraceIds(c, p, i) : c);
    }
    return g;
  }

  /**
   * {@code connections} OTLP/HTTP (protobuf) clients of {@code http://127.0.0.1:port/v1/traces}.
   */
  static LoadGenerator http(
      int port, int connections, byte[] payload, int ioThreads, long retryBackoffMs)
      throws InterruptedException {
    return http(port, connections, payload, ioThreads, retryBackoffMs, false);
  }

  /** As {@link #grpc(int, int, byte[], int, long, boolean)}, over OTLP/HTTP. */
  static LoadGenerator http(
      int port,
      int connections,
      byte[] payload,
      int ioThreads,
      long retryBackoffMs,
      boolean freshTraceIds)
      throws InterruptedException {
    LoadGenerator g = new LoadGenerator(ioThreads, retryBackoffMs);
    for (int i = 0; i < connections; i++) {
      byte[] p = freshTraceIds ? payload.clone() : payload;
      Connection c = new HttpConnection(g.group, port, p);
      g.connections.add(freshTraceIds ? new FreshTraceIds(c, p, i) : c);
    }
    return g;
  }

  /**
   * A connection whose payload (its own copy) gets new trace ids before each export: the first 8
   * bytes of every trace id become the connection's number and a send counter, the last 8 stay (so
   * the spans of one trace stay together and traces stay apart). Safe because a connection has at
   * most one export in flight and the previous one was written before it was answered.
   */
  static final class FreshTraceIds implements Connection {
    private final Connection inner;
    private final byte[] payload;
    private final int[] offsets;
    private final long prefix;
    private long sends;

    FreshTraceIds(Connection inner, byte[] payload, int connection) {
      this.inner = inner;
      this.payload = payload;
      this.prefix = (long) (connection + 1) << 44;
      List<Integer> found = new ArrayList<>();
      io.otlp4j.wire.OtlpWalker.create()
          .walk(
              Signal.TRACES,
              java.nio.ByteBuffer.wrap(payload),
              new io.otlp4j.wire.OtlpVisitor() {
                @Override
                public void traceId(int start, int end) {
                  if (end - start == 16) {
                    found.add(start);
                  }
                }
              });
      this.offsets = found.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public void send(Answer answer) {
      long id = prefix | ++sends;
      for (int off : offsets) {
        for (int i = 0; i < 8; i++) {
          payload[off + i] = (byte) (id >>> (56 - 8 * i));
        }
      }
      inner.send(answer);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /** Successful exports so far. */
  long succeeded() {
    return succeeded.sum();
  }

  /** Refused or failed exports so far. */
  long failed() {
    return failed.sum();
  }

  /** Open-loop requests dropped because {@link #MAX_PENDING} were already waiting. */
  long dropped() {
    return dropped.sum();
  }

  /**
   * The latencies (ns, from the due time) of the successful open-loop exports since the last call.
   */
  Histogram takeLatencies() {
    return latency.getIntervalHistogram();
  }

  /** Every connection sends back to back until {@link #stop}. */
  void startClosedLoop() {
    int p = phase + 1; // only the controlling thread starts and stops: read-then-write is enough
    phase = p;
    running = true;
    for (Connection c : connections) {
      sendClosed(c, p);
    }
  }

  private void sendClosed(Connection c, int p) {
    if (!running || p != phase) {
      return;
    }
    inFlight.incrementAndGet();
    c.send(
        success -> {
          if (success) {
            succeeded.increment();
          } else {
            failed.increment();
          }
          finished();
          if (!running) {
            return;
          }
          if (success) {
            sendClosed(c, p);
          } else {
            scheduler.schedule(() -> sendClosed(c, p), retryBackoffMs, TimeUnit.MILLISECONDS);
          }
        });
  }

  /** Requests fall due at {@code requestsPerSecond} until {@link #stop}. */
  void startOpenLoop(double requestsPerSecond) {
    if (!(requestsPerSecond > 0)) {
      throw new IllegalArgumentException(
          "requestsPerSecond must be positive, was " + requestsPerSecond);
    }
    int p = phase + 1; // only the controlling thread starts and stops: read-then-write is enough
    phase = p;
    idle.clear();
    idle.addAll(connections);
    running = true;
    long start = System.nanoTime();
    double intervalNs = 1e9 / requestsPerSecond;
    long[] issued = {0};
    ticker =
        scheduler.scheduleAtFixedRate(
            () -> {
              long now = System.nanoTime();
              long due = (long) ((now - start) / intervalNs) + 1;
              synchronized (pending) {
                for (; issued[0] < due; issued[0]++) {
                  if (pending.size() >= MAX_PENDING) {
                    dropped.increment();
                  } else {
                    pending.add(start + (long) (issued[0] * intervalNs));
                  }
                }
              }
              dispatchPending();
            },
            0,
            1,
            TimeUnit.MILLISECONDS);
  }

  /** Sends waiting requests on idle connections; called by the ticker and after every answer. */
  private void dispatchPending() {
    while (running) {
      Connection c = idle.poll();
      if (c == null) {
        return;
      }
      Long dueAt;
      synchronized (pending) {
        dueAt = pending.poll();
      }
      if (dueAt == null) {
        idle.add(c);
        // a request may have become pending after the poll: the ticker dispatches it on its next
        // tick
        return;
      }
      sendOpen(c, dueAt);
    }
  }

  private void sendOpen(Connection c, long dueAt) {
    inFlight.incrementAndGet();
    c.send(
        success -> {
          if (success) {
            latency.recordValue(Math.max(0, System.nanoTime() - dueAt));
            succeeded.increment();
          } else {
            failed.increment();
          }
          idle.add(c);
          finished();
          dispatchPending();
        });
  }

  private void finished() {
    if (inFlight.decrementAndGet() == 0 && !running) {
      synchronized (idleLock) {
        idleLock.notifyAll();
      }
    }
  }

  /** Stops sending and waits (up to {@link #EXPORT_TIMEOUT_MS}) for the exports in flight. */
  void stop() throws InterruptedException {
    running = false;
    if (ticker != null) {
      ticker.cancel(false);
      ticker = null;
    }
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(EXPORT_TIMEOUT_MS + 1000);
    synchronized (idleLock) {
      long left;
      while (inFlight.get() > 0 && (left = end - System.nanoTime()) > 0) {
        idleLock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    }
    synchronized (pending) {
      pending.clear();
    }
    idle.clear();
  }

  @Override
  public void close() throws InterruptedException {
    stop();
    scheduler.shutdownNow();
    for (Connection c : connections) {
      c.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  // ------------------------------------------------------------------------------------------ gRPC

  /** The request bytes, written by grpc-java straight from the array (known length, drainable). */
  private static final class PayloadStream extends ByteArrayInputStream
      implements KnownLength, Drainable {
    PayloadStream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }

  private static final MethodDescriptor.Marshaller<byte[]> REQUEST =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new PayloadStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          throw new UnsupportedOperationException("client side only");
        }
      };

  private static final MethodDescriptor.Marshaller<Boolean> RESPONSE =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(Boolean value) {
          throw new UnsupportedOperationException("client side only");
        }

        @Override
        public Boolean parse(InputStream stream) {
          try {
            stream.transferTo(OutputStream.nullOutputStream());
            return Boolean.TRUE;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static final MethodDescriptor<byte[], Boolean> EXPORT_TRACES =
      MethodDescriptor.newBuilder(REQUEST, RESPONSE)
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(
              MethodDescriptor.generateFullMethodName(Signal.TRACES.grpcService(), "Export"))
          .build();

  private static final class GrpcConnection implements Connection {
    private final ManagedChannel channel;
    private final byte[] payload;

    GrpcConnection(EventLoopGroup group, int port, byte[] payload) {
      this.channel =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .eventLoopGroup(group)
              .channelType(NioSocketChannel.class)
              .usePlaintext()
              .directExecutor()
              .maxInboundMessageSize(4 * 1024 * 1024)
              .build();
      this.payload = payload;
    }

    @Override
    public void send(Answer answer) {
      CallOptions options =
          CallOptions.DEFAULT.withDeadlineAfter(EXPORT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      ClientCalls.asyncUnaryCall(
          channel.newCall(EXPORT_TRACES, options),
          payload,
          new StreamObserver<Boolean>() {
            @Override
            public void onNext(Boolean value) {}

            @Override
            public void onError(Throwable t) {
              answer.answered(false);
            }

            @Override
            public void onCompleted() {
              answer.answered(true);
            }
          });
    }

    @Override
    public void close() {
      channel.shutdownNow();
    }
  }

  // ------------------------------------------------------------------------------------------ HTTP

  /**
   * One HTTP/1.1 keep-alive connection, reconnected on demand. Not pipelined: one request at a
   * time. The request body wraps the shared payload array (no copy); the response is aggregated and
   * released.
   */
  private static final class HttpConnection extends SimpleChannelInboundHandler<FullHttpResponse>
      implements Connection {
    private final Bootstrap bootstrap;
    private final byte[] payload;
    private final String host;
    private volatile Channel channel;
    private volatile Answer current;

    HttpConnection(EventLoopGroup group, int port, byte[] payload) throws InterruptedException {
      this.payload = payload;
      this.host = "127.0.0.1:" + port;
      HttpConnection self = this;
      this.bootstrap =
          new Bootstrap()
              .group(group)
              .channel(NioSocketChannel.class)
              .option(ChannelOption.TCP_NODELAY, true)
              .remoteAddress("127.0.0.1", port)
              .handler(
                  new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                      ch.pipeline()
                          .addLast(
                              new HttpClientCodec(), new HttpObjectAggregator(1024 * 1024), self);
                    }
                  });
      this.channel = bootstrap.connect().sync().channel();
    }

    @Override
    public boolean isSharable() {
      return true; // one channel at a time: a reconnect replaces the closed one
    }

    @Override
    public void send(Answer answer) {
      current = answer;
      Channel ch = channel;
      if (ch.isActive()) {
        write(ch);
        return;
      }
      bootstrap
          .connect()
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (f.isSuccess()) {
                      channel = f.channel();
                      write(f.channel());
                    } else {
                      complete(false);
                    }
                  });
    }

    private void write(Channel ch) {
      FullHttpRequest request =
          new DefaultFullHttpRequest(
              HttpVersion.HTTP_1_1,
              HttpMethod.POST,
              Signal.TRACES.httpPath(),
              Unpooled.wrappedBuffer(payload));
      request
          .headers()
          .set(HttpHeaderNames.HOST, host)
          .set(HttpHeaderNames.CONTENT_TYPE, "application/x-protobuf")
          .setInt(HttpHeaderNames.CONTENT_LENGTH, payload.length)
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ch.writeAndFlush(request)
          .addListener(
              (ChannelFutureListener)
                  f -> {
                    if (!f.isSuccess()) {
                      f.channel().close();
                      complete(false);
                    }
                  });
    }

    private void complete(boolean success) {
      Answer a = current;
      current = null;
      if (a != null) {
        a.answered(success);
      }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
      complete(response.status().code() == 200);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (ctx.channel() == channel) { // not an old connection closing after a reconnect
        complete(false);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }

    @Override
    public void close() {
      channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
    }
  }
}
