package io.otlp4j.bench.relay;

import com.google.protobuf.util.JsonFormat;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.relay.FileExporter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The embedded default's {@code file} exporter alone, on the batch the durable loop hands it in the
 * main job: {@value #REQUESTS} requests of {@value #SPANS_PER_REQUEST} realistic spans ({@link
 * OtlpGenerator#realisticTraces(int)}, what {@code otlp4j send} sends) merged into one request of
 * {@value #REQUESTS} × {@value #SPANS_PER_REQUEST} spans (about 4 MB of protobuf), written to a
 * file in a temporary directory (rotated at 256 MiB, one backup kept). One operation = one batch;
 * spans per second = {@value #REQUESTS} × {@value #SPANS_PER_REQUEST} / the time per operation.
 *
 * <ul>
 *   <li>{@code json}: {@link FileExporter#export} as the relay runs it (OTLP/JSON lines), with
 *       {@code transcodeThreads} threads transcoding one batch (1: the previous exporter's one
 *       thread).
 *   <li>{@code anchor_protoWrite}: the same exporter with {@code format: proto}: the same protobuf
 *       bytes framed and written, no transcoding (the physical limit of writing the batch).
 *   <li>{@code anchor_jsonFormat}: the Collector-equivalent in Java: {@code parseFrom} +
 *       protobuf-java's {@code JsonFormat} printer (compact) + UTF-8 bytes + one write of the line.
 * </ul>
 *
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/benchmarks.jar FileExporterBenchmark -f 2 -wi 3 -i 5
 * </pre>
 *
 * <p>The machine running it is the relay's: on a 2-core machine {@code transcodeThreads=2} has at
 * most the second core to gain, and less when anything else runs (say so with its figures).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FileExporterBenchmark {
  static final int REQUESTS = 80;
  static final int SPANS_PER_REQUEST = 100;
  private static final long ROTATE_BYTES = 256L * 1024 * 1024;

  @Param({"1", "2"})
  int transcodeThreads;

  /** The exporter's paced write-back ({@code FileExporter.Builder.writebackBytes}); 0: none. */
  @Param({"1048576", "0"})
  long writebackBytes;

  private byte[] batch;
  private Path dir;
  private FileExporter json;
  private FileExporter proto;
  private FileChannel jsonFormatFile;
  private JsonFormat.Printer printer;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] one = OtlpGenerator.realisticTraces(SPANS_PER_REQUEST).toByteArray();
    for (int i = 0; i < REQUESTS; i++) {
      out.writeBytes(one);
    }
    batch = out.toByteArray();
    dir = Files.createTempDirectory("otlp4j-file-exporter-bench-");
    json =
        FileExporter.builder("file")
            .directory(dir.resolve("json"))
            .maxBytes(ROTATE_BYTES)
            .maxBackups(1)
            .transcodeThreads(transcodeThreads)
            .writebackBytes(writebackBytes)
            .build();
    proto =
        FileExporter.builder("file")
            .directory(dir.resolve("proto"))
            .format(FileExporter.Format.PROTO)
            .maxBytes(ROTATE_BYTES)
            .maxBackups(1)
            .build();
    jsonFormatFile =
        FileChannel.open(
            dir.resolve("jsonformat.jsonl"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    printer = JsonFormat.printer().omittingInsignificantWhitespace();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    json.shutdown(Duration.ofSeconds(5)).join();
    proto.shutdown(Duration.ofSeconds(5)).join();
    jsonFormatFile.close();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Benchmark
  public boolean json() {
    return json.export(Signal.TRACES, Unpooled.wrappedBuffer(batch), REQUESTS * SPANS_PER_REQUEST)
        .join()
        .isSuccess();
  }

  @Benchmark
  public boolean anchor_protoWrite() {
    return proto
        .export(Signal.TRACES, Unpooled.wrappedBuffer(batch), REQUESTS * SPANS_PER_REQUEST)
        .join()
        .isSuccess();
  }

  @Benchmark
  public long anchor_jsonFormat() throws IOException {
    String line = printer.print(ExportTraceServiceRequest.parseFrom(batch)) + "\n";
    ByteBuffer bytes = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
    if (jsonFormatFile.position() > ROTATE_BYTES) {
      jsonFormatFile.truncate(0);
      jsonFormatFile.position(0);
    }
    long n = 0;
    while (bytes.hasRemaining()) {
      n += jsonFormatFile.write(bytes);
    }
    return n;
  }
}
