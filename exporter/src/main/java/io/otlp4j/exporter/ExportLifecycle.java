package io.otlp4j.exporter;

import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link OtlpExporter}'s exports in progress and its shutdown: the drain of the calls in flight
 * until the deadline, then the forced end of the rest, then the close of the transport and the I/O
 * threads (once).
 *
 * <h2>Concurrency</h2>
 *
 * Thread-safe. {@code shuttingDown} is volatile and set once; a call is {@link #add added} before
 * its exporter checks {@link #shuttingDown()} a second time, so a call racing with {@link
 * #shutdown} is either seen by the drain or aborted by its exporter. {@code closing} makes the
 * close run once.
 */
final class ExportLifecycle {

  private final Transport transport;
  private final EventLoopGroup group;
  private final ScheduledExecutorService scheduler;
  private final Set<ExportCall> active = ConcurrentHashMap.newKeySet();
  private volatile boolean shuttingDown;
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  ExportLifecycle(Transport transport, EventLoopGroup group) {
    this.transport = transport;
    this.group = group;
    this.scheduler = group;
  }

  boolean shuttingDown() {
    return shuttingDown;
  }

  void add(ExportCall call) {
    active.add(call);
  }

  void callFinished(ExportCall call) {
    active.remove(call);
    if (shuttingDown && active.isEmpty()) {
      closeTransport();
    }
  }

  /** See {@link OtlpExporter#shutdown}. */
  CompletableFuture<Void> shutdown(Duration deadline) {
    if (!shuttingDown) {
      shuttingDown = true;
      if (active.isEmpty()) {
        closeTransport();
      } else {
        scheduler.schedule(this::forceShutdown, deadline.toNanos(), TimeUnit.NANOSECONDS);
      }
    }
    return terminated;
  }

  private void forceShutdown() {
    for (ExportCall call : active) {
      call.abort();
    }
    if (!active.isEmpty()) {
      transport.shutdownNow(); // the calls on the wire fail now, and report their outcome
    }
  }

  private final AtomicLong closing = new AtomicLong();

  private void closeTransport() {
    if (closing.getAndIncrement() != 0) {
      return;
    }
    transport
        .shutdown()
        .whenComplete(
            (v, e) -> {
              transport.shutdownNow();
              group
                  .shutdownGracefully(0, 1, TimeUnit.SECONDS)
                  .addListener(f -> terminated.complete(null));
            });
  }
}
