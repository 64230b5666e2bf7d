package io.otlp4j.relay.component;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.relay.component.TailSamplingPolicy.Decision;
import java.util.List;

/**
 * The {@code tail_sampling} processor's self-metrics, with the Collector's names and labels ({@code
 * otelcol_processor_tail_sampling_*}, from its {@code documentation.md}), each also labelled with
 * the {@code processor} id. The Collector's {@code worker} label is not set (one decision thread).
 * Thread-safe.
 */
final class TailSamplingMetrics {
  private static final String P = "otelcol_processor_tail_sampling_";
  private static final double[] MICROS = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 100000
  };
  private static final double[] MILLIS = {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
  private static final double[] SECONDS = {0, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600};

  final MetricsRegistry.Counter newTraceIdReceived;
  final MetricsRegistry.Counter droppedTooEarly;
  final MetricsRegistry.Gauge tracesOnMemory;
  final MetricsRegistry.Histogram lateSpanAge;
  final MetricsRegistry.Histogram timerLatency;
  final MetricsRegistry.Histogram removalAge;
  final MetricsRegistry.Counter evaluationErrors;
  final MetricsRegistry.Counter earlySampled;
  final MetricsRegistry.Counter earlyNotSampled;
  final MetricsRegistry.Counter emitFailedSpans;
  final MetricsRegistry.Counter refusedFullSpans;
  private final MetricsRegistry.Histogram[] decisionLatency;
  private final MetricsRegistry.Counter[][] traces; // [policy][decision]
  private final MetricsRegistry.Counter[][] spans;
  private final MetricsRegistry.Counter[] global;

  /**
   * @param policyLabels the {@code policy} label of each top-level policy, in evaluation order
   */
  TailSamplingMetrics(MetricsRegistry m, String processor, List<String> policyLabels) {
    newTraceIdReceived =
        m.counter(
            P + "new_trace_id_received",
            "Counts the arrival of new traces",
            "processor",
            processor);
    droppedTooEarly =
        m.counter(
            P + "sampling_trace_dropped_too_early",
            "Count of traces that needed to be dropped before the configured wait time",
            "processor",
            processor);
    tracesOnMemory =
        m.gauge(
            P + "sampling_traces_on_memory",
            "Tracks the number of traces current on memory",
            "processor",
            processor);
    lateSpanAge =
        m.histogram(
            P + "sampling_late_span_age",
            "Time (in seconds) from the sampling decision was taken and the arrival of a late span",
            SECONDS,
            "processor",
            processor);
    timerLatency =
        m.histogram(
            P + "sampling_decision_timer_latency",
            "Latency (in milliseconds) of each run of the sampling decision timer",
            MILLIS,
            "processor",
            processor);
    removalAge =
        m.histogram(
            P + "sampling_trace_removal_age",
            "Time (in seconds) from arrival of a new trace until its removal from memory",
            SECONDS,
            "processor",
            processor);
    evaluationErrors =
        m.counter(
            P + "sampling_policy_evaluation_error",
            "Count of sampling policy evaluation errors",
            "processor",
            processor);
    String early = P + "early_releases_from_cache_decision";
    String earlyHelp =
        "Number of spans that were able to be immediately released due to a decision cache hit.";
    earlySampled = m.counter(early, earlyHelp, "processor", processor, "sampled", "true");
    earlyNotSampled = m.counter(early, earlyHelp, "processor", processor, "sampled", "false");
    emitFailedSpans =
        m.counter(
            "otlp4j_processor_tail_sampling_emit_failed_spans",
            "Sampled spans the rest of the pipeline refused after the decision (lost: the client"
                + " was answered when they were held)",
            "processor",
            processor);
    refusedFullSpans =
        m.counter(
            "otlp4j_processor_tail_sampling_refused_spans",
            "Spans refused (retryably) because num_traces undecided traces were held"
                + " (block_on_overflow)",
            "processor",
            processor);
    int n = policyLabels.size();
    decisionLatency = new MetricsRegistry.Histogram[n];
    traces = new MetricsRegistry.Counter[n][];
    spans = new MetricsRegistry.Counter[n][];
    for (int i = 0; i < n; i++) {
      String policy = policyLabels.get(i);
      decisionLatency[i] =
          m.histogram(
              P + "sampling_decision_latency",
              "Latency (in microseconds) of a given sampling policy",
              MICROS,
              "processor",
              processor,
              "policy",
              policy);
      traces[i] = byDecision(m, P + "count_traces_sampled", TRACES_HELP, processor, policy);
      spans[i] = byDecision(m, P + "count_spans_sampled", SPANS_HELP, processor, policy);
    }
    global = new MetricsRegistry.Counter[Decision.values().length];
    for (Decision d : Decision.values()) {
      global[d.ordinal()] =
          m.counter(
              P + "global_count_traces_sampled",
              "Global count of traces that were sampled or not by at least one policy",
              "processor",
              processor,
              "sampled",
              d.sampled,
              "decision",
              d.label);
    }
  }

  private static final String TRACES_HELP =
      "Count of traces that were sampled or not per sampling policy";
  private static final String SPANS_HELP =
      "Count of spans that were sampled or not per sampling policy";

  private static MetricsRegistry.Counter[] byDecision(
      MetricsRegistry m, String name, String help, String processor, String policy) {
    MetricsRegistry.Counter[] c = new MetricsRegistry.Counter[Decision.values().length];
    for (Decision d : Decision.values()) {
      c[d.ordinal()] =
          m.counter(
              name,
              help,
              "processor",
              processor,
              "policy",
              policy,
              "sampled",
              d.sampled,
              "decision",
              d.label);
    }
    return c;
  }

  void policyDecision(int policy, Decision d, long spanCount, long micros) {
    decisionLatency[policy].record(micros);
    traces[policy][d.ordinal()].increment();
    spans[policy][d.ordinal()].add(spanCount);
  }

  void finalDecision(Decision d) {
    global[d.ordinal()].increment();
  }
}
