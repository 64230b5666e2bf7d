package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Protobuf allows fields in any order and a field more than once (a scalar's last value wins, a
 * message's occurrences are merged, a oneof takes its last member, repeated fields concatenate).
 * Hand-made requests that use every one of those at every level the walker, splitter and editor
 * look into go through all the properties of {@link WalkSplitEditFuzzTest}: the walker accepts them
 * with protobuf-java's counts; split parts rejoined parse to the same request protobuf-java parsed
 * (normalized); an edit gives what the same edits made with the official builders on
 * protobuf-java's merged message give. Each input under several splitter limits and edit scripts,
 * as one buffer and as two components.
 */
class DuplicateAndOutOfOrderFieldsTest {

  static Stream<Arguments> inputs() {
    byte[] kvA = ld(1, s(1, "a"), ld(2, s(1, "1")));
    byte[] kvB = ld(1, s(1, "b"), ld(2, s(1, "2")));
    byte[] span1 = ld(2, s(5, "span-1"), bytes(1, 16, (byte) 1), bytes(2, 8, (byte) 2));
    byte[] span2 = ld(2, s(5, "span-2"), bytes(1, 16, (byte) 3));
    byte[] scope = ld(1, s(1, "scope"), s(2, "1.0"));
    return Stream.of(
        Arguments.of(
            "traces: Resource* with its scopes before its resource and schema_url first",
            Signal.TRACES,
            ld(1, s(3, "https://schema/1"), ld(2, scope, span1, span2), ld(1, kvA))),
        Arguments.of(
            "traces: resource given twice, around the scopes (merged: both attributes)",
            Signal.TRACES,
            ld(1, ld(1, kvA, v(2, 3)), ld(2, scope, span1), ld(1, kvB, v(2, 5)), ld(2, span2))),
        Arguments.of(
            "traces: Scope* with spans before its scope, the scope twice, schema_url twice",
            Signal.TRACES,
            ld(
                1,
                ld(
                    2,
                    s(3, "https://schema/a"),
                    span1,
                    ld(1, s(1, "first-name")),
                    span2,
                    ld(1, s(2, "2.0"), ld(3, kvA)),
                    s(3, "https://schema/b")))),
        Arguments.of(
            "traces: span fields out of order, name and trace_id twice, status merged, attributes"
                + " interleaved",
            Signal.TRACES,
            ld(
                1,
                ld(
                    2,
                    ld(
                        2,
                        ld(9, kvA),
                        s(5, "first"),
                        fixed64(8, 2000),
                        ld(9, kvB),
                        bytes(1, 16, (byte) 7),
                        ld(15, s(2, "msg")),
                        fixed64(7, 1000),
                        s(5, "second"),
                        ld(9, kvA),
                        ld(15, v(3, 2)),
                        bytes(1, 16, (byte) 9),
                        v(6, 2))))),
        Arguments.of(
            "traces: KeyValue with its value first and its key twice, AnyValue with two oneof"
                + " members, an event with fields reversed",
            Signal.TRACES,
            ld(
                1,
                ld(
                    2,
                    ld(
                        2,
                        ld(9, ld(2, s(1, "v")), s(1, "k1"), s(1, "k2")),
                        ld(9, s(1, "n"), ld(2, s(1, "text"), v(3, 42))),
                        ld(11, ld(3, kvB), s(2, "event"), fixed64(1, 5)),
                        s(5, "kv")),
                    span2))),
        Arguments.of(
            "traces: Resource*s interleaved with request-level unknown fields",
            Signal.TRACES,
            cat(
                ld(1, ld(1, kvA), ld(2, span1)),
                v(99, 7),
                ld(1, ld(2, scope, span2), s(3, "x"), s(3, "y")),
                ld(100, s(1, "unknown")),
                ld(1, ld(1, kvB), ld(2, span1, span2)))),
        Arguments.of(
            "metrics: a metric with gauge then sum (the oneof keeps the sum), sum given twice"
                + " (merged: both points), point fields reversed, name twice",
            Signal.METRICS,
            ld(
                1,
                ld(1, kvA),
                ld(
                    2,
                    ld(
                        2,
                        s(1, "first-name"),
                        ld(5, ld(1, fixed64(3, 1), fixed64(6, 10))),
                        ld(7, ld(1, fixed64(6, 20), ld(7, kvA), fixed64(3, 2)), v(2, 2)),
                        s(1, "second-name"),
                        ld(7, v(3, 1), ld(1, fixed64(3, 3), fixed64(6, 30))),
                        s(3, "unit")),
                    ld(1, s(1, "scope-after-metrics")),
                    ld(
                        2,
                        s(1, "gauge"),
                        ld(5, ld(1, fixed64(6, 1)), ld(1, fixed64(6, 2)), ld(1, fixed64(6, 3))))))),
        Arguments.of(
            "logs: a record with two bodies (the last wins), attributes interleaved, the scope"
                + " after its records",
            Signal.LOGS,
            ld(
                1,
                ld(
                    2,
                    ld(
                        2,
                        ld(5, s(1, "first body")),
                        ld(6, kvA),
                        fixed64(1, 100),
                        ld(5, v(3, 7)),
                        ld(6, kvB),
                        v(2, 9)),
                    ld(2, ld(6, kvA), ld(6, kvA)),
                    ld(1, s(1, "scope-after")),
                    s(3, "schema")),
                ld(1, kvB),
                ld(1, kvA))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void acceptedAndHandledAsProtobufJavaParsesThem(String name, Signal signal, byte[] input) {
    assertThat(WalkSplitEditFuzzTest.walk(signal, input, Unpooled.wrappedBuffer(input)))
        .as("walker and protobuf-java accept it")
        .isNotNull();
    int[][] limits = {{1, 1 << 16}, {2, 40}, {64, 1 << 16}};
    long[] seeds = {1, 2, 3, 4};
    for (int[] limit : limits) {
      for (long seed : seeds) {
        for (boolean composite : new boolean[] {false, true}) {
          WalkSplitEditFuzzTest.check(
              signal,
              input,
              limit[0],
              limit[1],
              new EditScript(seed, seed == 1 ? 0 : 30, seed == 2 ? 0 : 40),
              composite);
        }
      }
    }
  }

  // ---- encoding by hand (field number, content), so that order and repetition are ours

  static byte[] cat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] ld(int field, byte[]... content) {
    byte[] c = cat(content);
    return cat(varint((field << 3) | 2), varint(c.length), c);
  }

  static byte[] s(int field, String value) {
    return ld(field, value.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] v(int field, long value) {
    return cat(varint(field << 3), varint(value));
  }

  static byte[] fixed64(int field, long value) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (value >>> (8 * i));
    }
    return cat(varint((field << 3) | 1), b);
  }

  static byte[] bytes(int field, int length, byte fill) {
    byte[] b = new byte[length];
    java.util.Arrays.fill(b, fill);
    return ld(field, b);
  }

  static byte[] varint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((value & ~0x7FL) != 0) {
      out.write((int) ((value & 0x7F) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
    return out.toByteArray();
  }
}
