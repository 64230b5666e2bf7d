package io.otlp4j.relay.component;

import io.otlp4j.core.MetricsRegistry;
import java.util.Objects;

/** What a factory gets to build a component: the relay's shared services. Immutable. */
public final class ComponentContext {
  private final MetricsRegistry metrics;
  private final ServiceStatus status;

  /** A context with a {@link ServiceStatus#standalone() standalone} status. */
  public ComponentContext(MetricsRegistry metrics) {
    this(metrics, ServiceStatus.standalone());
  }

  public ComponentContext(MetricsRegistry metrics, ServiceStatus status) {
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.status = Objects.requireNonNull(status, "status");
  }

  /** Where the component's self-metrics go ({@code /metrics}). */
  public MetricsRegistry metrics() {
    return metrics;
  }

  /** The relay's lifecycle and configuration, for the extensions that report on them. */
  public ServiceStatus status() {
    return status;
  }
}
