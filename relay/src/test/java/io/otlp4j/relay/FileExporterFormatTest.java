package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.core.Outcome;
import io.otlp4j.relay.config.RelayConfig;
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
 * length before each request), {@code append}, and rotation by age, read back with the official classes.
 */
class FileExporterFormatTest {

  @TempDir
  Path dir;

  private static ByteBuf direct(byte[] bytes) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
  }

  /** Reads the Collector's framing: uint32 big-endian length, then that many protobuf bytes, to EOF. */
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

  @Test
  void protoFormatIsReadBackWithTheOfficialClasses() throws Exception {
    Path out = dir.resolve("all.binpb");
    FileExporter exporter = FileExporter.builder("file").path(out).format(FileExporter.Format.PROTO).build();
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
      Message parsed = switch (Signal.values()[i % 3]) {
        case TRACES -> ExportTraceServiceRequest.parseFrom(frames.get(i));
        case METRICS -> ExportMetricsServiceRequest.parseFrom(frames.get(i));
        case LOGS -> ExportLogsServiceRequest.parseFrom(frames.get(i));
      };
      assertThat(parsed).isEqualTo(sent.get(i));
    }
  }

  @Test
  void relayWithFormatProtoWritesTheCollectorsFraming() throws Exception {
    String yaml = """
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
    assertThat(frames(dir.resolve("traces.binpb"))).hasSize(2)
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
    FileExporter exporter = FileExporter.builder("file").path(out).format(FileExporter.Format.PROTO)
        .maxBytes(request.length + 10).maxAge(Duration.ofDays(3)).build();
    exporter.export(Signal.TRACES, direct(request), 50).join();
    exporter.export(Signal.TRACES, direct(request), 50).join(); // rotates
    exporter.shutdown(Duration.ofSeconds(1)).join();

    assertThat(old).doesNotExist();
    assertThat(recent).exists();
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> rotated = files.filter(p -> p.getFileName().toString().startsWith("t-2")
          && !p.equals(recent)).toList();
      assertThat(rotated).singleElement().satisfies(p -> {
        try (InputStream in = Files.newInputStream(p)) {
          assertThat(in.readAllBytes()).hasSize(4 + request.length);
        }
      });
    }
    assertThat(frames(out)).singleElement().satisfies(f -> assertThat(f).isEqualTo(request));
  }
}
