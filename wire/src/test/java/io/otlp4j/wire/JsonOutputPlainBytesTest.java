package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonOutput}'s eight-bytes-at-once copy of plain string bytes: a word is plain only when
 * all eight bytes are, whatever byte value sits at whatever position, and strings with special
 * bytes at every offset are escaped as the byte-by-byte path escapes them.
 */
class JsonOutputPlainBytesTest {

  /** The byte-by-byte rule: ASCII, not a control character, not a quote or a backslash. */
  private static boolean plain(int b) {
    return b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
  }

  private static long word(byte[] eight) {
    return ByteBuffer.wrap(eight).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  @Test
  void aWordIsPlainExactlyWhenEveryByteIs() {
    SplittableRandom random = new SplittableRandom(7);
    for (int value = 0; value < 256; value++) {
      for (int at = 0; at < 8; at++) {
        byte[] eight = "abcdefgh".getBytes(StandardCharsets.US_ASCII);
        eight[at] = (byte) value;
        assertThat(JsonOutput.plain8(word(eight)))
            .as("byte 0x%02x at %d", value, at)
            .isEqualTo(plain(value));
      }
    }
    // Mixed words, where a borrow from one byte's test runs into the next.
    for (int n = 0; n < 200_000; n++) {
      byte[] eight = new byte[8];
      boolean expected = true;
      for (int k = 0; k < 8; k++) {
        int v = random.nextInt(8) == 0 ? random.nextInt(256) : 0x20 + random.nextInt(0x60);
        eight[k] = (byte) v;
        expected &= plain(v);
      }
      assertThat(JsonOutput.plain8(word(eight))).isEqualTo(expected);
    }
  }

  /** The escaping rule, spelled out: what the byte-by-byte path writes for each character. */
  private static String escaped(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04X", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }

  @Test
  void specialBytesAtEveryOffsetAreEscaped() throws Exception {
    String[] specials = {"\"", "\\", "\n", "\b", "\u0001", "\u007f", "é", "€", "😀", "ab\tc"};
    for (String special : specials) {
      for (int at = 0; at < 20; at++) {
        String s = "x".repeat(at) + special + "y".repeat(19 - at);
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        JsonOutput out = new JsonOutput(64);
        assertThat(out.utf8String(utf8, 0, utf8.length)).isEqualTo(-1);
        String json = new String(out.bytes(), 0, out.size(), StandardCharsets.UTF_8);
        assertThat(json).as("%s at %d", special, at).isEqualTo(escaped(s));
      }
    }
  }
}
