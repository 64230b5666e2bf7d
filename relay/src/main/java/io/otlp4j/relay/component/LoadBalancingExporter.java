package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.component.LoadBalancingRouter.Part;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The {@code loadbalancing} exporter: routes each request's spans, log records or metrics to one
 * backend per routing key on a {@link LoadBalancingRing consistent hash ring} of the endpoints its
 * resolver reports, each backend its own {@code otlp} exporter with its own circuit breaker,
 * in-flight bound and retries.
 *
 * <h2>Concurrency</h2>
 *
 * The ring and its backends are one immutable {@link State}, published through a volatile field: an
 * export reads it once and routes every part of its request on that state. Resolver updates are
 * serialized ({@code synchronized}): they build the next state, publish it, then shut down the
 * backends that left.
 *
 * <h2>Backends that leave</h2>
 *
 * A backend that leaves the resolver's set is marked removed before its exporter is shut down with
 * a drain deadline of the {@code protocol.otlp} timeout: its exports in flight may still succeed
 * until then; what fails from then on (it is shut down: new exports fail at once, waiting retries
 * end at the deadline) is not answered as a failure but routed again, on the state current then, to
 * the keys' new owners, at most {@value #MAX_REROUTES} times. The caller's answer (and so the
 * client's, in ack mode {@code delivered}) waits for every part.
 *
 * <h2>Answers</h2>
 *
 * The future completes with the worst of the parts' outcomes (a rejected part makes the request a
 * failure for the caller to retry, keep or report, as its ack mode says); with no backend at all
 * the answer is retryable.
 *
 * <h2>Buffer ownership</h2>
 *
 * {@link #export} takes ownership of the request and releases it before returning; each part is the
 * router's retained slices, kept (one more reference) until its backend's answer is known, so that
 * it can be routed again, then released.
 */
final class LoadBalancingExporter implements RelayExporter {
  private static final System.Logger LOG = System.getLogger(LoadBalancingExporter.class.getName());

  /** How many times a part whose backend left is routed again before its failure is answered. */
  static final int MAX_REROUTES = 3;

  private static final double[] LATENCY_BOUNDS_MS = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000
  };

  /** One backend: its endpoint and exporter; {@code removed} once it left the resolver's set. */
  static final class Backend {
    final String endpoint;
    final RelayExporter exporter;
    final MetricsRegistry.Histogram latency;
    final MetricsRegistry.Counter success;
    final MetricsRegistry.Counter failure;
    volatile boolean removed;

    Backend(String endpoint, RelayExporter exporter, MetricsRegistry m) {
      this.endpoint = endpoint;
      this.exporter = exporter;
      this.latency =
          m.histogram(
              "otelcol_loadbalancer_backend_latency",
              "Response latency in ms for the backends.",
              LATENCY_BOUNDS_MS,
              "endpoint",
              endpoint);
      this.success = outcome(m, endpoint, "true");
      this.failure = outcome(m, endpoint, "false");
    }

    private static MetricsRegistry.Counter outcome(
        MetricsRegistry m, String endpoint, String success) {
      return m.counter(
          "otelcol_loadbalancer_backend_outcome",
          "Number of successes and failures for each endpoint.",
          "endpoint",
          endpoint,
          "success",
          success);
    }
  }

  /** The ring and, at each of its endpoint indexes, the backend. Immutable. */
  record State(LoadBalancingRing ring, Backend[] backends) {}

  private final String id;
  private final LoadBalancingRouter router;
  private final Function<String, RelayExporter> newBackend;
  private final Duration drain;
  private final MetricsRegistry metrics;
  private final LoadBalancingResolver resolver;
  private final MetricsRegistry.Counter updates;
  private volatile State state = new State(new LoadBalancingRing(List.of()), new Backend[0]);
  private boolean shutDown; // guarded by this
  private final List<CompletableFuture<Void>> leaving = new ArrayList<>(); // guarded by this

  /**
   * @param newBackend builds the exporter of one backend endpoint ({@code host:port})
   * @param drain how long a backend that left may finish its exports before it is shut down
   * @param resolver reports the endpoints; started here
   */
  LoadBalancingExporter(
      String id,
      LoadBalancingRouter router,
      Function<String, RelayExporter> newBackend,
      Duration drain,
      LoadBalancingResolver resolver,
      MetricsRegistry metrics) {
    this.id = Objects.requireNonNull(id, "id");
    this.router = router;
    this.newBackend = newBackend;
    this.drain = drain;
    this.metrics = metrics;
    this.resolver = resolver;
    this.updates =
        metrics.counter(
            "otelcol_loadbalancer_num_backend_updates",
            "Number of times the list of backends was updated.",
            "resolver",
            resolver.name());
    metrics.gauge(
        "otelcol_loadbalancer_num_backends",
        "Current number of backends in use.",
        () -> state.backends().length,
        "resolver",
        resolver.name());
    resolver.start(this::onResolved);
  }

  @Override
  public String id() {
    return id;
  }

  /** The endpoints in use now, in ring order (tests). */
  List<String> endpoints() {
    return state.ring().endpoints();
  }

  /** Publishes a new backend set: new endpoints get exporters, departed ones are drained. */
  synchronized void onResolved(List<String> endpoints) {
    if (shutDown) {
      return;
    }
    List<String> sorted = endpoints.stream().distinct().sorted().toList();
    State old = state;
    if (sorted.equals(old.ring().endpoints())) {
      return;
    }
    Map<String, Backend> kept = new HashMap<>();
    for (Backend b : old.backends()) {
      kept.put(b.endpoint, b);
    }
    Backend[] next = new Backend[sorted.size()];
    for (int i = 0; i < next.length; i++) {
      String endpoint = sorted.get(i);
      Backend b = kept.remove(endpoint);
      next[i] = b != null ? b : new Backend(endpoint, newBackend.apply(endpoint), metrics);
    }
    state = new State(new LoadBalancingRing(sorted), next);
    updates.increment();
    LOG.log(System.Logger.Level.INFO, () -> id + ": backends now " + sorted);
    for (Backend gone : kept.values()) {
      gone.removed = true; // before the shutdown: its failures from now on are routed again
      leaving.add(gone.exporter.shutdown(drain));
    }
    leaving.removeIf(CompletableFuture::isDone);
  }

  @Override
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
    return exportAll(signal, request, false);
  }

  @Override
  public CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf request, long itemCount) {
    return exportAll(signal, request, true);
  }

  private CompletableFuture<Outcome> exportAll(Signal signal, ByteBuf request, boolean once) {
    if (request.nioBufferCount() <= 1) {
      try {
        return route(signal, request, once, 0);
      } finally {
        request.release();
      }
    }
    // A batch of several requests (a composite): the router reads one ByteBuffer, so a composite
    // is copied once whatever happens; copied here, the parts are slices of one heap buffer (and
    // a reroute reads it again without another copy) instead of slices of the batch's components.
    ByteBuf copy;
    try {
      copy = request.alloc().heapBuffer(request.readableBytes());
    } catch (RuntimeException | Error e) {
      request.release();
      throw e;
    }
    try {
      copy.writeBytes(request, request.readerIndex(), request.readableBytes());
    } catch (RuntimeException | Error e) {
      copy.release();
      throw e;
    } finally {
      request.release();
    }
    try {
      return route(signal, copy, once, 0);
    } finally {
      copy.release();
    }
  }

  /** Routes {@code request} (only read; the caller keeps it) on the current state. */
  private CompletableFuture<Outcome> route(
      Signal signal, ByteBuf request, boolean once, int reroutes) {
    State s = state;
    if (s.ring().isEmpty()) {
      return CompletableFuture.completedFuture(
          Outcome.retryable(id + ": no backend endpoints resolved yet"));
    }
    List<Part> parts;
    try {
      parts = router.split(signal, request, s.ring());
    } catch (WireFormatException e) {
      return CompletableFuture.completedFuture(
          Outcome.permanent(id + ": not a valid " + signal.id() + " request: " + e.getMessage()));
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(
          Outcome.localFailure(id + ": routing failed: " + e, e));
    }
    if (parts.size() == 1) {
      Part p = parts.get(0);
      return send(s.backends()[p.owner()], signal, p, once, reroutes);
    }
    CompletableFuture<Outcome> all = null;
    for (Part p : parts) {
      CompletableFuture<Outcome> one = send(s.backends()[p.owner()], signal, p, once, reroutes);
      all = all == null ? one : all.thenCombine(one, Outcome::worst);
    }
    return all;
  }

  /** Sends one part (its buffer is owned here) to {@code backend}; routes it again if it left. */
  private CompletableFuture<Outcome> send(
      Backend backend, Signal signal, Part part, boolean once, int reroutes) {
    ByteBuf bytes = part.request();
    bytes.retain(); // kept for a reroute until the answer is known
    long start = System.nanoTime();
    CompletableFuture<Outcome> sent;
    try {
      sent =
          once
              ? backend.exporter.exportOnce(signal, bytes, part.items())
              : backend.exporter.export(signal, bytes, part.items());
    } catch (RuntimeException e) {
      bytes.release();
      sent = CompletableFuture.completedFuture(Outcome.localFailure(id + ": " + e, e));
    }
    return sent.thenCompose(
        outcome -> {
          backend.latency.record((System.nanoTime() - start) / 1_000_000.0);
          (outcome.isSuccess() ? backend.success : backend.failure).increment();
          if (!outcome.isSuccess() && backend.removed && reroutes < MAX_REROUTES) {
            try {
              return route(signal, bytes, once, reroutes + 1);
            } finally {
              bytes.release();
            }
          }
          bytes.release();
          return CompletableFuture.completedFuture(outcome);
        });
  }

  @Override
  public CompletableFuture<Void> shutdown(Duration deadline) {
    List<CompletableFuture<Void>> all;
    synchronized (this) {
      if (shutDown) {
        return CompletableFuture.completedFuture(null);
      }
      shutDown = true;
      all = new ArrayList<>(leaving);
    }
    resolver.close();
    for (Backend b : state.backends()) {
      all.add(b.exporter.shutdown(deadline));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  @Override
  public String toString() {
    return id + "{" + router.key().id + " over " + endpoints() + "}";
  }
}
