package io.otlp4j.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OtlpResponsesTest {

  static Message.Builder responseBuilder(Signal signal) {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceResponse.newBuilder();
      case METRICS:
        return ExportMetricsServiceResponse.newBuilder();
      default:
        return ExportLogsServiceResponse.newBuilder();
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void partialSuccessMatchesTheOfficialEncodingInProtobufAndJson(Signal signal) throws Exception {
    Outcome outcome = Outcome.partiallyAccepted(1234567890123L, "some were bad \u00e9");
    Message.Builder fromProto =
        responseBuilder(signal).mergeFrom(OtlpResponses.exportResponse(outcome));
    Message.Builder fromJson = responseBuilder(signal);
    JsonFormat.parser()
        .merge(
            new String(OtlpResponses.exportResponseJson(signal, outcome), StandardCharsets.UTF_8),
            fromJson);
    assertThat(fromJson.build()).isEqualTo(fromProto.build());
    String officialJson = JsonFormat.printer().omittingInsignificantWhitespace().print(fromProto);
    assertThat(officialJson)
        .contains(OtlpResponses.rejectedJsonName(signal))
        .contains("1234567890123");
    // byte for byte what protobuf-java writes
    assertThat(OtlpResponses.exportResponse(outcome)).isEqualTo(fromProto.build().toByteArray());
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void acceptedIsTheEmptyResponse(Signal signal) {
    assertThat(OtlpResponses.exportResponse(Outcome.accepted())).isEmpty();
    assertThat(
            new String(
                OtlpResponses.exportResponseJson(signal, Outcome.accepted()),
                StandardCharsets.UTF_8))
        .isEqualTo("{}");
  }

  @Test
  void jsonStatusParsesWithTheOfficialClasses() throws Exception {
    com.google.rpc.Status.Builder json = com.google.rpc.Status.newBuilder();
    JsonFormat.parser()
        .merge(
            new String(OtlpResponses.statusJson(3, "bad \"input\""), StandardCharsets.UTF_8), json);
    assertThat(json.getCode()).isEqualTo(3);
    assertThat(json.getMessage()).isEqualTo("bad \"input\"");
  }

  @Test
  void retryAfterRoundsUpToWholeSecondsAndIsAtLeastOne() {
    assertThat(OtlpResponses.retryAfterSeconds(Duration.ZERO)).isEqualTo(1);
    assertThat(OtlpResponses.retryAfterSeconds(Duration.ofMillis(1001))).isEqualTo(2);
    assertThat(OtlpResponses.retryAfterSeconds(Duration.ofSeconds(30))).isEqualTo(30);
  }

  @Test
  void bearerTokenIsComparedExactlyWithACaseInsensitiveScheme() {
    BearerAuth auth = BearerAuth.of("abc.DEF-123");
    assertThat(auth.permits("Bearer abc.DEF-123")).isTrue();
    assertThat(auth.permits("bearer abc.DEF-123")).isTrue();
    assertThat(auth.permits("Bearer abc.def-123")).isFalse();
    assertThat(auth.permits("Bearer abc.DEF-1234")).isFalse();
    assertThat(auth.permits("Bearer ")).isFalse();
    assertThat(auth.permits("abc.DEF-123")).isFalse();
    assertThat(auth.permits(null)).isFalse();
    assertThat(auth.toString()).doesNotContain("abc");
    assertThat(BearerAuth.none().permits(null)).isTrue();
  }
}
