package io.otlp4j.wire;

/**
 * What {@link OtlpWalker} counted in one valid export request.
 *
 * <p>Items are counted as the OpenTelemetry Collector counts them (its {@code SpanCount}, {@code
 * DataPointCount}, {@code LogRecordCount}): spans, metric data points (of every metric type,
 * following protobuf's oneof semantics when a metric carries more than one data member) and log
 * records. Immutable once returned; safe to share between threads.
 */
public final class WalkSummary {
  private final Signal signal;
  private final int byteCount;
  // Written only by the walker, before the summary is returned.
  int resources;
  int scopes;
  int topItems;
  long dataPoints;

  WalkSummary(Signal signal, int byteCount) {
    this.signal = signal;
    this.byteCount = byteCount;
  }

  /**
   * The counts of a traces or logs request assembled from parts that were walked already (such as
   * spans a processor held and now emits), so that it need not be walked again.
   *
   * @param items spans or log records
   * @throws IllegalArgumentException for metrics (whose data points depend on the metric type)
   */
  public static WalkSummary counted(
      Signal signal, int byteCount, int resources, int scopes, long items) {
    if (signal == Signal.METRICS) {
      throw new IllegalArgumentException("metrics requests are counted by walking them");
    }
    WalkSummary s = new WalkSummary(signal, byteCount);
    s.resources = resources;
    s.scopes = scopes;
    s.topItems = (int) items;
    return s;
  }

  public Signal signal() {
    return signal;
  }

  /** The number of Resource* messages (ResourceSpans, ResourceMetrics, ResourceLogs). */
  public int resourceCount() {
    return resources;
  }

  /** The number of Scope* messages (ScopeSpans, ScopeMetrics, ScopeLogs). */
  public int scopeCount() {
    return scopes;
  }

  /** Spans, metric data points or log records, as the Collector counts them. */
  public long itemCount() {
    return signal == Signal.METRICS ? dataPoints : topItems;
  }

  /** The number of Metric messages (0 for traces and logs). */
  public int metricCount() {
    return signal == Signal.METRICS ? topItems : 0;
  }

  /** The size of the encoded request in bytes. */
  public int byteCount() {
    return byteCount;
  }

  @Override
  public String toString() {
    return signal.id()
        + "{resources="
        + resources
        + ", scopes="
        + scopes
        + ", items="
        + itemCount()
        + (signal == Signal.METRICS ? ", metrics=" + topItems : "")
        + ", bytes="
        + byteCount
        + "}";
  }
}
