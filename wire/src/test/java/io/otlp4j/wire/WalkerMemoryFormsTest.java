package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.internal.PlatformDependent;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The walker reads heap arrays and direct memory through one code path ({@link ByteAccess}); every
 * form of input must give the same answer, byte for byte: the same summary and visitor ranges for
 * an accepted request, the same offset and reason for a refused one. Run with {@code
 * -Dio.otlp4j.wire.unsafe=false}, every read is an array read with the JVM's bounds check, so a
 * read outside the input (the exact-size array form) fails the test instead of reading a
 * neighbour's bytes (the build runs {@code StringUtf8CheckTest} that way; this one passed that way
 * when it was written).
 */
class WalkerMemoryFormsTest {
  private static final int MUTATIONS = 1_500;
  private static final OtlpWalker WALKER =
      OtlpWalker.builder().resourceAttributeKey("service.name").build();

  /** One way of holding the request's bytes, with the walk over it. */
  private static final class Form {
    final String name;
    final Function<byte[], String> walk;

    Form(String name, Function<byte[], String> walk) {
      this.name = name;
      this.walk = walk;
    }
  }

  private static final List<Form> FORMS =
      List.of(
          new Form("byte[]", b -> outcome(v -> WALKER.walk(Signal.TRACES, b, 0, b.length, v))),
          new Form(
              "byte[] range",
              b -> {
                byte[] padded = padded(b, 13, 9);
                return outcome(v -> WALKER.walk(Signal.TRACES, padded, 13, b.length, v));
              }),
          new Form(
              "heap ByteBuf with array offset",
              b -> {
                ByteBuf buf = Unpooled.wrappedBuffer(padded(b, 5, 3), 5, b.length);
                return outcome(v -> WALKER.walk(Signal.TRACES, buf, v));
              }),
          new Form(
              "direct ByteBuf",
              b -> withDirect(b, 0, buf -> outcome(v -> WALKER.walk(Signal.TRACES, buf, v)))),
          new Form(
              "pooled direct ByteBuf at reader index 7",
              b -> withDirect(b, 7, buf -> outcome(v -> WALKER.walk(Signal.TRACES, buf, v)))),
          new Form(
              "direct ByteBuffer at position 3",
              b -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect(b.length + 3);
                buffer.position(3);
                buffer.put(b).position(3);
                return outcome(v -> WALKER.walk(Signal.TRACES, buffer, v));
              }),
          new Form(
              "read-only ByteBuffer",
              b ->
                  outcome(
                      v -> WALKER.walk(Signal.TRACES, ByteBuffer.wrap(b).asReadOnlyBuffer(), v))),
          new Form(
              "composite of two components",
              b -> {
                int half = b.length / 2;
                CompositeByteBuf composite = Unpooled.compositeBuffer();
                composite.addComponent(true, Unpooled.wrappedBuffer(b, 0, half));
                composite.addComponent(
                    true,
                    Unpooled.directBuffer(b.length - half).writeBytes(b, half, b.length - half));
                try {
                  return outcome(v -> WALKER.walk(Signal.TRACES, composite, v));
                } finally {
                  composite.release();
                }
              }));

  @Test
  void readsUncheckedExactlyWhereNettyHasUnsafeAndNeverWhenTurnedOff() {
    boolean turnedOff = "false".equals(System.getProperty(ByteAccess.UNSAFE_PROPERTY));
    assertThat(ByteAccess.UNSAFE)
        .isEqualTo(!turnedOff && PlatformDependent.hasUnsafe() && PlatformDependent.isUnaligned());
  }

  @Test
  void everyFormOfMemoryGivesTheSameAnswerOnMutatedRequests() {
    OtlpGenerator generator = new OtlpGenerator(77).withUnknownFields(true);
    List<byte[]> bases = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      bases.add(generator.request(Signal.TRACES).toByteArray());
    }
    bases.add(OtlpGenerator.realisticTraces(16).toByteArray());
    Mutator mutator = new Mutator(7);
    int refused = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      byte[] base = bases.get(i % bases.size());
      byte[] input = i < bases.size() ? base : mutator.mutate(base);
      String expected = FORMS.get(0).walk.apply(input);
      for (Form form : FORMS.subList(1, FORMS.size())) {
        assertThat(form.walk.apply(input))
            .as("%s, input %s", form.name, Arrays.toString(input))
            .isEqualTo(expected);
      }
      if (expected.startsWith("refused")) {
        refused++;
      }
    }
    assertThat(refused).isBetween(MUTATIONS / 4, MUTATIONS - MUTATIONS / 20);
  }

  @Test
  void deepNestingIsRefusedAlikeInEveryForm() {
    for (int depth : new int[] {10, 61, 62, 63, 64, 65, 100}) {
      byte[] input = Mutator.deeplyNestedAnyValue(Signal.TRACES, depth);
      String expected = FORMS.get(0).walk.apply(input);
      for (Form form : FORMS) {
        assertThat(form.walk.apply(input)).as(form.name).isEqualTo(expected);
      }
    }
    byte[] deepest = Mutator.deeplyNestedAnyValue(Signal.TRACES, 100);
    assertThatThrownBy(() -> WALKER.walk(Signal.TRACES, deepest))
        .isInstanceOf(WireFormatException.class)
        .hasMessageContaining("nested deeper than");
  }

  @Test
  void aRangeOutsideTheArrayIsRefusedBeforeAnyRead() {
    byte[] bytes = new byte[8];
    assertThatThrownBy(() -> WALKER.walk(Signal.TRACES, bytes, 4, 5, OtlpVisitor.NONE))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> WALKER.walk(Signal.TRACES, bytes, -1, 2, OtlpVisitor.NONE))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  /** The summary and every reported range, or the refusal's offset and reason. */
  private static String outcome(Function<OtlpVisitor, WalkSummary> walk) {
    RecordingVisitor visitor = new RecordingVisitor();
    try {
      WalkSummary summary = walk.apply(visitor);
      return "accepted "
          + summary
          + ranges(visitor.resourceEntries)
          + ranges(visitor.resources)
          + ranges(visitor.attributes)
          + ranges(visitor.scopeEntries)
          + ranges(visitor.scopes)
          + ranges(visitor.items)
          + ranges(visitor.dataPoints)
          + ranges(visitor.traceIds);
    } catch (WireFormatException e) {
      return "refused at " + e.offset() + ": " + e.getMessage();
    }
  }

  private static String ranges(List<int[]> ranges) {
    StringBuilder out = new StringBuilder(" [");
    for (int[] range : ranges) {
      out.append(range == null ? "-" : range[0] + ".." + range[1]).append(' ');
    }
    return out.append(']').toString();
  }

  private static byte[] padded(byte[] bytes, int before, int after) {
    byte[] padded = new byte[before + bytes.length + after];
    Arrays.fill(padded, (byte) 0x80); // not ASCII, not a valid tag: reading it changes the answer
    System.arraycopy(bytes, 0, padded, before, bytes.length);
    return padded;
  }

  private static String withDirect(byte[] bytes, int readerIndex, Function<ByteBuf, String> walk) {
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(readerIndex + bytes.length + 5);
    try {
      buf.writeBytes(padded(new byte[0], readerIndex, 0)).writeBytes(bytes);
      buf.setBytes(buf.writerIndex(), padded(new byte[0], 0, 5));
      buf.readerIndex(readerIndex);
      return walk.apply(buf);
    } finally {
      buf.release();
    }
  }
}
