package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.AllocationMeter;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What an {@link EditPolicy} reads through {@link ElementView} is what protobuf-java reads, for
 * every element of every signal.
 */
@ExtendWith(NettyLeakCheck.class)
class ElementViewTest {
  @ParameterizedTest
  @EnumSource(Signal.class)
  void viewsReadWhatProtobufReads(Signal signal) {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 7L + 11).withUnknownFields(true);
    for (int i = 0; i < 200; i++) {
      Message request = generator.request(signal);
      assertViewsRead(signal, request.toByteArray(), request, (i & 1) == 1, "request " + i);
    }
  }

  /**
   * Attribute fields split around an item's other fields, and {@code KeyValue}s in every layout a
   * protobuf reader accepts ({@link FieldScrambler}): the lookup by key ({@link
   * ElementView#attribute}), whose fast path reads only the usual layout, finds what protobuf
   * finds, from heap and direct memory.
   */
  @ParameterizedTest
  @EnumSource(Signal.class)
  void viewsReadWhatProtobufReadsInUnusualLayouts(Signal signal) throws Exception {
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 5L + 3).withUnknownFields(true);
    FieldScrambler scrambler = new FieldScrambler(signal.ordinal() + 17L);
    for (int i = 0; i < 40; i++) {
      byte[] bytes = scrambler.scramble(signal, generator.request(signal));
      Message request = OfficialView.parse(signal, bytes);
      assertViewsRead(signal, bytes, request, (i & 1) == 1, "request " + i);
    }
  }

  private static void assertViewsRead(
      Signal signal, byte[] bytes, Message request, boolean direct, String what) {
    ByteBuf input =
        direct
            ? PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes)
            : Unpooled.wrappedBuffer(bytes);
    List<String> seen = new ArrayList<>();
    EditPolicy recorder =
        new EditPolicy() {
          private Decision record(ElementView v) {
            seen.add(describe(v));
            return Decision.KEEP;
          }

          @Override
          public Decision resource(ElementView resource) {
            return record(resource);
          }

          @Override
          public Decision scope(ElementView scope) {
            return record(scope);
          }

          @Override
          public Decision span(ElementView span) {
            return record(span);
          }

          @Override
          public Decision spanEvent(ElementView event) {
            return record(event);
          }

          @Override
          public Decision spanLink(ElementView link) {
            return record(link);
          }

          @Override
          public Decision metric(ElementView metric) {
            return record(metric);
          }

          @Override
          public Decision dataPoint(ElementView point) {
            return record(point);
          }

          @Override
          public Decision logRecord(ElementView record) {
            return record(record);
          }
        };
    try {
      RequestEditor.create().edit(signal, input, recorder).release();
    } finally {
      input.release();
    }
    assertThat(seen).as(what).containsExactlyElementsOf(expected(request));
  }

  @Test
  void readingFieldsAndAttributesAllocatesNothingPerSpan() {
    long small = allocationPerEdit(64);
    long large = allocationPerEdit(512);
    // The per-request part (the views, the output's slice) is the same for both: 448 more spans
    // cost nothing.
    assertThat(large - small).as("64 spans: %d B, 512 spans: %d B", small, large).isLessThan(448);
  }

  private static long allocationPerEdit(int spans) {
    byte[] bytes = OtlpGenerator.realisticTraces(spans).toByteArray();
    ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    byte[] route = "http.route".getBytes(StandardCharsets.UTF_8);
    long[] sink = new long[1];
    EditPolicy reader =
        new EditPolicy() {
          @Override
          public Decision span(ElementView span) {
            sink[0] +=
                span.name().length()
                    + span.spanKind()
                    + span.statusCode()
                    + span.endTimeUnixNano()
                    - span.startTimeUnixNano()
                    + span.traceIdHigh()
                    + span.attribute(route).stringValue().length()
                    + span.parent().name().length()
                    + span.attributes().indexOf("http.method");
            return Decision.KEEP;
          }
        };
    RequestEditor editor = RequestEditor.builder().validation(false).build();
    try {
      for (int i = 0; i < 300; i++) { // warm up, so that the loop is compiled
        editor.edit(Signal.TRACES, input, reader).release();
      }
      long least = Long.MAX_VALUE;
      for (int i = 0; i < 5; i++) {
        least =
            Math.min(
                least,
                AllocationMeter.allocatedBytes(
                    () -> editor.edit(Signal.TRACES, input, reader).release()));
      }
      return least;
    } finally {
      input.release();
    }
  }

  // ---- the view's reading

  private static String describe(ElementView v) {
    StringBuilder s = new StringBuilder(v.kind().name());
    switch (v.kind()) {
      case RESOURCE -> s.append(' ').append(v.isPresent());
      case SCOPE ->
          s.append(' ')
              .append(v.isPresent())
              .append(' ')
              .append(text(v.name()))
              .append(' ')
              .append(text(v.version()));
      case SPAN ->
          s.append(' ')
              .append(text(v.name()))
              .append(' ')
              .append(v.spanKind())
              .append(' ')
              .append(v.statusCode())
              .append(' ')
              .append(v.startTimeUnixNano())
              .append(' ')
              .append(v.endTimeUnixNano())
              .append(' ')
              .append(traceId(v))
              .append(" in ")
              .append(text(v.parent().name()));
      case SPAN_EVENT -> s.append(' ').append(text(v.name())).append(' ').append(v.timeUnixNano());
      case SPAN_LINK -> s.append(' ').append(traceId(v));
      case METRIC -> s.append(' ').append(text(v.name())).append(' ').append(v.metricType());
      case DATA_POINT ->
          s.append(' ')
              .append(v.metricType())
              .append(' ')
              .append(v.startTimeUnixNano())
              .append(' ')
              .append(v.timeUnixNano())
              .append(" of ")
              .append(text(v.parent().name()));
      case LOG_RECORD ->
          s.append(' ')
              .append(v.timeUnixNano())
              .append(' ')
              .append(v.observedTimeUnixNano())
              .append(' ')
              .append(v.severityNumber())
              .append(' ')
              .append(text(v.severityText()))
              .append(' ')
              .append(value(v.body()))
              .append(' ')
              .append(traceId(v))
              .append(' ')
              .append(text(v.name()));
      default -> throw new AssertionError();
    }
    AttributeList attributes = v.attributes();
    for (int i = 0; i < attributes.size(); i++) {
      String key = attributes.key(i).toString();
      s.append(" [").append(key).append('=').append(value(attributes.value(i)));
      // By key: the first attribute with it.
      s.append(" first=")
          .append(value(v.attribute(key.getBytes(StandardCharsets.UTF_8))))
          .append(']');
      assertThat(attributes.indexOf(key)).isLessThanOrEqualTo(i);
      assertThat(attributes.key(i).contentEquals(key)).isTrue();
    }
    assertThat(attributes.isModified()).isFalse();
    return s.toString();
  }

  private static String text(TextView t) {
    String copy = t.toString();
    // The CharSequence reads the same characters as the copy, non-ASCII included.
    assertThat(t.length()).isEqualTo(copy.length());
    for (int i = 0; i < copy.length(); i++) {
      assertThat(t.charAt(i)).isEqualTo(copy.charAt(i));
    }
    assertThat(t.contentEquals(copy)).isTrue();
    assertThat(t.contentEquals(copy.getBytes(StandardCharsets.UTF_8))).isTrue();
    return "'" + copy + "'";
  }

  private static String value(ValueView v) {
    return switch (v.type()) {
      case STRING -> "STRING:" + text(v.stringValue());
      case BOOL -> "BOOL:" + v.boolValue();
      case INT -> "INT:" + v.intValue();
      case DOUBLE -> "DOUBLE:" + v.doubleValue();
      default -> v.type().name();
    };
  }

  private static String traceId(ElementView v) {
    return v.hasTraceId() ? String.format("%016x%016x", v.traceIdHigh(), v.traceIdLow()) : "-";
  }

  // ---- protobuf-java's reading, in the editor's visiting order

  private static List<String> expected(Message request) {
    List<String> out = new ArrayList<>();
    if (request instanceof ExportTraceServiceRequest traces) {
      for (ResourceSpans rs : traces.getResourceSpansList()) {
        out.add("RESOURCE " + rs.hasResource() + attributes(rs.getResource().getAttributesList()));
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          out.add(scope(ss.hasScope(), ss.getScope()));
          for (Span span : ss.getSpansList()) {
            out.add(
                "SPAN "
                    + q(span.getName())
                    + " "
                    + span.getKindValue()
                    + " "
                    + span.getStatus().getCodeValue()
                    + " "
                    + span.getStartTimeUnixNano()
                    + " "
                    + span.getEndTimeUnixNano()
                    + " "
                    + traceId(span.getTraceId())
                    + " in "
                    + q(ss.getScope().getName())
                    + attributes(span.getAttributesList()));
            for (Span.Event e : span.getEventsList()) {
              out.add(
                  "SPAN_EVENT "
                      + q(e.getName())
                      + " "
                      + e.getTimeUnixNano()
                      + attributes(e.getAttributesList()));
            }
            for (Span.Link l : span.getLinksList()) {
              out.add("SPAN_LINK " + traceId(l.getTraceId()) + attributes(l.getAttributesList()));
            }
          }
        }
      }
    } else if (request instanceof ExportMetricsServiceRequest metrics) {
      for (ResourceMetrics rm : metrics.getResourceMetricsList()) {
        out.add("RESOURCE " + rm.hasResource() + attributes(rm.getResource().getAttributesList()));
        for (ScopeMetrics sm : rm.getScopeMetricsList()) {
          out.add(scope(sm.hasScope(), sm.getScope()));
          for (Metric m : sm.getMetricsList()) {
            String type =
                m.getDataCase() == Metric.DataCase.DATA_NOT_SET ? "NONE" : m.getDataCase().name();
            out.add("METRIC " + q(m.getName()) + " " + type + attributes(m.getMetadataList()));
            List<? extends Message> points =
                switch (m.getDataCase()) {
                  case GAUGE -> m.getGauge().getDataPointsList();
                  case SUM -> m.getSum().getDataPointsList();
                  case HISTOGRAM -> m.getHistogram().getDataPointsList();
                  case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsList();
                  case SUMMARY -> m.getSummary().getDataPointsList();
                  default -> List.of();
                };
            int attributeField =
                m.getDataCase() == Metric.DataCase.HISTOGRAM
                    ? 9
                    : m.getDataCase() == Metric.DataCase.EXPONENTIAL_HISTOGRAM ? 1 : 7;
            for (Message p : points) {
              @SuppressWarnings("unchecked")
              List<KeyValue> attrs =
                  (List<KeyValue>) p.getField(EditScript.field(p, attributeField));
              out.add(
                  "DATA_POINT "
                      + type
                      + " "
                      + p.getField(EditScript.field(p, 2))
                      + " "
                      + p.getField(EditScript.field(p, 3))
                      + " of "
                      + q(m.getName())
                      + attributes(attrs));
            }
          }
        }
      }
    } else {
      for (ResourceLogs rl : ((ExportLogsServiceRequest) request).getResourceLogsList()) {
        out.add("RESOURCE " + rl.hasResource() + attributes(rl.getResource().getAttributesList()));
        for (ScopeLogs sl : rl.getScopeLogsList()) {
          out.add(scope(sl.hasScope(), sl.getScope()));
          for (LogRecord r : sl.getLogRecordsList()) {
            out.add(
                "LOG_RECORD "
                    + r.getTimeUnixNano()
                    + " "
                    + r.getObservedTimeUnixNano()
                    + " "
                    + r.getSeverityNumberValue()
                    + " "
                    + q(r.getSeverityText())
                    + " "
                    + (r.hasBody() ? value(r.getBody()) : "ABSENT")
                    + " "
                    + traceId(r.getTraceId())
                    + " "
                    + q(r.getEventName())
                    + attributes(r.getAttributesList()));
          }
        }
      }
    }
    return out;
  }

  private static String scope(boolean present, InstrumentationScope scope) {
    return "SCOPE "
        + present
        + " "
        + q(scope.getName())
        + " "
        + q(scope.getVersion())
        + attributes(scope.getAttributesList());
  }

  private static String attributes(List<KeyValue> list) {
    StringBuilder s = new StringBuilder();
    for (KeyValue kv : list) {
      KeyValue first =
          list.stream().filter(x -> x.getKey().equals(kv.getKey())).findFirst().orElseThrow();
      s.append(" [")
          .append(kv.getKey())
          .append('=')
          .append(value(kv.getValue()))
          .append(" first=")
          .append(value(first.getValue()))
          .append(']');
    }
    return s.toString();
  }

  private static String value(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> "STRING:" + q(v.getStringValue());
      case BOOL_VALUE -> "BOOL:" + v.getBoolValue();
      case INT_VALUE -> "INT:" + v.getIntValue();
      case DOUBLE_VALUE -> "DOUBLE:" + v.getDoubleValue();
      case ARRAY_VALUE -> "ARRAY";
      case KVLIST_VALUE -> "KVLIST";
      case BYTES_VALUE -> "BYTES";
      default -> "EMPTY";
    };
  }

  private static String traceId(ByteString id) {
    return id.size() == 16 ? HexFormat.of().formatHex(id.toByteArray()) : "-";
  }

  private static String q(String s) {
    return "'" + s + "'";
  }
}
