package io.otlp4j.receiver;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.otlp4j.core.MetricsRegistry;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A bound on the TCP connections one receiver's listening socket keeps open: a connection accepted
 * while {@code max} are open is closed at once, before any handler or TLS engine is set up for it
 * (the client sees its connection closed, or reset if it already sent bytes), and counted in {@code
 * otlp4j_receiver_refused_connections_total}; {@code otlp4j_receiver_open_connections} shows how
 * many are open. Connections already open are not affected: a well-behaved client holding one keeps
 * being served while a flood of new connections is turned away.
 *
 * <p>The check happens in the server channel's accept loop ({@link #channelFactory()}), so it works
 * the same for grpc-java's Netty server and for the OTLP/HTTP server.
 *
 * <p><b>Concurrency:</b> one accept loop (the server channel's event loop) increments; each
 * connection's close listener, on its own event loop, decrements. The count may briefly exceed
 * {@code max} by nothing: the increment is a CAS loop that never passes {@code max}.
 */
final class ConnectionLimit {

  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final MetricsRegistry.Counter refused;

  /** A handler put first in every accepted connection's pipeline, or null. */
  private final Supplier<ChannelHandler> firstHandler;

  ConnectionLimit(int max, MetricsRegistry registry, String receiver, String transport) {
    this(max, registry, receiver, transport, null);
  }

  /**
   * As the four-argument form, and every accepted connection gets a new {@code firstHandler} at the
   * head of its pipeline, before the server's own handlers are added.
   */
  ConnectionLimit(
      int max,
      MetricsRegistry registry,
      String receiver,
      String transport,
      Supplier<ChannelHandler> firstHandler) {
    if (max <= 0) {
      throw new IllegalArgumentException("max connections must be positive, was " + max);
    }
    this.max = max;
    this.firstHandler = firstHandler;
    this.refused =
        registry.counter(
            "otlp4j_receiver_refused_connections_total",
            "TCP connections closed at once because the receiver's max_connections were open.",
            "receiver",
            receiver,
            "transport",
            transport);
    registry.gauge(
        "otlp4j_receiver_open_connections",
        "TCP connections open to the receiver.",
        open::get,
        "receiver",
        receiver,
        "transport",
        transport);
  }

  /** Connections open now. */
  int open() {
    return open.get();
  }

  /** Connections refused since the start. */
  long refused() {
    return refused.get();
  }

  /** A factory of NIO server channels that apply this limit to what they accept. */
  ChannelFactory<ServerChannel> channelFactory() {
    return LimitedServerChannel::new;
  }

  /** Takes one of the {@code max} places, or returns false when all are taken. */
  private boolean tryOpen() {
    while (true) {
      int n = open.get();
      if (n >= max) {
        return false;
      }
      if (open.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  private final class LimitedServerChannel extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int before = buf.size();
      int accepted = super.doReadMessages(buf);
      for (int i = buf.size() - 1; i >= before; i--) {
        Channel child = (Channel) buf.get(i);
        if (tryOpen()) {
          child.closeFuture().addListener(f -> open.decrementAndGet());
          if (firstHandler != null) {
            child.pipeline().addFirst(firstHandler.get());
          }
        } else {
          buf.remove(i);
          accepted--;
          refused.increment();
          // Not registered with an event loop yet: closes the socket directly.
          child.unsafe().closeForcibly();
        }
      }
      return accepted;
    }
  }
}
