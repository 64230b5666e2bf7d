package io.otlp4j.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.core.Outcome;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.testing.RecordedRequest;
import io.otlp4j.testing.Transport;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every signal over every protocol with every compression arrives intact at real servers. */
@ExtendWith(NettyLeakCheck.class)
class ExportMatrixTest {

  private static MockOtlpServer grpc;
  private static MockOtlpServer http;

  @BeforeAll
  static void startServers() throws Exception {
    grpc = MockOtlpServer.started();
    http = MockOtlpServer.builder().requireContentLength().start();
  }

  @AfterAll
  static void stopServers() throws Exception {
    grpc.close();
    http.close();
  }

  static Stream<Arguments> matrix() {
    List<Arguments> all = new ArrayList<>();
    for (Protocol p : Protocol.values()) {
      for (Compression c : Compression.values()) {
        all.add(Arguments.of(p, c));
      }
    }
    return all.stream();
  }

  static OtlpExporter exporter(Protocol protocol, Compression compression) {
    return OtlpExporter.builder()
        .protocol(protocol)
        .endpoint(protocol == Protocol.GRPC ? grpc.grpcEndpoint() : http.httpEndpoint())
        .compression(compression)
        .header("x-tenant", "acme")
        .timeout(Duration.ofSeconds(20))
        .ioThreads(1)
        .build();
  }

  static ByteBuf direct(byte[] bytes) {
    return ByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrix")
  void everySignalArrivesIntactAsTheOfficialClassesDecodeIt(
      Protocol protocol, Compression compression) throws Exception {
    try (OtlpExporter exporter = exporter(protocol, compression)) {
      for (Signal signal : Signal.values()) {
        Message sent = OfficialDecoding.realistic(signal, 40);
        int before = received(protocol);
        Outcome result =
            exporter.export(signal, direct(sent.toByteArray()), 40).get(60, TimeUnit.SECONDS);

        assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
        assertThat(result.attempts()).isEqualTo(1);
        assertThat(received(protocol)).isEqualTo(before + 1);
        if (protocol == Protocol.GRPC) {
          RecordedRequest got = grpc.requests().get(before);
          assertThat(got.transport()).isEqualTo(Transport.GRPC);
          assertThat(got.signal()).isEqualTo(signal);
          assertThat(got.message()).isEqualTo(sent);
          assertThat(got.header("x-tenant")).isEqualTo("acme");
          assertThat(got.header("user-agent")).startsWith("otlp4j/");
          String encoding = got.header("grpc-encoding");
          assertThat(encoding == null ? "none" : encoding)
              .isEqualTo(compression == Compression.NONE ? "none" : compression.encoding());
        } else {
          RecordedRequest got = http.requests().get(before);
          assertThat(got.transport()).isEqualTo(Transport.HTTP);
          assertThat(got.signal()).isEqualTo(signal);
          assertThat(got.message()).isEqualTo(sent);
          assertThat(got.header("Content-Type"))
              .isEqualTo(
                  protocol == Protocol.HTTP_JSON ? "application/json" : "application/x-protobuf");
          assertThat(got.header("Content-Encoding"))
              .isEqualTo(compression == Compression.NONE ? null : compression.encoding());
          assertThat(got.header("User-Agent")).startsWith("otlp4j/");
          assertThat(got.headers("x-tenant")).containsExactly("acme");
        }
      }
      String exporterName = protocol == Protocol.GRPC ? "otlp" : "otlphttp";
      assertThat(exporter.sentItems(Signal.TRACES)).isEqualTo(40);
      assertThat(exporter.sentItems(Signal.METRICS)).isEqualTo(40);
      assertThat(exporter.sentItems(Signal.LOGS)).isEqualTo(40);
      assertThat(exporter.metricsText())
          .contains("otelcol_exporter_sent_spans_total{exporter=\"" + exporterName + "\"} 40")
          .contains(
              "otelcol_exporter_sent_metric_points_total{exporter=\"" + exporterName + "\"} 40")
          .contains("otelcol_exporter_sent_log_records_total{exporter=\"" + exporterName + "\"} 40")
          .contains("otelcol_exporter_send_failed_spans_total{exporter=\"" + exporterName + "\"} 0")
          .contains(
              "otlp4j_exporter_request_duration_seconds_count{exporter=\""
                  + exporterName
                  + "\"} 3");
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Protocol.class,
      names = {"GRPC", "HTTP_PROTOBUF"})
  void protobufPayloadsPassThroughUnchangedWithUnknownFieldsAndEdgeValues(Protocol protocol)
      throws Exception {
    OtlpGenerator generator = new OtlpGenerator(42).withUnknownFields(true);
    try (OtlpExporter exporter = exporter(protocol, Compression.NONE)) {
      for (int i = 0; i < 30; i++) {
        Signal signal = Signal.values()[i % 3];
        Message sent = generator.request(signal);
        int before = received(protocol);
        Outcome result =
            exporter.export(signal, direct(sent.toByteArray()), 1).get(60, TimeUnit.SECONDS);
        assertThat(result.kind()).as(result.toString()).isEqualTo(Outcome.Kind.ACCEPTED);
        Message got = (protocol == Protocol.GRPC ? grpc : http).requests().get(before).message();
        assertThat(got.toByteArray()).isEqualTo(sent.toByteArray());
      }
    }
  }

  private static int received(Protocol protocol) {
    return protocol == Protocol.GRPC ? grpc.requestCount() : http.requestCount();
  }
}
