package io.otlp4j.exporter;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.ssl.SslHandler;
import io.otlp4j.core.NanoClock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * A bounded pool of HTTP/1.1 connections to one endpoint.
 *
 * <h2>Invariants</h2>
 *
 * At most {@code maxConnections} connections are open or opening. A connection is handed out to one
 * caller at a time, and only when it passes the health check: the channel is active (a connection
 * the server closed or half-closed is closed by Netty and so fails it), it has not outlived its max
 * lifetime, and it has not sat idle past the idle timeout. A connection that fails is closed and
 * replaced, never used. Idle connections are handed out most recently used first, so the rest age
 * out; a reaper closes those idle past the idle timeout or older than the max lifetime, and a
 * connection closed by the server while idle leaves the pool as soon as Netty sees the close.
 *
 * <h2>Backpressure</h2>
 *
 * An acquire that finds no idle connection waits (no thread blocks: it is a queued callback) for a
 * new connection, if the pool may open one, or for a release; after the acquire timeout it fails
 * with a {@link TimeoutException}. Waiters are served first come, first served. The queue is
 * bounded by the exporter's in-flight bound.
 *
 * <h2>Concurrency</h2>
 *
 * One lock guards the idle deque, the waiter queue and the counts; it is held for a few field
 * updates only, never across I/O or a callback. Callbacks run on event loop threads.
 */
final class ConnectionPool {

  private final Bootstrap bootstrap;
  private final Endpoint endpoint;
  private final int maxConnections;
  private final long acquireTimeoutNanos;
  private final long idleTimeoutNanos;
  private final long maxLifetimeNanos;
  private final ScheduledExecutorService scheduler;
  private final NanoClock clock;

  private final Object lock = new Object();
  private final ArrayDeque<HttpConnection> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final java.util.Set<HttpConnection> all = new java.util.HashSet<>(); // guarded by lock
  private int open; // connections open or opening, guarded by lock
  private long created; // guarded by lock
  private boolean closed; // guarded by lock
  private final ScheduledFuture<?> reaper;

  ConnectionPool(
      Bootstrap bootstrap,
      Endpoint endpoint,
      int maxConnections,
      long acquireTimeoutNanos,
      long idleTimeoutNanos,
      long maxLifetimeNanos,
      ScheduledExecutorService scheduler,
      NanoClock clock) {
    this.bootstrap = bootstrap;
    this.endpoint = endpoint;
    this.maxConnections = maxConnections;
    this.acquireTimeoutNanos = acquireTimeoutNanos;
    this.idleTimeoutNanos = idleTimeoutNanos;
    this.maxLifetimeNanos = maxLifetimeNanos;
    this.scheduler = scheduler;
    this.clock = clock;
    long period =
        Math.max(
            TimeUnit.MILLISECONDS.toNanos(10), Math.min(idleTimeoutNanos, maxLifetimeNanos) / 4);
    this.reaper =
        scheduler.scheduleWithFixedDelay(this::closeExpired, period, period, TimeUnit.NANOSECONDS);
  }

  /**
   * Hands a healthy connection to {@code callback}, now or later, or an error: the connect failure,
   * or a {@link TimeoutException} when none came within the acquire timeout. The receiver must give
   * the connection back with {@link #release} or close it.
   */
  void acquire(BiConsumer<HttpConnection, Throwable> callback) {
    List<HttpConnection> unhealthy = null;
    HttpConnection found = null;
    boolean connect = false;
    Waiter waiter = null;
    synchronized (lock) {
      if (closed) {
        found = null;
      } else {
        long now = clock.nanoTime();
        HttpConnection c;
        while ((c = idle.pollFirst()) != null) {
          if (isHealthy(c, now)) {
            found = c;
            break;
          }
          if (unhealthy == null) {
            unhealthy = new ArrayList<>(2);
          }
          unhealthy.add(c);
        }
        if (found == null) {
          waiter = new Waiter(callback);
          waiters.addLast(waiter);
          if (open < maxConnections) {
            open++;
            created++;
            connect = true;
          }
        }
      }
    }
    if (unhealthy != null) {
      for (HttpConnection c : unhealthy) {
        c.channel.close(); // the close listener forgets it
      }
    }
    if (found != null) {
      callback.accept(found, null);
      return;
    }
    if (waiter == null) {
      callback.accept(null, new IllegalStateException("exporter is shut down"));
      return;
    }
    Waiter w = waiter;
    w.timeout = scheduler.schedule(() -> timeOut(w), acquireTimeoutNanos, TimeUnit.NANOSECONDS);
    if (w.served) {
      w.timeout.cancel(false); // served before the timer was set
    }
    if (connect) {
      connect();
    }
  }

  private boolean isHealthy(HttpConnection c, long now) {
    return c.channel.isActive()
        && c.isReusable()
        && now - c.createdNanos < maxLifetimeNanos
        && now - c.lastUsedNanos < idleTimeoutNanos;
  }

  private void timeOut(Waiter w) {
    boolean removed;
    synchronized (lock) {
      removed = waiters.remove(w);
    }
    if (removed) {
      w.callback.accept(
          null,
          new TimeoutException(
              "no connection to "
                  + endpoint.authority()
                  + " within the acquire timeout of "
                  + TimeUnit.NANOSECONDS.toMillis(acquireTimeoutNanos)
                  + " ms ("
                  + maxConnections
                  + " max)"));
    }
  }

  private void connect() {
    ChannelFuture f = bootstrap.connect(endpoint.host, endpoint.port);
    f.addListener(
        done -> {
          if (!done.isSuccess()) {
            connectFailed(done.cause());
            return;
          }
          Channel ch = f.channel();
          HttpConnection c = ch.pipeline().get(HttpConnection.class);
          boolean closedMeanwhile;
          synchronized (lock) {
            all.add(c);
            closedMeanwhile = closed;
          }
          if (closedMeanwhile) {
            ch.close();
          }
          c.createdNanos = clock.nanoTime();
          c.lastUsedNanos = c.createdNanos;
          ch.closeFuture().addListener(x -> forget(c));
          SslHandler ssl = ch.pipeline().get(SslHandler.class);
          if (ssl == null) {
            handOff(c);
          } else {
            ssl.handshakeFuture()
                .addListener(
                    h -> {
                      if (h.isSuccess()) {
                        handOff(c);
                      } else {
                        ch.close();
                        failOneWaiter(
                            new javax.net.ssl.SSLHandshakeException(
                                "TLS handshake with "
                                    + endpoint.authority()
                                    + " failed: "
                                    + h.cause().getMessage()),
                            h.cause());
                      }
                    });
          }
        });
  }

  private void connectFailed(Throwable cause) {
    synchronized (lock) {
      open--;
    }
    failOneWaiter(null, cause);
  }

  private void failOneWaiter(Exception wrapper, Throwable cause) {
    Waiter w;
    synchronized (lock) {
      w = waiters.pollFirst();
    }
    if (w != null) {
      w.served();
      if (wrapper != null) {
        wrapper.initCause(cause);
        w.callback.accept(null, wrapper);
      } else {
        w.callback.accept(null, cause);
      }
    }
  }

  /** Gives a connection back after a complete exchange; an unhealthy one is closed instead. */
  void release(HttpConnection c) {
    long now = clock.nanoTime();
    c.lastUsedNanos = now;
    Waiter w = null;
    boolean close = false;
    synchronized (lock) {
      if (closed || c.forgotten || !isHealthy(c, now)) {
        close = true;
      } else {
        w = waiters.pollFirst();
        if (w == null) {
          idle.addFirst(c);
        }
      }
    }
    if (close) {
      c.channel.close();
    } else if (w != null) {
      w.served();
      w.callback.accept(c, null);
    }
  }

  /** A new connection goes to the longest waiter, or to the idle deque. */
  private void handOff(HttpConnection c) {
    Waiter w;
    boolean close = false;
    synchronized (lock) {
      w = waiters.pollFirst();
      if (w == null) {
        if (closed) {
          close = true;
        } else {
          idle.addFirst(c);
        }
      }
    }
    if (close) {
      c.channel.close();
    } else if (w != null) {
      w.served();
      w.callback.accept(c, null);
    }
  }

  /**
   * Runs once per connection, when its channel closes: frees its slot, and opens one for a waiter.
   */
  private void forget(HttpConnection c) {
    boolean connect = false;
    synchronized (lock) {
      if (c.forgotten) {
        return;
      }
      c.forgotten = true;
      idle.remove(c);
      all.remove(c);
      open--;
      if (!closed && !waiters.isEmpty() && open < maxConnections) {
        open++;
        created++;
        connect = true;
      }
    }
    if (connect) {
      connect();
    }
  }

  private void closeExpired() {
    List<HttpConnection> expired = null;
    synchronized (lock) {
      long now = clock.nanoTime();
      for (Iterator<HttpConnection> it = idle.iterator(); it.hasNext(); ) {
        HttpConnection c = it.next();
        if (!isHealthy(c, now)) {
          it.remove();
          if (expired == null) {
            expired = new ArrayList<>();
          }
          expired.add(c);
        }
      }
    }
    if (expired != null) {
      for (HttpConnection c : expired) {
        c.channel.close();
      }
    }
  }

  /** Connections open or opening. */
  int openConnections() {
    synchronized (lock) {
      return open;
    }
  }

  /** Connections waiting in the pool. */
  int idleConnections() {
    synchronized (lock) {
      return idle.size();
    }
  }

  /** Connections opened since the pool was created. */
  long connectionsCreated() {
    synchronized (lock) {
      return created;
    }
  }

  /** Closes idle connections now and the others as they are released; fails waiters. */
  CompletableFuture<Void> close() {
    List<HttpConnection> toClose;
    List<Waiter> toFail;
    synchronized (lock) {
      closed = true;
      toClose = new ArrayList<>(idle);
      idle.clear();
      toFail = new ArrayList<>(waiters);
      waiters.clear();
    }
    reaper.cancel(false);
    for (Waiter w : toFail) {
      w.served();
      w.callback.accept(null, new IllegalStateException("exporter is shut down"));
    }
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (HttpConnection c : toClose) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      c.channel.close().addListener(x -> f.complete(null));
      closing.add(f);
    }
    return CompletableFuture.allOf(closing.toArray(new CompletableFuture<?>[0]));
  }

  /** {@link #close()}, and closes the connections in use too: their exchanges fail at once. */
  void closeNow() {
    close();
    List<HttpConnection> inUse;
    synchronized (lock) {
      inUse = new ArrayList<>(all);
    }
    for (HttpConnection c : inUse) {
      c.channel.close();
    }
  }

  private static final class Waiter {
    final BiConsumer<HttpConnection, Throwable> callback;
    volatile ScheduledFuture<?> timeout;
    volatile boolean served;

    /** Called by whoever took this waiter off the queue. */
    void served() {
      served = true;
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
    }

    Waiter(BiConsumer<HttpConnection, Throwable> callback) {
      this.callback = callback;
    }
  }
}
