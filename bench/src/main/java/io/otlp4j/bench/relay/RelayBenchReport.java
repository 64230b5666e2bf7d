package io.otlp4j.bench.relay;

import static io.otlp4j.bench.relay.RelayBenchResults.MIB;
import static io.otlp4j.bench.relay.RelayBenchResults.mean;
import static io.otlp4j.bench.relay.RelayBenchResults.stddev;

import io.otlp4j.bench.relay.RelayBenchResults.DownRun;
import io.otlp4j.bench.relay.RelayBenchResults.DownSample;
import io.otlp4j.bench.relay.RelayBenchResults.Metric;
import io.otlp4j.bench.relay.RelayBenchResults.Run;
import io.otlp4j.bench.relay.RelayBenchResults.Window;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the results of {@link RelayPassThroughBench}: {@code <out>.json} and {@code <out>.txt}
 * (mean ± standard deviation per middle, the ratios against the goals, the upstream-down samples,
 * the modes skipped). Runs once, on the driver thread, after every measurement.
 */
final class RelayBenchReport {

  private final RelayBenchOptions o;
  private final byte[] payload;
  private final List<Run> runs;
  private final List<String> skipped;
  private final List<DownRun> downRuns;
  private final Map<String, Double> direct;

  RelayBenchReport(
      RelayBenchOptions o,
      byte[] payload,
      List<Run> runs,
      List<String> skipped,
      List<DownRun> downRuns,
      Map<String, Double> direct) {
    this.o = o;
    this.payload = payload;
    this.runs = runs;
    this.skipped = skipped;
    this.downRuns = downRuns;
    this.direct = direct;
  }

  private Run find(String protocol, String middle, String ackMode) {
    return runs.stream()
        .filter(
            r ->
                r.protocol.equals(protocol)
                    && r.middle.equals(middle)
                    && (ackMode == null || r.ackMode.equals(ackMode)))
        .findFirst()
        .orElse(null);
  }

  private static double ratio(Run a, Run b, Metric metric) {
    if (a == null || b == null || a.throughput.isEmpty() || b.throughput.isEmpty()) {
      return Double.NaN;
    }
    return mean(a.throughput, metric) / mean(b.throughput, metric);
  }

  void write() throws IOException {
    Path json = Path.of(o.out + ".json");
    Path txt = Path.of(o.out + ".txt");
    Files.createDirectories(json.toAbsolutePath().getParent());
    Files.writeString(json, json(), StandardCharsets.UTF_8);
    String text = text();
    Files.writeString(txt, text, StandardCharsets.UTF_8);
    System.out.println();
    System.out.print(text);
    System.out.println("written: " + json + ", " + txt);
  }

  private String machineNote() {
    return Runtime.getRuntime().availableProcessors()
        + " cores shared by the load generator and sink (this JVM)"
        + " and the middle (child JVM"
        + (o.middleCpus == null ? "" : ", pinned to CPUs " + o.middleCpus)
        + ")";
  }

  private String text() {
    StringBuilder b = new StringBuilder();
    b.append("Relay pass-through on loopback (").append(machineNote()).append(")\n");
    b.append(
        String.format(
            Locale.ROOT,
            "%d spans (%d bytes) per request, %d connections, %d x %d s after %d s "
                + "warm-up, mean ± stddev; middle JVM %s%s%n",
            o.spansPerRequest,
            payload.length,
            o.clients,
            o.iterations,
            o.seconds,
            o.warmupSeconds,
            String.join(" ", o.middleJvmArgs),
            o.quick ? "; QUICK SMOKE RUN" : ""));
    b.append(
        String.format(
            Locale.ROOT,
            "%-5s %-6s %-9s %24s %16s %16s %14s %12s | %-26s %18s %18s%n",
            "proto",
            "middle",
            "ack",
            "spans/s",
            "MB/s",
            "CPU us/span",
            "driver us/span",
            "max RSS MiB",
            "latency at",
            "p50 ms",
            "p99 ms"));
    for (Run r : runs) {
      b.append(
          String.format(
              Locale.ROOT,
              "%-5s %-6s %-9s %24s %16s %16s %14s %12s | %-26s %18s %18s%n",
              r.protocol,
              r.middle,
              r.ackMode,
              pm(r.throughput, Window::spansPerSecond, "%,.0f"),
              pm(r.throughput, Window::mbPerSecond, "%.1f"),
              pm(r.throughput, Window::middleCpuMicrosPerSpan, "%.2f"),
              String.format(
                  Locale.ROOT, "%.2f", mean(r.throughput, Window::driverCpuMicrosPerSpan)),
              String.format(
                  Locale.ROOT,
                  "%.0f",
                  r.throughput.stream().mapToDouble(Window::maxRssMiB).max().orElse(-1)),
              r.latency.isEmpty()
                  ? "-"
                  : String.format(
                      Locale.ROOT,
                      "%.0f req/s (%.0f%% of max)",
                      r.latencyRate,
                      100 * o.latencyLoad),
              pm(r.latency, w -> w.latencyMs(50), "%.2f"),
              pm(r.latency, w -> w.latencyMs(99), "%.2f")));
    }
    direct.forEach(
        (protocol, rate) ->
            b.append(
                String.format(
                    Locale.ROOT,
                    "%-5s direct   (no middle)  %,14.0f "
                        + "spans/s: the load generator and sink alone, one window after warm-up%n",
                    protocol,
                    rate)));
    b.append(
        "\nratios (spans/s; CPU per span: naive/relay), goals: relay >= 5x naive, relay >= 0.5x raw\n");
    for (String protocol : o.protocols) {
      Run relay = find(protocol, "relay", "received");
      Run naive = find(protocol, "naive", null);
      Run raw = find(protocol, "raw", null);
      b.append(
          String.format(
              Locale.ROOT,
              "%-5s relay/naive %sx   relay/raw %s   CPU per span naive/relay %sx"
                  + "   CPU per span relay/raw %sx%n",
              protocol,
              twoDecimals(ratio(relay, naive, Window::spansPerSecond)),
              twoDecimals(ratio(relay, raw, Window::spansPerSecond)),
              twoDecimals(ratio(naive, relay, Window::middleCpuMicrosPerSpan)),
              twoDecimals(ratio(relay, raw, Window::middleCpuMicrosPerSpan))));
    }
    for (DownRun d : downRuns) {
      b.append(
          String.format(
              Locale.ROOT,
              "%nupstream down (%s, relay ack=received, offered %.0f req/s): before "
                  + "RSS %.0f MiB, memory_used %.1f MiB; during %d s: max RSS %.0f MiB, max memory_used %.1f MiB, "
                  + "RSS growth over the last half %+.1f MiB; first refusal: %s (an exporter queue holds %d "
                  + "requests)%n",
              d.protocol,
              d.rate,
              d.before.rss() / MIB,
              d.before.memoryUsed() / MIB,
              d.seconds,
              d.maxRss() / MIB,
              d.maxMemoryUsed() / MIB,
              d.rssGrowthSecondHalf() / MIB,
              d.firstRefusalSecond() < 0 ? "none" : "after " + d.firstRefusalSecond() + " s",
              io.otlp4j.relay.BatchSettings.DEFAULT_QUEUE_SIZE));
      b.append(
          "  s  RSS MiB  memory_used MiB  accepted/s  refused/s  spans dropped by exporter/s\n");
      for (DownSample s : d.samples) {
        b.append(
            String.format(
                Locale.ROOT,
                "%3d %8.0f %16.1f %11d %10d %28d%n",
                s.second(),
                s.rss() / MIB,
                s.memoryUsed() / MIB,
                s.accepted(),
                s.refused(),
                s.droppedSpans()));
      }
    }
    for (String s : skipped) {
      b.append("\n").append(s);
    }
    if (!skipped.isEmpty()) {
      b.append("\n");
    }
    b.append(
        "\nspans/s and MB/s: arriving at the upstream sink (MB = 10^6 bytes of OTLP payload). CPU us/span: the "
            + "middle's user+system CPU over spans delivered; driver: this JVM (load generator + sink). Latency: "
            + "ack latency in an open loop, from when each request was due.\n");
    return b.toString();
  }

  private static String twoDecimals(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
  }

  private static String pm(List<Window> windows, Metric metric, String format) {
    if (windows.isEmpty()) {
      return "-";
    }
    return String.format(
        Locale.ROOT, format + " ± " + format, mean(windows, metric), stddev(windows, metric));
  }

  private String json() {
    Json j = new Json();
    j.open();
    j.field("benchmark", "relay-passthrough");
    j.field("time", Instant.now().toString());
    j.field("machine", machineNote());
    j.field("cores", Runtime.getRuntime().availableProcessors());
    j.field("quick", o.quick);
    j.key("settings").open();
    j.field("spansPerRequest", o.spansPerRequest);
    j.field("requestBytes", payload.length);
    j.field("clients", o.clients);
    j.field("iterations", o.iterations);
    j.field("seconds", o.seconds);
    j.field("warmupSeconds", o.warmupSeconds);
    j.field("latencyLoad", o.latencyLoad);
    j.field("batchSize", o.batchSize);
    j.field("batchTimeoutMs", o.batchTimeoutMs);
    j.field("middleJvmArgs", String.join(" ", o.middleJvmArgs));
    j.field("middleCpus", o.middleCpus);
    j.field("args", String.join(" ", o.args));
    j.close();
    j.key("runs").openArray();
    for (Run r : runs) {
      j.open();
      j.field("protocol", r.protocol);
      j.field("middle", r.middle);
      j.field("ackMode", r.ackMode);
      j.key("throughput").open();
      stat(j, "spansPerSecond", r.throughput, Window::spansPerSecond);
      stat(j, "mbPerSecond", r.throughput, Window::mbPerSecond);
      stat(j, "requestsPerSecond", r.throughput, Window::requestsPerSecond);
      stat(j, "middleCpuMicrosPerSpan", r.throughput, Window::middleCpuMicrosPerSpan);
      stat(j, "driverCpuMicrosPerSpan", r.throughput, Window::driverCpuMicrosPerSpan);
      stat(j, "refusedPerSecond", r.throughput, Window::refusedPerSecond);
      j.field("maxRssMiB", r.throughput.stream().mapToDouble(Window::maxRssMiB).max().orElse(-1));
      j.key("iterations").openArray();
      for (Window w : r.throughput) {
        j.value(w.spansPerSecond());
      }
      j.closeArray();
      j.close();
      if (!r.latency.isEmpty()) {
        j.key("latency").open();
        j.field("requestsPerSecond", r.latencyRate);
        j.field("load", o.latencyLoad);
        stat(j, "p50Ms", r.latency, w -> w.latencyMs(50));
        stat(j, "p99Ms", r.latency, w -> w.latencyMs(99));
        stat(j, "p999Ms", r.latency, w -> w.latencyMs(99.9));
        stat(j, "achievedRequestsPerSecond", r.latency, Window::requestsPerSecond);
        stat(j, "middleCpuMicrosPerSpan", r.latency, Window::middleCpuMicrosPerSpan);
        j.field("maxRssMiB", r.latency.stream().mapToDouble(Window::maxRssMiB).max().orElse(-1));
        j.field("refused", r.latency.stream().mapToLong(w -> w.failed).sum());
        j.field("dropped", r.latency.stream().mapToLong(w -> w.dropped).sum());
        j.close();
      }
      j.close();
    }
    j.closeArray();
    j.key("directSpansPerSecond").open();
    direct.forEach(j::field);
    j.close();
    j.key("ratios").openArray();
    for (String protocol : o.protocols) {
      Run relay = find(protocol, "relay", "received");
      Run naive = find(protocol, "naive", null);
      Run raw = find(protocol, "raw", null);
      j.open();
      j.field("protocol", protocol);
      j.field("relayOverNaiveSpansPerSecond", ratio(relay, naive, Window::spansPerSecond));
      j.field("relayOverRawSpansPerSecond", ratio(relay, raw, Window::spansPerSecond));
      j.field("naiveOverRelayCpuPerSpan", ratio(naive, relay, Window::middleCpuMicrosPerSpan));
      j.field("relayOverRawCpuPerSpan", ratio(relay, raw, Window::middleCpuMicrosPerSpan));
      j.close();
    }
    j.closeArray();
    j.key("upstreamDown").openArray();
    for (DownRun d : downRuns) {
      j.open();
      j.field("protocol", d.protocol);
      j.field("offeredRequestsPerSecond", d.rate);
      j.field("rssBeforeMiB", d.before.rss() / MIB);
      j.field("memoryUsedBeforeBytes", d.before.memoryUsed());
      j.field("maxRssMiB", d.maxRss() / MIB);
      j.field("maxMemoryUsedBytes", d.maxMemoryUsed());
      j.field("rssGrowthSecondHalfMiB", d.rssGrowthSecondHalf() / MIB);
      j.field("firstRefusalSecond", d.firstRefusalSecond());
      j.key("samples").openArray();
      for (DownSample s : d.samples) {
        j.open();
        j.field("second", s.second());
        j.field("rssMiB", s.rss() / MIB);
        j.field("memoryUsedBytes", s.memoryUsed());
        j.field("accepted", s.accepted());
        j.field("refused", s.refused());
        j.field("droppedSpans", s.droppedSpans());
        j.close();
      }
      j.closeArray();
      j.close();
    }
    j.closeArray();
    j.key("skipped").openArray();
    for (String s : skipped) {
      j.value(s);
    }
    j.closeArray();
    j.close();
    return j.toString() + "\n";
  }

  private static void stat(Json j, String name, List<Window> windows, Metric metric) {
    j.key(name).open();
    j.field("mean", mean(windows, metric));
    j.field("stddev", stddev(windows, metric));
    j.close();
  }

  /** A minimal JSON writer (no dependency for a results file). Not thread-safe. */
  private static final class Json {
    private final StringBuilder b = new StringBuilder();
    private boolean first = true;

    Json open() {
      comma();
      b.append('{');
      first = true;
      return this;
    }

    void close() {
      b.append('}');
      first = false;
    }

    Json openArray() {
      comma();
      b.append('[');
      first = true;
      return this;
    }

    void closeArray() {
      b.append(']');
      first = false;
    }

    Json key(String name) {
      comma();
      string(name);
      b.append(':');
      first = true; // the value follows without a comma
      return this;
    }

    void field(String name, Object value) {
      key(name);
      raw(value);
      first = false;
    }

    void value(Object value) {
      comma();
      raw(value);
      first = false;
    }

    private void raw(Object value) {
      if (value == null) {
        b.append("null");
      } else if (value instanceof Double d) {
        b.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.6g", d));
      } else if (value instanceof Number || value instanceof Boolean) {
        b.append(value);
      } else {
        string(value.toString());
      }
    }

    private void comma() {
      if (!first) {
        b.append(',');
      }
      first = false;
    }

    private void string(String s) {
      b.append('"');
      for (char c : s.toCharArray()) {
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          default -> {
            if (c < 0x20) {
              b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
      b.append('"');
    }

    @Override
    public String toString() {
      return b.toString();
    }
  }
}
