package io.otlp4j.relay.component;

import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import java.util.Objects;

/** What a factory gets to build a component: the relay's shared services. Immutable. */
public final class ComponentContext {
  private final MetricsRegistry metrics;
  private final ServiceStatus status;
  private final MemoryBudget memoryBudget;

  /**
   * A context with a {@link ServiceStatus#standalone() standalone} status and an unlimited memory
   * budget (tests, embedders without a budget).
   */
  public ComponentContext(MetricsRegistry metrics) {
    this(metrics, ServiceStatus.standalone(), MemoryBudget.builder(Long.MAX_VALUE).build());
  }

  /** A context with an unlimited memory budget. */
  public ComponentContext(MetricsRegistry metrics, ServiceStatus status) {
    this(metrics, status, MemoryBudget.builder(Long.MAX_VALUE).build());
  }

  /** A context with a {@link ServiceStatus#standalone() standalone} status. */
  public ComponentContext(MetricsRegistry metrics, MemoryBudget memoryBudget) {
    this(metrics, ServiceStatus.standalone(), memoryBudget);
  }

  public ComponentContext(
      MetricsRegistry metrics, ServiceStatus status, MemoryBudget memoryBudget) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.status = Objects.requireNonNull(status, "status");
    this.memoryBudget = Objects.requireNonNull(memoryBudget, "memoryBudget");
  }

  /** Where the component's self-metrics go ({@code /metrics}). */
  public MetricsRegistry metrics() {
    return metrics;
  }

  /** The relay's lifecycle and configuration, for the extensions that report on them. */
  public ServiceStatus status() {
    return status;
  }

  /**
   * The relay's one memory budget (the receivers reserve from it): a component that holds data
   * beyond a request's answer reserves its bytes here and refuses, retryably, what does not fit.
   */
  public MemoryBudget memoryBudget() {
    return memoryBudget;
  }
}
