package io.otlp4j.relay.component;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.NettyLeakCheck;
import io.otlp4j.wire.Signal;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code probabilistic_sampler} against the vectors of the Collector's own tests ({@code
 * processor/probabilisticsamplerprocessor/*_test.go} in opentelemetry-collector-contrib): their
 * inputs and expected outcomes are reproduced here as data, run through the processor on encoded
 * requests, and read back with the official classes.
 */
@ExtendWith(NettyLeakCheck.class)
class ProbabilisticSamplerCollectorVectorsTest {
  /** The Collector tests' {@code defaultHashSeed}. */
  private static final int DEFAULT_HASH_SEED = 4312;

  /** Samples at 50 % and not at 49 %: randomness 0x80000000000000. */
  static final String DEFAULT_TID = "fefefefefefefefefe80000000000000";

  /** Samples at every supported probability. */
  static final String IMPROBABLE_TID = "111111111111111111ffffffffffffff";

  // ------------------------------------------------------------------------ hashing

  @Test
  void emptyHashFunction() {
    // TestEmptyHashFunction: no bytes, seed 0 -> bucket 0x3515; 16 zero bytes -> 0x2455.
    assertThat(ConsistentSampling.fnvSeeded(0) & 0x3fff).isEqualTo(0x3515);
    int h =
        ConsistentSampling.fnvLong(
            ConsistentSampling.fnvLong(ConsistentSampling.fnvSeeded(0), 0), 0);
    assertThat(h & 0x3fff).isEqualTo(0x2455);
  }

  /** TestHashingFunction: 100 (seed, trace id) pairs at 50 %, mode left to its default. */
  private static final Object[][] EXPECT_50_PCT = {
    {653, "474a03c76d75951a4b4c537ced8f1122", true},
    {563, "53a518291e91307e43cd8467bb06f986", true},
    {142, "a56a02f843b9bc6ee0b13889249e90e6", true},
    {904, "4e40762d3ee97a1c0932e4fa584f89a8", false},
    {445, "5224507db93db513f0ea2a4b4e0578c8", true},
    {38, "0c8717ced36216037af657e9d7f8b35b", true},
    {561, "2a8aa76c18d08e1e8be935541f9318c7", false},
    {757, "9e3d0f9481dc422cb613ea550897ae71", false},
    {22, "66a66c516ac22054673e5da5e6492545", false},
    {172, "84a1ce7bcea3e66194e72b4aa2694e31", true},
    {552, "a811a7def34ca4b98d8e320afd115fad", false},
    {546, "e3a345cc8dbb6f014bfa1edad3981820", true},
    {315, "a71effb50e28d27cbdc9892f3765b8c2", false},
    {510, "55ee665a3fa22f8ea1b744ce15a7339d", false},
    {230, "7a5006be4d0ce7b542d59f83cd6f1c41", false},
    {544, "825b8fb9cfd45867794f4cd8a5a699bd", false},
    {790, "7629ecbea89398bfd9752a2f51c2c137", true},
    {555, "de6cdfb44d69e211f886c57120d7bda0", true},
    {147, "a8a5c3bb9205883fae17ead6675b2450", false},
    {238, "937e6cb3332dbe87062fa3997f48f425", false},
    {122, "5a357e150995e005847816c431ba502d", false},
    {963, "20cb3dcebe2cf8abe6102f4a2e548245", false},
    {141, "1b0afbd09abaaf7996cd26f8f6533795", false},
    {666, "3ee60b013303bcfda06be89071b90bd1", true},
    {305, "c90c7cf3471bbc3a804a8a831633705b", true},
    {270, "18dda74dfca45a7b0261510f385fb4de", true},
    {381, "600cf70c7bb4918e54aefd78c84f3996", true},
    {35, "855f493c5b5b1e2fcbc9993f8061eac8", false},
    {839, "89bc498feb21d969cf0eabf916aa621a", false},
    {561, "0a0af00f63e098a39883705a423b0aa8", true},
    {667, "0c38553d71f54dfc37155c22cc8bf243", false},
    {603, "49493809d1a49ea879e6aba37afde958", true},
    {92, "eb60d98b8f8fe22d8970f44f0e2b6bad", true},
    {70, "19c386ee7a9f2d56ff9ab2e6374540af", false},
    {567, "2a033c15405f1c7a311f653719ed47b7", false},
    {936, "62dda24e4be24f5198e4d8dd4010c811", true},
    {210, "bb134e26ee92e282e29cabdb1d00d333", true},
    {835, "6c77db08bbded7bdd5c99c6e2fea41d2", false},
    {864, "99f6a7e7b50845b4fb64b7c2ee49f53c", true},
    {775, "e908cb91224bee8fd4b5f3632f65717f", true},
    {687, "45a5ace7234d92d9983b4f3858bc0b8e", false},
    {761, "8c8a25d232fd4d3a37a5f70ccb82d752", false},
    {400, "54156d7434a894ef07f2a80dbf0f1138", true},
    {741, "67e3bfb02b0526dbb79420468d7b83dd", false},
    {871, "f6ea221283dcb42f89bfb15fa33398d2", false},
    {244, "b663ca45004decf8123a19fb5d7f7115", true},
    {885, "d0e299d54d6dc6469276fd4e48301d73", true},
    {607, "03240c2748aa67a185909a9345d84aba", false},
    {434, "b00de72ba67e6fe0ed661decac911f7e", true},
    {889, "20fff68a7cc715b30e4e6d69d53e0f60", false},
    {810, "6bf2bb105e594f6220803da5253551af", false},
    {494, "54fbb1d3ebe3883b0a01bbf2c9a2bf3e", true},
    {413, "a8a2ecba129d8537e360cf54de9d7460", false},
    {215, "2df034262b775136f2a313fdcc09738a", true},
    {557, "e3c1b943d9c1199d1108a69aa32a4587", false},
    {662, "1975d5f5640bac1064d53c2c21e02aae", false},
    {482, "6e4f16727dec3c09539b5f50d35d2c13", false},
    {223, "63a088446ef0ed60a9cace4698ede026", false},
    {261, "9b662cd6f67a4e3d1f904b4c5d4275b1", true},
    {112, "a2db788dbadc402b8c466b93b8749a6c", true},
    {6, "d6a68b47c66d1f94eed46b8ddc72faf4", false},
    {575, "e8a83c42f4515568d0942ec4472c9d2c", true},
    {568, "030e14c2954e3f08134b355f33414ba9", false},
    {965, "022315846d42a38322d6fd26250444b3", true},
    {512, "b3ba1ed226288dede87ac1f2ba88de2b", true},
    {108, "c57d0dcf43d5b154ef04c7953c94cd12", true},
    {248, "a835fe521d9cbfcfb724b603f87c7403", false},
    {46, "eda867e6df95e74abefac336c7f4cd1a", false},
    {879, "09e9e67a261ea3e00d817105b57ffd4e", false},
    {853, "6a780cf250cb3d2b699394042e6723a8", false},
    {639, "4c99d7f14c66b3123caf57980f8e2a31", false},
    {111, "79dc8d7a54bc3e8ef513b9cd8d830564", true},
    {135, "9c2e5d9d713e5219b0f9e5b884835e69", false},
    {209, "3ccb300bf7b983229979e0c46db267b0", true},
    {629, "0bb7b9da64da250c3934bb39130dc990", true},
    {910, "b25713ca4cea377871eaa334bc2dd382", true},
    {667, "69afc041003851cec60f41db97e005a9", true},
    {449, "c844b5428abe0cf82eaf02566781870a", true},
    {16, "2533c732bed8c1ba4721c25a1205f06c", false},
    {936, "ecc770b4be885dfc8d6fa135bc2c93bb", true},
    {595, "63b67cbb42de52e9916241ad94fcd5e8", true},
    {83, "fc4998bc53ccd42a5b8e7c86a93d4c88", false},
    {878, "59f0677dffe1a0a8c5895cb263e3a019", false},
    {206, "eb897eff9e7c7363e063b340a0c6b315", true},
    {710, "89e4c7e6af305be6cd139abcae953db5", true},
    {650, "97563d45ee254231e1ace05fb746bcce", false},
    {233, "3f580864f295ff13f179c3c907032ea9", true},
    {836, "e9b78e03706265a6936bff2a41530104", false},
    {568, "c458603ee921fa8711085c15b871b245", false},
    {816, "4bbfffab5b5975c1b007ebc518bf416d", false},
    {397, "61a1a65746287d78a431c6848ed1ffb3", false},
    {847, "53eee02f4672a72e93369b2c2ecf36eb", false},
    {354, "6ea23c3068a2c304488c8e67a072db97", false},
    {961, "eed247645e510ded87bd9afcf1d3e237", false},
    {799, "092af4ff2fdea5bb1c708b2169bdfd95", false},
    {99, "497f02db51c898ac441aae18a8b7ced9", false},
    {773, "988481445600bb91bbe23e3103034bcd", true},
    {928, "f1813835ac0f456721ef3aac39c0269a", true},
    {235, "1999920085682c007eb3a6984d2a7f05", true},
    {460, "60c3b9a2dde734d71ba5cca7eb164bce", true},
  };

  @Test
  void hashSeedDecisionsEqualTheCollectorsForItsHundredVectors() throws Exception {
    Map<Integer, ProcessorHarness> bySeed = new LinkedHashMap<>();
    int sampled = 0;
    for (Object[] v : EXPECT_50_PCT) {
      int seed = (Integer) v[0];
      ProcessorHarness h =
          bySeed.computeIfAbsent(
              seed,
              s -> harness("sampling_percentage: 50\nhash_seed: " + s + "\nfail_closed: false\n"));
      boolean expected = (Boolean) v[2];
      assertThat(keptSpans(h.run(Signal.TRACES, oneSpan((String) v[1], "", null))))
          .as("seed %d trace id %s", seed, v[1])
          .isEqualTo(expected ? 1 : 0);
      sampled += expected ? 1 : 0;
    }
    assertThat(sampled).isBetween(30, 70);
  }

  /** Test_tracesamplerprocessor_HashSeedTraceState: the {@code th} a sampled span gets. */
  @ParameterizedTest(name = "{0}% -> th:{1}")
  @MethodSource("hashSeedThresholds")
  void hashSeedSampledSpansCarryTheCollectorsThresholdAndTheirRandomness(String pct, String tv)
      throws Exception {
    ProcessorHarness h =
        harness(
            "sampling_percentage: "
                + pct
                + "\nmode: hash_seed\nhash_seed: "
                + DEFAULT_HASH_SEED
                + "\nsampling_precision: 4\n");
    Random random = new Random(pct.hashCode());
    int found = 0;
    for (int i = 0; i < 10_000 && found < 10; i++) {
      String tid = HexFormat.of().formatHex(randomBytes(random, 16));
      ProcessorHarness.Outcome o = h.run(Signal.TRACES, oneSpan(tid, "", null));
      if (keptSpans(o) == 0) {
        continue;
      }
      found++;
      String ts = onlySpan(o).getTraceState();
      assertThat(ts).matches("ot=rv:[0-9a-f]{14};th:" + tv);
      long rv = Long.parseLong(ts.substring(6, 20), 16);
      long th = ConsistentSampling.parseTValue(tv, 0, tv.length());
      assertThat(th).as("the threshold samples the randomness written").isLessThanOrEqualTo(rv);
    }
    assertThat(found).isEqualTo(10);
  }

  static Stream<Arguments> hashSeedThresholds() {
    return Stream.of(
        Arguments.of("100", "0"),
        Arguments.of("75", "4"),
        Arguments.of("50", "8"),
        Arguments.of("25", "c"),
        Arguments.of("10", "e668"), // 14-bit rounding: e668, not e666
        Arguments.of(Float.toString(100.0f / 3), "aaac")); // 14-bit rounding: aaac, not aaab
  }

  // ------------------------------------------------------------------------ consistent modes

  /**
   * Test_tracesamplerprocessor_TraceState: {name, pct, precision (0: full), fail_closed, trace id
   * (null: DEFAULT_TID), arriving trace state, sampling.priority (null: none), expected trace state
   * in equalizing mode, in proportional mode (null: not sampled)}.
   */
  static final Object[][] TRACE_STATE = {
    {"100 percent", "100", 0, false, null, "", null, "ot=th:0", "ot=th:0"},
    {"50 percent sampled", "50", 0, false, null, "", null, "ot=th:8", "ot=th:8"},
    {
      "25 percent sampled",
      "25",
      0,
      false,
      "ddddddddddddddddddc0000000000000",
      "",
      null,
      "ot=th:c",
      "ot=th:c"
    },
    {
      "25 percent unsampled",
      "25",
      0,
      false,
      "ddddddddddddddddddb0000000000000",
      "",
      null,
      null,
      null
    },
    {
      "1 percent sampled",
      "1",
      0,
      false,
      null,
      "ot=rv:FD70A3D70A3D71",
      null,
      "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71",
      "ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"
    },
    {
      "1 percent sampled with rvalue and precision 4",
      "1",
      4,
      false,
      null,
      "ot=rv:FD70A3D70A3D71",
      null,
      "ot=rv:FD70A3D70A3D71;th:fd70a",
      "ot=rv:FD70A3D70A3D71;th:fd70a"
    },
    {
      "1 percent sampled with rvalue and precision 3",
      "1",
      3,
      false,
      null,
      "ot=rv:FD70A3D70A3D71",
      null,
      null,
      null
    },
    {
      "1 percent not sampled with rvalue",
      "1",
      0,
      false,
      null,
      "ot=rv:FD70A3D70A3D70",
      null,
      null,
      null
    },
    {"49 percent not sampled with default tid", "49", 0, false, null, "", null, null, null},
    {
      "1 percent sampled with rvalue",
      "1",
      0,
      false,
      null,
      "ot=rv:fd70B000000000",
      null,
      "ot=rv:fd70B000000000;th:fd70a3d70a3d71",
      "ot=rv:fd70B000000000;th:fd70a3d70a3d71"
    },
    {
      "1 percent sampled with tid",
      "1",
      4,
      false,
      "a0a0a0a0a0a0a0a0a0fe000000000000",
      "",
      null,
      "ot=th:fd70a",
      "ot=th:fd70a"
    },
    {"sampled by priority", "1", 0, false, null, "", 2L, "ot=th:0", "ot=th:0"},
    {"not sampled by priority", "99", 0, false, null, "", 0L, null, null},
    {
      "incoming 50 percent with rvalue",
      "50",
      0,
      false,
      null,
      "ot=rv:90000000000000;th:80000000000000",
      null,
      "ot=rv:90000000000000;th:8",
      null
    },
    {
      "incoming 50 percent at 25 percent not sampled",
      "25",
      0,
      false,
      null,
      "ot=th:8",
      null,
      null,
      null
    },
    {
      "incoming 50 percent at 25 percent sampled",
      "25",
      0,
      false,
      "ffffffffffffffffffffffffffffffff",
      "ot=th:8",
      null,
      "ot=th:c",
      "ot=th:e"
    },
    {
      "equalizing vs proportional",
      "50",
      0,
      false,
      null,
      "ot=rv:c0000000000000;th:8",
      null,
      "ot=rv:c0000000000000;th:8",
      "ot=rv:c0000000000000;th:c"
    },
    {
      "inconsistent arriving threshold",
      "100",
      0,
      false,
      null,
      "ot=rv:40000000000000;th:8",
      null,
      "ot=rv:40000000000000;th:0",
      "ot=rv:40000000000000;th:0"
    },
    {
      "inconsistent arriving threshold not sampled",
      "1",
      0,
      true,
      null,
      "ot=rv:40000000000000;th:8",
      null,
      null,
      null
    },
    {
      "40 percent precision 3 with rvalue",
      "40",
      3,
      false,
      null,
      "ot=rv:a0000000000000",
      null,
      "ot=rv:a0000000000000;th:99a",
      "ot=rv:a0000000000000;th:99a"
    },
    {
      "arriving 50 percent sampled at 40 percent precision 6 with tid",
      "40",
      6,
      false,
      "a0a0a0a0a0a0a0a0a0d0000000000000",
      "ot=th:8",
      null,
      "ot=th:99999a",
      "ot=th:cccccd"
    },
    {
      "arriving 50 percent sampled at 40 percent partly sampled",
      "40",
      3,
      false,
      "a0a0a0a0a0a0a0a0a0b0000000000000",
      "ot=th:8",
      null,
      "ot=th:99a",
      null
    },
    {
      "arriving 50 percent sampled at 40 percent not sampled",
      "40",
      3,
      false,
      "a0a0a0a0a0a0a0a0a080000000000000",
      "ot=th:8",
      null,
      null,
      null
    },
    {"200 percent equals 100 percent", "200", 0, false, null, "", null, "ot=th:0", "ot=th:0"},
    {
      "tiny probability rounding",
      "0.006103515625",
      0,
      false,
      IMPROBABLE_TID,
      "ot=th:fffc",
      null,
      "ot=th:fffc",
      "ot=th:fffffff"
    },
    {
      "almost 100pct sampling",
      "99.99992",
      10,
      false,
      IMPROBABLE_TID,
      "",
      null,
      "ot=th:00000cccccccd",
      "ot=th:00000cccccccd"
    },
    {
      "probability underflow",
      "0.0625",
      0,
      false,
      IMPROBABLE_TID,
      "ot=th:fffffffffffff8",
      null,
      "ot=th:fffffffffffff8",
      null
    },
  };

  static Stream<Arguments> traceStateCases() {
    return Stream.of(TRACE_STATE)
        .flatMap(
            c ->
                Stream.of(
                    Arguments.of(c[0], "equalizing", c[1], c[2], c[3], c[4], c[5], c[6], c[7]),
                    Arguments.of(c[0], "proportional", c[1], c[2], c[3], c[4], c[5], c[6], c[8])));
  }

  @ParameterizedTest(name = "{1}: {0}")
  @MethodSource("traceStateCases")
  void consistentModesWriteTheCollectorsTraceState(
      String name,
      String mode,
      String pct,
      int precision,
      boolean failClosed,
      String tid,
      String arriving,
      Long priority,
      String expected)
      throws Exception {
    ProcessorHarness h =
        harness(
            "sampling_percentage: "
                + pct
                + "\nmode: "
                + mode
                + "\nhash_seed: "
                + DEFAULT_HASH_SEED
                + "\nfail_closed: "
                + failClosed
                + "\nsampling_precision: "
                + (precision == 0 ? 14 : precision) // the Collector's 0 means all 14 digits
                + "\n");
    ProcessorHarness.Outcome o =
        h.run(Signal.TRACES, oneSpan(tid == null ? DEFAULT_TID : tid, arriving, priority));
    if (expected == null) {
      assertThat(keptSpans(o)).as("not sampled").isZero();
      assertThat(o.dropped()).isEqualTo(1);
    } else {
      assertThat(keptSpans(o)).as("sampled").isEqualTo(1);
      assertThat(onlySpan(o).getTraceState()).isEqualTo(expected);
    }
  }

  /** Test_tracesamplerprocessor_TraceStateErrors: with fail_closed, each is dropped. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("traceStateErrors")
  void traceStateErrorsFailClosed(String mode, String name, String tid, String ts)
      throws Exception {
    ProcessorHarness h =
        harness("sampling_percentage: 100\nmode: " + mode + "\nfail_closed: true\n");
    assertThat(keptSpans(h.run(Signal.TRACES, oneSpan(tid, ts, null)))).isZero();
    ProcessorHarness open =
        harness("sampling_percentage: 100\nmode: " + mode + "\nfail_closed: false\n");
    assertThat(keptSpans(open.run(Signal.TRACES, oneSpan(tid, ts, null))))
        .as("failing open keeps it")
        .isEqualTo(1);
  }

  static Stream<Arguments> traceStateErrors() {
    List<Object[]> cases =
        List.of(
            new Object[] {"missing randomness", "00000000000000000000000000000000", ""},
            new Object[] {"invalid r-value", DEFAULT_TID, "ot=rv:abababababababab"},
            new Object[] {"invalid t-value", DEFAULT_TID, "ot=th:abababababababab"},
            new Object[] {"t-value syntax", DEFAULT_TID, "ot=th:-1"},
            new Object[] {
              "inconsistent t-value trace ID", "ffffffffffffffffff70000000000000", "ot=th:8"
            },
            new Object[] {
              "inconsistent t-value r-value", DEFAULT_TID, "ot=th:8;rv:70000000000000"
            });
    return Stream.of("equalizing", "proportional")
        .flatMap(m -> cases.stream().map(c -> Arguments.of(m, c[0], c[1], c[2])));
  }

  /** Test_tracessamplerprocessor_MissingRandomness (hash_seed, empty trace id). */
  @ParameterizedTest(name = "{0}% fail_closed={1} -> sampled={2}")
  @MethodSource("missingRandomness")
  void missingRandomnessFollowsFailClosed(String pct, boolean failClosed, boolean sampled)
      throws Exception {
    ProcessorHarness h =
        harness(
            "sampling_percentage: "
                + pct
                + "\nhash_seed: "
                + DEFAULT_HASH_SEED
                + "\nfail_closed: "
                + failClosed
                + "\n");
    assertThat(
            keptSpans(h.run(Signal.TRACES, oneSpan("00000000000000000000000000000000", "", null))))
        .isEqualTo(sampled ? 1 : 0);
  }

  static Stream<Arguments> missingRandomness() {
    return Stream.of(
        Arguments.of("0", true, false),
        Arguments.of("62", true, false),
        Arguments.of("100", true, false),
        Arguments.of("0", false, false),
        Arguments.of("62", false, true),
        Arguments.of("100", false, true));
  }

  /** Test_tracesamplerprocessor_SpanSamplingPriority and Test_parseSpanSamplingPriority. */
  @ParameterizedTest(name = "{0}: {1}={2} at {3}% -> {4}")
  @MethodSource("priorities")
  void spanSamplingPriorityOverridesEveryMode(
      String mode, String key, AnyValue value, String pct, boolean sampled) throws Exception {
    ProcessorHarness h =
        harness(
            "sampling_percentage: "
                + pct
                + "\nmode: "
                + mode
                + "\nhash_seed: "
                + DEFAULT_HASH_SEED
                + "\nfail_closed: false\n");
    Span span =
        Span.newBuilder()
            .setName("spanName")
            .setTraceId(
                ByteString.copyFrom(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
            .addAttributes(KeyValue.newBuilder().setKey(key).setValue(value))
            .build();
    assertThat(keptSpans(h.run(Signal.TRACES, request(span)))).isEqualTo(sampled ? 1 : 0);
  }

  static Stream<Arguments> priorities() {
    String p = "sampling.priority";
    List<Object[]> cases =
        List.of(
            new Object[] {p, intValue(2), "0", true},
            new Object[] {p, doubleValue(1), "0", true},
            new Object[] {p, stringValue("1"), "0", true},
            new Object[] {p, stringValue("0.5"), "0", true},
            new Object[] {p, intValue(0), "100", false},
            new Object[] {p, doubleValue(0), "100", false},
            new Object[] {p, stringValue("0"), "100", false},
            new Object[] {p, stringValue("0.0"), "100", false},
            new Object[] {"no.sampling.priority", intValue(2), "0", false},
            new Object[] {"no.sampling.priority", intValue(2), "100", true},
            // below zero, NaN and a bool defer to the sampler
            new Object[] {p, intValue(-1), "0", false},
            new Object[] {p, intValue(-1), "100", true},
            new Object[] {p, doubleValue(-1), "100", true},
            new Object[] {p, stringValue("-0.5"), "100", true},
            new Object[] {p, stringValue("NaN"), "0", false},
            new Object[] {p, stringValue("1d"), "0", false}, // Java would read it; Go does not
            new Object[] {p, AnyValue.newBuilder().setBoolValue(true).build(), "0", false});
    return Stream.of("hash_seed", "equalizing", "proportional")
        .flatMap(m -> cases.stream().map(c -> Arguments.of(m, c[0], c[1], c[2], c[3])));
  }

  // ------------------------------------------------------------------------ logs

  /** TestLogsSampling: 100 log records, how many each configuration keeps. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("logsSampling")
  void logsSamplingKeepsWhatTheCollectorKeeps(String name, String config, int received)
      throws Exception {
    ProcessorHarness h = harness(config);
    ExportLogsServiceRequest.Builder b = ExportLogsServiceRequest.newBuilder();
    ScopeLogs.Builder scope = ScopeLogs.newBuilder();
    for (int i = 0; i < 100; i++) {
      byte ib = (byte) i;
      byte[] tid = {0, 0, 0, 0, 0, 0, 0, 0, ib, ib, ib, ib, ib, ib, ib, ib};
      LogRecord.Builder r =
          LogRecord.newBuilder()
              .setTimeUnixNano(1649400860L)
              .setSeverityNumberValue(5)
              .setTraceId(ByteString.copyFrom(tid))
              .addAttributes(kv("rando", intValue(ReferenceSampler.fnv1a(tid, 123) & 0xffffffffL)));
      if (i % 2 == 0) {
        r.addAttributes(
            kv("foo", AnyValue.newBuilder().setBytesValue(ByteString.copyFrom(tid)).build()));
        // pdata's TraceID.String() is "" for the empty trace id (i == 0)
        r.addAttributes(kv("bar", stringValue(i == 0 ? "" : HexFormat.of().formatHex(tid))));
      }
      if (i % 4 == 0) {
        r.addAttributes(kv("priority", doubleValue(100)));
      }
      scope.addLogRecords(r);
    }
    b.addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(scope));
    ProcessorHarness.Outcome o = h.run(Signal.LOGS, b.build());
    int kept =
        o.bytes() == null
            ? 0
            : ExportLogsServiceRequest.parseFrom(o.bytes())
                .getResourceLogs(0)
                .getScopeLogs(0)
                .getLogRecordsCount();
    assertThat(kept).isEqualTo(received);
  }

  static Stream<Arguments> logsSampling() {
    return Stream.of(
        Arguments.of("happy_path", "sampling_percentage: 100\nfail_closed: false\n", 100),
        Arguments.of("nothing", "sampling_percentage: 0\nfail_closed: true\n", 0),
        Arguments.of(
            "roughly half",
            "sampling_percentage: 50\nattribute_source: traceID\nmode: hash_seed\nfail_closed: true\n",
            45),
        Arguments.of(
            "sampling_source no sampling",
            "sampling_percentage: 0\nattribute_source: record\nfrom_attribute: foo\nfail_closed: false\n",
            0),
        Arguments.of(
            "sampling_source all sampling",
            "sampling_percentage: 100\nattribute_source: record\nfrom_attribute: foo\nfail_closed: false\n",
            100),
        Arguments.of(
            "sampling_source sampling",
            "sampling_percentage: 50\nattribute_source: record\nfrom_attribute: foo\nfail_closed: true\n",
            23),
        Arguments.of(
            "sampling_source sampling as string",
            "sampling_percentage: 50\nattribute_source: record\nfrom_attribute: bar\nfail_closed: true\n",
            29),
        Arguments.of(
            "sampling_priority_0_record",
            "sampling_percentage: 0\nsampling_priority: priority\nattribute_source: record\n"
                + "from_attribute: rando\nfail_closed: false\n",
            25),
        Arguments.of(
            "sampling_priority_50_record",
            "sampling_percentage: 50\nsampling_priority: priority\nattribute_source: record\n"
                + "from_attribute: rando\nfail_closed: false\n",
            64),
        Arguments.of(
            "sampling_priority_100_record",
            "sampling_percentage: 100\nsampling_priority: priority\nattribute_source: record\n"
                + "from_attribute: rando\nfail_closed: false\n",
            100),
        Arguments.of(
            "sampling_priority_0_traceid",
            "sampling_percentage: 0\nsampling_priority: priority\nattribute_source: traceID\n"
                + "fail_closed: false\n",
            25),
        Arguments.of(
            "sampling_priority_50_traceid",
            "sampling_percentage: 50\nsampling_priority: priority\nattribute_source: traceID\n"
                + "fail_closed: false\n",
            57),
        Arguments.of(
            "sampling_priority_100_traceid",
            "sampling_percentage: 100\nsampling_priority: priority\nattribute_source: traceID\n"
                + "fail_closed: false\n",
            100),
        Arguments.of(
            "sampling_priority with sampling field",
            "sampling_percentage: 0\nattribute_source: record\nfrom_attribute: foo\n"
                + "sampling_priority: priority\nfail_closed: false\n",
            25));
  }

  /** TestLogsSamplingState: the sampling attributes a kept log record leaves with. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("logsSamplingState")
  void logsSamplingStateEqualsTheCollectors(
      String name, String config, String tid, List<KeyValue> attrs, Map<String, Object> expect)
      throws Exception {
    ProcessorHarness h = harness(config);
    LogRecord.Builder r =
        LogRecord.newBuilder()
            .setTimeUnixNano(1649400860L)
            .setSeverityNumberValue(5)
            .setTraceId(ByteString.copyFrom(HexFormat.of().parseHex(tid)))
            .addAllAttributes(attrs);
    ProcessorHarness.Outcome o =
        h.run(
            Signal.LOGS,
            ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(
                    ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder().addLogRecords(r)))
                .build());
    if (expect == null) {
      assertThat(o.bytes()).as("not sampled").isNull();
      return;
    }
    assertThat(o.bytes()).as("sampled").isNotNull();
    LogRecord got =
        ExportLogsServiceRequest.parseFrom(o.bytes())
            .getResourceLogs(0)
            .getScopeLogs(0)
            .getLogRecords(0);
    Map<String, Object> actual = new LinkedHashMap<>();
    for (KeyValue kv : got.getAttributesList()) {
      AnyValue v = kv.getValue();
      actual.put(
          kv.getKey(),
          switch (v.getValueCase()) {
            case STRING_VALUE -> v.getStringValue();
            case INT_VALUE -> v.getIntValue();
            case DOUBLE_VALUE -> v.getDoubleValue();
            default -> v.toString();
          });
    }
    assertThat(actual).isEqualTo(expect);
  }

  static Stream<Arguments> logsSamplingState() {
    byte[] defaultTid = HexFormat.of().parseHex(DEFAULT_TID);
    return Stream.of(
        Arguments.of(
            "100 percent traceID",
            "sampling_percentage: 100\nattribute_source: traceID\nmode: proportional\nfail_closed: false\n",
            DEFAULT_TID,
            List.of(kv("ignored", stringValue("value"))),
            Map.of("sampling.threshold", "0", "ignored", "value")),
        Arguments.of(
            "100 percent traceID hash_seed",
            "sampling_percentage: 100\nattribute_source: traceID\nmode: hash_seed\nhash_seed: 22\n"
                + "fail_closed: false\n",
            DEFAULT_TID,
            List.of(kv("K", stringValue("V"))),
            Map.of(
                "K",
                "V",
                "sampling.threshold",
                "0",
                "sampling.randomness",
                ReferenceSampler.rValue(ReferenceSampler.randomnessFromBytes(defaultTid, 22)))),
        Arguments.of(
            "100 percent attribute",
            "sampling_percentage: 100\nattribute_source: record\nfrom_attribute: veryrandom\n"
                + "hash_seed: 49\nfail_closed: false\n",
            DEFAULT_TID,
            List.of(kv("veryrandom", stringValue("1234"))),
            Map.of(
                "sampling.threshold",
                "0",
                "sampling.randomness",
                ReferenceSampler.rValue(
                    ReferenceSampler.randomnessFromBytes(
                        "1234".getBytes(java.nio.charset.StandardCharsets.UTF_8), 49)),
                "veryrandom",
                "1234")),
        Arguments.of(
            "0 percent traceID",
            "sampling_percentage: 0\nattribute_source: traceID\nfail_closed: false\n",
            DEFAULT_TID,
            List.of(),
            null),
        Arguments.of(
            "10 percent priority sampled incoming randomness",
            "sampling_percentage: 0\nattribute_source: traceID\nsampling_priority: veryrandom\n"
                + "sampling_precision: 6\nfail_closed: false\n",
            DEFAULT_TID,
            List.of(
                kv("sampling.randomness", stringValue("e6147c00000000")),
                kv("veryrandom", doubleValue(10.125))),
            Map.of(
                "sampling.randomness",
                "e6147c00000000",
                "sampling.threshold",
                "e6147b",
                "veryrandom",
                10.125)),
        Arguments.of(
            "25 percent incoming",
            "sampling_percentage: 50\nattribute_source: traceID\nmode: proportional\nfail_closed: false\n",
            "fefefefefefefefefef0000000000000",
            List.of(kv("sampling.threshold", stringValue("c"))),
            Map.of("sampling.threshold", "e")),
        Arguments.of(
            "25 percent arriving inconsistent",
            "sampling_percentage: 50\nattribute_source: traceID\nmode: equalizing\nfail_closed: true\n",
            "fefefefefefefefefeb0000000000000",
            List.of(kv("sampling.threshold", stringValue("c"))),
            null),
        Arguments.of(
            "25 percent arriving equalizing",
            "sampling_percentage: 50\nattribute_source: traceID\nmode: equalizing\n"
                + "sampling_priority: prio\nfail_closed: false\n",
            "fefefefefefefefefefefefefefefefe",
            List.of(kv("sampling.threshold", stringValue("c")), kv("prio", intValue(37))),
            Map.of("sampling.threshold", "c", "prio", 37L)),
        Arguments.of(
            "hash_seed with spec randomness",
            "sampling_percentage: 100\nattribute_source: traceID\nmode: hash_seed\nfail_closed: false\n",
            DEFAULT_TID,
            List.of(kv("sampling.randomness", stringValue("f2341234123412"))),
            Map.of("sampling.randomness", "f2341234123412")));
  }

  /** TestLogsMissingRandomness: an empty trace id and an empty source attribute, every mode. */
  @ParameterizedTest(name = "{0} {1}% {2} fail_closed={3}")
  @MethodSource("logsMissingRandomness")
  void logsMissingRandomnessFollowsFailClosed(
      String mode, String pct, String source, boolean failClosed, boolean sampled)
      throws Exception {
    ProcessorHarness h =
        harness(
            "sampling_percentage: "
                + pct
                + "\nmode: "
                + mode
                + "\nhash_seed: "
                + DEFAULT_HASH_SEED
                + "\nfail_closed: "
                + failClosed
                + "\nattribute_source: "
                + source
                + "\nfrom_attribute: unused\n");
    LogRecord r =
        LogRecord.newBuilder()
            .setTraceId(ByteString.copyFrom(new byte[16]))
            .addAttributes(kv("unused", stringValue("")))
            .build();
    ProcessorHarness.Outcome o =
        h.run(
            Signal.LOGS,
            ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(
                    ResourceLogs.newBuilder().addScopeLogs(ScopeLogs.newBuilder().addLogRecords(r)))
                .build());
    assertThat(o.bytes() != null).isEqualTo(sampled);
  }

  static Stream<Arguments> logsMissingRandomness() {
    List<Object[]> cases =
        List.of(
            new Object[] {"0", "record", true, false},
            new Object[] {"50", "record", true, false},
            new Object[] {"100", "record", true, false},
            new Object[] {"0", "record", false, false},
            new Object[] {"50", "record", false, true},
            new Object[] {"100", "record", false, true},
            new Object[] {"0", "traceID", true, false},
            new Object[] {"50", "traceID", true, false},
            new Object[] {"100", "traceID", true, false},
            new Object[] {"0", "traceID", false, false},
            new Object[] {"50", "traceID", false, true},
            new Object[] {"100", "traceID", false, true});
    return Stream.of("hash_seed", "equalizing", "proportional")
        .flatMap(m -> cases.stream().map(c -> Arguments.of(m, c[0], c[1], c[2], c[3])));
  }

  // ------------------------------------------------------------------------ helpers

  static ProcessorHarness harness(String body) {
    try {
      return new ProcessorHarness("probabilistic_sampler", body);
    } catch (Exception e) {
      throw new AssertionError(body, e);
    }
  }

  static ExportTraceServiceRequest oneSpan(String traceIdHex, String traceState, Long priority) {
    Span.Builder s =
        Span.newBuilder()
            .setTraceId(ByteString.copyFrom(HexFormat.of().parseHex(traceIdHex)))
            .setSpanId(
                ByteString.copyFrom(
                    new byte[] {0, 0, 0, 0, (byte) 0xfe, (byte) 0xfe, (byte) 0xfe, (byte) 0xfe}))
            .setTraceState(traceState);
    if (priority != null) {
      s.addAttributes(kv("sampling.priority", intValue(priority)));
    }
    return request(s.build());
  }

  static ExportTraceServiceRequest request(Span... spans) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (Span s : spans) {
      scope.addSpans(s);
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
        .build();
  }

  static int keptSpans(ProcessorHarness.Outcome o) throws Exception {
    if (o.bytes() == null) {
      return 0;
    }
    int n = 0;
    for (ResourceSpans rs : ExportTraceServiceRequest.parseFrom(o.bytes()).getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    }
    return n;
  }

  static Span onlySpan(ProcessorHarness.Outcome o) throws Exception {
    return ExportTraceServiceRequest.parseFrom(o.bytes())
        .getResourceSpans(0)
        .getScopeSpans(0)
        .getSpans(0);
  }

  static byte[] randomBytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  static KeyValue kv(String key, AnyValue value) {
    return KeyValue.newBuilder().setKey(key).setValue(value).build();
  }

  static AnyValue intValue(long v) {
    return AnyValue.newBuilder().setIntValue(v).build();
  }

  static AnyValue doubleValue(double v) {
    return AnyValue.newBuilder().setDoubleValue(v).build();
  }

  static AnyValue stringValue(String v) {
    return AnyValue.newBuilder().setStringValue(v).build();
  }
}
