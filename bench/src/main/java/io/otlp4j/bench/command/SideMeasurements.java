package io.otlp4j.bench.command;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What was measured of one side (before or after) of a scenario, raw, as the scenario's driver
 * thread records it; {@link ScenarioResult#finish()} turns it into the table's figures. Not
 * thread-safe: filled by one driver thread, read once it is done.
 */
public final class SideMeasurements {

  /** The side's name in the report, such as {@code OTel SDK BatchSpanProcessor}. */
  public final String label;

  /** Flat-out windows: {seconds, items delivered, requests answered, CPU ns of the process}. */
  public final List<double[]> flat = new ArrayList<>();

  /**
   * Windows at the fixed offered rate: {seconds, p50 ms, p99 ms, CPU ns, peak RSS MiB, mean RSS
   * MiB}.
   */
  public final List<double[]> fixed = new ArrayList<>();

  /** Peak RSS (MiB) of each flat-out window. */
  public final List<Double> flatPeakRss = new ArrayList<>();

  /**
   * The latency–throughput curve: {offered items/s, delivered items/s, p50 ms, p99 ms}, one point
   * per offered rate.
   */
  public final List<double[]> curve = new ArrayList<>();

  /** The process over time: {seconds since the side started, CPU % of one core, RSS MiB}. */
  public final List<double[]> series = new ArrayList<>();

  /** Phases on the time axis of {@link #series}: seconds since start → phase name. */
  public final Map<Double, String> phases = new LinkedHashMap<>();

  /** Latency percentiles (ms) at the fixed rate over all its windows, label → ms. */
  public final Map<String, Double> percentiles = new LinkedHashMap<>();

  /** Under faults: the failed fraction (0..1) of client requests in each window. */
  public final List<Double> faultWindows = new ArrayList<>();

  /** Under faults, over the whole run: client requests made and failed. */
  public long faultRequests;

  public long faultFailedRequests;

  /** Under faults: items offered, delivered upstream, and refused to the client (it knows). */
  public long faultOffered;

  public long faultDelivered;
  public long faultRefused;

  public SideMeasurements(String label) {
    this.label = label;
  }

  /** Items offered but neither delivered nor refused to the client (never negative). */
  public long faultLost() {
    return Math.max(0, faultOffered - faultDelivered - faultRefused);
  }
}
