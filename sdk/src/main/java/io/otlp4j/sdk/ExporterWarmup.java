package io.otlp4j.sdk;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.sdk.internal.OtlpMarshaler;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Warms an exporter up before its first export, in the background: a fresh JVM's first export
 * otherwise stalls for seconds (class loading, connecting, the marshaler and transport running
 * interpreted) while the application's spans pile up in front of it (issue #18).
 *
 * <h2>What it does</h2>
 *
 * On one daemon thread ({@code otlp4j-warmup-<signal>}), started when the exporter is built:
 *
 * <ol>
 *   <li>asks the transport to {@linkplain OtlpExporter#connect() connect} to the endpoint (gRPC
 *       channels, the HTTP pool's first connection), which goes on on the exporter's I/O threads;
 *   <li>makes a batch of synthetic telemetry with private instances of the SDK's providers ({@link
 *       WarmupTelemetry}) and marshals it, with the exporter's compression and (for http/json) its
 *       JSON transcoding, {@link #ROUNDS} times into buffers that are released at once, so that the
 *       classes of the encode path are loaded and its hot methods compiled.
 * </ol>
 *
 * <b>Nothing is sent:</b> the synthetic data never reaches the transport; the only network activity
 * is the connect, which sends no request.
 *
 * <h2>Bounds</h2>
 *
 * At most {@link #ROUNDS} rounds and at most {@link #CPU_BUDGET} of this thread's CPU time (its
 * wall-clock time where the JVM does not measure thread CPU time), whichever comes first; the
 * thread ends then. {@link #cancel} (the exporter's shutdown) stops it before the next round; a
 * round is a few milliseconds. A connect that fails (a dead endpoint) costs nothing here: it runs
 * on the I/O threads, is logged once at DEBUG, and the first export connects again as it would
 * have.
 *
 * <p><b>Buffer ownership:</b> every buffer is allocated and released within one round, in {@code
 * try/finally}.
 *
 * <p>Thread-safe: {@link #cancel} may be called from any thread.
 */
final class ExporterWarmup {

  private static final System.Logger LOG = System.getLogger(ExporterWarmup.class.getName());

  /** Encode rounds of one synthetic batch: enough for the JIT's top tier on the hot methods. */
  static final int ROUNDS = 200;

  /** The most CPU time the warm-up thread spends. */
  static final Duration CPU_BUDGET = Duration.ofSeconds(1);

  private final String name;
  private final OtlpExporter exporter;
  private final Signal signal;
  private final ByteBufAllocator allocator;
  private final int maxRounds;
  private final Thread thread;
  private final CompletableFuture<Integer> rounds = new CompletableFuture<>();
  private final CompletableFuture<Boolean> connected = new CompletableFuture<>();
  private volatile boolean cancelled;

  private ExporterWarmup(
      String name,
      OtlpExporter exporter,
      Signal signal,
      ByteBufAllocator allocator,
      int maxRounds) {
    this.name = name;
    this.exporter = exporter;
    this.signal = signal;
    this.allocator = allocator;
    this.maxRounds = maxRounds;
    this.thread = new Thread(this::run, "otlp4j-warmup-" + signal.id());
    thread.setDaemon(true);
    thread.setPriority(Thread.MIN_PRIORITY);
  }

  /**
   * Starts warming {@code exporter} up for {@code signal}, with at most {@code maxRounds} encode
   * rounds ({@link #ROUNDS} but in tests); returns at once.
   */
  static ExporterWarmup start(
      String name,
      OtlpExporter exporter,
      Signal signal,
      ByteBufAllocator allocator,
      int maxRounds) {
    ExporterWarmup warmup = new ExporterWarmup(name, exporter, signal, allocator, maxRounds);
    warmup.thread.start();
    return warmup;
  }

  /** Stops the warm-up before its next round; does not wait. Idempotent. */
  void cancel() {
    cancelled = true;
  }

  /** Completes with the rounds run when the thread ends (tests). */
  CompletableFuture<Integer> rounds() {
    return rounds;
  }

  /** Completes with whether every connection opened (tests). */
  CompletableFuture<Boolean> connected() {
    return connected;
  }

  /** The warm-up thread (tests). */
  Thread thread() {
    return thread;
  }

  private void run() {
    int done = 0;
    try {
      exporter
          .connect()
          .whenComplete(
              (ok, error) -> {
                boolean open = error == null && Boolean.TRUE.equals(ok);
                if (!open && !cancelled) {
                  LOG.log(
                      Level.DEBUG,
                      "{0}: could not connect to {1} ahead of the first export; the first export"
                          + " connects again",
                      name,
                      exporter.endpoint(signal));
                }
                connected.complete(open);
              });
      done = encodeRounds();
      LOG.log(Level.DEBUG, "{0}: warmed up: {1} encode rounds", name, done);
    } catch (RuntimeException | LinkageError e) {
      // The exporter works without a warm-up; its first export will report a real problem.
      LOG.log(Level.DEBUG, name + ": warm-up stopped: " + e, e);
    } finally {
      rounds.complete(done);
    }
  }

  private int encodeRounds() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    boolean cpuClock = mx.isCurrentThreadCpuTimeSupported() && mx.isThreadCpuTimeEnabled();
    long start = cpuClock ? mx.getCurrentThreadCpuTime() : System.nanoTime();
    long budget = CPU_BUDGET.toNanos();
    Function<ByteBufAllocator, ByteBuf> encode = encoder();
    Compression compression = exporter.compression();
    boolean json = exporter.protocol() == Protocol.HTTP_JSON;
    int done = 0;
    while (done < maxRounds && !cancelled) {
      ByteBuf payload = encode.apply(allocator);
      try {
        if (compression != Compression.NONE) {
          compression.compress(payload, allocator).release();
        }
        if (json) {
          ByteBuf text = allocator.buffer(payload.readableBytes() * 2);
          try {
            OtlpJson.toJson(signal, payload, text);
          } finally {
            text.release();
          }
        }
      } finally {
        payload.release();
      }
      done++;
      long used = (cpuClock ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - start;
      if (used >= budget) {
        LOG.log(
            Level.DEBUG,
            "{0}: warm-up reached its budget of {1} ms after {2} rounds",
            name,
            TimeUnit.NANOSECONDS.toMillis(budget),
            done);
        break;
      }
    }
    return done;
  }

  /** Makes the synthetic batch once and returns what encodes it. */
  private Function<ByteBufAllocator, ByteBuf> encoder() {
    switch (signal) {
      case TRACES:
        Collection<SpanData> spans = new ArrayList<>(WarmupTelemetry.spans());
        return alloc -> OtlpMarshaler.encodeSpans(spans, alloc);
      case METRICS:
        Collection<MetricData> metrics = new ArrayList<>(WarmupTelemetry.metrics());
        return alloc -> OtlpMarshaler.encodeMetrics(metrics, alloc);
      case LOGS:
        Collection<LogRecordData> logs = new ArrayList<>(WarmupTelemetry.logs());
        return alloc -> OtlpMarshaler.encodeLogs(logs, alloc);
      default:
        throw new IllegalStateException("no synthetic data for " + signal);
    }
  }
}
