package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.relay.component.TailSamplingPolicy.Decision;
import io.otlp4j.relay.component.TailSamplingProcessorFactory.TailSamplingConfig;
import io.otlp4j.relay.component.TailSamplingTrace.Chunk;
import io.otlp4j.relay.component.TailSamplingTrace.HeldRequest;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The {@code tail_sampling} processor: holds each trace's spans, still encoded, for {@code
 * decision_wait} after its first span, then lets the policies decide, with the Collector's
 * precedence, and emits the sampled traces into the rest of the pipeline.
 *
 * <p><b>What is held where.</b> A request with spans to hold is copied once into a pooled direct
 * buffer of its exact size, reserved in the relay's {@link MemoryBudget}; each trace keeps {@link
 * Chunk}s, byte ranges of that copy (its resource's fields, its scopes' fields, its spans), never
 * decoded. What the policies need is summarized on arrival ({@link TailSamplingScan}): span count,
 * times, status codes, attribute matches. At the decision, a sampled trace is encoded by
 * concatenating its ranges under new {@code ResourceSpans}/{@code ScopeSpans} headers; the copy is
 * freed when its last trace is decided.
 *
 * <p><b>Bounds.</b> At most {@code num_traces} traces are known (decided ones kept for their late
 * spans, as in the Collector); a new trace beyond that removes the oldest, a decided one first
 * (they are the oldest: decisions come in arrival order). When every known trace is undecided,
 * {@code block_on_overflow} (otlp4j's default) {@link RelayProcessor.Refused refuses} a request
 * that brings new traces, retryably, rather than drop traces already acknowledged (the Collector
 * blocks its caller; a processor here must not block); without it the oldest undecided trace is
 * removed, dropped and counted in {@code sampling_trace_dropped_too_early}, as the Collector does
 * by default. A request whose bytes do not fit in the memory budget is refused, retryably; what the
 * decisions emit is never refused for memory ({@link Downstream#emit}).
 *
 * <p><b>Late spans</b> of a decided trace follow its decision while it is known, then the decision
 * caches ({@code decision_cache}), as in the Collector; they are passed on (or dropped) at once.
 *
 * <p><b>Concurrency.</b> One lock guards the traces, the pending queue and the caches; a request is
 * scanned and copied before taking it, and outputs are encoded and emitted after releasing it. One
 * daemon thread ({@code otlp4j-tail-sampling-<id>}) decides every {@code min(1 s, decision_wait)}.
 *
 * <p><b>Buffer ownership:</b> {@link #process} takes the request (see {@link RelayProcessor}); the
 * held copies are owned here until decided, emitted (ownership to the {@link Downstream}) or
 * released at {@link #shutdown}, which decides every pending trace (or drops them with {@code
 * drop_pending_traces_on_shutdown}) and frees everything.
 */
final class TailSamplingProcessor implements RelayProcessor {
  private static final System.Logger LOG = System.getLogger(TailSamplingProcessor.class.getName());

  /** The largest request emitted at once; a decision run with more sampled spans emits several. */
  static final int MAX_EMIT_BYTES = 4 << 20;

  private record TraceKey(long high, long low) {}

  private final TailSamplingConfig config;
  private final ProcessorCounts counts;
  private final TailSamplingMetrics metrics;
  private final MemoryBudget budget;
  private final LongSupplier nanoTime;
  private final boolean ownTimer;
  private final TailSamplingPolicy.Attribute[] attributes;
  private final TailSamplingPolicy.Latency[] latencies;
  private final ThrottledLog emitLog = ThrottledLog.every(Duration.ofSeconds(10));

  private final Object lock = new Object();
  private final LinkedHashMap<TraceKey, TailSamplingTrace> traces = new LinkedHashMap<>();
  private final ArrayDeque<TailSamplingTrace> pending = new ArrayDeque<>();
  private final Map<TraceKey, Boolean> sampledCache;
  private final Map<TraceKey, Boolean> notSampledCache;
  private int undecided; // known traces not decided yet
  private boolean closed;

  private volatile Downstream downstream;
  private ScheduledExecutorService timer;

  /**
   * @param nanoTime the clock of arrivals and decisions
   * @param ownTimer whether {@link #start} starts the decision thread (tests call {@link #tick})
   */
  TailSamplingProcessor(
      TailSamplingConfig config,
      ComponentContext context,
      LongSupplier nanoTime,
      boolean ownTimer) {
    this.config = config;
    this.counts = new ProcessorCounts(context.metrics(), config.id());
    this.budget = context.memoryBudget();
    this.nanoTime = nanoTime;
    this.ownTimer = ownTimer;
    this.attributes = config.attributes().toArray(new TailSamplingPolicy.Attribute[0]);
    this.latencies = config.latencies().toArray(new TailSamplingPolicy.Latency[0]);
    this.metrics = new TailSamplingMetrics(context.metrics(), config.id(), config.policyLabels());
    this.sampledCache = lru(config.sampledCacheSize());
    this.notSampledCache = lru(config.nonSampledCacheSize());
  }

  private static Map<TraceKey, Boolean> lru(int size) {
    if (size <= 0) {
      return null;
    }
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<TraceKey, Boolean> eldest) {
        return size() > size;
      }
    };
  }

  @Override
  public String id() {
    return config.id();
  }

  /** decision_wait, plus the decision timer's period (at most 1 s). */
  @Override
  public java.time.Duration maxHold() {
    return config.decisionWait().plusSeconds(1);
  }

  @Override
  public void start(Downstream next) {
    this.downstream = next;
    if (!ownTimer) {
      return;
    }
    long period = Math.max(10, Math.min(1000, config.decisionWait().toMillis()));
    ScheduledExecutorService t =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "otlp4j-tail-sampling-" + config.id());
              thread.setDaemon(true);
              return thread;
            });
    t.scheduleWithFixedDelay(this::tickQuietly, period, period, TimeUnit.MILLISECONDS);
    synchronized (lock) {
      timer = t;
    }
  }

  private void tickQuietly() {
    try {
      tick();
    } catch (Throwable e) {
      LOG.log(System.Logger.Level.ERROR, () -> id() + ": a decision run failed", e);
    }
  }

  @Override
  public Result process(Signal signal, ByteBuf request, WalkSummary summary) {
    if (signal != Signal.TRACES) {
      counts.count(signal, summary.itemCount(), summary.itemCount());
      return RelayProcessor.forward(request, summary);
    }
    TailSamplingScan scan = new TailSamplingScan(attributes, latencies.length > 0);
    int n = request.readableBytes();
    ByteBuf copy;
    try {
      scan.scan(request);
      if (!budget.tryAcquire(n)) {
        return new Refused("memory limit reached (tail_sampling holds traces)");
      }
      try {
        copy = PooledByteBufAllocator.DEFAULT.directBuffer(n, n);
        copy.writeBytes(request, request.readerIndex(), n);
      } catch (RuntimeException | Error e) {
        budget.release(n);
        throw e;
      }
    } finally {
      request.release();
    }
    HeldRequest held = new HeldRequest(copy, budget, n, 1); // this call's reference
    List<int[]> now = new ArrayList<>();
    long nowSpans = 0;
    long heldSpans = 0;
    try {
      long newTraces = 0;
      synchronized (lock) {
        if (closed) {
          return new Refused("tail_sampling is stopping");
        }
        long t = nanoTime.getAsLong();
        if (config.blockOnOverflow() && overflows(scan)) {
          metrics.refusedFullSpans.add(summary.itemCount());
          return new Refused(
              "tail_sampling holds num_traces ("
                  + config.numTraces()
                  + ") traces waiting for their decision");
        }
        for (TailSamplingScan.Group g : scan.groups) {
          TraceKey key = new TraceKey(g.hi, g.lo);
          if (sampledCache != null && sampledCache.get(key) != null) {
            metrics.earlySampled.add(g.spans);
            now.add(scan.layout(g));
            nowSpans += g.spans;
            continue;
          }
          if (notSampledCache != null && notSampledCache.get(key) != null) {
            metrics.earlyNotSampled.add(g.spans);
            continue;
          }
          TailSamplingTrace trace = traces.get(key);
          if (trace == null) {
            if (traces.size() >= config.numTraces()) {
              evictOldest(t);
            }
            trace = new TailSamplingTrace(g.hi, g.lo, t);
            traces.put(key, trace);
            pending.addLast(trace);
            undecided++;
            newTraces++;
          }
          if (trace.decision == TailSamplingTrace.UNDECIDED) {
            merge(trace, g);
            held.retain();
            trace.add(new Chunk(held, scan.layout(g), g.spans));
            heldSpans += g.spans;
          } else {
            metrics.lateSpanAge.record((t - trace.decisionNanos) / 1e9);
            if (trace.decision == TailSamplingTrace.SAMPLED) {
              now.add(scan.layout(g));
              nowSpans += g.spans;
            }
          }
        }
        metrics.tracesOnMemory.set(traces.size());
      }
      metrics.newTraceIdReceived.add(newTraces);
      counts.count(Signal.TRACES, summary.itemCount(), nowSpans);
      if (!now.isEmpty()) {
        return RelayProcessor.forward(encode(now, copy), counted(now, nowSpans));
      }
      return heldSpans > 0 ? new Held(heldSpans) : RelayProcessor.dropped(summary.itemCount());
    } finally {
      held.release();
    }
  }

  /** Adds a group's summary to its trace, the latency windows in arrival order. */
  private void merge(TailSamplingTrace trace, TailSamplingScan.Group g) {
    for (TailSamplingPolicy.Latency l : latencies) {
      if ((trace.matched & l.bit) != 0) {
        continue;
      }
      long min = trace.minStart;
      long max = trace.maxEnd;
      for (int i = 0; i < g.spans; i++) {
        long s = g.times[i * 2];
        long e = g.times[i * 2 + 1];
        // the Collector's running window: 0 reads as not set yet
        if (min == 0 || s < min) {
          min = s;
        }
        if (max == 0 || e > max) {
          max = e;
        }
        if (l.inWindow(min, max)) {
          trace.matched |= l.bit;
          break;
        }
      }
    }
    if (trace.spanCount == 0) {
      trace.minStart = g.minStart;
      trace.maxEnd = g.maxEnd;
    } else {
      if (trace.minStart == 0 || (g.minStart != 0 && g.minStart < trace.minStart)) {
        trace.minStart = g.minStart;
      }
      if (trace.maxEnd == 0 || g.maxEnd > trace.maxEnd) {
        trace.maxEnd = g.maxEnd;
      }
    }
    trace.spanCount += g.spans;
    trace.statusMask |= g.statusMask;
    trace.matched |= g.matched;
  }

  /**
   * Under the lock: whether the new traces of {@code scan} would remove undecided ones (every known
   * trace undecided, and not room for them all). When none is undecided, a request is taken
   * whatever its number of new traces, so that one with more than {@code num_traces} is not refused
   * for ever.
   */
  private boolean overflows(TailSamplingScan scan) {
    if (undecided == 0) {
      return false;
    }
    int fresh = 0;
    for (TailSamplingScan.Group g : scan.groups) {
      TraceKey key = new TraceKey(g.hi, g.lo);
      if (!traces.containsKey(key)
          && (sampledCache == null || !sampledCache.containsKey(key))
          && (notSampledCache == null || !notSampledCache.containsKey(key))) {
        fresh++;
      }
    }
    return fresh > 0 && (long) undecided + fresh > config.numTraces();
  }

  /**
   * Removes the oldest known trace to make room; an undecided one is dropped too early, or kept
   * with {@code block_on_overflow} (the table then goes beyond {@code num_traces} by the new traces
   * of the request being taken, which {@link #overflows} admitted).
   */
  private void evictOldest(long now) {
    Iterator<TailSamplingTrace> it = traces.values().iterator();
    TailSamplingTrace oldest = it.next();
    if (config.blockOnOverflow() && oldest.decision == TailSamplingTrace.UNDECIDED) {
      return;
    }
    it.remove();
    oldest.evicted = true;
    metrics.removalAge.record((now - oldest.arrivalNanos) / 1e9);
    if (oldest.decision == TailSamplingTrace.UNDECIDED) {
      undecided--;
      metrics.droppedTooEarly.increment();
      TailSamplingTrace.releaseChunks(oldest.takeChunks());
    }
  }

  /**
   * Decides every trace whose {@code decision_wait} has passed and emits the sampled ones; the
   * decision thread calls it (tests call it with their clock).
   */
  void tick() {
    long started = System.nanoTime();
    List<Chunk> sampled = new ArrayList<>();
    List<Chunk> released = new ArrayList<>();
    synchronized (lock) {
      long now = nanoTime.getAsLong();
      long wait = config.decisionWait().toNanos();
      while (!pending.isEmpty()) {
        TailSamplingTrace t = pending.peekFirst();
        if (!t.evicted && now - t.arrivalNanos < wait) {
          break;
        }
        pending.pollFirst();
        if (!t.evicted) {
          decide(t, now, sampled, released);
        }
      }
      metrics.tracesOnMemory.set(traces.size());
    }
    emitAndRelease(sampled, released);
    metrics.timerLatency.record((System.nanoTime() - started) / 1e6);
  }

  /** Under the lock: the Collector's decision for {@code t}; its chunks go to one of the lists. */
  private void decide(TailSamplingTrace t, long now, List<Chunk> sampled, List<Chunk> released) {
    boolean anySampled = false;
    boolean anyNotSampled = false;
    boolean anyInvertSampled = false;
    boolean anyInvertNotSampled = false;
    boolean anyDropped = false;
    List<TailSamplingPolicy> policies = config.policies();
    long start = System.nanoTime();
    for (int i = 0; i < policies.size(); i++) {
      Decision d = policies.get(i).evaluate(t, now);
      metrics.policyDecision(i, d, t.spanCount, (System.nanoTime() - start) / 1000);
      switch (d) {
        case SAMPLED -> anySampled = true;
        case NOT_SAMPLED -> anyNotSampled = true;
        case INVERT_SAMPLED -> anyInvertSampled = true;
        case INVERT_NOT_SAMPLED -> anyInvertNotSampled = true;
        case DROPPED -> anyDropped = true;
      }
      if (d == Decision.DROPPED || (config.sampleOnFirstMatch() && d == Decision.SAMPLED)) {
        break;
      }
    }
    Decision result;
    if (anyDropped) {
      result = Decision.DROPPED;
    } else if (anyInvertNotSampled) {
      result = Decision.NOT_SAMPLED;
    } else if (anySampled || (anyInvertSampled && !anyNotSampled)) {
      result = Decision.SAMPLED;
    } else {
      result = Decision.NOT_SAMPLED;
    }
    metrics.finalDecision(result);
    undecided--;
    t.decisionNanos = now;
    Chunk c = t.takeChunks();
    boolean keep = result == Decision.SAMPLED;
    t.decision =
        keep
            ? TailSamplingTrace.SAMPLED
            : result == Decision.DROPPED
                ? TailSamplingTrace.DROPPED
                : TailSamplingTrace.NOT_SAMPLED;
    for (; c != null; c = c.next) {
      (keep ? sampled : released).add(c);
    }
    Map<TraceKey, Boolean> cache = keep ? sampledCache : notSampledCache;
    if (cache != null) {
      TraceKey key = new TraceKey(t.traceIdHigh, t.traceIdLow);
      cache.put(key, Boolean.TRUE);
      traces.remove(key);
      metrics.removalAge.record((now - t.arrivalNanos) / 1e9);
    }
  }

  /**
   * Encodes the sampled chunks into requests of at most {@link #MAX_EMIT_BYTES} and emits them; the
   * held copies a request was encoded from are released before it is emitted, so that what is held
   * and what is emitted overlap by at most one request in the memory budget.
   */
  private void emitAndRelease(List<Chunk> sampled, List<Chunk> released) {
    int from = 0;
    try {
      while (!released.isEmpty()) {
        released.remove(released.size() - 1).source.release();
      }
      Downstream next = downstream;
      while (from < sampled.size()) {
        int size = 0;
        int to = from;
        while (to < sampled.size()) {
          int s = TailSamplingScan.encodedSize(sampled.get(to).layout);
          if (to > from && size + s > MAX_EMIT_BYTES) {
            break;
          }
          size += s;
          to++;
        }
        List<Chunk> part = sampled.subList(from, to);
        long spans = 0;
        int scopes = 0;
        ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
        try {
          for (Chunk c : part) {
            TailSamplingScan.write(c.layout, c.source.bytes, out);
            spans += c.spans;
            scopes += TailSamplingScan.scopeCount(c.layout);
          }
        } catch (RuntimeException e) {
          out.release();
          throw e;
        }
        for (int i = from; i < to; i++) {
          sampled.get(i).source.release();
        }
        from = to;
        WalkSummary summary = WalkSummary.counted(Signal.TRACES, size, part.size(), scopes, spans);
        counts.count(Signal.TRACES, 0, spans);
        if (next == null) {
          out.release();
          metrics.emitFailedSpans.add(spans);
          continue;
        }
        long lost = spans;
        next.emit(out, summary)
            .whenComplete(
                (outcome, error) -> {
                  if (error != null || outcome.kind() != Outcome.Kind.ACCEPTED) {
                    metrics.emitFailedSpans.add(lost);
                    LOG.log(
                        emitLog.level(System.Logger.Level.WARNING),
                        () -> id() + ": sampled spans refused downstream: " + outcome,
                        error);
                  }
                });
      }
    } finally {
      for (int i = from; i < sampled.size(); i++) {
        sampled.get(i).source.release();
      }
      released.forEach(c -> c.source.release());
    }
  }

  /** The request of the spans to pass on at once, from {@code copy} (not released here). */
  private static ByteBuf encode(List<int[]> layouts, ByteBuf copy) {
    int size = 0;
    for (int[] l : layouts) {
      size += TailSamplingScan.encodedSize(l);
    }
    ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
    try {
      for (int[] l : layouts) {
        TailSamplingScan.write(l, copy, out);
      }
      return out;
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
  }

  private static WalkSummary counted(List<int[]> layouts, long spans) {
    int size = 0;
    int scopes = 0;
    for (int[] l : layouts) {
      size += TailSamplingScan.encodedSize(l);
      scopes += TailSamplingScan.scopeCount(l);
    }
    return WalkSummary.counted(Signal.TRACES, size, layouts.size(), scopes, spans);
  }

  /** Traces known now (decided ones included), for tests. */
  int tracesInMemory() {
    synchronized (lock) {
      return traces.size();
    }
  }

  @Override
  public void shutdown() {
    ScheduledExecutorService t;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      t = timer;
    }
    if (t != null) {
      t.shutdown();
      try {
        if (!t.awaitTermination(10, TimeUnit.SECONDS)) {
          t.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        t.shutdownNow();
      }
    }
    List<Chunk> sampled = new ArrayList<>();
    List<Chunk> released = new ArrayList<>();
    synchronized (lock) {
      long now = nanoTime.getAsLong();
      for (TailSamplingTrace trace : pending) {
        if (trace.evicted) {
          continue;
        }
        if (config.dropPendingTracesOnShutdown()) {
          Chunk c = trace.takeChunks();
          for (; c != null; c = c.next) {
            released.add(c);
          }
        } else {
          decide(trace, now, sampled, released);
        }
      }
      pending.clear();
      traces.clear();
      undecided = 0;
      metrics.tracesOnMemory.set(0);
    }
    emitAndRelease(sampled, released);
  }

  @Override
  public String toString() {
    return "tail_sampling[" + config.id() + "]";
  }
}
