package io.otlp4j.bench.relay;

import io.otlp4j.bench.command.BenchSettings;
import io.otlp4j.bench.command.ProcessMeter;
import io.otlp4j.bench.command.Progress;
import io.otlp4j.bench.command.ScenarioResult;
import io.otlp4j.bench.command.SideMeasurements;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The gateway scenario of {@code ./otlp4j bench}, on the pass-through benchmark's parts: the same
 * {@link LoadGenerator} ({@value #CLIENTS} OTLP/gRPC connections, pre-encoded realistic requests of
 * {@value #SPANS_PER_REQUEST} spans), the same {@link CountingUpstream}, and the middle in a child
 * JVM ({@link MiddleProcess}, {@link PassThroughMiddle}) so that its CPU and memory are its own.
 * "Before" is the {@code naive} middle (every request decoded and re-encoded with protobuf-java),
 * "after" the otlp4j relay, in one ack mode ({@code received} or {@code durable}).
 *
 * <p>Per side: flat out (closed loop: requests answered per second, spans arriving upstream per
 * second, CPU µs of the middle per span), the open loop at half the "before" side's maximum (ack
 * latency from when each request was due, CPU % of one core, steady RSS), the other offered rates
 * of the curve, and the fault run: the upstream answers a fixed fraction with {@code UNAVAILABLE}
 * and goes away once; requests failed = refused or failed client requests (or ones the load
 * generator could not send), items lost = offered − delivered − refused.
 *
 * <p>Not thread-safe: one driver thread.
 */
public final class GatewayScenario {

  static final int CLIENTS = 16;
  static final int SPANS_PER_REQUEST = 100;
  private static final int LOAD_THREADS = 2;
  private static final int SINK_THREADS = 2;
  private static final long RETRY_BACKOFF_MS = 50;
  private static final int BATCH_SIZE = 8192;
  private static final long BATCH_TIMEOUT_MS = 200;
  private static final long START_MS = 3000;
  private static final long FIRST_ANSWER_SECONDS = 60;

  /** The ack modes measured, one scenario each. */
  public static final List<String> ACK_MODES = List.of("received", "durable");

  private final BenchSettings s;
  private final Progress progress;
  private final ScheduledExecutorService timer;
  private final Path middleLog;
  private final byte[] payload;

  private GatewayScenario(
      BenchSettings s, Progress progress, ScheduledExecutorService timer, Path logDir) {
    this.s = s;
    this.progress = progress;
    this.timer = timer;
    this.middleLog = logDir.resolve("gateway-middles.log");
    this.payload = OtlpGenerator.realisticTraces(SPANS_PER_REQUEST).toByteArray();
  }

  /** What {@link #run} is planned to take for one ack mode, in ms. */
  public static long plannedMillis(BenchSettings s) {
    return 2 * (s.plannedSideMillis() + START_MS);
  }

  /** Runs both sides in {@code ackMode}; a side that fails leaves the result's failure set. */
  public static ScenarioResult run(
      String ackMode,
      BenchSettings s,
      Progress progress,
      ScheduledExecutorService timer,
      Path logDir) {
    GatewayScenario g = new GatewayScenario(s, progress, timer, logDir);
    ScenarioResult r =
        new ScenarioResult(
            "gateway-" + ackMode,
            "Gateway, ack=" + ackMode + ": protobuf-java decode/re-encode relay vs otlp4j relay",
            "items are spans arriving upstream; requests are client export requests answered"
                + " successfully; the process under test is the middle JVM",
            "decode/re-encode relay (protobuf-java)",
            "otlp4j relay");
    r.notes.add(
        CLIENTS
            + " OTLP/gRPC client connections, one export in flight each, "
            + SPANS_PER_REQUEST
            + " realistic spans ("
            + g.payload.length
            + " bytes) per request; batch processor send_batch_size "
            + BATCH_SIZE
            + ", timeout "
            + BATCH_TIMEOUT_MS
            + " ms; middle JVM -Xmx1g; load generator and upstream share this JVM.");
    r.notes.add(
        "Latency: client ack latency, open loop at the fixed offered rate, counted from when each"
            + " request was due (no coordinated omission).");
    r.notes.add(
        "Error rate: the upstream answers "
            + Math.round(s.faultFraction() * 100)
            + "% of requests with UNAVAILABLE and is away for "
            + s.downMs() / 1000.0
            + " s once; items lost = offered − delivered upstream − refused to the client, where"
            + " what is not delivered within "
            + s.drainMs() / 1000.0
            + " s after the run counts as lost (the middles retry with the Collector's default"
            + " backoff: 5 s, then up to 30 s).");
    try {
      double base = g.side(r, r.before, "naive", ackMode, Double.NaN);
      r.fixedRateItems = BenchSettings.FIXED_RATE_FRACTION * base * SPANS_PER_REQUEST;
      g.side(r, r.after, "relay", ackMode, base);
    } catch (MiddleProcess.UnsupportedModeException e) {
      r.failure = "the middle does not support ack=" + ackMode + ": " + e.getMessage();
    } catch (Exception e) {
      r.failure = "the gateway scenario (ack=" + ackMode + ") failed: " + e;
    }
    r.finish();
    return r;
  }

  /**
   * Upstream bytes over all upstream instances (the fault run replaces the closed one), and the
   * instance now listening.
   */
  private static final class Upstream implements AutoCloseable {
    CountingUpstream current;
    long closedBytes;
    final int grpcPort;
    final int httpPort;

    Upstream() throws Exception {
      current = new CountingUpstream(SINK_THREADS);
      grpcPort = current.grpcPort();
      httpPort = current.httpPort();
    }

    long bytes() {
      return closedBytes + (current == null ? 0 : current.bytes());
    }

    void down() throws InterruptedException {
      closedBytes += current.bytes();
      current.close();
      current = null;
    }

    void up(double failFraction) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (true) {
        try {
          current = new CountingUpstream(SINK_THREADS, grpcPort, httpPort);
          current.failFraction(failFraction);
          return;
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          sleep(100); // the port may take a moment to be free again
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      if (current != null) {
        current.close();
      }
    }
  }

  /** Measures one side; returns the base rate (client requests/s) of the offered rates. */
  private double side(
      ScenarioResult r, SideMeasurements side, String kind, String ackMode, double base)
      throws Exception {
    String name = r.id + " " + kind;
    progress.phase(name + ": starting", START_MS);
    try (Upstream upstream = new Upstream()) {
      List<String> args =
          List.of(
              "--kind",
              kind,
              "--protocol",
              "grpc",
              "--upstream-port",
              "" + upstream.grpcPort,
              "--ack-mode",
              ackMode,
              "--batch-size",
              "" + BATCH_SIZE,
              "--batch-timeout-ms",
              "" + BATCH_TIMEOUT_MS);
      try (MiddleProcess m = MiddleProcess.start(List.of("-Xmx1g"), null, args, middleLog);
          ProcessMeter meter =
              new ProcessMeter(ProcessHandle.of(m.pid()).orElseThrow(), s.sampleMs(), timer);
          LoadGenerator load =
              LoadGenerator.grpc(m.port(), CLIENTS, payload, LOAD_THREADS, RETRY_BACKOFF_MS)) {
        try {
          return measure(side, upstream, load, kind, base, name, meter);
        } finally {
          side.series.addAll(meter.series());
        }
      }
    }
  }

  private double measure(
      SideMeasurements side,
      Upstream upstream,
      LoadGenerator load,
      String kind,
      double base,
      String name,
      ProcessMeter meter)
      throws Exception {
    progress.phase(name + ": flat out", s.warmupMs() + s.windows() * s.windowMs());
    side.phases.put(meter.secondsAt(System.nanoTime()), "flat out");
    load.startClosedLoop();
    // a cold middle on a busy machine may take seconds to answer: warm-up starts once the
    // first requests were answered and forwarded
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(FIRST_ANSWER_SECONDS);
    while (load.succeeded() == 0 || upstream.bytes() == 0) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            kind + " answered or forwarded nothing in " + FIRST_ANSWER_SECONDS + " s");
      }
      sleep(50);
    }
    sleep(s.warmupMs());
    for (int i = 0; i < s.windows(); i++) {
      long t0 = System.nanoTime();
      long bytes0 = upstream.bytes();
      long ok0 = load.succeeded();
      long cpu0 = meter.cpuNanos();
      sleep(s.windowMs());
      long t1 = System.nanoTime();
      side.flat.add(
          new double[] {
            (t1 - t0) / 1e9,
            spans(upstream.bytes() - bytes0),
            load.succeeded() - ok0,
            meter.cpuNanos() - cpu0
          });
      side.flatPeakRss.add(meter.rssMiB(t0, t1)[0]);
    }
    load.stop();
    if (Double.isNaN(base)) {
      base = side.flat.stream().mapToDouble(w -> w[2] / w[0]).average().orElse(0);
    }
    if (!(base > 0)) {
      throw new IllegalStateException(kind + " answered no requests flat out");
    }
    for (double f : s.curve()) {
      boolean fixed = f == BenchSettings.FIXED_RATE_FRACTION;
      double rate = f * base;
      int windows = fixed ? s.windows() : 1;
      progress.phase(
          String.format(Locale.ROOT, "%s: %,.0f spans/s offered", name, rate * SPANS_PER_REQUEST),
          s.settleMs() + windows * s.windowMs());
      side.phases.put(
          meter.secondsAt(System.nanoTime()), String.format(Locale.ROOT, "%.2f× max", f));
      load.startOpenLoop(rate);
      sleep(s.settleMs());
      load.takeLatencies();
      List<double[]> points = new ArrayList<>();
      List<Histogram> histograms = new ArrayList<>();
      for (int i = 0; i < windows; i++) {
        long t0 = System.nanoTime();
        long bytes0 = upstream.bytes();
        long cpu0 = meter.cpuNanos();
        sleep(s.windowMs());
        Histogram h = load.takeLatencies();
        long t1 = System.nanoTime();
        double seconds = (t1 - t0) / 1e9;
        double[] rss = meter.rssMiB(t0, t1);
        double p50 = ms(h, 50);
        double p99 = ms(h, 99);
        points.add(new double[] {spans(upstream.bytes() - bytes0) / seconds, p50, p99});
        if (fixed) {
          side.fixed.add(new double[] {seconds, p50, p99, meter.cpuNanos() - cpu0, rss[0], rss[1]});
          histograms.add(h);
        }
      }
      load.stop();
      side.curve.add(
          new double[] {
            rate * SPANS_PER_REQUEST,
            points.stream().mapToDouble(p -> p[0]).average().orElse(Double.NaN),
            points.stream().mapToDouble(p -> p[1]).average().orElse(Double.NaN),
            points.stream().mapToDouble(p -> p[2]).average().orElse(Double.NaN)
          });
      if (fixed) {
        percentiles(side, histograms);
      }
    }
    faults(side, upstream, load, BenchSettings.FIXED_RATE_FRACTION * base, name, meter);
    return base;
  }

  private void faults(
      SideMeasurements side,
      Upstream upstream,
      LoadGenerator load,
      double rate,
      String name,
      ProcessMeter meter)
      throws Exception {
    progress.phase(name + ": under faults", s.faultMs() + Math.min(s.drainMs(), 5000));
    side.phases.put(meter.secondsAt(System.nanoTime()), "faults");
    upstream.current.failFraction(s.faultFraction());
    long bytes0 = upstream.bytes();
    long ok0 = load.succeeded();
    long failed0 = load.failed();
    long dropped0 = load.dropped();
    load.startOpenLoop(rate);
    long slice = Math.min(1000, s.windowMs());
    long downAt = (s.faultMs() - s.downMs()) / 2;
    long start = System.nanoTime();
    long lastOk = ok0;
    long lastBad = failed0 + dropped0;
    boolean down = false;
    boolean wasDown = false;
    while (true) {
      long elapsed = (System.nanoTime() - start) / 1_000_000;
      if (elapsed >= s.faultMs()) {
        break;
      }
      if (!wasDown && elapsed >= downAt) {
        upstream.down();
        side.phases.put(meter.secondsAt(System.nanoTime()), "upstream away");
        down = true;
        wasDown = true;
      }
      if (down && elapsed >= downAt + s.downMs()) {
        upstream.up(s.faultFraction());
        down = false;
      }
      long next = Math.min(s.faultMs(), elapsed + slice);
      if (!wasDown) {
        next = Math.min(next, downAt);
      } else if (down) {
        next = Math.min(next, downAt + s.downMs());
      }
      sleep(Math.max(1, next - elapsed));
      long ok = load.succeeded();
      long bad = load.failed() + load.dropped();
      long n = ok - lastOk + bad - lastBad;
      if (n > 0) {
        side.faultWindows.add((double) (bad - lastBad) / n);
      }
      lastOk = ok;
      lastBad = bad;
    }
    if (down) {
      upstream.up(s.faultFraction());
    }
    load.stop();
    upstream.current.failFraction(0);
    // what was accepted may still be on its way (the middle retries with its backoff): wait until
    // it all arrived, or the drain time is over
    long ok = load.succeeded() - ok0;
    long bad = load.failed() - failed0 + load.dropped() - dropped0;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(s.drainMs());
    while (System.nanoTime() < deadline
        && spans(upstream.bytes() - bytes0) < (double) ok * SPANS_PER_REQUEST) {
      sleep(100);
    }
    side.faultRequests = ok + bad;
    side.faultFailedRequests = bad;
    side.faultOffered = (ok + bad) * SPANS_PER_REQUEST;
    side.faultRefused = bad * SPANS_PER_REQUEST;
    side.faultDelivered = Math.round(spans(upstream.bytes() - bytes0));
  }

  /** Spans in {@code bytes} of forwarded requests (every middle forwards the same bytes). */
  private double spans(long bytes) {
    return (double) bytes * SPANS_PER_REQUEST / payload.length;
  }

  private static double ms(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e6;
  }

  private static void percentiles(SideMeasurements side, List<Histogram> windows) {
    Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
    windows.forEach(all::add);
    side.percentiles.put("p50", ms(all, 50));
    side.percentiles.put("p90", ms(all, 90));
    side.percentiles.put("p99", ms(all, 99));
    side.percentiles.put("p99.9", ms(all, 99.9));
    side.percentiles.put("max", all.getTotalCount() == 0 ? Double.NaN : all.getMaxValue() / 1e6);
  }

  private static void sleep(long millis) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    for (long left; (left = end - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
    }
  }
}
