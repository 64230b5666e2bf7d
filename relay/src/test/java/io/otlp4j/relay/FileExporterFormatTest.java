package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code file} exporter's {@code format: proto} (the Collector's framing: a 4-byte big-endian
 * length before each request), {@code append}, and rotation by age, read back with the official
 * classes; and its JSON lines, the same whatever buffer a request comes in.
 */
class FileExporterFormatTest {

  @TempDir Path dir;

  private static ByteBuf direct(byte[] bytes) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
  }

  /**
   * Reads the Collector's framing: uint32 big-endian length, then that many protobuf bytes, to EOF.
   */
  private static List<byte[]> frames(Path file) throws Exception {
    List<byte[]> frames = new ArrayList<>();
    try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
      while (true) {
        int length;
        try {
          length = in.readInt();
        } catch (EOFException end) {
          return frames;
        }
        frames.add(in.readNBytes(length));
      }
    }
  }

  /**
   * The buffers a request reaches the exporter in: heap (at an offset), direct, composite (a merged
   * batch).
   */
  private static ByteBuf inKind(int kind, byte[] bytes) {
    switch (kind) {
      case 0:
        {
          byte[] padded = new byte[bytes.length + 7];
          System.arraycopy(bytes, 0, padded, 7, bytes.length);
          return Unpooled.wrappedBuffer(padded).skipBytes(7);
        }
      case 1:
        return direct(bytes);
      default:
        {
          CompositeByteBuf composite = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer();
          int half = bytes.length / 2;
          composite.addComponent(true, direct(java.util.Arrays.copyOfRange(bytes, 0, half)));
          composite.addComponent(
              true, direct(java.util.Arrays.copyOfRange(bytes, half, bytes.length)));
          return composite;
        }
    }
  }

  @Test
  void jsonLinesAreTheTranscodersOutputWhateverTheBufferAndNothingOfAFailedRequest()
      throws Exception {
    Path out = dir.resolve("all.jsonl");
    FileExporter exporter = FileExporter.builder("file").path(out).build();
    OtlpGenerator generator = new OtlpGenerator(11);
    List<String> expected = new ArrayList<>();
    List<Message> sent = new ArrayList<>();
    for (int i = 0; i < 36; i++) {
      Signal signal = Signal.values()[i % 3];
      // Every few requests a large one (a merged batch of many), then small ones again: the reused
      // buffers grow and must not leak bytes of a longer line into a shorter one.
      Message request = generator.request(signal);
      if (i % 7 == 3) {
        ByteBuf big = Unpooled.buffer();
        for (int k = 0; k < 200; k++) {
          big.writeBytes(generator.request(signal).toByteArray());
        }
        request = parse(signal, io.netty.buffer.ByteBufUtil.getBytes(big));
      }
      byte[] bytes = request.toByteArray();
      ByteBuf buf = inKind(i % 3, bytes);
      assertThat(exporter.export(signal, buf, 1).join().isSuccess()).isTrue();
      assertThat(buf.refCnt()).isZero();
      expected.add(new String(OtlpJson.toJson(signal, bytes), StandardCharsets.UTF_8));
      sent.add(request);
      if (i == 10) {
        // Truncated: the transcoder fails part-way; not a byte of it may reach the file.
        ByteBuf bad = inKind(i % 3, new byte[] {0x0A, 0x10, 0x0A, 0x02});
        assertThat(exporter.export(Signal.TRACES, bad, 1).join().isSuccess()).isFalse();
        assertThat(bad.refCnt()).isZero();
      }
    }
    exporter.shutdown(Duration.ofSeconds(1)).join();

    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(lines).containsExactlyElementsOf(expected);
    // the large ones went to the file in several slices
    assertThat(lines).anyMatch(line -> line.length() > 2 * FileExporter.WRITE_SLICE);
    for (int i = 0; i < lines.size(); i++) {
      Signal signal = Signal.values()[i % 3];
      assertThat(
              parse(
                  signal,
                  OtlpJson.toProtobuf(signal, lines.get(i).getBytes(StandardCharsets.UTF_8))))
          .isEqualTo(sent.get(i));
    }
  }

  private static Message parse(Signal signal, byte[] protobuf) throws Exception {
    return switch (signal) {
      case TRACES -> ExportTraceServiceRequest.parseFrom(protobuf);
      case METRICS -> ExportMetricsServiceRequest.parseFrom(protobuf);
      case LOGS -> ExportLogsServiceRequest.parseFrom(protobuf);
    };
  }

  @Test
  void protoFormatIsReadBackWithTheOfficialClasses() throws Exception {
    Path out = dir.resolve("all.binpb");
    FileExporter exporter =
        FileExporter.builder("file").path(out).format(FileExporter.Format.PROTO).build();
    OtlpGenerator generator = new OtlpGenerator(5);
    List<Message> sent = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      Signal signal = Signal.values()[i % 3];
      Message request = generator.request(signal);
      sent.add(request);
      ByteBuf buf = direct(request.toByteArray());
      assertThat(exporter.export(signal, buf, 1).join().isSuccess()).isTrue();
      assertThat(buf.refCnt()).isZero();
    }
    exporter.shutdown(Duration.ofSeconds(1)).join();

    List<byte[]> frames = frames(out);
    assertThat(frames).hasSize(30);
    for (int i = 0; i < 30; i++) {
      Message parsed =
          switch (Signal.values()[i % 3]) {
            case TRACES -> ExportTraceServiceRequest.parseFrom(frames.get(i));
            case METRICS -> ExportMetricsServiceRequest.parseFrom(frames.get(i));
            case LOGS -> ExportLogsServiceRequest.parseFrom(frames.get(i));
          };
      assertThat(parsed).isEqualTo(sent.get(i));
    }
  }

  @Test
  void relayWithFormatProtoWritesTheCollectorsFraming() throws Exception {
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 127.0.0.1:0
        exporters:
          file:
            path: traces.binpb
            format: proto
            flush_interval: 1s
            rotation:
              max_megabytes: 1
              max_days: 1
              max_backups: 2
        service:
          telemetry:
            metrics:
              address: 127.0.0.1:0
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [file]
        """;
    ExportTraceServiceRequest request = OtlpGenerator.realisticTraces(20);
    try (Relay relay = Relay.start(RelayConfig.parse(yaml, Map.<String, String>of()::get, dir))) {
      RelayExporter file = relay.exporter("file");
      file.export(Signal.TRACES, direct(request.toByteArray()), 20).join();
      file.export(Signal.TRACES, direct(request.toByteArray()), 20).join();
    }
    assertThat(frames(dir.resolve("traces.binpb")))
        .hasSize(2)
        .allSatisfy(f -> assertThat(ExportTraceServiceRequest.parseFrom(f)).isEqualTo(request));
  }

  @Test
  void appendFalseTruncatesTheFileWhenFirstWritten() throws Exception {
    Path out = dir.resolve("out.jsonl");
    Files.writeString(out, "left over from the last run\n", StandardCharsets.UTF_8);
    byte[] request = OtlpGenerator.realisticLogs(3).toByteArray();
    FileExporter exporter = FileExporter.builder("file").path(out).append(false).build();
    exporter.export(Signal.LOGS, direct(request), 3).join();
    exporter.export(Signal.LOGS, direct(request), 3).join();
    exporter.shutdown(Duration.ofSeconds(1)).join();
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("{\"resourceLogs\":"));

    FileExporter appending = FileExporter.builder("file").path(out).build();
    appending.export(Signal.LOGS, direct(request), 3).join();
    appending.shutdown(Duration.ofSeconds(1)).join();
    assertThat(Files.readAllLines(out, StandardCharsets.UTF_8)).hasSize(3);
  }

  @Test
  void rotationDeletesBackupsOlderThanMaxAge() throws Exception {
    Path out = dir.resolve("t.binpb");
    Path old = dir.resolve("t-20200101T000000.000-000.binpb");
    Path recent = dir.resolve("t-20990101T000000.000-000.binpb");
    Files.writeString(old, "x");
    Files.writeString(recent, "y");
    Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(4))));
    byte[] request = OtlpGenerator.realisticTraces(50).toByteArray();
    FileExporter exporter =
        FileExporter.builder("file")
            .path(out)
            .format(FileExporter.Format.PROTO)
            .maxBytes(request.length + 10)
            .maxAge(Duration.ofDays(3))
            .build();
    exporter.export(Signal.TRACES, direct(request), 50).join();
    exporter.export(Signal.TRACES, direct(request), 50).join(); // rotates
    exporter.shutdown(Duration.ofSeconds(1)).join();

    assertThat(old).doesNotExist();
    assertThat(recent).exists();
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> rotated =
          files
              .filter(p -> p.getFileName().toString().startsWith("t-2") && !p.equals(recent))
              .toList();
      assertThat(rotated)
          .singleElement()
          .satisfies(
              p -> {
                try (InputStream in = Files.newInputStream(p)) {
                  assertThat(in.readAllBytes()).hasSize(4 + request.length);
                }
              });
    }
    assertThat(frames(out)).singleElement().satisfies(f -> assertThat(f).isEqualTo(request));
  }
}
