package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.testing.RecordedRequest;
import io.otlp4j.testing.Transport;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same SDK data exported by the SDK's own OTLP exporters and by otlp4j's, over gRPC and over
 * http/protobuf, into one capturing server: the official messages parsed from both are equal (after
 * ordering resources and scopes, which the OTLP data model leaves unordered).
 */
@ExtendWith(NettyLeakCheck.class)
class SdkEquivalenceTest {

  private static MockOtlpServer server;

  @BeforeAll
  static void start() throws Exception {
    server = MockOtlpServer.started();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static Stream<String> transports() {
    return Stream.of("grpc", "http");
  }

  private static <B extends Otlp4jExporterBuilder<B>> B on(B builder, String transport) {
    return transport.equals("grpc")
        ? builder.protocol("grpc").endpoint(server.grpcEndpoint())
        : builder.protocol("http/protobuf").endpoint(server.httpEndpoint());
  }

  @ParameterizedTest
  @MethodSource("transports")
  void spansEqualTheSdkExportersOutput(String transport) {
    SpanExporter sdk =
        transport.equals("grpc")
            ? OtlpGrpcSpanExporter.builder().setEndpoint(server.grpcEndpoint()).build()
            : OtlpHttpSpanExporter.builder()
                .setEndpoint(server.httpEndpoint() + "/v1/traces")
                .build();
    Otlp4jSpanExporter ours = on(Otlp4jSpanExporter.builder(), transport).build();
    try {
      List<List<SpanData>> inputs =
          List.of(
              TelemetrySamples.spans(),
              TelemetrySamples.randomSpans(7, 200),
              TelemetrySamples.randomSpans(11, 3));
      for (List<SpanData> spans : inputs) {
        ExportTraceServiceRequest expected =
            exportOne(
                ExportTraceServiceRequest.class, () -> sdk.export(spans), Signal.TRACES, transport);
        ExportTraceServiceRequest actual =
            exportOne(
                ExportTraceServiceRequest.class,
                () -> ours.export(spans),
                Signal.TRACES,
                transport);
        assertThat(normalizeTraces(actual)).isEqualTo(normalizeTraces(expected));
      }
    } finally {
      sdk.shutdown().join(10, TimeUnit.SECONDS);
      ours.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void metricsEqualTheSdkExportersOutput(String transport) {
    MetricExporter sdk =
        transport.equals("grpc")
            ? OtlpGrpcMetricExporter.builder().setEndpoint(server.grpcEndpoint()).build()
            : OtlpHttpMetricExporter.builder()
                .setEndpoint(server.httpEndpoint() + "/v1/metrics")
                .build();
    Otlp4jMetricExporter ours = on(Otlp4jMetricExporter.builder(), transport).build();
    try {
      List<MetricData> metrics = TelemetrySamples.metrics();
      ExportMetricsServiceRequest expected =
          exportOne(
              ExportMetricsServiceRequest.class,
              () -> sdk.export(metrics),
              Signal.METRICS,
              transport);
      ExportMetricsServiceRequest actual =
          exportOne(
              ExportMetricsServiceRequest.class,
              () -> ours.export(metrics),
              Signal.METRICS,
              transport);
      assertThat(normalizeMetrics(actual)).isEqualTo(normalizeMetrics(expected));
    } finally {
      sdk.shutdown().join(10, TimeUnit.SECONDS);
      ours.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @MethodSource("transports")
  void logRecordsEqualTheSdkExportersOutput(String transport) {
    LogRecordExporter sdk =
        transport.equals("grpc")
            ? OtlpGrpcLogRecordExporter.builder().setEndpoint(server.grpcEndpoint()).build()
            : OtlpHttpLogRecordExporter.builder()
                .setEndpoint(server.httpEndpoint() + "/v1/logs")
                .build();
    Otlp4jLogRecordExporter ours = on(Otlp4jLogRecordExporter.builder(), transport).build();
    try {
      List<LogRecordData> logs = TelemetrySamples.logs();
      ExportLogsServiceRequest expected =
          exportOne(ExportLogsServiceRequest.class, () -> sdk.export(logs), Signal.LOGS, transport);
      ExportLogsServiceRequest actual =
          exportOne(
              ExportLogsServiceRequest.class, () -> ours.export(logs), Signal.LOGS, transport);
      assertThat(normalizeLogs(actual)).isEqualTo(normalizeLogs(expected));
    } finally {
      sdk.shutdown().join(10, TimeUnit.SECONDS);
      ours.shutdown().join(10, TimeUnit.SECONDS);
    }
  }

  /** Runs one export, which must succeed, and returns the one request it delivered. */
  private static <T extends Message> T exportOne(
      Class<T> type,
      java.util.function.Supplier<CompletableResultCode> export,
      Signal signal,
      String transport) {
    int before = server.accepted(signal).size();
    CompletableResultCode result = export.get().join(20, TimeUnit.SECONDS);
    assertThat(result.isSuccess())
        .as("export succeeded: %s", result.getFailureThrowable())
        .isTrue();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> server.accepted(signal).size() == before + 1);
    RecordedRequest captured = server.accepted(signal).get(before);
    assertThat(captured.transport())
        .isEqualTo(transport.equals("grpc") ? Transport.GRPC : Transport.HTTP);
    return type.cast(captured.message());
  }

  private static <T> List<T> sorted(List<T> items, Function<T, String> key) {
    List<T> out = new ArrayList<>(items);
    out.sort(Comparator.comparing(key));
    return out;
  }

  static ExportTraceServiceRequest normalizeTraces(ExportTraceServiceRequest request) {
    List<ResourceSpans> resources = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      resources.add(
          rs.toBuilder()
              .clearScopeSpans()
              .addAllScopeSpans(
                  sorted(rs.getScopeSpansList(), (ScopeSpans s) -> s.getScope() + s.getSchemaUrl()))
              .build());
    }
    return request.toBuilder()
        .clearResourceSpans()
        .addAllResourceSpans(sorted(resources, r -> r.getResource() + r.getSchemaUrl()))
        .build();
  }

  static ExportMetricsServiceRequest normalizeMetrics(ExportMetricsServiceRequest request) {
    List<ResourceMetrics> resources = new ArrayList<>();
    for (ResourceMetrics rm : request.getResourceMetricsList()) {
      List<ScopeMetrics> scopes = new ArrayList<>();
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        scopes.add(
            sm.toBuilder()
                .clearMetrics()
                .addAllMetrics(sorted(sm.getMetricsList(), m -> m.getName() + m.getDataCase()))
                .build());
      }
      resources.add(
          rm.toBuilder()
              .clearScopeMetrics()
              .addAllScopeMetrics(sorted(scopes, s -> s.getScope() + s.getSchemaUrl()))
              .build());
    }
    return request.toBuilder()
        .clearResourceMetrics()
        .addAllResourceMetrics(sorted(resources, r -> r.getResource() + r.getSchemaUrl()))
        .build();
  }

  static ExportLogsServiceRequest normalizeLogs(ExportLogsServiceRequest request) {
    List<ResourceLogs> resources = new ArrayList<>();
    for (ResourceLogs rl : request.getResourceLogsList()) {
      resources.add(
          rl.toBuilder()
              .clearScopeLogs()
              .addAllScopeLogs(
                  sorted(rl.getScopeLogsList(), (ScopeLogs s) -> s.getScope() + s.getSchemaUrl()))
              .build());
    }
    return request.toBuilder()
        .clearResourceLogs()
        .addAllResourceLogs(sorted(resources, r -> r.getResource() + r.getSchemaUrl()))
        .build();
  }
}
