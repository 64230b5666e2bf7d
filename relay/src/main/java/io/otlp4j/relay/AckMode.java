package io.otlp4j.relay;

/**
 * When the relay answers a client: how safe the data is at that moment. An acknowledgement is a
 * promise.
 */
public enum AckMode {
  /** Answered once the request is queued in memory for every exporter (as the Collector does). */
  RECEIVED("received"),
  /**
   * Answered once every exporter's upstream accepted the batch that carried the request, with what
   * the upstream said: a permanent rejection is a permanent error with its reason, a retryable
   * failure (or an open circuit) a retryable refusal with a retry delay.
   */
  DELIVERED("delivered"),
  /**
   * Answered once the request is written and fsynced to the durable queue of its pipeline (the
   * exporters whose {@code sending_queue} names a {@code file_storage}); the default when an
   * exporter does. Exporters without a storage in such a pipeline keep in-memory queues, answered
   * as in {@link #RECEIVED}.
   */
  DURABLE("durable");

  private final String id;

  AckMode(String id) {
    this.id = id;
  }

  /** The name used in configuration and on the command line. */
  public String id() {
    return id;
  }

  /** The mode named {@code id}, or {@code null}. */
  public static AckMode fromId(String id) {
    for (AckMode m : values()) {
      if (m.id.equals(id)) {
        return m;
      }
    }
    return null;
  }
}
