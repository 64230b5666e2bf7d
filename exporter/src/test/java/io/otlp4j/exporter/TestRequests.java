package io.otlp4j.exporter;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.otlp4j.core.RetryPolicy;
import java.time.Duration;

/** Small helpers shared by the exporter tests. */
final class TestRequests {
  private TestRequests() {}

  /** Short backoffs for tests: 20 ms growing to 50 ms, {@code attempts} attempts within 5 s. */
  static RetryPolicy fastRetries(int attempts) {
    return RetryPolicy.builder()
        .initialDelay(Duration.ofMillis(20))
        .maxDelay(Duration.ofMillis(50))
        .multiplier(1.5)
        .maxAttempts(attempts)
        .maxElapsed(Duration.ofSeconds(5))
        .build();
  }

  /** One log record whose body is {@code tag}, padded with {@code padding} bytes of attribute. */
  static ExportLogsServiceRequest tagged(String tag, int padding) {
    LogRecord.Builder record =
        LogRecord.newBuilder().setBody(AnyValue.newBuilder().setStringValue(tag));
    if (padding > 0) {
      record.addAttributes(
          io.opentelemetry.proto.common.v1.KeyValue.newBuilder()
              .setKey("pad")
              .setValue(AnyValue.newBuilder().setStringValue("x".repeat(padding))));
    }
    return ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(
            ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder().addLogRecords(record)))
        .build();
  }

  static String tagOf(com.google.protobuf.Message request) {
    return ((ExportLogsServiceRequest) request)
        .getResourceLogs(0)
        .getScopeLogs(0)
        .getLogRecords(0)
        .getBody()
        .getStringValue();
  }

  static ByteBuf buffer(byte[] bytes) {
    return ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
  }

  static ByteBuf buffer(com.google.protobuf.Message m) {
    return buffer(m.toByteArray());
  }
}
