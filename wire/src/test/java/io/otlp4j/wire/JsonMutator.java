package io.otlp4j.wire;

import io.otlp4j.wire.testing.Mutator;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeded mutations of valid OTLP/JSON for robustness tests: byte-level damage and mutations aimed
 * at what a JSON reader must survive (truncation, flipped characters, missing quotes and braces,
 * huge numbers, deep nesting, bad hex ids, values of the wrong type). Not thread-safe.
 */
final class JsonMutator {
  private static final byte[] STRUCTURAL = utf8("{}[]\":,\\ 0123456789-+.eEtrufalsn");
  private static final String[] HUGE_NUMBERS = {
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "123456789012345678901234567890",
    "-99999999999999999999999999999999",
    "1.7976931348623157E309",
    "18446744073709551616",
    "4294967296",
    "-0",
    "0.000000000000000000000000000000000001",
    "9".repeat(2000),
    "1" + "0".repeat(300),
    "\"" + "9".repeat(500) + "\"",
    "\"1e400\"",
    "\"-\"",
    "\"NaN\"",
    "\"Infinity\"",
    "1E+2147483648",
  };
  private static final String[] WRONG_VALUES = {
    "[]",
    "{}",
    "true",
    "false",
    "null",
    "\"x\"",
    "\"\"",
    "1.5",
    "-1",
    "[{}]",
    "[[1]]",
    "{\"a\":[]}",
    "\"5B8EFFF798038103D269B633813FC6ZZ\"",
    "\"+/==\"",
    "\"SPAN_KIND_SERVER\"",
  };
  private static final String[] ID_KEYS = {
    "\"traceId\":\"", "\"spanId\":\"", "\"parentSpanId\":\""
  };

  private final SplittableRandom random;
  private final Mutator bytes;

  JsonMutator(long seed) {
    this.random = new SplittableRandom(seed);
    this.bytes = new Mutator(seed ^ 0x5DEECE66DL);
  }

  byte[] mutate(byte[] json) {
    switch (random.nextInt(12)) {
      case 0:
        return truncate(json);
      case 1:
        return flip(json);
      case 2:
        return deleteOne(json, "\"");
      case 3:
        return deleteOne(json, "{}[]");
      case 4:
        return replaceValue(json, HUGE_NUMBERS[random.nextInt(HUGE_NUMBERS.length)]);
      case 5:
        return insert(json, deepNesting());
      case 6:
        return badId(json);
      case 7:
        return replaceValue(json, WRONG_VALUES[random.nextInt(WRONG_VALUES.length)]);
      case 8:
        return insert(json, randomBytes());
      case 9:
        return mutate(mutate(json));
      default:
        return bytes.mutate(json);
    }
  }

  private byte[] truncate(byte[] json) {
    return java.util.Arrays.copyOf(json, json.length == 0 ? 0 : random.nextInt(json.length));
  }

  private byte[] flip(byte[] json) {
    if (json.length == 0) {
      return json;
    }
    byte[] out = json.clone();
    int n = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      out[random.nextInt(out.length)] =
          random.nextInt(4) == 0
              ? (byte) random.nextInt(256)
              : STRUCTURAL[random.nextInt(STRUCTURAL.length)];
    }
    return out;
  }

  private byte[] deleteOne(byte[] json, String chars) {
    int count = 0;
    for (byte b : json) {
      if (chars.indexOf(b) >= 0) {
        count++;
      }
    }
    if (count == 0) {
      return truncate(json);
    }
    int victim = random.nextInt(count);
    ByteArrayOutputStream out = new ByteArrayOutputStream(json.length);
    for (byte b : json) {
      if (chars.indexOf(b) >= 0 && victim-- == 0) {
        continue;
      }
      out.write(b);
    }
    return out.toByteArray();
  }

  /**
   * Replaces the value after a random {@code ":"} with {@code replacement} (up to the next , } or
   * ]).
   */
  private byte[] replaceValue(byte[] json, String replacement) {
    String s = new String(json, StandardCharsets.ISO_8859_1);
    int at = s.indexOf("\":", random.nextInt(Math.max(1, s.length())));
    if (at < 0) {
      at = s.indexOf("\":");
    }
    if (at < 0) {
      return insert(json, utf8(replacement));
    }
    int start = at + 2;
    int end = start;
    int depth = 0;
    boolean inString = false;
    while (end < s.length()) {
      char c = s.charAt(end);
      if (inString) {
        if (c == '\\') {
          end++;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          break;
        }
        depth--;
      } else if (c == ',' && depth == 0) {
        break;
      }
      end++;
    }
    return utf8ISO(s.substring(0, start) + replacement + s.substring(Math.min(end, s.length())));
  }

  private byte[] badId(byte[] json) {
    String s = new String(json, StandardCharsets.ISO_8859_1);
    String key = ID_KEYS[random.nextInt(ID_KEYS.length)];
    int at = s.indexOf(key);
    if (at < 0) {
      return flip(json);
    }
    int start = at + key.length();
    int end = s.indexOf('"', start);
    if (end < 0) {
      return flip(json);
    }
    String id = s.substring(start, end);
    String bad;
    switch (random.nextInt(4)) {
      case 0:
        bad = id.isEmpty() ? "0" : id.substring(1);
        break;
      case 1:
        bad = id + "a";
        break;
      case 2:
        bad = id.isEmpty() ? "g" : "g" + id.substring(1);
        break;
      default:
        bad = id.toUpperCase(java.util.Locale.ROOT) + "\\u0030";
        break;
    }
    return utf8ISO(s.substring(0, start) + bad + s.substring(end));
  }

  private byte[] deepNesting() {
    if (random.nextInt(10) == 0) {
      return DEEP[random.nextInt(DEEP.length)];
    }
    String open =
        random.nextBoolean()
            ? "["
            : random.nextBoolean() ? "{\"a\":" : "{\"arrayValue\":{\"values\":[";
    return utf8(open.repeat(1 + random.nextInt(400)));
  }

  /** 100,000 levels of nesting, built once: the inputs are large and always refused early. */
  private static final byte[][] DEEP = {
    utf8("[".repeat(100_000)),
    utf8("{\"a\":".repeat(100_000)),
    utf8("{\"arrayValue\":{\"values\":[".repeat(20_000)),
  };

  private byte[] randomBytes() {
    byte[] b = new byte[1 + random.nextInt(8)];
    random.nextBytes(b);
    return b;
  }

  private byte[] insert(byte[] json, byte[] what) {
    int at = json.length == 0 ? 0 : random.nextInt(json.length + 1);
    byte[] out = new byte[json.length + what.length];
    System.arraycopy(json, 0, out, 0, at);
    System.arraycopy(what, 0, out, at, what.length);
    System.arraycopy(json, at, out, at + what.length, json.length - at);
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] utf8ISO(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
