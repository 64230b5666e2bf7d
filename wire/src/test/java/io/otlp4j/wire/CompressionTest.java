package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.otlp4j.wire.testing.AllocationMeter;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class CompressionTest {

  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

  /**
   * Unpooled heap buffers without the leak detector's records, so AllocationMeter sees only our
   * output.
   */
  private static final UnpooledByteBufAllocator MEASURED =
      new UnpooledByteBufAllocator(false, true);

  private static final long GIB = 1L << 30;

  private static byte[] gzipBomb;
  private static byte[] zstdBomb;

  @BeforeAll
  static void buildBombs() throws IOException {
    gzipBomb = gzippedZeros(1024);
    byte[] zeros = new byte[1 << 20];
    ByteArrayOutputStream zs = new ByteArrayOutputStream();
    try (ZstdOutputStream out = new ZstdOutputStream(zs, 1)) {
      for (int i = 0; i < 1024; i++) {
        out.write(zeros);
      }
    }
    zstdBomb = zs.toByteArray();
  }

  /**
   * {@code mebibytes} MiB of zeros gzipped without the zeros ever existing in memory: one fully
   * flushed deflate segment of 1 MiB of zeros (flushing resets the dictionary, so segments are
   * independent), repeated, then a final empty block and the trailer.
   */
  private static byte[] gzippedZeros(int mebibytes) throws IOException {
    byte[] zeros = new byte[1 << 20];
    Deflater deflater = new Deflater(9, true);
    deflater.setInput(zeros);
    byte[] segment = new byte[64 << 10];
    int segmentLength = deflater.deflate(segment, 0, segment.length, Deflater.FULL_FLUSH);
    deflater.end();
    assertThat(segmentLength).isLessThan(segment.length);
    CRC32 crc = new CRC32();
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    gz.write(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
    for (int i = 0; i < mebibytes; i++) {
      gz.write(segment, 0, segmentLength);
      crc.update(zeros);
    }
    gz.write(new byte[] {3, 0}); // final, empty, fixed-Huffman block
    int crcValue = (int) crc.getValue();
    int size = mebibytes << 20;
    gz.write(
        new byte[] {
          (byte) crcValue,
          (byte) (crcValue >>> 8),
          (byte) (crcValue >>> 16),
          (byte) (crcValue >>> 24)
        });
    gz.write(
        new byte[] {(byte) size, (byte) (size >>> 8), (byte) (size >>> 16), (byte) (size >>> 24)});
    return gz.toByteArray();
  }

  @Test
  void theGzipBombConstructionGivesValidGzipOfZeros() throws IOException {
    byte[] decompressed = referenceDecompress(Compression.GZIP, gzippedZeros(16));
    assertThat(decompressed.length).isEqualTo(16 << 20);
    for (byte b : decompressed) {
      if (b != 0) {
        throw new AssertionError("non-zero byte");
      }
    }
  }

  // ---------------------------------------------------------------- names

  @Test
  void encodingNamesMapBothWaysIgnoringCaseAndBlanks() {
    assertThat(Compression.NONE.encoding()).isEqualTo("none");
    assertThat(Compression.GZIP.encoding()).isEqualTo("gzip");
    assertThat(Compression.ZSTD.encoding()).isEqualTo("zstd");
    assertThat(Compression.fromEncoding(null)).isEqualTo(Compression.NONE);
    assertThat(Compression.fromEncoding("")).isEqualTo(Compression.NONE);
    assertThat(Compression.fromEncoding("identity")).isEqualTo(Compression.NONE);
    assertThat(Compression.fromEncoding("None")).isEqualTo(Compression.NONE);
    assertThat(Compression.fromEncoding(" GZIP ")).isEqualTo(Compression.GZIP);
    assertThat(Compression.fromEncoding("x-gzip")).isEqualTo(Compression.GZIP);
    assertThat(Compression.fromEncoding("ZStd")).isEqualTo(Compression.ZSTD);
    for (Compression c : Compression.values()) {
      assertThat(Compression.fromEncoding(c.encoding())).isEqualTo(c);
    }
  }

  @Test
  void anUnknownEncodingIsRefusedByName() {
    assertThatThrownBy(() -> Compression.fromEncoding("br"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'br'");
  }

  // ---------------------------------------------------------------- round trips

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void generatorPayloadsRoundTripAndAgreeWithTheReferenceImplementations(Compression codec)
      throws Exception {
    OtlpGenerator generator = new OtlpGenerator(21).withUnknownFields(true);
    for (int i = 0; i < 90; i++) {
      Message message = generator.request(Signal.values()[i % 3]);
      byte[] payload = message.toByteArray();
      checkRoundTrip(codec, payload);
    }
    checkRoundTrip(codec, OtlpGenerator.realisticTraces(2000).toByteArray());
    checkRoundTrip(codec, OtlpGenerator.realisticMetrics(2000).toByteArray());
    checkRoundTrip(codec, OtlpGenerator.realisticLogs(2000).toByteArray());
    checkRoundTrip(codec, new byte[0]);
  }

  private static void checkRoundTrip(Compression codec, byte[] payload) throws IOException {
    byte[] ours = codec.compress(payload);
    assertThat(referenceDecompress(codec, ours)).isEqualTo(payload);
    byte[] theirs = referenceCompress(codec, payload);
    assertThat(codec.decompress(theirs, payload.length)).isEqualTo(payload);
    assertThat(codec.decompress(ours, payload.length)).isEqualTo(payload);
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void largePayloadsDecompressIntoSeveralChunksWithTheSameBytes(Compression codec)
      throws IOException {
    byte[] payload =
        OtlpGenerator.realisticTraces(12_000).toByteArray(); // ~5 MB: more than one 4 MiB chunk
    // Compressed by the reference without a declared size, so the first chunk is a guess.
    byte[] compressed = referenceCompress(codec, payload);
    ByteBuf in = Unpooled.wrappedBuffer(compressed);
    ByteBuf out = codec.decompress(in, ALLOC, payload.length);
    try {
      assertThat(out).isInstanceOf(CompositeByteBuf.class);
      assertThat(out.readableBytes()).isEqualTo(payload.length);
      byte[] bytes = new byte[payload.length];
      out.getBytes(out.readerIndex(), bytes);
      assertThat(Arrays.equals(bytes, payload)).isTrue();
    } finally {
      out.release();
      in.release();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void aStreamThatDeclaresItsSizeDecompressesIntoOneContiguousBuffer(Compression codec) {
    byte[] payload = OtlpGenerator.realisticTraces(2000).toByteArray(); // ~800 KB, under one chunk
    ByteBuf in = Unpooled.wrappedBuffer(codec.compress(payload));
    ByteBuf out = codec.decompress(in, ALLOC, payload.length);
    try {
      assertThat(out).isNotInstanceOf(CompositeByteBuf.class);
      assertThat(out.readableBytes()).isEqualTo(payload.length);
      assertThat(out.capacity()).isEqualTo(payload.length + 1);
    } finally {
      out.release();
      in.release();
    }
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void inputsOfEveryShapeAreReadWithoutChangingTheirIndexesOrReferenceCount(Compression codec) {
    byte[] payload = new OtlpGenerator(4).traces().toByteArray();
    byte[] compressed = codec.compress(payload);
    for (ByteBuf in : shapes(compressed)) {
      int reader = in.readerIndex();
      int writer = in.writerIndex();
      ByteBuf out = codec.decompress(in, ALLOC, payload.length);
      try {
        assertThat(bytesOf(out)).isEqualTo(payload);
      } finally {
        out.release();
      }
      ByteBuf recompressed = codec.compress(in, ALLOC);
      recompressed.release();
      assertThat(in.readerIndex()).isEqualTo(reader);
      assertThat(in.writerIndex()).isEqualTo(writer);
      assertThat(in.refCnt()).isEqualTo(1);
      in.release();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void aFailedDecompressionLeavesTheInputAsItWasAndReleasesItsOutput(Compression codec) {
    byte[] payload = OtlpGenerator.realisticLogs(200).toByteArray();
    byte[] compressed = codec.compress(payload);
    for (ByteBuf in : shapes(compressed)) {
      long before = MEASURED.metric().usedHeapMemory();
      assertThatThrownBy(() -> codec.decompress(in, MEASURED, payload.length - 1))
          .isInstanceOf(WireFormatException.class);
      assertThat(MEASURED.metric().usedHeapMemory()).isEqualTo(before);
      assertThat(in.refCnt()).isEqualTo(1);
      assertThat(in.readableBytes()).isEqualTo(compressed.length);
      in.release();
    }
  }

  /**
   * Heap, direct, read-only and three-component composite views of {@code bytes}, each with an
   * offset.
   */
  private static ByteBuf[] shapes(byte[] bytes) {
    ByteBuf heap =
        ALLOC.heapBuffer(bytes.length + 3).writeBytes(new byte[] {9, 9, 9}).writeBytes(bytes);
    heap.skipBytes(3);
    ByteBuf direct = ALLOC.directBuffer(bytes.length).writeBytes(bytes);
    ByteBuf readOnly = Unpooled.wrappedBuffer(bytes.clone()).asReadOnly();
    CompositeByteBuf composite = ALLOC.compositeBuffer();
    int a = bytes.length / 3;
    int b = 2 * bytes.length / 3;
    composite.addComponent(true, ALLOC.heapBuffer().writeBytes(bytes, 0, a));
    composite.addComponent(true, ALLOC.directBuffer().writeBytes(bytes, a, b - a));
    composite.addComponent(true, ALLOC.heapBuffer().writeBytes(bytes, b, bytes.length - b));
    return new ByteBuf[] {heap, direct, readOnly, composite};
  }

  @Test
  void noneReturnsARetainedSliceAndChecksTheLimit() {
    ByteBuf in = Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
    ByteBuf out = Compression.NONE.decompress(in, ALLOC, 3);
    assertThat(in.refCnt()).isEqualTo(2);
    out.release();
    ByteBuf compressed = Compression.NONE.compress(in, ALLOC);
    assertThat(bytesOf(compressed)).containsExactly(1, 2, 3);
    compressed.release();
    assertThatThrownBy(() -> Compression.NONE.decompress(in, ALLOC, 2))
        .isInstanceOf(WireFormatException.class)
        .hasMessage("decompressed size exceeds the limit of 2 bytes");
    assertThat(in.refCnt()).isEqualTo(1);
    in.release();
  }

  // ---------------------------------------------------------------- limits

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void outputOfExactlyTheLimitIsAcceptedAndOneByteMoreRefused(Compression codec) {
    byte[] payload = OtlpGenerator.realisticMetrics(300).toByteArray();
    byte[] compressed = codec.compress(payload);
    assertThat(codec.decompress(compressed, payload.length)).isEqualTo(payload);
    assertThatThrownBy(() -> codec.decompress(compressed, payload.length - 1))
        .isInstanceOf(WireFormatException.class)
        .hasMessage("decompressed size exceeds the limit of " + (payload.length - 1) + " bytes")
        .extracting(e -> ((WireFormatException) e).offset())
        .isEqualTo(-1L);
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void anEmptyPayloadFitsALimitOfZero(Compression codec) {
    byte[] compressed = codec.compress(new byte[0]);
    assertThat(codec.decompress(compressed, 0)).isEmpty();
    assertThatThrownBy(() -> codec.decompress(codec.compress(new byte[] {1}), 0))
        .isInstanceOf(WireFormatException.class)
        .hasMessage("decompressed size exceeds the limit of 0 bytes");
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void aNegativeLimitIsAProgrammingError(Compression codec) {
    assertThatThrownBy(() -> codec.decompress(new byte[0], -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxDecompressedBytes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"GZIP", "ZSTD"})
  void aGibibyteBombIsRefusedAfterAllocatingNoMoreThanTheLimit(String name) {
    Compression codec = Compression.valueOf(name);
    byte[] bomb = codec == Compression.GZIP ? gzipBomb : zstdBomb;
    assertThat(bomb.length).isLessThan(2 << 20);
    long limit = 8 << 20;
    ByteBuf in = Unpooled.wrappedBuffer(bomb);
    long before = MEASURED.metric().usedHeapMemory();
    long allocated =
        AllocationMeter.allocatedBytes(
            () ->
                assertThatThrownBy(() -> codec.decompress(in, MEASURED, limit))
                    .isInstanceOf(WireFormatException.class)
                    .hasMessage("decompressed size exceeds the limit of " + limit + " bytes"));
    assertThat(allocated).isBetween(limit, limit + (256 << 10));
    assertThat(MEASURED.metric().usedHeapMemory()).isEqualTo(before);
    in.release();
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void decompressingAllocatesTheOutputOnceAndLittleElse(Compression codec) {
    byte[] payload = OtlpGenerator.realisticMetrics(3000).toByteArray();
    ByteBuf in = Unpooled.wrappedBuffer(codec.compress(payload));
    AllocationMeter.Action decompress =
        () -> codec.decompress(in, MEASURED, payload.length).release();
    AllocationMeter.allocatedBytes(decompress); // warm up
    long allocated = AllocationMeter.allocatedBytes(decompress);
    assertThat(allocated).isBetween((long) payload.length, payload.length + 8192L);
    in.release();
  }

  @Test
  void aLyingGzipLengthTrailerCostsAtMostTheHintRatioTimesTheInput() {
    byte[] compressed = Compression.GZIP.compress(new byte[] {1, 2, 3, 4});
    int n = compressed.length;
    compressed[n - 4] =
        compressed[n - 3] = compressed[n - 2] = compressed[n - 1] = (byte) 0xFF; // 4 GiB - 1
    ByteBuf in = Unpooled.wrappedBuffer(compressed);
    WireFormatException[] thrown = new WireFormatException[1];
    AllocationMeter.Action decompress =
        () -> {
          try {
            Compression.GZIP.decompress(in, MEASURED, GIB).release();
          } catch (WireFormatException e) {
            thrown[0] = e;
          }
        };
    AllocationMeter.allocatedBytes(decompress); // warm up: class initialisation allocates once
    long allocated = AllocationMeter.allocatedBytes(decompress);
    assertThat(thrown[0]).hasMessageContaining("length mismatch");
    assertThat(allocated).isLessThan(Math.max((long) Compression.HINT_RATIO * n, 4096) + 4096);
    in.release();
  }

  @Test
  void aZstdFrameWhoseWindowExceedsWhatTheLimitNeedsIsRefused() {
    byte[] payload = new byte[1 << 20];
    new java.util.Random(1).nextBytes(payload);
    byte[] compressed;
    try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
      ctx.setLevel(3).setWindowLog(27).setContentSize(false);
      // Streaming without a pledged size keeps the declared 128 MiB window in the frame header.
      java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocate(2 << 20);
      java.nio.ByteBuffer src = java.nio.ByteBuffer.wrap(payload);
      while (src.hasRemaining()) {
        ctx.compressByteBufferStream(dst, src, com.github.luben.zstd.EndDirective.CONTINUE);
      }
      java.nio.ByteBuffer empty = java.nio.ByteBuffer.allocate(0);
      while (!ctx.compressByteBufferStream(dst, empty, com.github.luben.zstd.EndDirective.END)) {
        // flush
      }
      compressed = Arrays.copyOf(dst.array(), dst.position());
    }
    assertThatThrownBy(() -> Compression.ZSTD.decompress(compressed, 2 << 20))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("corrupt zstd stream");
  }

  // ---------------------------------------------------------------- corrupt and truncated

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void everyTruncationOfAValidStreamIsRefused(Compression codec) {
    byte[] payload = new OtlpGenerator(8).logs().toByteArray();
    byte[] compressed = codec.compress(payload);
    for (int length = 0; length < compressed.length; length++) {
      byte[] cut = Arrays.copyOf(compressed, length);
      assertThatThrownBy(() -> codec.decompress(cut, 1 << 20))
          .as("truncated to %d of %d bytes", length, compressed.length)
          .isInstanceOf(WireFormatException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void trailingGarbageIsRefused(Compression codec) {
    byte[] compressed = codec.compress(new byte[] {1, 2, 3});
    byte[] withGarbage = Arrays.copyOf(compressed, compressed.length + 5);
    assertThatThrownBy(() -> codec.decompress(withGarbage, 100))
        .isInstanceOf(WireFormatException.class);
  }

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void concatenatedMembersOrFramesDecompressToTheConcatenation(Compression codec)
      throws IOException {
    byte[] a = new OtlpGenerator(1).traces().toByteArray();
    byte[] b = new OtlpGenerator(2).traces().toByteArray();
    byte[] both = concat(codec.compress(a), codec.compress(b));
    assertThat(codec.decompress(both, a.length + b.length)).isEqualTo(concat(a, b));
    assertThat(referenceDecompress(codec, both)).isEqualTo(concat(a, b));
  }

  @Test
  void aZstdSkippableFrameIsIgnored() {
    byte[] payload = {1, 2, 3};
    byte[] skippable = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 9, 9, 9, 9};
    assertThat(
            Compression.ZSTD.decompress(concat(skippable, Compression.ZSTD.compress(payload)), 3))
        .containsExactly(payload);
  }

  @Test
  void gzipHeaderOptionalFieldsAreSkippedAndTheirCrcChecked() throws IOException {
    byte[] payload = OtlpGenerator.realisticLogs(10).toByteArray();
    byte[] plain = Compression.GZIP.compress(payload);
    byte[] deflate = Arrays.copyOfRange(plain, 10, plain.length); // raw deflate + trailer
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    header.write(new byte[] {0x1f, (byte) 0x8b, 8, 4 | 8 | 16 | 2, 1, 2, 3, 4, 0, 3});
    header.write(new byte[] {5, 0, 'a', 'b', 'c', 'd', 'e'}); // FEXTRA
    header.write("name.bin\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)); // FNAME
    header.write("a comment\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)); // FCOMMENT
    CRC32 crc = new CRC32();
    crc.update(header.toByteArray());
    header.write((int) crc.getValue() & 0xFF);
    header.write(((int) crc.getValue() >>> 8) & 0xFF);
    byte[] full = concat(header.toByteArray(), deflate);
    assertThat(referenceDecompress(Compression.GZIP, full)).isEqualTo(payload);
    assertThat(Compression.GZIP.decompress(full, payload.length)).isEqualTo(payload);

    byte[] badHeaderCrc = full.clone();
    badHeaderCrc[header.size() - 1] ^= 1;
    assertThatThrownBy(() -> Compression.GZIP.decompress(badHeaderCrc, payload.length))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("header CRC-16");
  }

  @Test
  void gzipStructuralDamageIsRefusedWithItsReasonAndOffset() {
    byte[] payload = OtlpGenerator.realisticTraces(20).toByteArray();
    byte[] good = Compression.GZIP.compress(payload);
    int n = good.length;
    assertRefused(withByte(good, 0, 0x1e), "bad magic number", 0);
    assertRefused(withByte(good, 2, 7), "compression method 7", 2);
    assertRefused(withByte(good, 3, 0x20), "reserved header flags", 3);
    assertRefused(withByte(good, n - 8, good[n - 8] ^ 1), "CRC-32 mismatch", n - 8);
    assertRefused(withByte(good, n - 4, good[n - 4] ^ 1), "length mismatch", n - 4);
    assertRefused(new byte[0], "empty gzip stream", 0);
    assertThatThrownBy(() -> Compression.ZSTD.decompress(new byte[0], 10))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("empty zstd stream");
  }

  @Test
  void corruptDeflateDataIsRefused() {
    byte[] good = Compression.GZIP.compress(OtlpGenerator.realisticTraces(20).toByteArray());
    byte[] bad = good.clone();
    bad[10] = (byte) 0xFF; // block type 3: reserved
    assertThatThrownBy(() -> Compression.GZIP.decompress(bad, 1 << 20))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("corrupt gzip stream");
  }

  @Test
  void corruptZstdDataIsRefused() {
    byte[] good = Compression.ZSTD.compress(OtlpGenerator.realisticTraces(20).toByteArray());
    byte[] badMagic = withByte(good, 0, 0);
    assertThatThrownBy(() -> Compression.ZSTD.decompress(badMagic, 1 << 20))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("corrupt zstd stream");
  }

  private static void assertRefused(byte[] gzip, String reason, long offset) {
    assertThatThrownBy(() -> Compression.GZIP.decompress(gzip, 1 << 20))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining(reason)
        .extracting(e -> ((WireFormatException) e).offset())
        .isEqualTo(offset);
  }

  // ---------------------------------------------------------------- helpers

  private static byte[] withByte(byte[] bytes, int index, int value) {
    byte[] copy = bytes.clone();
    copy[index] = (byte) value;
    return copy;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] bytesOf(ByteBuf buf) {
    byte[] bytes = new byte[buf.readableBytes()];
    buf.getBytes(buf.readerIndex(), bytes);
    return bytes;
  }

  static byte[] referenceCompress(Compression codec, byte[] payload) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out =
        codec == Compression.GZIP ? new GZIPOutputStream(bytes) : new ZstdOutputStream(bytes)) {
      out.write(payload);
    }
    return bytes.toByteArray();
  }

  static byte[] referenceDecompress(Compression codec, byte[] compressed) throws IOException {
    try (InputStream in =
        codec == Compression.GZIP
            ? new GZIPInputStream(new ByteArrayInputStream(compressed))
            : new ZstdInputStream(new ByteArrayInputStream(compressed))) {
      return in.readAllBytes();
    }
  }

  static {
    // Loads the native library before any timing-sensitive test.
    Zstd.compressBound(1);
  }
}
