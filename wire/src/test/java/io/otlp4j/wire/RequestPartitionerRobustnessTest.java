package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.ElementView.Kind;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hostile input into {@link RequestPartitioner}, with an assigner that reads the unit's key fields
 * (trace id, name, attributes): mutated generated requests, deep nesting, huge declared lengths.
 * With validation, each input either partitions into outputs protobuf-java parses (exactly when the
 * walker accepts it) or is refused with {@link WireFormatException}; without validation, each
 * partition ends in success or {@link WireFormatException}, never another exception; no buffer
 * leaks either way.
 */
@ExtendWith(NettyLeakCheck.class)
class RequestPartitionerRobustnessTest {
  private static final int MUTATIONS = 1_500;
  private static final int BASES_PER_SIGNAL = 40;
  private static final RequestPartitioner CHECKED = RequestPartitioner.create();
  private static final RequestPartitioner UNCHECKED =
      RequestPartitioner.builder().validation(false).build();
  private static final OtlpWalker WALKER = OtlpWalker.create();

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void mutatedInputsPartitionIntoParsableRequestsOrAreRefusedWithWireFormatException()
      throws Exception {
    Signal[] signals = Signal.values();
    List<List<byte[]>> bases = new ArrayList<>();
    for (Signal signal : signals) {
      OtlpGenerator generator = new OtlpGenerator(987 + signal.ordinal()).withUnknownFields(true);
      List<byte[]> list = new ArrayList<>();
      for (int i = 0; i < BASES_PER_SIGNAL; i++) {
        list.add(generator.request(signal).toByteArray());
      }
      bases.add(list);
    }
    Mutator mutator = new Mutator(11);
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      Signal signal = signals[i % signals.length];
      byte[] input =
          mutator.mutate(bases.get(signal.ordinal()).get((i / signals.length) % BASES_PER_SIGNAL));
      Kind unit = (i / 3) % 2 == 0 ? Kind.RESOURCE : RequestPartitioner.itemKind(signal);
      if (check(signal, unit, input)) {
        accepted++;
      } else {
        refused++;
      }
    }
    assertThat(accepted).as("some mutations stay valid").isGreaterThan(MUTATIONS / 20);
    assertThat(refused).as("most mutations break something").isGreaterThan(MUTATIONS / 4);
  }

  @Test
  void deepNestingAndHugeLengthsAreRefusedCleanly() throws Exception {
    for (Signal signal : Signal.values()) {
      for (Kind unit : List.of(Kind.RESOURCE, RequestPartitioner.itemKind(signal))) {
        for (int depth : new int[] {0, 10, 60, 100, 101, 1_000}) {
          check(signal, unit, Mutator.deeplyNestedAnyValue(signal, depth));
        }
        check(
            signal,
            unit,
            new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 1, 2, 3});
        check(signal, unit, new byte[] {0x0A, 0x04, 0x12, 0x02, 0x12, (byte) 0x80});
        check(signal, unit, new byte[] {0x0A, 0x03, 0x12, 0x01, 0x12});
      }
    }
  }

  /**
   * Partitions {@code input} with and without validation; returns whether the walker accepts it.
   */
  private static boolean check(Signal signal, Kind unit, byte[] input) throws Exception {
    ByteBuf buf = Unpooled.wrappedBuffer(input);
    try {
      boolean accepted;
      try {
        WALKER.walk(signal, buf);
        accepted = true;
      } catch (WireFormatException e) {
        accepted = false;
      }
      for (RequestPartitioner partitioner : new RequestPartitioner[] {CHECKED, UNCHECKED}) {
        RequestPartitioner.Parts parts = null;
        try {
          parts =
              partitioner.partition(signal, buf, unit, 3, RequestPartitionerRobustnessTest::key);
          if (partitioner == CHECKED) {
            assertThat(accepted)
                .as("the validating partitioner accepted a refused request")
                .isTrue();
          }
          if (accepted) {
            for (int o = 0; o < 3; o++) {
              if (parts.request(o) == null) {
                continue;
              }
              byte[] out = ByteBufUtil.getBytes(parts.request(o));
              try {
                OfficialView.parse(signal, out);
              } catch (InvalidProtocolBufferException e) {
                fail(
                    "a part of a valid request does not parse ("
                        + e.getMessage()
                        + "): "
                        + ByteBufUtil.hexDump(input));
              }
              assertThat(WALKER.walk(signal, out).byteCount()).isEqualTo(out.length);
            }
          }
        } catch (WireFormatException e) {
          assertThat(accepted)
              .as("refused a request the walker accepts: " + e.getMessage())
              .isFalse();
          assertThat(e.offset()).isBetween(-1L, (long) input.length);
        } finally {
          if (parts != null) {
            parts.releaseAll();
          }
        }
        assertThat(buf.refCnt()).isEqualTo(1);
      }
      return accepted;
    } finally {
      buf.release();
    }
  }

  /** Reads the unit's key fields, as the load balancer's routing keys do. */
  private static int key(ElementView v) {
    long h =
        switch (v.kind()) {
          case RESOURCE -> {
            AttributeList attributes = v.attributes();
            long x = attributes.size();
            for (int i = 0; i < attributes.size(); i++) {
              x = 31 * x + attributes.key(i).toString().hashCode();
            }
            yield x;
          }
          case METRIC -> v.name().toString().hashCode() + v.metricType().ordinal();
          default -> v.hasTraceId() ? v.traceIdHigh() ^ v.traceIdLow() : 7;
        };
    return (int) Long.remainderUnsigned(h * 0x9E3779B97F4A7C15L, 3);
  }
}
