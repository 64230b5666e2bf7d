package io.otlp4j.wire;

/**
 * The three OTLP signals, with the names each one has on the wire and in the specification.
 *
 * <p>Every OTLP export request has the same three-level shape: field 1 of the request is the
 * repeated {@code Resource*} message, field 2 of that is the repeated {@code Scope*} message, and
 * field 2 of that is the repeated item (span, metric or log record). The walker, split, merge and
 * rewrite rely on this shared shape.
 */
public enum Signal {
  TRACES(
      "traces",
      "/v1/traces",
      "opentelemetry.proto.collector.trace.v1.TraceService",
      "resourceSpans",
      "scopeSpans",
      "spans"),
  METRICS(
      "metrics",
      "/v1/metrics",
      "opentelemetry.proto.collector.metrics.v1.MetricsService",
      "resourceMetrics",
      "scopeMetrics",
      "metrics"),
  LOGS(
      "logs",
      "/v1/logs",
      "opentelemetry.proto.collector.logs.v1.LogsService",
      "resourceLogs",
      "scopeLogs",
      "logRecords");

  private final String id;
  private final String httpPath;
  private final String grpcService;
  private final String resourceJsonName;
  private final String scopeJsonName;
  private final String itemJsonName;

  Signal(
      String id,
      String httpPath,
      String grpcService,
      String resourceJsonName,
      String scopeJsonName,
      String itemJsonName) {
    this.id = id;
    this.httpPath = httpPath;
    this.grpcService = grpcService;
    this.resourceJsonName = resourceJsonName;
    this.scopeJsonName = scopeJsonName;
    this.itemJsonName = itemJsonName;
  }

  /** The lower-case name used in configuration and on the command line: traces, metrics, logs. */
  public String id() {
    return id;
  }

  /** The OTLP/HTTP path, for example {@code /v1/traces}. */
  public String httpPath() {
    return httpPath;
  }

  /** The fully qualified gRPC service name; its one method is {@code Export}. */
  public String grpcService() {
    return grpcService;
  }

  /**
   * The OTLP/JSON key of the request's top-level repeated field, for example {@code resourceSpans}.
   */
  public String resourceJsonName() {
    return resourceJsonName;
  }

  /** The OTLP/JSON key of the scope-level repeated field, for example {@code scopeSpans}. */
  public String scopeJsonName() {
    return scopeJsonName;
  }

  /** The OTLP/JSON key of the item-level repeated field, for example {@code spans}. */
  public String itemJsonName() {
    return itemJsonName;
  }

  /**
   * Returns the signal with the given {@linkplain #id() id}.
   *
   * @throws IllegalArgumentException naming the value when it is not traces, metrics or logs
   */
  public static Signal fromId(String id) {
    for (Signal signal : values()) {
      if (signal.id.equals(id)) {
        return signal;
      }
    }
    throw new IllegalArgumentException(
        "unknown signal '" + id + "' (expected traces, metrics or logs)");
  }
}
