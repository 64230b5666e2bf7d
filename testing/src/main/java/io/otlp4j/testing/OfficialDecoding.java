package io.otlp4j.testing;

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
import io.opentelemetry.proto.metrics.v1.Metric;
import io.otlp4j.wire.Signal;
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
 * How test peers decode what arrives, independently of the code under test: zstd-jni and the JDK's
 * gzip for bodies, the official opentelemetry-proto classes for protobuf, protobuf-java-util's
 * JsonFormat (after turning OTLP/JSON's hex ids into proto3 JSON's base64) for OTLP/JSON.
 */
public final class OfficialDecoding {
  private static final Set<String> ID_KEYS = Set.of("traceId", "spanId", "parentSpanId");

  private OfficialDecoding() {}

  /**
   * The signal of an OTLP/HTTP path ({@code /v1/traces}, ...); IllegalArgumentException otherwise.
   */
  public static Signal signalOfPath(String path) {
    for (Signal s : Signal.values()) {
      if (path.equals(s.httpPath())) {
        return s;
      }
    }
    throw new IllegalArgumentException("unexpected path " + path);
  }

  /** {@code body} decompressed per its {@code Content-Encoding} (none, identity, gzip or zstd). */
  public static byte[] decompress(String encoding, byte[] body) {
    if (encoding == null || encoding.isEmpty() || encoding.equals("identity")) {
      return body;
    }
    try (InputStream in =
        encoding.equals("gzip")
            ? new GZIPInputStream(new ByteArrayInputStream(body))
            : encoding.equals("zstd")
                ? new ZstdInputStream(new ByteArrayInputStream(body))
                : null) {
      if (in == null) {
        throw new IllegalArgumentException("unexpected encoding " + encoding);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The Export request of {@code signal} in {@code bytes}; IllegalArgumentException if malformed.
   */
  public static Message parseProtobuf(Signal signal, byte[] bytes) {
    try {
      return switch (signal) {
        case TRACES -> ExportTraceServiceRequest.parseFrom(bytes);
        case METRICS -> ExportMetricsServiceRequest.parseFrom(bytes);
        case LOGS -> ExportLogsServiceRequest.parseFrom(bytes);
      };
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /**
   * The Export request of {@code signal} in OTLP/JSON {@code json}; IllegalArgumentException if
   * malformed.
   */
  public static Message parseJson(Signal signal, byte[] json) {
    Message.Builder builder =
        switch (signal) {
          case TRACES -> ExportTraceServiceRequest.newBuilder();
          case METRICS -> ExportMetricsServiceRequest.newBuilder();
          case LOGS -> ExportLogsServiceRequest.newBuilder();
        };
    try {
      JsonElement tree = JsonParser.parseString(new String(json, StandardCharsets.UTF_8));
      hexIdsToBase64(tree);
      JsonFormat.parser().merge(tree.toString(), builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IllegalArgumentException(e);
    }
    return builder.build();
  }

  /** Spans, data points or log records in an Export request. */
  public static long items(Message request) {
    if (request instanceof ExportTraceServiceRequest t) {
      return t.getResourceSpansList().stream()
          .flatMap(rs -> rs.getScopeSpansList().stream())
          .mapToLong(ss -> ss.getSpansCount())
          .sum();
    }
    if (request instanceof ExportMetricsServiceRequest m) {
      return m.getResourceMetricsList().stream()
          .flatMap(rm -> rm.getScopeMetricsList().stream())
          .flatMap(sm -> sm.getMetricsList().stream())
          .mapToLong(OfficialDecoding::dataPoints)
          .sum();
    }
    if (request instanceof ExportLogsServiceRequest l) {
      return l.getResourceLogsList().stream()
          .flatMap(rl -> rl.getScopeLogsList().stream())
          .mapToLong(sl -> sl.getLogRecordsCount())
          .sum();
    }
    throw new IllegalArgumentException(
        "not an OTLP Export request: " + request.getClass().getName());
  }

  /** Data points of a metric, over every metric type. */
  public static long dataPoints(Metric m) {
    return switch (m.getDataCase()) {
      case GAUGE -> m.getGauge().getDataPointsCount();
      case SUM -> m.getSum().getDataPointsCount();
      case HISTOGRAM -> m.getHistogram().getDataPointsCount();
      case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
      case SUMMARY -> m.getSummary().getDataPointsCount();
      default -> 0;
    };
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
          entry.setValue(
              new JsonPrimitive(
                  Base64.getEncoder().encodeToString(HexFormat.of().parseHex(v.getAsString()))));
        } else {
          hexIdsToBase64(v);
        }
      }
    }
  }
}
