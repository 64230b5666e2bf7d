package io.otlp4j.wire;

import static io.otlp4j.wire.EditScript.field;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.ElementView.Kind;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link RequestPartitioner} against the same partition made with the official protobuf builders:
 * for generated requests of every signal (unknown fields, empty containers and all), each routing
 * unit, several output counts and assignments read from the units' own fields, every output parses
 * to the expected request, every unit lands in exactly one output, and the item counts are exact.
 */
@ExtendWith(NettyLeakCheck.class)
class RequestPartitionerTest {
  private static final RequestPartitioner CHECKED = RequestPartitioner.create();
  private static final RequestPartitioner UNCHECKED =
      RequestPartitioner.builder().validation(false).build();

  /** How a unit's output is chosen; each has a twin on the parsed message for the expectation. */
  enum Assignment {
    /** By the unit's key: trace id (low half), metric name, resource attribute count and order. */
    BY_KEY,
    /** By the unit's position, hashed: neighbours mostly go to different outputs. */
    SCATTERED,
    /** Everything to the last output. */
    ALL_TO_LAST
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (Signal signal : Signal.values()) {
      for (Kind unit : List.of(Kind.RESOURCE, RequestPartitioner.itemKind(signal))) {
        out.add(Arguments.of(signal, unit, 4, Assignment.BY_KEY));
        out.add(Arguments.of(signal, unit, 3, Assignment.SCATTERED));
      }
      out.add(Arguments.of(signal, RequestPartitioner.itemKind(signal), 1, Assignment.SCATTERED));
      out.add(Arguments.of(signal, RequestPartitioner.itemKind(signal), 4, Assignment.ALL_TO_LAST));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} by {1} into {2}, {3}")
  @MethodSource("cases")
  void outputsEqualTheSamePartitionMadeWithTheOfficialBuilders(
      Signal signal, Kind unit, int outputs, Assignment assignment) throws Exception {
    OtlpGenerator generator =
        new OtlpGenerator(signal.ordinal() * 31L + unit.ordinal() * 7L + outputs)
            .withUnknownFields(true);
    int split = 0;
    int withEmpty = 0;
    for (int i = 0; i < 30; i++) {
      Message request = generator.request(signal);
      byte[] bytes = request.toByteArray();
      List<Integer> owners = new ArrayList<>();
      int[] counter = {0};
      collectOwners(request, unit, u -> owner(assignment, u, counter[0]++, outputs), owners);
      ByteBuf input = input(bytes, i);
      int[] seen = {0};
      RequestPartitioner.Parts parts =
          (i % 3 == 0 ? UNCHECKED : CHECKED)
              .partition(
                  signal,
                  input,
                  unit,
                  outputs,
                  v -> {
                    assertThat(v.kind()).isEqualTo(unit);
                    return owner(assignment, v, seen[0]++, outputs);
                  });
      try {
        assertThat(seen[0]).as("units seen").isEqualTo(owners.size());
        assertThat(input.readerIndex()).isZero();
        assertThat(parts.outputs()).isEqualTo(outputs);
        List<ByteString> itemsOut = new ArrayList<>();
        int units = 0;
        for (int o = 0; o < outputs; o++) {
          Expected expected = expected(signal, request, unit, owners, o);
          ByteBuf part = parts.request(o);
          if (expected == null) {
            assertThat(part).as("request %d output %d", i, o).isNull();
            assertThat(parts.items(o)).isZero();
            continue;
          }
          assertThat(part).as("request %d output %d", i, o).isNotNull();
          Message parsed = OfficialView.parse(signal, ByteBufUtil.getBytes(part));
          assertThat(parsed).as("request %d output %d", i, o).isEqualTo(expected.request);
          assertThat(parts.items(o)).as("items of output %d", o).isEqualTo(expected.items);
          assertThat(parts.units(o)).as("units of output %d", o).isEqualTo(expected.units);
          units += parts.units(o);
          itemsOut.addAll(items(parsed));
        }
        assertThat(units).as("every unit in one output").isEqualTo(owners.size());
        if (unit != Kind.RESOURCE) {
          // Every item in exactly one output: the outputs' items are the input's, none twice.
          assertThat(itemsOut).containsExactlyInAnyOrderElementsOf(items(request));
        }
        split += parts.nonEmpty() > 1 ? 1 : 0;
        withEmpty += hasEmptyContainer(request) ? 1 : 0;
      } finally {
        parts.releaseAll();
        assertThat(input.refCnt()).isEqualTo(1);
        input.release();
      }
    }
    if (outputs > 1 && assignment != Assignment.ALL_TO_LAST) {
      assertThat(split).as("requests split more than one way").isGreaterThan(5);
    }
    assertThat(withEmpty).as("requests with an empty Resource* or Scope*").isPositive();
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void aRequestWhoseUnitsAllGoToOneOutputIsTheInputAsOneSlice(Signal signal) {
    byte[] bytes = new OtlpGenerator(9).withUnknownFields(true).request(signal).toByteArray();
    ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(bytes);
    RequestPartitioner.Parts parts =
        CHECKED.partition(signal, input, RequestPartitioner.itemKind(signal), 4, v -> 2);
    try {
      assertThat(parts.nonEmpty()).isEqualTo(1);
      ByteBuf part = parts.request(2);
      assertThat(part).isNotInstanceOf(CompositeByteBuf.class);
      assertThat(ByteBufUtil.getBytes(part)).isEqualTo(bytes);
      assertThat(input.refCnt()).isEqualTo(2);
    } finally {
      parts.releaseAll();
      input.release();
    }
  }

  @Test
  void realisticTracesSplitByTraceIdKeepEachTraceInOneOutputAndShareTheResource() throws Exception {
    Message request = OtlpGenerator.realisticTraces(512);
    ByteBuf input = Unpooled.wrappedBuffer(request.toByteArray());
    RequestPartitioner.Parts parts =
        CHECKED.partition(
            Signal.TRACES,
            input,
            Kind.SPAN,
            4,
            v -> (int) Long.remainderUnsigned(v.traceIdLow() * 0x9E3779B97F4A7C15L, 4));
    try {
      long total = 0;
      List<ByteString> traces = new ArrayList<>();
      for (int o = 0; o < 4; o++) {
        assertThat(parts.request(o)).as("output %d", o).isNotNull();
        Message parsed = OfficialView.parse(Signal.TRACES, ByteBufUtil.getBytes(parts.request(o)));
        OfficialView view = OfficialView.of(Signal.TRACES, parsed, null);
        assertThat(view.resources)
            .isEqualTo(OfficialView.of(Signal.TRACES, request, null).resources);
        view.traceIds.stream().distinct().forEach(traces::add);
        total += parts.items(o);
      }
      assertThat(total).isEqualTo(512);
      assertThat(traces).as("no trace in two outputs").doesNotHaveDuplicates();
    } finally {
      parts.releaseAll();
      input.release();
    }
  }

  @Test
  void anAssignerThatThrowsOrNamesNoOutputLeavesNothingAllocated() {
    byte[] bytes = OtlpGenerator.realisticTraces(64).toByteArray();
    ByteBuf input = PooledByteBufAllocator.DEFAULT.directBuffer().writeBytes(bytes);
    try {
      int[] n = {0};
      assertThatThrownBy(
              () ->
                  CHECKED.partition(
                      Signal.TRACES, input, Kind.SPAN, 4, v -> n[0]++ < 40 ? n[0] % 4 : 4))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("output 4 of 4");
      assertThatThrownBy(
              () ->
                  CHECKED.partition(
                      Signal.TRACES,
                      input,
                      Kind.SPAN,
                      4,
                      v -> {
                        throw new IllegalArgumentException("boom");
                      }))
          .hasMessage("boom");
      assertThat(input.refCnt()).isEqualTo(1);
      assertThat(input.readerIndex()).isZero();
    } finally {
      input.release();
    }
  }

  @Test
  void argumentsAreValidated() {
    ByteBuf input = Unpooled.wrappedBuffer(new byte[0]);
    assertThatThrownBy(() -> CHECKED.partition(Signal.TRACES, input, Kind.METRIC, 2, v -> 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SPAN");
    assertThatThrownBy(() -> CHECKED.partition(Signal.TRACES, input, Kind.SPAN, 0, v -> 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CHECKED.partition(Signal.TRACES, null, Kind.SPAN, 2, v -> 0))
        .isInstanceOf(IllegalArgumentException.class);
    RequestPartitioner.Parts empty =
        CHECKED.partition(Signal.LOGS, input, Kind.RESOURCE, 2, v -> 0);
    assertThat(empty.nonEmpty()).as("no unit, no output").isZero();
  }

  // ---- the expectation, with the official builders (generically, by field number)

  private record Expected(Message request, long items, int units) {}

  /** Output {@code output} of the partition that gives unit k to {@code owners.get(k)}; or null. */
  static Expected expected(
      Signal signal, Message request, Kind unit, List<Integer> owners, int output) {
    int[] k = {0};
    long items = 0;
    int units = 0;
    Message.Builder out = request.toBuilder();
    FieldDescriptorList resources = new FieldDescriptorList(request, 1);
    out.clearField(resources.field);
    for (Message entry : resources.values) {
      if (unit == Kind.RESOURCE) {
        if (owners.get(k[0]++) == output) {
          out.addRepeatedField(resources.field, entry);
          units++;
          items += itemCount(signal, entry);
        }
        continue;
      }
      Message.Builder eb = entry.toBuilder();
      FieldDescriptorList scopes = new FieldDescriptorList(entry, 2);
      eb.clearField(scopes.field);
      int totalInResource = 0;
      int mineInResource = 0;
      for (Message scope : scopes.values) {
        Message.Builder sb = scope.toBuilder();
        FieldDescriptorList list = new FieldDescriptorList(scope, 2);
        sb.clearField(list.field);
        int mine = 0;
        for (Message item : list.values) {
          if (owners.get(k[0]++) == output) {
            sb.addRepeatedField(list.field, item);
            mine++;
            items += signal == Signal.METRICS ? points(item) : 1;
          }
        }
        totalInResource += list.values.size();
        mineInResource += mine;
        if (list.values.isEmpty() || mine > 0) {
          eb.addRepeatedField(scopes.field, sb.build());
        }
      }
      if (totalInResource == 0 || mineInResource > 0) {
        out.addRepeatedField(resources.field, eb.build());
      }
      units += mineInResource;
    }
    return units == 0 ? null : new Expected(out.build(), items, units);
  }

  private static long itemCount(Signal signal, Message resourceEntry) {
    long count = 0;
    for (Message scope : new FieldDescriptorList(resourceEntry, 2).values) {
      for (Message item : new FieldDescriptorList(scope, 2).values) {
        count += signal == Signal.METRICS ? points(item) : 1;
      }
    }
    return count;
  }

  private static long points(Message metric) {
    for (int f : new int[] {5, 7, 9, 10, 11}) {
      if (metric.hasField(field(metric, f))) {
        Message data = (Message) metric.getField(field(metric, f));
        return data.getRepeatedFieldCount(field(data, 1));
      }
    }
    return 0;
  }

  /** Whether a {@code Resource*} or {@code Scope*} of the request arrived holding nothing. */
  private static boolean hasEmptyContainer(Message request) {
    for (Message entry : new FieldDescriptorList(request, 1).values) {
      List<Message> scopes = new FieldDescriptorList(entry, 2).values;
      if (scopes.isEmpty()) {
        return true;
      }
      for (Message scope : scopes) {
        if (new FieldDescriptorList(scope, 2).values.isEmpty()) {
          return true;
        }
      }
    }
    return false;
  }

  /** Every item (span, metric, log record) of a request, encoded. */
  private static List<ByteString> items(Message request) {
    List<ByteString> out = new ArrayList<>();
    for (Message entry : new FieldDescriptorList(request, 1).values) {
      for (Message scope : new FieldDescriptorList(entry, 2).values) {
        for (Message item : new FieldDescriptorList(scope, 2).values) {
          out.add(item.toByteString());
        }
      }
    }
    return out;
  }

  /** Calls {@code owner} on each unit of {@code request} in order, collecting the outputs. */
  private static void collectOwners(
      Message request,
      Kind unit,
      java.util.function.ToIntFunction<Message> owner,
      List<Integer> to) {
    for (Message entry : new FieldDescriptorList(request, 1).values) {
      if (unit == Kind.RESOURCE) {
        to.add(owner.applyAsInt(entry));
        continue;
      }
      for (Message scope : new FieldDescriptorList(entry, 2).values) {
        for (Message item : new FieldDescriptorList(scope, 2).values) {
          to.add(owner.applyAsInt(item));
        }
      }
    }
  }

  // ---- one assignment, read from the view and from the parsed message alike

  private static int owner(Assignment a, Object unit, int index, int outputs) {
    long key =
        switch (a) {
          case ALL_TO_LAST -> outputs - 1;
          case SCATTERED -> mix(index);
          case BY_KEY -> mix(unit instanceof ElementView v ? key(v) : key((Message) unit));
        };
    return a == Assignment.ALL_TO_LAST ? (int) key : (int) Long.remainderUnsigned(key, outputs);
  }

  private static long mix(long x) {
    x *= 0x9E3779B97F4A7C15L;
    return x ^ (x >>> 29);
  }

  private static long key(ElementView v) {
    return switch (v.kind()) {
      case SPAN, LOG_RECORD -> v.traceIdLow();
      case METRIC -> v.name().toString().hashCode();
      default -> {
        AttributeList attributes = v.attributes();
        yield attributes.size() == 0 ? -1 : attributes.key(0).toString().hashCode();
      }
    };
  }

  private static long key(Message unit) {
    String type = unit.getDescriptorForType().getName();
    if (type.equals("Span") || type.equals("LogRecord")) {
      ByteString id = (ByteString) unit.getField(field(unit, type.equals("Span") ? 1 : 9));
      return id.size() == 16 ? id.substring(8).asReadOnlyByteBuffer().getLong() : 0;
    }
    if (type.equals("Metric")) {
      return ((String) unit.getField(field(unit, 1))).hashCode();
    }
    Message resource = (Message) unit.getField(field(unit, 1));
    List<?> attributes = (List<?>) resource.getField(field(resource, 1));
    if (attributes.isEmpty()) {
      return -1;
    }
    Message first = (Message) attributes.get(0);
    return ((String) first.getField(field(first, 1))).hashCode();
  }

  /** A repeated message field of a message, with its values. */
  private static final class FieldDescriptorList {
    final com.google.protobuf.Descriptors.FieldDescriptor field;
    final List<Message> values = new ArrayList<>();

    FieldDescriptorList(Message m, int number) {
      field = field(m, number);
      for (Object o : (List<?>) m.getField(field)) {
        values.add((Message) o);
      }
    }
  }

  /** The bytes as a heap, pooled direct or two-component composite buffer, by turns. */
  private static ByteBuf input(byte[] bytes, int i) {
    switch (i % 3) {
      case 0:
        return Unpooled.wrappedBuffer(bytes);
      case 1:
        return PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
      default:
        int half = bytes.length / 2;
        ByteBuf first = PooledByteBufAllocator.DEFAULT.heapBuffer(half).writeBytes(bytes, 0, half);
        ByteBuf second =
            PooledByteBufAllocator.DEFAULT
                .directBuffer(bytes.length - half)
                .writeBytes(bytes, half, bytes.length - half);
        return Unpooled.compositeBuffer().addComponents(true, first, second);
    }
  }
}
