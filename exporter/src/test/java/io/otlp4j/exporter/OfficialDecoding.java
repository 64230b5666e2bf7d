package io.otlp4j.exporter;

import com.github.luben.zstd.ZstdInputStream;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * How test servers decode what arrives, independently of the code under test: zstd-jni and the JDK's
 * gzip for bodies, the official opentelemetry-proto classes for protobuf, protobuf-java-util's
 * JsonFormat (after turning OTLP/JSON's hex ids into proto3 JSON's base64) for OTLP/JSON.
 */
final class OfficialDecoding {
  private static final Set<String> ID_KEYS = Set.of("traceId", "spanId", "parentSpanId");

  private OfficialDecoding() {}

  static Signal signalOfPath(String path) {
    for (Signal s : Signal.values()) {
      if (path.equals(s.httpPath())) {
        return s;
      }
    }
    throw new IllegalArgumentException("unexpected path " + path);
  }

  static byte[] decompress(String encoding, byte[] body) {
    if (encoding == null || encoding.isEmpty() || encoding.equals("identity")) {
      return body;
    }
    try (InputStream in = encoding.equals("gzip")
        ? new GZIPInputStream(new ByteArrayInputStream(body))
        : encoding.equals("zstd") ? new ZstdInputStream(new ByteArrayInputStream(body)) : null) {
      if (in == null) {
        throw new IllegalArgumentException("unexpected encoding " + encoding);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Message parseProtobuf(Signal signal, byte[] bytes) {
    try {
      switch (signal) {
        case TRACES:
          return ExportTraceServiceRequest.parseFrom(bytes);
        case METRICS:
          return ExportMetricsServiceRequest.parseFrom(bytes);
        default:
          return ExportLogsServiceRequest.parseFrom(bytes);
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static Message parseJson(Signal signal, byte[] json) {
    JsonElement tree = JsonParser.parseString(new String(json, StandardCharsets.UTF_8));
    hexIdsToBase64(tree);
    Message.Builder builder;
    switch (signal) {
      case TRACES:
        builder = ExportTraceServiceRequest.newBuilder();
        break;
      case METRICS:
        builder = ExportMetricsServiceRequest.newBuilder();
        break;
      default:
        builder = ExportLogsServiceRequest.newBuilder();
        break;
    }
    try {
      JsonFormat.parser().merge(tree.toString(), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
    return builder.build();
  }

  private static void hexIdsToBase64(JsonElement e) {
    if (e.isJsonArray()) {
      for (JsonElement x : (JsonArray) e) {
        hexIdsToBase64(x);
      }
    } else if (e.isJsonObject()) {
      JsonObject o = e.getAsJsonObject();
      for (Map.Entry<String, JsonElement> entry : o.entrySet()) {
        JsonElement v = entry.getValue();
        if (ID_KEYS.contains(entry.getKey()) && v.isJsonPrimitive()) {
          entry.setValue(new JsonPrimitive(
              Base64.getEncoder().encodeToString(HexFormat.of().parseHex(v.getAsString()))));
        } else {
          hexIdsToBase64(v);
        }
      }
    }
  }

  /** A deterministic, production-like request of {@code signal} with {@code items} items. */
  static Message realistic(Signal signal, int items) {
    switch (signal) {
      case TRACES:
        return OtlpGenerator.realisticTraces(items);
      case METRICS:
        return OtlpGenerator.realisticMetrics(items);
      default:
        return OtlpGenerator.realisticLogs(items);
    }
  }
}
