package io.otlp4j.relay.component;

import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import java.util.Objects;

/** What a factory gets to build a component: the relay's shared services. Immutable. */
public final class ComponentContext {
  private final MetricsRegistry metrics;
  private final MemoryBudget memoryBudget;

  /** A context whose memory budget is unlimited (tests, embedders without a budget). */
  public ComponentContext(MetricsRegistry metrics) {
    this(metrics, MemoryBudget.builder(Long.MAX_VALUE).build());
  }

  public ComponentContext(MetricsRegistry metrics, MemoryBudget memoryBudget) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.memoryBudget = Objects.requireNonNull(memoryBudget, "memoryBudget");
  }

  /** Where the component's self-metrics go ({@code /metrics}). */
  public MetricsRegistry metrics() {
    return metrics;
  }

  /**
   * The relay's one memory budget (the receivers reserve from it): a component that holds data
   * beyond a request's answer reserves its bytes here and refuses, retryably, what does not fit.
   */
  public MemoryBudget memoryBudget() {
    return memoryBudget;
  }
}
