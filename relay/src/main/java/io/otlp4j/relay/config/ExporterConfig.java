package io.otlp4j.relay.config;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.SendingQueueSettings;

/** An exporter's configuration, as its factory read it. Implementations are immutable. */
public interface ExporterConfig extends ComponentConfig {

  /** The exporter's {@code sending_queue}. */
  SendingQueueSettings sendingQueue();

  /**
   * The exporter's {@code retry_on_failure}, or null when it has none: a durable queue's consumer
   * waits by it before sending a batch again.
   */
  default RetryPolicy retryOnFailure() {
    return null;
  }
}
