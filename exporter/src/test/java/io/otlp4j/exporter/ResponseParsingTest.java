package io.otlp4j.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsPartialSuccess;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The hand-written response readers, checked against responses built with the official classes (the
 * {@code google.rpc.Status} reader is the grpc module's {@code RpcStatus}, tested there).
 */
class ResponseParsingTest {

  @Test
  void partialSuccessIsReadFromAnOfficialResponse() {
    byte[] response =
        ExportMetricsServiceResponse.newBuilder()
            .setPartialSuccess(
                ExportMetricsPartialSuccess.newBuilder()
                    .setRejectedDataPoints(42)
                    .setErrorMessage("héllo"))
            .build()
            .toByteArray();

    AttemptOutcome.PartialSuccess p = ResponseParsing.partialSuccessFromProtobuf(response);

    assertThat(p.rejected).isEqualTo(42);
    assertThat(p.message).isEqualTo("héllo");
  }

  @Test
  void anEmptyOrMalformedResponseHasNoPartialSuccess() {
    assertThat(ResponseParsing.partialSuccessFromProtobuf(new byte[0])).isNull();
    assertThat(ResponseParsing.partialSuccessFromProtobuf(new byte[] {0x0a, 0x7f, 0x01})).isNull();
    assertThat(ResponseParsing.partialSuccessFromJson("not json".getBytes(StandardCharsets.UTF_8)))
        .isNull();
  }

  @Test
  void jsonPartialSuccessAcceptsStringAndNumberCountsAndIgnoresUnknownKeys() {
    byte[] json =
        "{\"extra\":{\"a\":[1,2]},\"partialSuccess\":{\"rejectedLogRecords\":\"7\",\"errorMessage\":\"x\",\"z\":1}}"
            .getBytes(StandardCharsets.UTF_8);
    AttemptOutcome.PartialSuccess p = ResponseParsing.partialSuccessFromJson(json);
    assertThat(p.rejected).isEqualTo(7);
    assertThat(p.message).isEqualTo("x");

    byte[] numeric = "{\"partialSuccess\":{\"rejectedSpans\":3}}".getBytes(StandardCharsets.UTF_8);
    assertThat(ResponseParsing.partialSuccessFromJson(numeric).rejected).isEqualTo(3);
  }
}
