package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link AttributeFinder}, the unchecked search behind {@link ElementView#attribute}, on hostile
 * input: mutated requests, in the usual layout and in unusual ones ({@link FieldScrambler}),
 * searched without validation for every key they hold and for keys they do not. Each search ends
 * with the value the checked reads of {@link AttributeList} find (or with {@link
 * WireFormatException} from the checked fallback), never with another exception. The build runs
 * this class once more with checked array reads only (wire/pom.xml, {@code checked-reads}), where a
 * read past the input fails it; the heap input here is an array of exactly the input's length.
 */
@ExtendWith(NettyLeakCheck.class)
class AttributeFinderTest {
  private static final int MUTATIONS = 1_500;
  private static final RequestEditor UNCHECKED = RequestEditor.builder().validation(false).build();
  private static final byte[][] ABSENT_KEYS = {
    new byte[0],
    "service.name".getBytes(StandardCharsets.UTF_8),
    "no.such.key".getBytes(StandardCharsets.UTF_8)
  };

  @Test
  void mutatedRequestsAreSearchedWithinTheirBoundsAndFindWhatTheCheckedReadsFind() {
    Mutator mutator = new Mutator(23);
    Signal[] signals = Signal.values();
    OtlpGenerator[] generators = new OtlpGenerator[signals.length];
    for (Signal signal : signals) {
      generators[signal.ordinal()] =
          new OtlpGenerator(77 + signal.ordinal()).withUnknownFields(true);
    }
    FieldScrambler scrambler = new FieldScrambler(5);
    Searching policy = new Searching();
    int edited = 0;
    int refused = 0;
    for (int i = 0; i < MUTATIONS; i++) {
      Signal signal = signals[i % signals.length];
      Message request = generators[signal.ordinal()].request(signal);
      byte[] base = (i & 2) == 0 ? request.toByteArray() : scrambler.scramble(signal, request);
      ByteBuf input = Unpooled.wrappedBuffer(i % 4 == 3 ? base : mutator.mutate(base));
      try {
        UNCHECKED.edit(signal, input, policy).release();
        edited++;
      } catch (WireFormatException e) {
        refused++;
      } finally {
        input.release();
      }
    }
    assertThat(edited).as("edited").isGreaterThan(MUTATIONS / 10);
    assertThat(refused).as("refused").isGreaterThan(MUTATIONS / 10);
    assertThat(policy.found).as("searches that found their key").isGreaterThan(MUTATIONS);
  }

  /** Looks up every key an element holds, and some it does not, both ways. */
  private static final class Searching implements EditPolicy {
    int found;

    private Decision search(ElementView v) {
      AttributeList list = v.attributes();
      for (int i = 0; i < list.size(); i++) {
        byte[] key = list.key(i).toString().getBytes(StandardCharsets.UTF_8);
        assertSame(list, list.indexOf(key), v.attribute(key));
        found++;
      }
      for (byte[] key : ABSENT_KEYS) {
        assertSame(list, list.indexOf(key), v.attribute(key));
      }
      return Decision.KEEP;
    }

    private static void assertSame(AttributeList list, int index, ValueView found) {
      if (index < 0) {
        assertThat(found.type()).isEqualTo(ValueView.Type.ABSENT);
        return;
      }
      ValueView expected = list.value(index);
      assertThat(found.type()).isEqualTo(expected.type());
      switch (found.type()) {
        case STRING ->
            assertThat(found.stringValue().toString()).isEqualTo(expected.stringValue().toString());
        case INT -> assertThat(found.intValue()).isEqualTo(expected.intValue());
        case BOOL -> assertThat(found.boolValue()).isEqualTo(expected.boolValue());
        default -> {}
      }
    }

    @Override
    public Decision resource(ElementView resource) {
      return search(resource);
    }

    @Override
    public Decision scope(ElementView scope) {
      return search(scope);
    }

    @Override
    public Decision span(ElementView span) {
      return search(span);
    }

    @Override
    public Decision spanEvent(ElementView event) {
      return search(event);
    }

    @Override
    public Decision spanLink(ElementView link) {
      return search(link);
    }

    @Override
    public Decision metric(ElementView metric) {
      return search(metric);
    }

    @Override
    public Decision dataPoint(ElementView point) {
      return search(point);
    }

    @Override
    public Decision logRecord(ElementView record) {
      return search(record);
    }
  }
}
