package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hostile input into {@link RequestEditor}, with a policy that reads every field it can, drops some
 * elements and edits others' attributes: mutated generated requests, deep nesting, huge declared
 * lengths. With validation, each input either edits to a request protobuf-java parses (exactly when
 * the walker accepts it) or is refused with {@link WireFormatException}; without validation, each
 * edit ends in success or {@link WireFormatException}, never another exception; no buffer leaks
 * either way.
 */
@ExtendWith(NettyLeakCheck.class)
class RequestEditorRobustnessTest {
  private static final int MUTATIONS = 30_000;
  private static final int BASES_PER_SIGNAL = 100;
  private static final RequestEditor EDITOR = RequestEditor.create();
  private static final RequestEditor UNCHECKED = RequestEditor.builder().validation(false).build();
  private static final OtlpWalker WALKER = OtlpWalker.create();
  private static final byte[] SERVICE_NAME = "service.name".getBytes(StandardCharsets.UTF_8);
  private static final EncodedAttribute ADDED = EncodedAttribute.of("edited", 1L);

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void mutatedInputsEditToParsableRequestsOrAreRefusedWithWireFormatException() throws Exception {
    Signal[] signals = Signal.values();
    List<List<byte[]>> bases = new ArrayList<>();
    for (Signal signal : signals) {
      OtlpGenerator generator = new OtlpGenerator(4321 + signal.ordinal()).withUnknownFields(true);
      List<byte[]> list = new ArrayList<>();
      for (int i = 0; i < BASES_PER_SIGNAL; i++) {
        list.add(generator.request(signal).toByteArray());
      }
      bases.add(list);
    }
    Mutator mutator = new Mutator(7);
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      Signal signal = signals[i % signals.length];
      byte[] input =
          mutator.mutate(bases.get(signal.ordinal()).get((i / signals.length) % BASES_PER_SIGNAL));
      if (check(signal, input)) {
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
      for (int depth : new int[] {0, 10, 58, 60, 62, 99, 100, 101, 1_000, 100_000}) {
        check(signal, Mutator.deeplyNestedAnyValue(signal, depth));
      }
      check(
          signal,
          new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, 1, 2, 3});
      check(signal, new byte[] {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 1});
      check(signal, new byte[] {0x0A, 0x04, 0x12, 0x02, 0x12, (byte) 0x80});
    }
  }

  /** Edits {@code input} with and without validation; returns whether the walker accepts it. */
  private static boolean check(Signal signal, byte[] input) throws Exception {
    ByteBuf buf = Unpooled.wrappedBuffer(input);
    try {
      boolean accepted;
      try {
        WALKER.walk(signal, buf);
        accepted = true;
      } catch (WireFormatException e) {
        accepted = false;
      }
      for (RequestEditor editor : new RequestEditor[] {EDITOR, UNCHECKED}) {
        ByteBuf edited = null;
        try {
          edited = editor.edit(signal, buf, new ReadingEverything());
          if (editor == EDITOR) {
            assertThat(accepted)
                .as("the validating editor accepted what the walker refuses")
                .isTrue();
          }
          if (accepted) {
            byte[] out = ByteBufUtil.getBytes(edited);
            try {
              OfficialView.parse(signal, out);
            } catch (InvalidProtocolBufferException e) {
              fail(
                  "an edit of a valid request does not parse ("
                      + e.getMessage()
                      + "): "
                      + ByteBufUtil.hexDump(input));
            }
            assertThat(WALKER.walk(signal, out).byteCount()).isEqualTo(out.length);
          }
        } catch (WireFormatException e) {
          assertThat(accepted)
              .as("refused a request the walker accepts: " + e.getMessage())
              .isFalse();
          assertThat(e.offset()).isBetween(-1L, (long) input.length);
        } finally {
          if (edited != null) {
            edited.release();
          }
        }
        assertThat(buf.refCnt()).isEqualTo(1);
      }
      return accepted;
    } finally {
      buf.release();
    }
  }

  /**
   * Reads every field the view offers, drops every fifth element and edits every third's
   * attributes.
   */
  private static final class ReadingEverything implements EditPolicy {
    private int n;
    long sink;

    private Decision visit(ElementView v) {
      sink +=
          v.name().length()
              + v.version().length()
              + v.spanKind()
              + v.statusCode()
              + v.startTimeUnixNano()
              + v.endTimeUnixNano()
              + v.timeUnixNano()
              + v.observedTimeUnixNano()
              + v.severityNumber()
              + v.severityText().length()
              + v.traceIdHigh()
              + v.traceIdLow()
              + v.metricType().ordinal()
              + v.body().type().ordinal()
              + v.attribute(SERVICE_NAME).stringValue().length();
      AttributeList attributes = v.attributes();
      for (int i = 0; i < attributes.size(); i++) {
        sink += attributes.key(i).length();
        ValueView value = attributes.value(i);
        sink +=
            value.type().ordinal()
                + value.intValue()
                + value.stringValue().length()
                + (value.boolValue() ? 1 : 0);
      }
      int i = n++;
      // sink is read (a blackhole: the reads above cannot be optimised away); it never equals
      // MIN_VALUE
      if (i % 5 == 4 || sink == Long.MIN_VALUE) {
        return Decision.DROP;
      }
      if (i % 3 == 0) {
        if (attributes.size() > 0) {
          attributes.remove(0);
        }
        attributes.upsert(ADDED);
      }
      return Decision.KEEP;
    }

    @Override
    public Decision resource(ElementView resource) {
      return visit(resource);
    }

    @Override
    public Decision scope(ElementView scope) {
      return visit(scope);
    }

    @Override
    public Decision span(ElementView span) {
      return visit(span);
    }

    @Override
    public Decision spanEvent(ElementView event) {
      return visit(event);
    }

    @Override
    public Decision spanLink(ElementView link) {
      return visit(link);
    }

    @Override
    public Decision metric(ElementView metric) {
      return visit(metric);
    }

    @Override
    public Decision dataPoint(ElementView point) {
      return visit(point);
    }

    @Override
    public Decision logRecord(ElementView record) {
      return visit(record);
    }
  }
}
