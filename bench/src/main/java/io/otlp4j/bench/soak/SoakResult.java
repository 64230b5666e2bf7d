package io.otlp4j.bench.soak;

import io.otlp4j.bench.soak.FaultProxy.Fault;
import io.otlp4j.bench.soak.ResourceSampler.Flatness;
import io.otlp4j.bench.soak.ResourceSampler.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What a soak counted, and its verdicts.
 *
 * <p><b>The duplicate bound.</b> Delivery is at-least-once; an item reaches the sink more than once
 * only when an answer is lost. (1) At each SIGKILL, the relay's durable export batch in flight
 * (read from the queue, maybe delivered, not yet committed: at most {@link #RELAY_BATCH} items, the
 * pipeline's {@code send_batch_size} and {@code send_batch_max_size}) is sent again after the
 * restart; (2) at each upstream restart, the one request the sink may have taken just before
 * closing; (3) every request the sink accepted whose answer the relay did not get, or got late
 * ({@link FaultProxy#unansweredItems()}); (4) every SDK attempt that failed with an I/O error other
 * than a refused connection (its batch, at most {@value SdkClient#BATCH} spans, may have been
 * stored by the relay before the answer was lost, and the SDK retries it; {@code otlp4j send} runs
 * without retries). So duplicates ≤ (kills + upstream restarts) × {@value #RELAY_BATCH} +
 * unanswered items + ambiguous SDK failures × {@value SdkClient#BATCH}.
 *
 * <p><b>Flatness.</b> Over the second half of the sending period (one relay process: kills happen
 * only in the first 30 to 40 %), a least-squares line through each resource's samples may rise
 * across the window by at most {@code max(10 % of the median, floor)}: resident set 32 MiB, heap
 * after GC 8 MiB, direct memory 16 MiB, file descriptors 16, threads 4.
 */
record SoakResult(
    SoakOptions options,
    Ledger.Counts counts,
    boolean drained,
    double sendingStopped,
    double end,
    List<Double> kills,
    List<Double> upstreamRestarts,
    double diskFullStart,
    double diskFullSeconds,
    double diskRefusedRecords,
    Map<Fault, long[]> faults,
    long unansweredItems,
    long forwardedRequests,
    long sdkExportFailures,
    long sdkAmbiguousFailures,
    long sendRuns,
    long sendFailedRuns,
    long sendFailedRequests,
    List<Sample> samples) {

  static final int RELAY_BATCH = 100;

  long duplicateBound() {
    return (long) (kills.size() + upstreamRestarts.size()) * RELAY_BATCH
        + unansweredItems
        + sdkAmbiguousFailures * SdkClient.BATCH;
  }

  /** The resource curves of the second half of the sending period. */
  List<Flatness> flatness() {
    double from = sendingStopped / 2;
    List<Flatness> out = new ArrayList<>();
    out.add(flat("resident set (MiB)", Sample::rssMiB, from, 0.10, 32));
    out.add(flat("heap after GC (MiB)", Sample::heapAfterGcMiB, from, 0.10, 8));
    out.add(flat("direct memory (MiB)", Sample::directMiB, from, 0.10, 16));
    out.add(flat("open file descriptors", Sample::fds, from, 0.10, 16));
    out.add(flat("threads", Sample::threads, from, 0.10, 4));
    return out;
  }

  private Flatness flat(
      String name, ToDoubleFunction<Sample> value, double from, double relative, double floor) {
    List<double[]> points = new ArrayList<>();
    for (Sample s : samples) {
      if (s.seconds() >= from && s.seconds() <= sendingStopped && value.applyAsDouble(s) >= 0) {
        points.add(new double[] {s.seconds(), value.applyAsDouble(s)});
      }
    }
    return ResourceSampler.flatness(name, points, relative, floor);
  }

  boolean nothingLost() {
    return drained && counts.lost() == 0;
  }

  boolean duplicatesBounded() {
    return counts.duplicates() <= duplicateBound();
  }

  boolean flat() {
    return flatness().stream().allMatch(Flatness::flat);
  }

  /** Every client and every fault did something: a soak that injected nothing proves nothing. */
  boolean exercised() {
    boolean faultsHit = faults.values().stream().allMatch(c -> c[0] > 0 && c[1] > 0);
    return counts.sdkAcked() > 0
        && counts.sendAcked() > 0
        && !kills.isEmpty()
        && !upstreamRestarts.isEmpty()
        && diskRefusedRecords > 0
        && faultsHit;
  }

  boolean passed() {
    return nothingLost() && duplicatesBounded() && flat() && exercised();
  }

  String summaryText() {
    StringBuilder b = new StringBuilder();
    Ledger.Counts c = counts;
    b.append(
        String.format(
            Locale.ROOT,
            "chaos soak: %s of sending (seed %d), drained %s after %.0f s%n",
            options.duration(),
            options.seed(),
            drained ? "completely" : "NOT completely",
            end - sendingStopped));
    b.append(
        String.format(
            Locale.ROOT,
            "items: offered %d (SDK; send offers what it acknowledges or fails), acknowledged %d"
                + " (SDK %d, send %d), delivered %d distinct (SDK %d, send %d), acknowledged but"
                + " not delivered %d, duplicates %d (SDK %d, send %d), bound %d%n",
            c.sdkOffered(),
            c.acknowledged(),
            c.sdkAcked(),
            c.sendAcked(),
            c.delivered(),
            c.sdkDelivered(),
            c.sendDelivered(),
            c.lost(),
            c.duplicates(),
            c.sdkDuplicates(),
            c.sendDuplicates(),
            duplicateBound()));
    if (!c.sdkMissingSample().isEmpty()) {
      b.append("  SDK ids acknowledged, never delivered (first 20): ")
          .append(c.sdkMissingSample())
          .append('\n');
    }
    b.append(
        String.format(
            Locale.ROOT,
            "clients: SDK exports failed after retries %d, attempts failed ambiguously %d; send runs %d (%d without a summary),"
                + " failed requests %d; sink: requests %d, undecodable %d, foreign spans %d%n",
            sdkExportFailures,
            sdkAmbiguousFailures,
            sendRuns,
            sendFailedRuns,
            sendFailedRequests,
            c.deliveredRequests(),
            c.undecodable(),
            c.foreign()));
    b.append(
        String.format(
            Locale.ROOT,
            "faults: SIGKILLs %d, upstream restarts %d, disk full %.0f s at %s (%s queue appends"
                + " refused), answers lost %d items%n",
            kills.size(),
            upstreamRestarts.size(),
            diskFullSeconds,
            ChaosSoak.clock(diskFullStart),
            diskRefusedRecords < 0 ? "?" : String.format(Locale.ROOT, "%.0f", diskRefusedRecords),
            unansweredItems));
    for (Map.Entry<Fault, long[]> e : faults.entrySet()) {
      b.append(
          String.format(
              Locale.ROOT,
              "  proxy %-18s %4d windows, %6d requests (or flaps) hit%n",
              e.getKey().label(),
              e.getValue()[0],
              e.getValue()[1]));
    }
    b.append("resources over the second half (slope test):\n");
    for (Flatness f : flatness()) {
      b.append(
          String.format(
              Locale.ROOT,
              "  %-24s %3d samples, median %9.1f, slope %+8.3f/min, growth %+8.2f, tolerance %6.1f:"
                  + " %s%n",
              f.resource(),
              f.samples(),
              f.median(),
              f.slopePerMinute(),
              f.growth(),
              f.tolerance(),
              f.flat() ? "flat" : "NOT FLAT"));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "verdict: %s (nothing lost %s, duplicates bounded %s, flat %s, every fault exercised"
                + " %s)%n",
            passed() ? "PASS" : "FAIL",
            nothingLost(),
            duplicatesBounded(),
            flat(),
            exercised()));
    return b.toString();
  }
}
