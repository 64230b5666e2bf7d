package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.otlp4j.wire.testing.AllocationMeter;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile input: mutated generated requests, deep nesting and huge declared lengths go into the
 * walker, the splitter and the resource rewrite (with and without their validating walk). Each must
 * either succeed or throw {@link WireFormatException} (nothing else, and quickly); whatever the
 * walker accepts, protobuf-java accepts too; and walking allocates a bounded amount whatever the
 * input.
 */
class RobustnessTest {
  private static final int MUTATIONS = 102_000;
  private static final int BASES_PER_SIGNAL = 150;

  /** Per walk: the summary, a ByteBuffer view, and on refusal the exception with its message. */
  private static final long MAX_WALK_ALLOCATION = 1024;

  private static final OtlpWalker WALKER = OtlpWalker.create();
  private static final RequestSplitter SPLITTER =
      RequestSplitter.builder().maxItems(2).maxBytes(200).build();
  private static final ResourceRewrite REWRITE =
      ResourceRewrite.builder()
          .upsert("service.name", "x")
          .upsert("n", 1L)
          .delete("host.name")
          .build();
  private static final RequestSplitter UNCHECKED_SPLITTER =
      RequestSplitter.builder().maxItems(3).validation(false).build();
  private static final ResourceRewrite UNCHECKED_REWRITE =
      ResourceRewrite.builder()
          .upsert("service.name", "x")
          .delete("host.name")
          .validation(false)
          .build();

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void mutatedInputsAreAcceptedSoundlyOrRefusedWithWireFormatException() throws Exception {
    Signal[] signals = Signal.values();
    List<List<byte[]>> bases = new ArrayList<>();
    for (Signal signal : signals) {
      OtlpGenerator generator = new OtlpGenerator(1234 + signal.ordinal()).withUnknownFields(true);
      List<byte[]> list = new ArrayList<>();
      for (int i = 0; i < BASES_PER_SIGNAL; i++) {
        list.add(generator.request(signal).toByteArray());
      }
      bases.add(list);
    }
    Mutator mutator = new Mutator(42);
    int accepted = 0;
    int refused = 0;
    long worstAllocation = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      Signal signal = signals[i % signals.length];
      byte[] base = bases.get(signal.ordinal()).get((i / signals.length) % BASES_PER_SIGNAL);
      byte[] input = mutator.mutate(base);
      boolean ok = check(signal, input, i % 8 == 0);
      if (ok) {
        accepted++;
      } else {
        refused++;
      }
      if (i % 16 == 0) {
        long allocated =
            AllocationMeter.allocatedBytes(
                () -> {
                  try {
                    WALKER.walk(signal, input);
                  } catch (WireFormatException expected) {
                    // refusal is a normal outcome
                  }
                });
        worstAllocation = Math.max(worstAllocation, allocated);
      }
    }
    assertThat(accepted).as("some mutations stay valid").isGreaterThan(MUTATIONS / 20);
    assertThat(refused).as("most mutations break something").isGreaterThan(MUTATIONS / 4);
    assertThat(worstAllocation).isLessThanOrEqualTo(MAX_WALK_ALLOCATION);
  }

  @Test
  void deepNestingAndHugeLengthsAreRefusedCleanly() throws Exception {
    for (Signal signal : Signal.values()) {
      for (int depth :
          new int[] {0, 10, 55, 58, 59, 60, 61, 62, 90, 98, 99, 100, 101, 1_000, 100_000}) {
        check(signal, Mutator.deeplyNestedAnyValue(signal, depth), true);
      }
      // Resource* claiming 2 GiB, 4 GiB and a 10-byte length, then a few bytes.
      check(
          signal,
          new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 1, 2, 3},
          true);
      check(
          signal,
          new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 1},
          true);
      check(
          signal,
          new byte[] {
            0x0A,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            0x01,
            0
          },
          true);
    }
  }

  /**
   * Runs the walker (on a ByteBuf, so that its bounds are checked by Netty too), and the splitter
   * and the rewrite; returns whether the walker accepted. With {@code deep}, accepted output is
   * parsed too.
   */
  private static boolean check(Signal signal, byte[] input, boolean deep) throws Exception {
    boolean accepted;
    ByteBuf buf = Unpooled.wrappedBuffer(input);
    try {
      try {
        WalkSummary summary = WALKER.walk(signal, buf);
        accepted = true;
        assertThat(summary.byteCount()).isEqualTo(input.length);
      } catch (WireFormatException e) {
        accepted = false;
        assertThat(e.offset()).isBetween(0L, (long) input.length);
      }
      if (accepted) {
        try {
          OfficialView.parse(signal, input);
        } catch (InvalidProtocolBufferException e) {
          fail(
              "the walker accepted what protobuf-java refuses ("
                  + e.getMessage()
                  + "): "
                  + ByteBufUtil.hexDump(input));
        }
      }
      List<ByteBuf> parts = null;
      try {
        parts = SPLITTER.split(signal, buf);
        assertThat(accepted).isTrue();
        if (deep) {
          ByteArrayOutputStream joined = new ByteArrayOutputStream();
          for (ByteBuf part : parts) {
            joined.writeBytes(ByteBufUtil.getBytes(part));
          }
          OfficialView.parse(signal, joined.toByteArray());
        }
      } catch (WireFormatException e) {
        assertThat(accepted).isFalse();
      } finally {
        if (parts != null) {
          parts.forEach(ByteBuf::release);
        }
      }
      ByteBuf rewritten = null;
      try {
        rewritten = REWRITE.apply(signal, buf);
        assertThat(accepted).isTrue();
        if (deep) {
          OfficialView.parse(signal, ByteBufUtil.getBytes(rewritten));
        }
      } catch (WireFormatException e) {
        assertThat(accepted).isFalse();
      } finally {
        if (rewritten != null) {
          rewritten.release();
        }
      }
      // Without the validating walk, hostile input must still end in success or
      // WireFormatException.
      try {
        UNCHECKED_SPLITTER.split(signal, buf).forEach(ByteBuf::release);
      } catch (WireFormatException e) {
        assertThat(accepted).isFalse();
      }
      try {
        UNCHECKED_REWRITE.apply(signal, buf).release();
      } catch (WireFormatException e) {
        assertThat(accepted).isFalse();
      }
      assertThat(buf.refCnt()).isEqualTo(1);
    } finally {
      buf.release();
    }
    return accepted;
  }
}
