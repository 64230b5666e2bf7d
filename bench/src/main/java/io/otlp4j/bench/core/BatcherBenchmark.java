package io.otlp4j.bench.core;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.core.Batcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Enqueue throughput of one ended span, from producer threads into a batching pipeline whose
 * drainer converts each span to {@code SpanData} (as an exporter would) and discards the batch:
 *
 * <ul>
 *   <li>{@code otlp4j-time}: {@link Batcher}, TIME strategy with the BatchSpanProcessor's defaults
 *       (queue 2048, batch 512, delay 5 s), DROP_NEWEST;
 *   <li>{@code otlp4j-adaptive}: the same, ADAPTIVE strategy;
 *   <li>{@code otel-bsp}: the OpenTelemetry SDK's {@link BatchSpanProcessor#onEnd} with its
 *       defaults (queue 2048, batch 512, delay 5 s) and a discarding exporter;
 *   <li>{@code array-blocking-queue}: {@link ArrayBlockingQueue#offer} (2048) with a drainer thread
 *       doing {@code poll} + {@code drainTo(512)}.
 * </ul>
 *
 * The spans are real {@link ReadableSpan}s ended once, in setup, by an {@link SdkTracerProvider},
 * and offered again and again. All pipelines drop when their queue is full, so the primary score
 * alone can flatter a pipeline whose drainer cannot keep up: the auxiliary counters {@code
 * accepted} and {@code dropped} (ops/s, summed over threads) say how much of it was real. For
 * {@code otel-bsp}, which does not report drops to the caller, {@code dropped} is derived at the
 * end of each iteration as spans offered minus spans exported (see {@code claimBspDrops}). Goal at
 * 2 producer threads: otlp4j at least 2x {@code otel-bsp} in accepted spans per second.
 *
 * <p>Run (from the repository root):
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar BatcherBenchmark -t 2
 * java -jar bench/target/benchmarks.jar BatcherBenchmark -t 1 -p implementation=otlp4j-adaptive,otel-bsp
 * </pre>
 *
 * Smoke run: add {@code -f 1 -wi 1 -i 2 -w 1s -r 1s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BatcherBenchmark {

  private static final int SPANS = 1024; // a power of two
  private static final int QUEUE = 2048;
  private static final int BATCH = 512;
  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  @Param({"otlp4j-time", "otlp4j-adaptive", "otel-bsp", "array-blocking-queue"})
  public String implementation;

  private ReadableSpan[] spans;
  private SdkTracerProvider tracerProvider;
  private Batcher<ReadableSpan> batcher;
  private BatchSpanProcessor processor;
  private DiscardingExporter bspExporter;
  private long bspOffered;
  private int bspArrivals;
  private long bspExportedClaimed;
  private ArrayBlockingQueue<ReadableSpan> abq;
  private Thread abqDrainer;
  private volatile boolean running;

  /** Per-thread counters reported next to the score. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Counters {
    public long accepted;
    public long dropped;
    int next;

    @Setup(Level.Iteration)
    public void reset() {
      accepted = 0;
      dropped = 0;
    }

    @TearDown(Level.Iteration)
    public void claimDrops(BatcherBenchmark benchmark, ThreadParams threads) {
      if (benchmark.processor != null) {
        long drops = benchmark.claimBspDrops(accepted, threads.getThreadCount());
        dropped += drops;
        accepted -= drops;
      }
    }
  }

  @Setup
  public void setUp() {
    spans = endedSpans();
    running = true;
    switch (implementation) {
      case "otlp4j-time":
      case "otlp4j-adaptive":
        batcher =
            Batcher.<ReadableSpan>builder(BatcherBenchmark::export)
                .strategy(
                    implementation.equals("otlp4j-time")
                        ? Batcher.Strategy.TIME
                        : Batcher.Strategy.ADAPTIVE)
                .capacity(QUEUE)
                .maxBatchSize(BATCH)
                .maxDelay(Duration.ofSeconds(5))
                .overflow(Batcher.Overflow.DROP_NEWEST)
                .build();
        break;
      case "otel-bsp":
        bspExporter = new DiscardingExporter();
        processor = BatchSpanProcessor.builder(bspExporter).build();
        break;
      case "array-blocking-queue":
        abq = new ArrayBlockingQueue<>(QUEUE);
        abqDrainer = new Thread(this::drainAbq, "abq-drainer");
        abqDrainer.setDaemon(true);
        abqDrainer.start();
        break;
      default:
        throw new IllegalArgumentException("unknown implementation " + implementation);
    }
  }

  @TearDown
  public void tearDown() throws InterruptedException {
    running = false;
    if (batcher != null) {
      batcher.shutdown(Duration.ofSeconds(10)).join();
      System.out.printf(
          "%n%s: %d items in %d batches (average %.1f), %d dropped%n",
          implementation,
          batcher.itemsSent(),
          batcher.batchesSent(),
          batcher.averageBatchSize(),
          batcher.droppedCount());
    }
    if (processor != null) {
      processor.shutdown().join(10, TimeUnit.SECONDS);
      System.out.printf("%n%s: %d items exported%n", implementation, bspExporter.exported.get());
    }
    if (abqDrainer != null) {
      abqDrainer.join(10_000);
    }
    tracerProvider.close();
  }

  @Benchmark
  public void offer(Counters counters) {
    ReadableSpan span = spans[counters.next++ & (SPANS - 1)];
    switch (implementation) {
      case "otel-bsp":
        processor.onEnd(span);
        counters.accepted++; // drops are subtracted at the end of the iteration
        break;
      case "array-blocking-queue":
        if (abq.offer(span)) {
          counters.accepted++;
        } else {
          counters.dropped++;
        }
        break;
      default:
        if (batcher.offer(span) == Batcher.OfferResult.ACCEPTED) {
          counters.accepted++;
        } else {
          counters.dropped++;
        }
    }
  }

  /**
   * BatchSpanProcessor does not tell the caller about a drop, and its own drop counter is reset by
   * every export, so drops are derived: spans offered in the iteration minus spans it exported. The
   * last thread to finish the iteration gets them all (JMH sums the counter over threads); the
   * error is at most what sat in the queue at the iteration's edges (about 2,048 spans).
   */
  synchronized long claimBspDrops(long offeredByThread, int threadCount) {
    bspOffered += offeredByThread;
    if (++bspArrivals < threadCount) {
      return 0;
    }
    long exported = bspExporter.exported.get();
    long drops = Math.max(0, bspOffered - (exported - bspExportedClaimed));
    bspExportedClaimed = exported;
    bspOffered = 0;
    bspArrivals = 0;
    return drops;
  }

  /** The last converted batch; written only so that the conversion has an observable result. */
  static volatile List<SpanData> lastExported;

  private static CompletableFuture<Void> export(List<ReadableSpan> batch) {
    List<SpanData> data = new ArrayList<>(batch.size());
    for (ReadableSpan span : batch) {
      data.add(span.toSpanData()); // what BatchSpanProcessor's worker does for each span
    }
    lastExported = data; // published, so the JIT cannot drop the conversion as dead code
    return DONE;
  }

  private void drainAbq() {
    List<ReadableSpan> batch = new ArrayList<>(BATCH);
    while (running) {
      try {
        ReadableSpan first = abq.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        abq.drainTo(batch, BATCH - 1);
        export(batch);
        batch.clear();
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private ReadableSpan[] endedSpans() {
    List<ReadableSpan> ended = new ArrayList<>(SPANS);
    tracerProvider =
        SdkTracerProvider.builder()
            .addSpanProcessor(
                new SpanProcessor() {
                  @Override
                  public void onStart(Context parentContext, ReadWriteSpan span) {}

                  @Override
                  public boolean isStartRequired() {
                    return false;
                  }

                  @Override
                  public void onEnd(ReadableSpan span) {
                    ended.add(span);
                  }

                  @Override
                  public boolean isEndRequired() {
                    return true;
                  }
                })
            .build();
    Tracer tracer = tracerProvider.get("otlp4j-bench");
    for (int i = 0; i < SPANS; i++) {
      tracer.spanBuilder("span-" + i).setAttribute("index", i).startSpan().end();
    }
    return ended.toArray(new ReadableSpan[0]);
  }

  private static final class DiscardingExporter implements SpanExporter {
    final AtomicLong exported = new AtomicLong();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      exported.addAndGet(spans.size());
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}
