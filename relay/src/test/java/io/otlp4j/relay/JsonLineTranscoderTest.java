package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link JsonLineTranscoder}: a large request transcoded in pieces on several threads gives, byte
 * for byte, the line the transcoder writes for the whole request; what it cannot cut it transcodes
 * whole; a failing piece fails the request and leaves nothing held; the buffers kept between
 * requests stay bounded; and the {@code file} exporter's concurrent exports never split a line.
 */
class JsonLineTranscoderTest {

  @TempDir Path dir;

  /**
   * {@code n} requests of {@code items} items each, concatenated: a merged batch, as the durable
   * loop hands it to the exporter.
   */
  private static final java.util.Map<String, byte[]> BATCHES =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * {@code n} requests of {@code items}, {@code items + 1}... items, concatenated: a merged batch,
   * as the durable loop hands it to the exporter, whose elements all differ (so pieces stitched out
   * of order would show). Made once per shape.
   */
  private static byte[] batch(Signal signal, int n, int items) {
    return BATCHES.computeIfAbsent(
        signal + "/" + n + "/" + items,
        k -> {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          for (int i = 0; i < n; i++) {
            out.writeBytes(
                switch (signal) {
                  case TRACES -> OtlpGenerator.realisticTraces(items + i).toByteArray();
                  case METRICS -> OtlpGenerator.realisticMetrics(items + i).toByteArray();
                  case LOGS -> OtlpGenerator.realisticLogs(items + i).toByteArray();
                });
          }
          return out.toByteArray();
        });
  }

  private static byte[] expectedLine(Signal signal, byte[] protobuf, int offset, int length) {
    byte[] json = OtlpJson.toJson(signal, protobuf, offset, length);
    byte[] line = java.util.Arrays.copyOf(json, json.length + 1);
    line[json.length] = '\n';
    return line;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4})
  void piecesMakeTheWholeRequestsLineByteForByte(int threads) throws Exception {
    JsonLineTranscoder t = new JsonLineTranscoder(threads);
    try {
      for (Signal signal : Signal.values()) {
        byte[] protobuf = batch(signal, 40, 60);
        // at an offset inside a larger array, as a heap buffer's slice is
        byte[] padded = new byte[protobuf.length + 13];
        System.arraycopy(protobuf, 0, padded, 5, protobuf.length);
        for (int round = 0; round < 2; round++) { // reused buffers must not leak longer content
          JsonLineTranscoder.Line line = t.transcode(signal, padded, 5, protobuf.length);
          try {
            assertThat(line.toByteArray())
                .isEqualTo(expectedLine(signal, protobuf, 0, protobuf.length));
            assertThat(line.length()).isEqualTo(line.toByteArray().length);
            if (threads > 1) {
              assertThat(line.segments()).as("cut into pieces").isGreaterThan(2);
            }
          } finally {
            line.release();
          }
        }
        // a small request is one piece
        byte[] small = batch(signal, 1, 3);
        JsonLineTranscoder.Line line = t.transcode(signal, small, 0, small.length);
        assertThat(line.segments()).isEqualTo(2);
        assertThat(line.toByteArray()).isEqualTo(expectedLine(signal, small, 0, small.length));
        line.release();
      }
    } finally {
      t.shutdown();
    }
  }

  @Test
  void cutsFallAtElementBoundariesAndNeverSplitOneElement() {
    byte[] protobuf = batch(Signal.TRACES, 30, 80);
    int[] cuts = JsonLineTranscoder.cuts(protobuf, 0, protobuf.length, 4);
    assertThat(cuts).hasSize(5);
    assertThat(cuts[0]).isZero();
    assertThat(cuts[4]).isEqualTo(protobuf.length);
    for (int i = 0; i < 4; i++) {
      assertThat(cuts[i + 1]).isGreaterThan(cuts[i]);
      // each piece is a valid request on its own
      assertThat(
              parseTraces(java.util.Arrays.copyOfRange(protobuf, cuts[i], cuts[i + 1]))
                  .getResourceSpansCount())
          .isPositive();
    }
    // one element, however large: not cut
    byte[] one = OtlpGenerator.realisticTraces(2_000).toByteArray();
    assertThat(one.length).isGreaterThan(4 * JsonLineTranscoder.MIN_PIECE_BYTES);
    assertThat(JsonLineTranscoder.cuts(one, 0, one.length, 4)).isNull();
    // another field at the top level (an unknown one): left to the whole request's transcoding
    byte[] withUnknown = java.util.Arrays.copyOf(protobuf, protobuf.length + 2);
    withUnknown[protobuf.length] = (byte) (15 << 3); // field 15, varint
    withUnknown[protobuf.length + 1] = 1;
    assertThat(JsonLineTranscoder.cuts(withUnknown, 0, withUnknown.length, 4)).isNull();
    // truncated: left to the whole request's transcoding, which reports the error
    assertThat(JsonLineTranscoder.cuts(protobuf, 0, protobuf.length - 1, 4)).isNull();
  }

  @Test
  void aRequestThatCannotBeCutIsTranscodedWholeAsBefore() throws Exception {
    JsonLineTranscoder t = new JsonLineTranscoder(4);
    try {
      byte[] protobuf = batch(Signal.TRACES, 20, 80);
      byte[] withUnknown = java.util.Arrays.copyOf(protobuf, protobuf.length + 2);
      withUnknown[protobuf.length] = (byte) (15 << 3);
      withUnknown[protobuf.length + 1] = 1;
      JsonLineTranscoder.Line line = t.transcode(Signal.TRACES, withUnknown, 0, withUnknown.length);
      assertThat(line.segments()).isEqualTo(2);
      assertThat(line.toByteArray())
          .isEqualTo(expectedLine(Signal.TRACES, withUnknown, 0, withUnknown.length));
      line.release();
    } finally {
      t.shutdown();
    }
  }

  @Test
  void aPieceThatFailsFailsTheRequestAndHoldsNothing() throws Exception {
    JsonLineTranscoder t = new JsonLineTranscoder(4);
    try {
      byte[] protobuf = batch(Signal.TRACES, 40, 60);
      int[] cuts = JsonLineTranscoder.cuts(protobuf, 0, protobuf.length, 4);
      // A span's name made invalid UTF-8 inside the third piece: the cut still works (lengths are
      // intact), the transcoding of that piece fails.
      byte[] bad = protobuf.clone();
      int target = indexOf(bad, "/api/v1".getBytes(StandardCharsets.UTF_8), cuts[2]);
      assertThat(target).isLessThan(cuts[3]);
      bad[target] = (byte) 0xFF;
      assertThatThrownBy(() -> t.transcode(Signal.TRACES, bad, 0, bad.length))
          .isInstanceOf(RuntimeException.class);
      assertThat(t.pooledBuffers()).isLessThanOrEqualTo(JsonLineTranscoder.MAX_POOLED_BUFFERS);
      // and the next request is whole and right
      JsonLineTranscoder.Line line = t.transcode(Signal.TRACES, protobuf, 0, protobuf.length);
      assertThat(line.toByteArray())
          .isEqualTo(expectedLine(Signal.TRACES, protobuf, 0, protobuf.length));
      line.release();
    } finally {
      t.shutdown();
    }
  }

  @Test
  void buffersKeptBetweenRequestsAreBounded() throws Exception {
    JsonLineTranscoder t = new JsonLineTranscoder(4);
    ExecutorService callers = Executors.newFixedThreadPool(4);
    try {
      byte[] protobuf = batch(Signal.LOGS, 24, 80);
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        futures.add(
            callers.submit(
                () -> {
                  for (int i = 0; i < 5; i++) {
                    t.transcode(Signal.LOGS, protobuf, 0, protobuf.length).release();
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(t.pooledBuffers()).isBetween(1, JsonLineTranscoder.MAX_POOLED_BUFFERS);
      assertThat(t.pooledBytes())
          .isLessThanOrEqualTo(
              (long) JsonLineTranscoder.MAX_POOLED_BUFFERS
                  * JsonLineTranscoder.MAX_POOLED_BUFFER_BYTES);
    } finally {
      callers.shutdownNow();
      t.shutdown();
    }
  }

  @Test
  void concurrentExportsNeverSplitALine() throws Exception {
    Path out = dir.resolve("traces.jsonl");
    FileExporter exporter =
        FileExporter.builder("file").path(out).transcodeThreads(3).maxBytes(1L << 40).build();
    ExecutorService callers = Executors.newFixedThreadPool(4);
    Set<String> expected = new HashSet<>();
    try {
      // Four callers at once, each with its own large, distinct batch, through composite buffers
      // (the copy path) and heap ones (in place).
      List<byte[]> batches = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        byte[] b = batch(Signal.TRACES, 10 + 3 * c, 50);
        batches.add(b);
        expected.add(new String(OtlpJson.toJson(Signal.TRACES, b), StandardCharsets.UTF_8));
      }
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        byte[] b = batches.get(c);
        boolean composite = c % 2 == 0;
        futures.add(
            callers.submit(
                () -> {
                  for (int i = 0; i < 6; i++) {
                    io.netty.buffer.ByteBuf buf;
                    if (composite) {
                      CompositeByteBuf cb = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer();
                      int half = b.length / 2;
                      cb.addComponent(
                          true,
                          PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(b, 0, half));
                      cb.addComponent(
                          true,
                          PooledByteBufAllocator.DEFAULT
                              .directBuffer()
                              .writeBytes(b, half, b.length - half));
                      buf = cb;
                    } else {
                      buf = io.netty.buffer.Unpooled.wrappedBuffer(b);
                    }
                    assertThat(exporter.export(Signal.TRACES, buf, 1).join().isSuccess()).isTrue();
                    assertThat(buf.refCnt()).isZero();
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      callers.shutdownNow();
      exporter.shutdown(Duration.ofSeconds(1)).join();
    }
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertThat(lines).hasSize(24);
    for (String line : lines) {
      assertThat(expected).contains(line);
    }
  }

  private static ExportTraceServiceRequest parseTraces(byte[] b) {
    try {
      return ExportTraceServiceRequest.parseFrom(b);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
