package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DebugExporterTest {

  private static List<String> spanNames(ExportTraceServiceRequest request) {
    List<String> names = new ArrayList<>();
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          names.add(s.getName());
        }
      }
    }
    return names;
  }

  private static ExportTraceServiceRequest uniquelyNamed(int spans) {
    ExportTraceServiceRequest.Builder b = OtlpGenerator.realisticTraces(spans).toBuilder();
    int n = 0;
    for (ResourceSpans.Builder rs : b.getResourceSpansBuilderList()) {
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        for (Span.Builder s : ss.getSpansBuilderList()) {
          s.setName("span-" + n++ + "-end");
        }
      }
    }
    return b.build();
  }

  private static ByteBuf direct(byte[] bytes) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
  }

  @Test
  void detailedLogsEverySpanAsOtlpJson() {
    ExportTraceServiceRequest request = uniquelyNamed(250);
    List<String> lines = new ArrayList<>();
    DebugExporter exporter =
        new DebugExporter("debug", DebugExporter.Verbosity.DETAILED, lines::add);
    ByteBuf buf = direct(request.toByteArray());
    assertThat(exporter.export(Signal.TRACES, buf, 250).join().isSuccess()).isTrue();
    assertThat(buf.refCnt()).isZero();

    assertThat(lines.get(0)).startsWith("debug: traces: ").contains("250 spans");
    String all = String.join("\n", lines);
    for (String name : spanNames(request)) {
      assertThat(all).contains("\"name\":\"" + name + "\"");
    }
    // Rendered in lines of at most DETAILED_ITEMS_PER_LINE spans, each a whole OTLP/JSON request.
    assertThat(lines).hasSizeGreaterThanOrEqualTo(1 + 250 / DebugExporter.DETAILED_ITEMS_PER_LINE);
    assertThat(lines.subList(1, lines.size()))
        .allSatisfy(l -> assertThat(l).startsWith("{\"resourceSpans\":"));
  }

  @Test
  void detailedOutputOfOneBatchIsBounded() {
    ExportTraceServiceRequest request = uniquelyNamed(6000);
    List<String> lines = new ArrayList<>();
    DebugExporter exporter =
        new DebugExporter("debug", DebugExporter.Verbosity.DETAILED, lines::add);
    exporter.export(Signal.TRACES, Unpooled.wrappedBuffer(request.toByteArray()), 6000).join();

    long chars = lines.stream().mapToLong(String::length).sum();
    assertThat(chars).isLessThan(DebugExporter.DETAILED_MAX_CHARS_PER_BATCH + 512 * 1024);
    assertThat(lines.get(lines.size() - 1)).matches("debug: \\d+ more spans not shown .*");
    assertThat(String.join("\n", lines))
        .contains("\"span-0-end\"")
        .doesNotContain("\"span-5999-end\"");
  }

  @Test
  void normalLogsOneLineWithCountsAndBasicTheItemCount() {
    ExportLogsServiceRequest logs = OtlpGenerator.realisticLogs(40);
    List<String> normal = new ArrayList<>();
    new DebugExporter("debug/n", DebugExporter.Verbosity.NORMAL, normal::add)
        .export(Signal.LOGS, Unpooled.wrappedBuffer(logs.toByteArray()), 40)
        .join();
    assertThat(normal)
        .singleElement()
        .asString()
        .matches(
            "debug/n: logs: \\d+ resources, \\d+ scopes, 40 log records, "
                + logs.getSerializedSize()
                + " bytes");

    List<String> basic = new ArrayList<>();
    DebugExporter exporter = new DebugExporter("debug", DebugExporter.Verbosity.BASIC, basic::add);
    exporter.export(Signal.LOGS, Unpooled.wrappedBuffer(logs.toByteArray()), 40).join();
    assertThat(basic).containsExactly("debug: logs: 40 log records");
    assertThat(exporter.exportedItems()).isEqualTo(40);
  }

  @Test
  void invalidBytesAreReportedNotRendered() {
    List<String> lines = new ArrayList<>();
    ByteBuf garbage = Unpooled.wrappedBuffer(new byte[] {0x0A, 0x05, 0x01});
    new DebugExporter("debug", DebugExporter.Verbosity.DETAILED, lines::add)
        .export(Signal.TRACES, garbage, 0)
        .join();
    assertThat(lines).singleElement().asString().contains("not valid OTLP");
    assertThat(garbage.refCnt()).isZero();
  }
}
