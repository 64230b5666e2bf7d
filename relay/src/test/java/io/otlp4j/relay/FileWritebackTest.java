package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code file} exporter forces its output on its own thread every {@code writebackBytes}
 * ({@link FileWriteback}), through rotations, without changing a byte of what it writes.
 */
class FileWritebackTest {

  @TempDir Path dir;

  private static final byte[] REQUEST = OtlpGenerator.realisticTraces(50).toByteArray();

  private static ByteBuf direct(byte[] bytes) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
  }

  private static List<String> allLines(Path dir) throws Exception {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.sorted().toList()) {
        lines.addAll(Files.readAllLines(p, StandardCharsets.UTF_8));
      }
    }
    return lines;
  }

  @Test
  void outputIsForcedEachTimeTheStepWasWritten() throws Exception {
    Path out = dir.resolve("out.jsonl");
    FileExporter exporter =
        FileExporter.builder("file").path(out).writebackBytes(64 * 1024).build();
    try {
      long written = 0;
      int requests = 0;
      while (written < 4 * 64 * 1024) {
        exporter.export(Signal.TRACES, direct(REQUEST), 50).join();
        requests++;
        written = Files.size(out);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (exporter.writebacks() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(exporter.writebacks()).isPositive();
      assertThat(Files.readAllLines(out, StandardCharsets.UTF_8)).hasSize(requests);
    } finally {
      exporter.shutdown(Duration.ofSeconds(30)).join();
    }
  }

  @Test
  void zeroLeavesTheWritebackToTheKernel() throws Exception {
    FileExporter exporter =
        FileExporter.builder("file").path(dir.resolve("out.jsonl")).writebackBytes(0).build();
    for (int i = 0; i < 20; i++) {
      exporter.export(Signal.TRACES, direct(REQUEST), 50).join();
    }
    exporter.shutdown(Duration.ofSeconds(30)).join();
    assertThat(exporter.writebacks()).isZero();
    assertThat(allLines(dir)).hasSize(20);
  }

  @Test
  void forcingAfterEveryLineThroughManyRotationsKeepsEveryLineWhole() throws Exception {
    int requests = 300;
    FileExporter exporter =
        FileExporter.builder("file")
            .path(dir.resolve("out.jsonl"))
            .writebackBytes(1)
            .maxBytes(3L * REQUEST.length)
            .maxBackups(1_000)
            .build();
    for (int i = 0; i < requests; i++) {
      assertThat(exporter.export(Signal.TRACES, direct(REQUEST), 50).join().isSuccess()).isTrue();
    }
    exporter.shutdown(Duration.ofSeconds(30)).join();
    List<String> lines = allLines(dir);
    assertThat(lines).hasSize(requests);
    String first = lines.get(0);
    assertThat(first).startsWith("{\"resourceSpans\":").endsWith("}");
    assertThat(lines).allSatisfy(l -> assertThat(l).isEqualTo(first));
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.count()).isGreaterThan(10);
    }
  }
}
