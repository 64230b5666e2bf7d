package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.github.luben.zstd.ZstdInputStream;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * Coverage-guided fuzzing of the bounded decompressors, {@link Compression#decompress(ByteBuf,
 * io.netty.buffer.ByteBufAllocator, long)} for gzip and zstd (snappy is not an OTLP encoding and
 * otlp4j has none).
 *
 * <p>Input: the compressed bytes, then (from the end) the codec and the limit (0 to 1 MiB).
 * Properties: each input decompresses or is refused with {@link WireFormatException}, nothing else;
 * output buffers of at most {@code limit + 1} bytes are ever allocated, whatever sizes the stream
 * declares; a limit refusal says so ({@code exceeds the limit}) and happens only when the stream
 * really decodes to more than the limit; what is accepted, the reference decoder (the JDK's
 * GZIPInputStream, zstd-jni's ZstdInputStream) decodes to the same bytes; nothing stays allocated.
 */
class DecompressorFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void decompress(FuzzedDataProvider data) throws IOException {
    Compression codec = data.consumeBoolean() ? Compression.GZIP : Compression.ZSTD;
    int limit = data.consumeInt(0, 1 << 20);
    byte[] input = data.consumeRemainingAsBytes();
    CountingAllocator alloc = new CountingAllocator();
    ByteBuf in = Unpooled.wrappedBuffer(input);
    ByteBuf out = null;
    try {
      out = codec.decompress(in, alloc, limit);
    } catch (WireFormatException e) {
      assertThat(e.offset()).isBetween(-1L, (long) input.length);
      if (e.getMessage().contains("exceeds the limit")) {
        assertThat(referenceOutputLength(codec, input, limit + 1L))
            .as("refused for its size, but the reference decodes it to no more than the limit")
            .isGreaterThan(limit);
      }
    }
    assertThat(alloc.requested)
        .as("bytes of output buffers allocated, limit %d", limit)
        .isLessThanOrEqualTo(limit + 1L);
    if (out != null) {
      byte[] ours = new byte[out.readableBytes()];
      out.getBytes(out.readerIndex(), ours);
      out.release();
      assertThat(ours.length).isLessThanOrEqualTo(limit);
      byte[] reference;
      try (InputStream ref = reference(codec, input)) {
        reference = ref.readNBytes(ours.length + 1);
      } catch (IOException e) {
        throw new AssertionError("accepted what the reference decoder refuses: " + e, e);
      }
      assertThat(ours).isEqualTo(reference);
    }
    assertThat(in.refCnt()).isEqualTo(1);
    in.release();
    assertThat(alloc.delegate.metric().usedHeapMemory()).as("left allocated").isZero();
  }

  /** How many bytes the reference decoder produces, reading at most {@code max}. */
  private static long referenceOutputLength(Compression codec, byte[] input, long max) {
    long produced = 0;
    byte[] buf = new byte[8192];
    try (InputStream ref = reference(codec, input)) {
      while (produced < max) {
        int n = ref.read(buf, 0, (int) Math.min(buf.length, max - produced));
        if (n < 0) {
          break;
        }
        produced += n;
      }
    } catch (IOException e) {
      // a corrupt stream: what it produced before the corruption counts
    }
    return produced;
  }

  private static InputStream reference(Compression codec, byte[] input) throws IOException {
    return codec == Compression.GZIP
        ? new GZIPInputStream(new ByteArrayInputStream(input))
        : new ZstdInputStream(new ByteArrayInputStream(input));
  }

  /** Unpooled heap buffers, counting the capacity asked for (the decompressor never grows one). */
  private static final class CountingAllocator extends AbstractByteBufAllocator {
    final UnpooledByteBufAllocator delegate = new UnpooledByteBufAllocator(false, true);
    long requested;

    CountingAllocator() {
      super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      requested += Math.max(initialCapacity, maxCapacity == Integer.MAX_VALUE ? 0 : maxCapacity);
      return delegate.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      requested += Math.max(initialCapacity, maxCapacity == Integer.MAX_VALUE ? 0 : maxCapacity);
      return delegate.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
