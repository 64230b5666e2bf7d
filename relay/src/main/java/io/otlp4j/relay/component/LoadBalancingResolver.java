package io.otlp4j.relay.component;

import io.otlp4j.core.MetricsRegistry;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Where the {@code loadbalancing} exporter's backends come from: the Collector's {@code static} and
 * {@code dns} resolvers. Each counts its resolutions in {@code
 * otelcol_loadbalancer_num_resolutions} (labels {@code resolver}, {@code success}).
 *
 * <p>{@link #start} is called once; the listener gets the endpoint list ({@code host:port}) after
 * every successful resolution, from the resolver's thread (or the caller's, for {@code static}).
 * {@link #close} is idempotent.
 */
abstract class LoadBalancingResolver implements AutoCloseable {
  private final String name;
  private final MetricsRegistry.Counter succeeded;
  private final MetricsRegistry.Counter failed;

  LoadBalancingResolver(String name, MetricsRegistry metrics) {
    this.name = name;
    this.succeeded = resolutions(metrics, name, "true");
    this.failed = resolutions(metrics, name, "false");
  }

  private static MetricsRegistry.Counter resolutions(
      MetricsRegistry m, String resolver, String success) {
    return m.counter(
        "otelcol_loadbalancer_num_resolutions",
        "Number of times the resolver has triggered new resolutions.",
        "resolver",
        resolver,
        "success",
        success);
  }

  /** The {@code resolver} label: {@code static} or {@code dns}. */
  final String name() {
    return name;
  }

  final void resolved(boolean success) {
    (success ? succeeded : failed).increment();
  }

  abstract void start(Consumer<List<String>> listener);

  @Override
  public abstract void close();

  /** A fixed list, reported once. */
  static final class Static extends LoadBalancingResolver {
    private final List<String> hostnames;

    Static(List<String> hostnames, MetricsRegistry metrics) {
      super("static", metrics);
      this.hostnames = List.copyOf(hostnames);
    }

    @Override
    void start(Consumer<List<String>> listener) {
      resolved(true);
      listener.accept(hostnames);
    }

    @Override
    public void close() {}
  }

  /** How a hostname becomes addresses: the JDK's resolver, or a test's. */
  @FunctionalInterface
  interface Lookup {
    InetAddress[] resolve(String hostname) throws UnknownHostException;
  }

  /**
   * Resolves {@code hostname} now and every {@code interval}, each lookup bounded by {@code
   * timeout}; the endpoints are the addresses with {@code port}. A failed or timed-out lookup is
   * counted and keeps the previous endpoints (as the Collector does).
   *
   * <p>Threads: one scheduler thread and one lookup thread (daemons). A lookup that outlives its
   * timeout keeps the lookup thread (the JDK's lookups cannot be interrupted); one more lookup may
   * wait behind it (and time out, counted), any further one fails at once (counted): at most one
   * lookup runs and one waits.
   */
  static final class Dns extends LoadBalancingResolver {
    private static final System.Logger LOG = System.getLogger(Dns.class.getName());

    private final String hostname;
    private final int port;
    private final Duration interval;
    private final Duration timeout;
    private final Lookup lookup;
    private final ScheduledExecutorService scheduler;
    private final ThreadPoolExecutor lookups;

    Dns(
        String hostname,
        int port,
        Duration interval,
        Duration timeout,
        Lookup lookup,
        MetricsRegistry metrics) {
      super("dns", metrics);
      this.hostname = Objects.requireNonNull(hostname, "hostname");
      this.port = port;
      this.interval = interval;
      this.timeout = timeout;
      this.lookup = lookup;
      ScheduledThreadPoolExecutor s =
          new ScheduledThreadPoolExecutor(1, daemon("otlp4j-lb-resolver-" + hostname));
      s.setRemoveOnCancelPolicy(true);
      this.scheduler = s;
      this.lookups =
          new ThreadPoolExecutor(
              1,
              1,
              0,
              TimeUnit.SECONDS,
              new ArrayBlockingQueue<>(1),
              daemon("otlp4j-lb-lookup-" + hostname));
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
      return r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      };
    }

    @Override
    void start(Consumer<List<String>> listener) {
      // The first resolution before the relay starts taking data, as the Collector's Start does.
      resolveOnce(listener);
      scheduler.scheduleWithFixedDelay(
          () -> resolveOnce(listener),
          interval.toNanos(),
          interval.toNanos(),
          TimeUnit.NANOSECONDS);
    }

    /** One lookup, bounded by the timeout; the listener hears of a successful one. */
    void resolveOnce(Consumer<List<String>> listener) {
      List<String> endpoints;
      try {
        Future<InetAddress[]> f = lookups.submit(() -> lookup.resolve(hostname));
        InetAddress[] addresses;
        try {
          addresses = f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          f.cancel(true);
          throw e;
        }
        endpoints = new ArrayList<>(addresses.length);
        for (InetAddress a : addresses) {
          String host = a.getHostAddress();
          endpoints.add((host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        resolved(false);
        return;
      } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
        resolved(false);
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        LOG.log(
            System.Logger.Level.WARNING,
            () ->
                "loadbalancing: resolving '"
                    + hostname
                    + "' failed ("
                    + cause
                    + "); keeping the previous backends");
        return;
      }
      resolved(true);
      try {
        listener.accept(endpoints);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "loadbalancing: applying a resolution failed", e);
      }
    }

    @Override
    public void close() {
      scheduler.shutdownNow();
      lookups.shutdownNow();
    }
  }
}
