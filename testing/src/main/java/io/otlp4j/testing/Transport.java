package io.otlp4j.testing;

/** How a request reached the {@link MockOtlpServer}. */
public enum Transport {
  /** OTLP/gRPC: a unary {@code Export} call. */
  GRPC,
  /** OTLP/HTTP: a POST of protobuf or JSON to {@code /v1/<signal>}. */
  HTTP
}
