package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How the {@code kafka} exporter cuts a request into records, checked with the official
 * opentelemetry-proto classes.
 */
@ExtendWith(NettyLeakCheck.class)
class KafkaRecordsTest {

  @Test
  void byTraceGivesOneRecordPerTraceAcrossResourcesKeyedByHexId() throws Exception {
    ExportTraceServiceRequest request = traces(3, 4);
    List<KafkaRecords.Record> records = cut(Signal.TRACES, request, true, false, 1_000_000);
    assertThat(records).hasSize(4);
    int spans = 0;
    for (KafkaRecords.Record r : records) {
      String key = new String(r.key(), StandardCharsets.US_ASCII);
      ExportTraceServiceRequest value = ExportTraceServiceRequest.parseFrom(r.value());
      // the trace's spans of all three resources, each under its own resource
      assertThat(value.getResourceSpansCount()).isEqualTo(3);
      long inRecord = 0;
      for (int i = 0; i < 3; i++) {
        ResourceSpans rs = value.getResourceSpans(i);
        assertThat(rs.getResource()).isEqualTo(request.getResourceSpans(i).getResource());
        for (Span s : rs.getScopeSpans(0).getSpansList()) {
          assertThat(HexFormat.of().formatHex(s.getTraceId().toByteArray())).isEqualTo(key);
          inRecord++;
        }
      }
      assertThat(r.items()).isEqualTo(inRecord);
      spans += (int) inRecord;
    }
    assertThat(spans).isEqualTo(3 * 4 * 2);
  }

  @Test
  void withoutPartitioningTheRecordIsTheRequestAsItCame() throws Exception {
    ExportTraceServiceRequest request = traces(2, 3);
    List<KafkaRecords.Record> records = cut(Signal.TRACES, request, false, false, 1_000_000);
    assertThat(records).hasSize(1);
    assertThat(records.get(0).key()).isNull();
    assertThat(records.get(0).value()).isEqualTo(request.toByteArray());
  }

  @Test
  void byResourceKeysBySortedAttributes() throws Exception {
    ExportLogsServiceRequest request =
        ExportLogsServiceRequest.newBuilder()
            .addResourceLogs(logs(kv("a", "1"), kv("b", "2")))
            .addResourceLogs(logs(kv("b", "2"), kv("a", "1")))
            .addResourceLogs(logs(kv("a", "1"), kv("b", "3")))
            .build();
    List<KafkaRecords.Record> records = cut(Signal.LOGS, request, true, false, 1_000_000);
    assertThat(records).hasSize(3);
    assertThat(records.get(0).key()).hasSize(16).isEqualTo(records.get(1).key());
    assertThat(records.get(2).key()).isNotEqualTo(records.get(0).key());
    for (int i = 0; i < 3; i++) {
      ExportLogsServiceRequest value = ExportLogsServiceRequest.parseFrom(records.get(i).value());
      assertThat(value.getResourceLogsList()).containsExactly(request.getResourceLogs(i));
      assertThat(records.get(i).items()).isEqualTo(1);
    }
  }

  @Test
  void jsonRecordsStayUnderTheLimitAndParseBack() throws Exception {
    ExportTraceServiceRequest request = traces(1, 200);
    int limit = 8_000;
    List<KafkaRecords.Record> records = cut(Signal.TRACES, request, false, true, limit);
    assertThat(records.size()).isGreaterThan(1);
    List<Span> spans = new ArrayList<>();
    for (KafkaRecords.Record r : records) {
      assertThat(r.value().length).isLessThanOrEqualTo(limit - KafkaRecords.RECORD_OVERHEAD);
      ExportTraceServiceRequest.Builder b = ExportTraceServiceRequest.newBuilder();
      // OTLP/JSON ids are hex where protobuf's JSON has base64 (hex reads as other bytes): names
      JsonFormat.parser().merge(new String(r.value(), StandardCharsets.UTF_8), b);
      b.getResourceSpansList().forEach(rs -> spans.addAll(rs.getScopeSpans(0).getSpansList()));
    }
    assertThat(spans)
        .extracting(Span::getName)
        .isEqualTo(
            request.getResourceSpans(0).getScopeSpans(0).getSpansList().stream()
                .map(Span::getName)
                .toList());
  }

  private static List<KafkaRecords.Record> cut(
      Signal signal,
      com.google.protobuf.Message request,
      boolean partitioned,
      boolean json,
      int maxMessageBytes) {
    ByteBuf buf = Unpooled.directBuffer();
    buf.writeBytes(request.toByteArray());
    try {
      return new KafkaRecords(maxMessageBytes).records(signal, buf, 0, partitioned, json);
    } finally {
      buf.release();
    }
  }

  /** {@code resources} resources, each with two spans of every one of {@code traces} traces. */
  private static ExportTraceServiceRequest traces(int resources, int traces) {
    ExportTraceServiceRequest.Builder b = ExportTraceServiceRequest.newBuilder();
    for (int r = 0; r < resources; r++) {
      ScopeSpans.Builder scope = ScopeSpans.newBuilder();
      for (int round = 0; round < 2; round++) {
        for (int t = 0; t < traces; t++) {
          scope.addSpans(
              Span.newBuilder()
                  .setName("r" + r + "-" + round + "-" + t)
                  .setTraceId(
                      ByteString.copyFrom(ByteBuffer.allocate(16).putLong(7).putLong(t).array()))
                  .setSpanId(
                      ByteString.copyFrom(
                          ByteBuffer.allocate(8).putLong(r * 1000 + round * 100 + t).array()))
                  .setStartTimeUnixNano(10)
                  .setEndTimeUnixNano(20));
        }
      }
      b.addResourceSpans(
          ResourceSpans.newBuilder()
              .setResource(Resource.newBuilder().addAttributes(kv("service.name", "s" + r)))
              .addScopeSpans(scope));
    }
    return b.build();
  }

  private static ResourceLogs logs(KeyValue... attributes) {
    return ResourceLogs.newBuilder()
        .setResource(Resource.newBuilder().addAllAttributes(List.of(attributes)))
        .addScopeLogs(
            ScopeLogs.newBuilder()
                .addLogRecords(
                    LogRecord.newBuilder().setBody(AnyValue.newBuilder().setStringValue("x"))))
        .build();
  }

  private static KeyValue kv(String key, String value) {
    return KeyValue.newBuilder()
        .setKey(key)
        .setValue(AnyValue.newBuilder().setStringValue(value))
        .build();
  }
}
