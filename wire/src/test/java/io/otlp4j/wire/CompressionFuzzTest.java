package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.otlp4j.wire.testing.AllocationMeter;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Robustness: 50,000 mutated compressed payloads per codec (100,000 per run) must each decompress
 * or be refused with {@link WireFormatException} — no other exception, no hang, no leaked buffer,
 * and no allocation beyond the limit plus a small constant; and whatever is accepted, the reference
 * decoder (GZIPInputStream, zstd-jni's ZstdInputStream) decodes to the same bytes.
 */
class CompressionFuzzTest {

  private static final int INPUTS_PER_CODEC = 50_000;
  private static final long LIMIT = 256 << 10;

  /**
   * Besides the output chunks (at most LIMIT + 1 bytes): the exception, its message, small objects.
   */
  private static final long ALLOCATION_SLACK = 16 << 10;

  private static final Duration DEADLINE = Duration.ofSeconds(300);
  private static final long SLOWEST_ACCEPTABLE_NANOS = Duration.ofSeconds(5).toNanos();

  /**
   * Unpooled heap buffers without leak-detector records: allocation is measurable, leaks countable.
   */
  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false, true);

  @ParameterizedTest
  @EnumSource(
      value = Compression.class,
      names = {"GZIP", "ZSTD"})
  void mutatedStreamsDecompressOrFailWithWireFormatExceptionInBoundedMemory(Compression codec) {
    List<byte[]> payloads = new ArrayList<>();
    OtlpGenerator generator = new OtlpGenerator(codec.ordinal()).withUnknownFields(true);
    for (int i = 0; i < 60; i++) {
      payloads.add(codec.compress(generator.request(Signal.values()[i % 3]).toByteArray()));
    }
    payloads.add(codec.compress(OtlpGenerator.realisticTraces(200).toByteArray()));
    payloads.add(codec.compress(new byte[0]));
    Mutator mutator = new Mutator(codec.ordinal() * 1_000_003L);

    int[] outcomes =
        assertTimeoutPreemptively(
            DEADLINE,
            () -> {
              int accepted = 0;
              int refused = 0;
              long slowest = 0;
              for (int i = 0; i < INPUTS_PER_CODEC; i++) {
                byte[] input = mutator.mutate(payloads.get(i % payloads.size()));
                ByteBuf in = Unpooled.wrappedBuffer(input);
                long started = System.nanoTime();
                long before = AllocationMeter.threadAllocatedBytes();
                ByteBuf out = null;
                try {
                  out = codec.decompress(in, ALLOC, LIMIT);
                  accepted++;
                } catch (WireFormatException expected) {
                  refused++;
                } catch (RuntimeException | Error e) {
                  throw new AssertionError(
                      "unexpected " + e + " for input " + HexFormat.of().formatHex(input), e);
                }
                long allocated = AllocationMeter.threadAllocatedBytes() - before;
                long took = System.nanoTime() - started;
                slowest = Math.max(slowest, took);
                if (allocated > LIMIT + ALLOCATION_SLACK || took > SLOWEST_ACCEPTABLE_NANOS) {
                  throw new AssertionError(
                      "allocated "
                          + allocated
                          + " bytes in "
                          + took / 1000
                          + " µs for input "
                          + HexFormat.of().formatHex(input));
                }
                if (out != null) {
                  // Differential check: what we accept, the reference decoder accepts with the same
                  // bytes.
                  byte[] ours = new byte[out.readableBytes()];
                  out.getBytes(out.readerIndex(), ours);
                  out.release();
                  byte[] reference;
                  try {
                    reference = CompressionTest.referenceDecompress(codec, input);
                  } catch (java.io.IOException e) {
                    throw new AssertionError(
                        "accepted what the reference refuses ("
                            + e
                            + "): "
                            + HexFormat.of().formatHex(input),
                        e);
                  }
                  assertThat(ours).isEqualTo(reference);
                }
                if (ALLOC.metric().usedHeapMemory() != 0) {
                  throw new AssertionError(
                      "leaked "
                          + ALLOC.metric().usedHeapMemory()
                          + " bytes for input "
                          + HexFormat.of().formatHex(input));
                }
                in.release();
              }
              return new int[] {accepted, refused};
            });
    // Both outcomes occur: the mutations reach past the header checks.
    assertThat(outcomes[0]).as("accepted").isGreaterThan(100);
    assertThat(outcomes[1]).as("refused").isGreaterThan(INPUTS_PER_CODEC / 4);
  }
}
