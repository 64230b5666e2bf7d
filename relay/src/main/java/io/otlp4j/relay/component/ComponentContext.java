package io.otlp4j.relay.component;

import io.otlp4j.core.MetricsRegistry;
import java.util.Objects;

/** What a factory gets to build a component: the relay's shared services. Immutable. */
public final class ComponentContext {
  private final MetricsRegistry metrics;

  public ComponentContext(MetricsRegistry metrics) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /** Where the component's self-metrics go ({@code /metrics}). */
  public MetricsRegistry metrics() {
    return metrics;
  }
}
