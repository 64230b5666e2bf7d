package io.otlp4j.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * The official classes and protobuf-java-util's JsonFormat, as the reference the transcoder is
 * checked against.
 */
final class OfficialJson {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Set<String> ID_KEYS =
      Set.of("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id");

  private OfficialJson() {}

  static Message parse(Signal signal, byte[] protobuf) {
    try {
      switch (signal) {
        case TRACES:
          return ExportTraceServiceRequest.parseFrom(protobuf);
        case METRICS:
          return ExportMetricsServiceRequest.parseFrom(protobuf);
        default:
          return ExportLogsServiceRequest.parseFrom(protobuf);
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("the official classes refuse the bytes", e);
    }
  }

  /** The official parse with unknown fields discarded, as a transcoding to JSON drops them. */
  static Message parseDiscardingUnknownFields(Signal signal, byte[] protobuf) {
    com.google.protobuf.Parser<? extends Message> parser;
    switch (signal) {
      case TRACES:
        parser = ExportTraceServiceRequest.parser();
        break;
      case METRICS:
        parser = ExportMetricsServiceRequest.parser();
        break;
      default:
        parser = ExportLogsServiceRequest.parser();
        break;
    }
    try {
      return com.google.protobuf.DiscardUnknownFieldsParser.wrap(parser).parseFrom(protobuf);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("the official classes refuse the bytes", e);
    }
  }

  static Message.Builder builder(Signal signal) {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceRequest.newBuilder();
      case METRICS:
        return ExportMetricsServiceRequest.newBuilder();
      default:
        return ExportLogsServiceRequest.newBuilder();
    }
  }

  /**
   * What protobuf-java-util's JsonFormat makes of OTLP/JSON once its hex ids are turned into
   * base64.
   */
  static Message jsonFormatParse(Signal signal, byte[] otlpJson) {
    Message.Builder builder = builder(signal);
    try {
      JsonFormat.parser()
          .ignoringUnknownFields()
          .merge(new String(hexIdsToBase64(otlpJson), StandardCharsets.UTF_8), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
    return builder.build();
  }

  /**
   * Rewrites every id value from OTLP/JSON's hex to the base64 that protobuf's JSON mapping
   * expects.
   */
  static byte[] hexIdsToBase64(byte[] json) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonParser p = JSON.createParser(json);
        JsonGenerator g = JSON.createGenerator(out)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        if (t == JsonToken.VALUE_STRING
            && p.getParsingContext().inObject()
            && ID_KEYS.contains(p.currentName())) {
          g.writeString(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(p.getText())));
        } else {
          g.copyCurrentEvent(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * A copy of {@code message} with every -0.0 double replaced by 0.0: JsonFormat's parser reads
   * doubles through BigDecimal, which has no negative zero, so this is what it can give back at
   * best.
   */
  @SuppressWarnings("unchecked")
  static <M extends Message> M withoutNegativeZeros(M message) {
    Message.Builder builder = message.toBuilder();
    for (java.util.Map.Entry<com.google.protobuf.Descriptors.FieldDescriptor, Object> entry :
        message.getAllFields().entrySet()) {
      com.google.protobuf.Descriptors.FieldDescriptor field = entry.getKey();
      switch (field.getJavaType()) {
        case DOUBLE:
          if (field.isRepeated()) {
            for (int i = 0; i < builder.getRepeatedFieldCount(field); i++) {
              builder.setRepeatedField(
                  field, i, positiveZero((Double) builder.getRepeatedField(field, i)));
            }
          } else {
            builder.setField(field, positiveZero((Double) entry.getValue()));
          }
          break;
        case MESSAGE:
          if (field.isRepeated()) {
            for (int i = 0; i < builder.getRepeatedFieldCount(field); i++) {
              builder.setRepeatedField(
                  field, i, withoutNegativeZeros((Message) builder.getRepeatedField(field, i)));
            }
          } else {
            builder.setField(field, withoutNegativeZeros((Message) entry.getValue()));
          }
          break;
        default:
          break;
      }
    }
    return (M) builder.build();
  }

  private static double positiveZero(double d) {
    return d == 0 ? 0.0 : d;
  }

  static byte[] resource(String path) {
    try (InputStream in = OfficialJson.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new AssertionError(path + " is not on the test class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
