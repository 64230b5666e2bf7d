package io.otlp4j.relay.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The summary of a {@code send} run, written once at its end: a text report (requests, throughput,
 * latency percentiles, warm-up, errors by kind) or, with {@code --json}, one JSON object on one
 * line; also the number formats the progress lines share with it.
 */
final class SendSummary {
  private final PrintStream out;
  private final Signal sendSignal;
  private final int items;
  private final String target;
  private final Protocol protocol;
  private final Compression compression;
  private final double rate;
  private final int concurrency;

  SendSummary(
      PrintStream out,
      Signal sendSignal,
      int items,
      String target,
      Protocol protocol,
      Compression compression,
      double rate,
      int concurrency) {
    this.out = out;
    this.sendSignal = sendSignal;
    this.items = items;
    this.target = target;
    this.protocol = protocol;
    this.compression = compression;
    this.rate = rate;
    this.concurrency = concurrency;
  }

  /** Writes the text report to the output. */
  void writeText(LoadRun.Snapshot s) {
    Histogram h = s.latencyMicros;
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "requests    %d sent, %d ok, %d failed in %.2f s to %s%n",
            s.requests,
            s.succeeded,
            s.failed,
            s.seconds(),
            target));
    b.append(
        String.format(
            Locale.ROOT,
            "throughput  %s requests/s, %s %s/s, %.2f MB/s (%d %s, %d bytes of protobuf "
                + "before compression)%n",
            number(s.succeeded / s.seconds()),
            number(s.items / s.seconds()),
            itemName(sendSignal),
            s.bytes / 1e6 / s.seconds(),
            s.items,
            itemName(sendSignal),
            s.bytes));
    if (h.getTotalCount() > 0) {
      b.append(
          String.format(
              Locale.ROOT,
              "latency ms  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (of %d accepted "
                  + "requests, %s)%n",
              millis(h.getValueAtPercentile(50)),
              millis(h.getValueAtPercentile(90)),
              millis(h.getValueAtPercentile(99)),
              millis(h.getValueAtPercentile(99.9)),
              millis(h.getMaxValue()),
              h.getTotalCount(),
              rate > 0 ? "from when each was due" : "from each send"));
      Histogram lag = s.sendLagMicros;
      if (lag.getTotalCount() > 0) {
        b.append(
            String.format(
                Locale.ROOT,
                "client lag  p50 %s  p99 %s  max %s ms  (how late requests left this client:"
                    + " part of the latency above)%n",
                millis(lag.getValueAtPercentile(50)),
                millis(lag.getValueAtPercentile(99)),
                millis(lag.getMaxValue())));
      }
    }
    if (s.warmupNanos > 0) {
      b.append(
          String.format(
              Locale.ROOT,
              "warm-up     %.1f s before the above: %d requests sent, not counted (%d "
                  + "failed)%n",
              s.warmupNanos / 1e9,
              s.warmupRequests,
              s.warmupFailed));
    }
    if (s.errors.isEmpty()) {
      b.append("errors      none\n");
    } else {
      b.append("errors      ").append(s.errorCount());
      if (s.retryableRefusals > 0) {
        b.append(
            String.format(
                Locale.ROOT,
                " (%d of them retryable refusals: the endpoint answered that it cannot take the"
                    + " request now, and a client that retries, as the OTLP specification asks,"
                    + " would send it again; --retries N does)",
                s.retryableRefusals));
      }
      b.append('\n');
      s.errors.forEach(
          (kind, n) ->
              b.append(
                  String.format(
                      Locale.ROOT,
                      "  %-20s %8d  %se.g. %s%n",
                      kind,
                      n,
                      s.retryableKinds.contains(kind) ? "retryable refusal, " : "",
                      s.errorSamples.get(kind))));
    }
    out.print(b);
    out.flush();
  }

  /** Writes the summary as one JSON object, on one line, to the output. */
  void writeJson(LoadRun.Snapshot s) throws IOException {
    Histogram h = s.latencyMicros;
    JsonGenerator g = new JsonFactory().createGenerator(out);
    g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    g.writeStartObject();
    g.writeStringField("signal", sendSignal.id());
    g.writeStringField("protocol", protocol.configName());
    g.writeStringField("endpoint", target);
    g.writeStringField("compression", compression.encoding());
    g.writeStringField("mode", rate > 0 ? "open-loop" : "closed-loop");
    g.writeNumberField("target_rate", rate);
    g.writeNumberField("concurrency", concurrency);
    g.writeNumberField("items_per_request", items);
    g.writeNumberField("warmup_seconds", round(s.warmupNanos / 1e9, 3));
    g.writeNumberField("warmup_requests", s.warmupRequests);
    g.writeNumberField("warmup_failed", s.warmupFailed);
    g.writeNumberField("requests", s.requests);
    g.writeNumberField("succeeded", s.succeeded);
    g.writeNumberField("failed", s.failed);
    g.writeNumberField("items", s.items);
    g.writeNumberField("rejected_items", s.rejectedItems);
    g.writeNumberField("bytes", s.bytes);
    g.writeNumberField("elapsed_seconds", round(s.seconds(), 3));
    g.writeNumberField("requests_per_second", round(s.succeeded / s.seconds(), 2));
    g.writeNumberField("items_per_second", round(s.items / s.seconds(), 2));
    g.writeNumberField("megabytes_per_second", round(s.bytes / 1e6 / s.seconds(), 3));
    writeLatency(g, "latency_ms", h);
    // Open loop: how late requests left this client, and the latency from when they left.
    writeLatency(g, "send_lag_ms", s.sendLagMicros);
    writeLatency(g, "latency_from_send_ms", s.fromSendMicros);
    g.writeObjectFieldStart("errors");
    for (Map.Entry<String, Long> e : s.errors.entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
    g.writeNumberField("retryable_refusals", s.retryableRefusals);
    g.writeObjectFieldStart("error_samples");
    for (Map.Entry<String, String> e : s.errorSamples.entrySet()) {
      g.writeStringField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
    g.writeEndObject();
    g.flush();
    out.println();
    out.flush();
  }

  private static void writeLatency(JsonGenerator g, String name, Histogram h) throws IOException {
    boolean none = h.getTotalCount() == 0;
    g.writeObjectFieldStart(name);
    g.writeNumberField("count", h.getTotalCount());
    for (double p : new double[] {50, 90, 99, 99.9}) {
      g.writeNumberField(
          p == 99.9 ? "p999" : "p" + (int) p, none ? 0 : h.getValueAtPercentile(p) / 1000.0);
    }
    g.writeNumberField("max", none ? 0 : h.getMaxValue() / 1000.0);
    g.writeNumberField("mean", none ? 0 : round(h.getMean() / 1000.0, 3));
    g.writeEndObject();
  }

  static String itemName(Signal signal) {
    return signal == Signal.TRACES
        ? "spans"
        : signal == Signal.METRICS ? "data points" : "log records";
  }

  static String millis(long micros) {
    return String.format(
        Locale.ROOT,
        micros >= 100_000 ? "%.0f" : micros >= 10_000 ? "%.1f" : "%.2f",
        micros / 1000.0);
  }

  static String number(double v) {
    return v >= 100
        ? String.format(Locale.ROOT, "%,.0f", v)
        : String.format(Locale.ROOT, "%.1f", v);
  }

  private static double round(double v, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(v * scale) / scale;
  }
}
