package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonOutput}'s integers, written eight digits per long division and two per table look-up:
 * every value reads as {@link Long#toString} (signed) or {@link Long#toUnsignedString} (unsigned)
 * writes it, at every digit count and on both sides of every power of ten.
 */
class JsonOutputNumbersTest {

  private static List<Long> edges() {
    List<Long> values = new ArrayList<>(List.of(0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE));
    values.add(Long.MIN_VALUE + 1);
    long power = 1;
    for (int digits = 1; digits <= 19; digits++) {
      for (long v : new long[] {power - 1, power, power + 1, 2 * power - 1, 9 * power}) {
        if (v >= 0) { // 9 * 10^18 and 2 * 10^18 - 1 are still positive longs
          values.add(v);
          values.add(-v);
        }
      }
      power *= 10;
    }
    return values;
  }

  private static String written(long v, boolean unsigned, boolean quoted) throws IOException {
    JsonOutput out = new JsonOutput(64);
    if (quoted) {
      out.decimalString(v, unsigned);
    } else {
      out.number(v);
    }
    return new String(out.bytes(), 0, out.size(), StandardCharsets.US_ASCII);
  }

  private static void check(long v) throws IOException {
    assertThat(written(v, false, false)).as("number %d", v).isEqualTo(Long.toString(v));
    assertThat(written(v, false, true)).as("int64 %d", v).isEqualTo('"' + Long.toString(v) + '"');
    assertThat(written(v, true, true))
        .as("uint64 %s", Long.toUnsignedString(v))
        .isEqualTo('"' + Long.toUnsignedString(v) + '"');
  }

  @Test
  void everyEdgeReadsAsJavaWritesIt() throws IOException {
    for (long v : edges()) {
      check(v);
    }
  }

  @Test
  void randomValuesOfEveryBitLengthReadAsJavaWritesThem() throws IOException {
    SplittableRandom random = new SplittableRandom(11);
    for (int n = 0; n < 300_000; n++) {
      int bits = 1 + random.nextInt(64);
      long v = bits == 64 ? random.nextLong() : random.nextLong() >>> (64 - bits);
      check(v);
    }
  }

  @Test
  void digitCountIsExactAtEveryPowerOfTen() {
    long power = 1;
    for (int digits = 1; digits <= 19; digits++) {
      assertThat(JsonOutput.decimalDigits(power)).as("10^%d", digits - 1).isEqualTo(digits);
      if (power > 1) {
        assertThat(JsonOutput.decimalDigits(power - 1))
            .as("10^%d - 1", digits - 1)
            .isEqualTo(digits - 1);
      }
      power *= 10;
    }
    assertThat(JsonOutput.decimalDigits(Long.MAX_VALUE)).isEqualTo(19);
  }
}
