package io.otlp4j.relay.cli;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.Outcome;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.wire.Signal;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One run of {@code otlp4j send}: dispatches export requests through an {@link OtlpExporter} at a
 * fixed rate (open loop) or as fast as answers come (closed loop), and records what came back.
 *
 * <h2>Load models</h2>
 *
 * <b>Open loop</b> ({@code rate > 0}): request {@code i} is due at {@code start + i / rate}; a task
 * on the dispatch thread sends every request that is due and schedules itself for the next one.
 * Latency is measured from the <i>due</i> time, not from when the request actually left, so a
 * server (or a client) that falls behind shows up as latency instead of silently lowering the rate
 * (no coordinated omission). How late each request left this client (its dispatch thread not
 * scheduled, its own GC pause, building the request) is recorded apart as well ({@link
 * Snapshot#sendLagMicros}), with the latency from when it left ({@link Snapshot#fromSendMicros}),
 * so that a summary can say which part of the tail is this client's own; both stay in the latency
 * from when it was due, which is what a user of the endpoint would see. At most {@code concurrency}
 * requests are in flight: a request due while the bound is reached is not sent and counts as a
 * {@value ErrorKind#CLIENT_OVERLOADED} error, so the client never queues without bound. <b>Closed
 * loop</b> ({@code rate == 0}): {@code concurrency} requests in flight, each answer sending the
 * next; latency is measured from the send.
 *
 * <h2>Threads</h2>
 *
 * Requests are built and sent on one dispatch thread (the payload source is not thread-safe);
 * answers arrive on the exporter's I/O threads, which only count, record and hand the next
 * closed-loop send back to the dispatch thread. Counters are {@link LongAdder}s and the latency
 * histogram an HdrHistogram {@link Recorder} (wait-free for the recording threads); one reader, the
 * thread in {@link #await}, takes interval snapshots for the progress line and the summary.
 *
 * <h2>Warm-up</h2>
 *
 * For the first {@code warmupNanos} the run sends exactly as it will afterwards (same rate, same
 * bound on what is in flight) but counts nothing: a request due (open loop) or sent (closed loop)
 * before the warm-up ends is a warm-up request, and its answer, whenever it comes, goes only into
 * the warm-up tally ({@link Snapshot#warmupRequests}, {@link Snapshot#warmupFailed}). Without it
 * the first second of a run measures this client's own cold JIT and connection set-up: late
 * requests that an open loop charges to the endpoint. The measurement starts when the warm-up ends:
 * its clock, its rate, {@code maxRequests} and {@code durationNanos} count from there.
 *
 * <h2>Bounds</h2>
 *
 * The run ends after {@code maxRequests} measured requests or {@code durationNanos} after the
 * warm-up, whichever comes first; then no new request is sent and the run is over once every
 * request in flight has its answer (the exporter answers each within its timeout and retries).
 *
 * <h2>Buffer ownership</h2>
 *
 * Each payload the source supplies is handed to {@link OtlpExporter#export} with its ownership.
 */
final class LoadRun {
  /** Latencies up to an hour, in microseconds, to three significant digits. */
  static final long MAX_LATENCY_MICROS = TimeUnit.HOURS.toMicros(1);

  private final OtlpExporter exporter;
  private final Signal signal;
  private final int itemsPerRequest;
  private final Supplier<ByteBuf> payloads;
  private final double rate;
  private final int concurrency;
  private final long maxRequests;
  private final long durationNanos;
  private final long warmupNanos;
  private final ScheduledExecutorService dispatcher;

  private final AtomicInteger inFlight = new AtomicInteger();
  private final Recorder latency = new Recorder(1, MAX_LATENCY_MICROS, 3);

  /** Open loop: how late each measured request left this client (built and handed over). */
  private final Recorder sendLag = new Recorder(1, MAX_LATENCY_MICROS, 3);

  /** Each accepted measured request's latency from when it left (not from when it was due). */
  private final Recorder fromSend = new Recorder(1, MAX_LATENCY_MICROS, 3);

  private final LongAdder succeeded = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder items = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder rejectedItems = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, String> errorSamples = new ConcurrentHashMap<>();
  private final LongAdder retryableRefusals = new LongAdder();

  /** The error kinds of which at least one was the endpoint's retryable refusal. */
  private final Set<String> retryableKinds = ConcurrentHashMap.newKeySet();

  private final AtomicLong completed = new AtomicLong();
  private final LongAdder warmupFailed = new LongAdder();
  private final CountDownLatch done = new CountDownLatch(1);

  private volatile long startNanos;
  private volatile long
      dispatched; // written by the dispatch thread only; warm-up requests included
  private volatile long warmupDispatched; // written by the dispatch thread only
  private volatile boolean stopping;
  private volatile long endNanos;

  // The reader's state (the thread in await/snapshot).
  private final Histogram total = new Histogram(1, MAX_LATENCY_MICROS, 3);
  private Histogram interval;
  private final Histogram totalSendLag = new Histogram(1, MAX_LATENCY_MICROS, 3);
  private Histogram intervalSendLag;
  private final Histogram totalFromSend = new Histogram(1, MAX_LATENCY_MICROS, 3);
  private Histogram intervalFromSend;

  LoadRun(
      OtlpExporter exporter,
      Signal signal,
      int itemsPerRequest,
      Supplier<ByteBuf> payloads,
      double rate,
      int concurrency,
      long maxRequests,
      long durationNanos,
      long warmupNanos) {
    this.exporter = exporter;
    this.signal = signal;
    this.itemsPerRequest = itemsPerRequest;
    this.payloads = payloads;
    this.rate = rate;
    this.concurrency = concurrency;
    this.maxRequests = maxRequests;
    this.durationNanos = durationNanos;
    this.warmupNanos = warmupNanos;
    this.dispatcher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "otlp4j-send-dispatch");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts sending; returns at once. */
  void start() {
    dispatcher.execute(
        () -> {
          startNanos = System.nanoTime();
          if (rate > 0) {
            openLoopTick();
          } else {
            for (int i = 0; i < concurrency; i++) {
              closedLoopNext();
            }
          }
        });
  }

  /** Sends no more requests; those in flight still count. Any thread. */
  void stop() {
    dispatcher.execute(this::stopDispatching);
  }

  /** Waits up to {@code timeout} for the run to end (every request answered); true when it has. */
  boolean await(long timeout, TimeUnit unit) throws InterruptedException {
    return done.await(timeout, unit);
  }

  /** Stops the dispatch thread; the run's counters stay readable. */
  void close() {
    dispatcher.shutdownNow();
  }

  // ------------------------------------------------------------------------------- dispatch thread

  private void openLoopTick() {
    while (!stopping) {
      long n = dispatched;
      long due = startNanos + (long) (n * 1e9 / rate);
      boolean warmup = due - startNanos < warmupNanos;
      if (!warmup
          && (n - warmupDispatched >= maxRequests
              || due - startNanos - warmupNanos >= durationNanos)) {
        stopDispatching();
        return;
      }
      long now = System.nanoTime();
      if (due > now) {
        dispatcher.schedule(this::openLoopTick, due - now, TimeUnit.NANOSECONDS);
        return;
      }
      dispatched = n + 1;
      if (warmup) {
        warmupDispatched = n + 1;
      }
      if (inFlight.get() >= concurrency) {
        if (warmup) {
          warmupFailed.increment();
        } else {
          error(
              ErrorKind.CLIENT_OVERLOADED,
              "more than "
                  + concurrency
                  + " requests in flight when request "
                  + (n + 1 - warmupDispatched)
                  + " was due (raise --concurrency, or lower --rate)");
        }
        completedOne();
        continue;
      }
      send(due, warmup);
    }
  }

  private void closedLoopNext() {
    if (stopping) {
      return;
    }
    long n = dispatched;
    long now = System.nanoTime();
    boolean warmup = now - startNanos < warmupNanos;
    if (!warmup
        && (n - warmupDispatched >= maxRequests
            || now - startNanos - warmupNanos >= durationNanos)) {
      stopDispatching();
      return;
    }
    dispatched = n + 1;
    if (warmup) {
      warmupDispatched = n + 1;
    }
    send(now, warmup);
  }

  private void send(long dueNanos, boolean warmup) {
    inFlight.incrementAndGet();
    ByteBuf payload;
    try {
      payload = payloads.get();
    } catch (RuntimeException e) {
      inFlight.decrementAndGet();
      if (warmup) {
        warmupFailed.increment();
      } else {
        error("other", "cannot build the request: " + e);
      }
      completedOne();
      return;
    }
    int size = payload.readableBytes();
    // When the request leaves this client: its lateness against the open loop's schedule is this
    // client's own (its dispatch thread not scheduled, its GC, building the request), not the
    // endpoint's; counted in the latency from when it was due all the same, and reported apart.
    long sentNanos = System.nanoTime();
    if (!warmup && rate > 0) {
      sendLag.recordValue(Math.max(1, Math.min(MAX_LATENCY_MICROS, (sentNanos - dueNanos) / 1000)));
    }
    exporter
        .export(signal, payload, itemsPerRequest)
        .whenComplete(
            (result, e) -> {
              if (warmup) {
                onWarmupAnswer(e == null ? result : null);
              } else {
                onAnswer(dueNanos, sentNanos, size, e == null ? result : null);
              }
            });
  }

  private void stopDispatching() {
    if (!stopping) {
      stopping = true;
      checkDone();
    }
  }

  // ------------------------------------------------------------------------------- answer threads

  /** A warm-up request's answer: only tallied (and, closed loop, the next request sent). */
  private void onWarmupAnswer(Outcome result) {
    inFlight.decrementAndGet();
    if (result == null || !result.isSuccess()) {
      warmupFailed.increment();
    }
    completedOne();
    sendNextClosedLoop();
  }

  private void onAnswer(long dueNanos, long sentNanos, int size, Outcome result) {
    long now = System.nanoTime();
    long micros = TimeUnit.NANOSECONDS.toMicros(now - dueNanos);
    inFlight.decrementAndGet();
    if (result
        == null) { // the exporter promises never to complete exceptionally; count it if it does
      error("other", "the export failed without a result");
    } else if (result.isSuccess()) {
      latency.recordValue(Math.max(1, Math.min(MAX_LATENCY_MICROS, micros)));
      fromSend.recordValue(
          Math.max(
              1, Math.min(MAX_LATENCY_MICROS, TimeUnit.NANOSECONDS.toMicros(now - sentNanos))));
      succeeded.increment();
      items.add(itemsPerRequest - Math.min(itemsPerRequest, result.rejectedItems()));
      bytes.add(size);
      if (result.kind() == Outcome.Kind.PARTIALLY_ACCEPTED) {
        // In the error table (items were lost), but the request itself succeeded.
        rejectedItems.add(result.rejectedItems());
        countError(
            ErrorKind.PARTIAL_SUCCESS, result.rejectedItems() + " rejected: " + result.message());
      }
    } else {
      String kind = ErrorKind.of(result);
      if (ErrorKind.isRetryableRefusal(result, kind)) {
        retryableRefusals.increment();
        retryableKinds.add(kind);
      }
      error(kind, result.message());
    }
    completedOne();
    sendNextClosedLoop();
  }

  private void sendNextClosedLoop() {
    if (rate <= 0 && !stopping) {
      try {
        dispatcher.execute(this::closedLoopNext);
      } catch (RejectedExecutionException closed) {
        // The run was closed.
      }
    }
  }

  private void error(String kind, String message) {
    failed.increment();
    countError(kind, message);
  }

  private void countError(String kind, String message) {
    errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    errorSamples.putIfAbsent(kind, message);
  }

  private void completedOne() {
    completed.incrementAndGet();
    checkDone();
  }

  /**
   * Both the dispatch thread (after its last dispatch) and every answer check this after their own
   * volatile write, so whichever comes last sees both the final count and {@code stopping}.
   */
  private void checkDone() {
    if (stopping && completed.get() == dispatched && done.getCount() > 0) {
      endNanos = System.nanoTime();
      done.countDown();
    }
  }

  // ------------------------------------------------------------------------------- reader

  /** The counts so far; call from one thread at a time (it drains the latency recorder). */
  Snapshot snapshot() {
    interval = latency.getIntervalHistogram(interval);
    total.add(interval);
    intervalSendLag = sendLag.getIntervalHistogram(intervalSendLag);
    totalSendLag.add(intervalSendLag);
    intervalFromSend = fromSend.getIntervalHistogram(intervalFromSend);
    totalFromSend.add(intervalFromSend);
    long end = done.getCount() == 0 ? endNanos : System.nanoTime();
    Map<String, Long> errorCounts = new TreeMap<>();
    errors.forEach((k, v) -> errorCounts.put(k, v.sum()));
    long warmupSent = warmupDispatched;
    long measureStart = startNanos + warmupNanos;
    return new Snapshot(
        dispatched - warmupSent,
        succeeded.sum(),
        failed.sum(),
        items.sum(),
        rejectedItems.sum(),
        bytes.sum(),
        Math.max(1, end - measureStart),
        total.copy(),
        totalSendLag.copy(),
        totalFromSend.copy(),
        errorCounts,
        new TreeMap<>(errorSamples),
        retryableRefusals.sum(),
        new TreeSet<>(retryableKinds),
        end - startNanos < warmupNanos,
        warmupNanos,
        warmupSent,
        warmupFailed.sum());
  }

  /** What a run has done so far. Immutable once taken. */
  static final class Snapshot {
    final long requests;
    final long succeeded;
    final long failed;
    final long items;
    final long rejectedItems;
    final long bytes;
    final long elapsedNanos;
    final Histogram latencyMicros;

    /**
     * Open loop: how late each measured request left this client against its schedule (empty in a
     * closed loop). Part of {@link #latencyMicros}, which counts from when each request was due.
     */
    final Histogram sendLagMicros;

    /** Each accepted measured request's latency from when it left this client. */
    final Histogram fromSendMicros;

    final Map<String, Long> errors;
    final Map<String, String> errorSamples;

    /**
     * Errors that were the endpoint's retryable refusals ({@link ErrorKind#isRetryableRefusal}): it
     * answered "not now" (a full queue, a memory limit), and a client that retries, as the OTLP
     * specification asks, would send them again ({@code --retries}).
     */
    final long retryableRefusals;

    /** The error kinds of which at least one was a retryable refusal. */
    final Set<String> retryableKinds;

    /** Whether the run is still warming up (nothing measured yet). */
    final boolean warmingUp;

    /** How long the warm-up lasts (0: none). */
    final long warmupNanos;

    /** Warm-up requests sent (or due while the in-flight bound was reached), not counted above. */
    final long warmupRequests;

    /** Warm-up requests that failed (so far), not counted above. */
    final long warmupFailed;

    Snapshot(
        long requests,
        long succeeded,
        long failed,
        long items,
        long rejectedItems,
        long bytes,
        long elapsedNanos,
        Histogram latencyMicros,
        Histogram sendLagMicros,
        Histogram fromSendMicros,
        Map<String, Long> errors,
        Map<String, String> errorSamples,
        long retryableRefusals,
        Set<String> retryableKinds,
        boolean warmingUp,
        long warmupNanos,
        long warmupRequests,
        long warmupFailed) {
      this.requests = requests;
      this.succeeded = succeeded;
      this.failed = failed;
      this.items = items;
      this.rejectedItems = rejectedItems;
      this.bytes = bytes;
      this.elapsedNanos = elapsedNanos;
      this.latencyMicros = latencyMicros;
      this.sendLagMicros = sendLagMicros;
      this.fromSendMicros = fromSendMicros;
      this.errors = errors;
      this.errorSamples = errorSamples;
      this.retryableRefusals = retryableRefusals;
      this.retryableKinds = retryableKinds;
      this.warmingUp = warmingUp;
      this.warmupNanos = warmupNanos;
      this.warmupRequests = warmupRequests;
      this.warmupFailed = warmupFailed;
    }

    /** Seconds measured: from the end of the warm-up. */
    double seconds() {
      return elapsedNanos / 1e9;
    }

    long errorCount() {
      long n = 0;
      for (long v : errors.values()) {
        n += v;
      }
      return n;
    }
  }
}
