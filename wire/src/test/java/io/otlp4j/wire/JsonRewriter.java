package io.otlp4j.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/** Token-level rewrites of OTLP/JSON for tests: renamed keys, inserted unknown keys. */
final class JsonRewriter {
  private static final JsonFactory JSON = new JsonFactory();

  private JsonRewriter() {}

  /** Every key turned into its snake_case proto name (lowerCamel → lower_snake). */
  static byte[] snakeCaseKeys(byte[] json) {
    return rewrite(
        json,
        (p, g) -> {
          if (p.currentToken() == JsonToken.FIELD_NAME) {
            g.writeFieldName(snake(p.currentName()));
            return true;
          }
          return false;
        });
  }

  static String snake(String camel) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < camel.length(); i++) {
      char c = camel.charAt(i);
      if (Character.isUpperCase(c)) {
        sb.append('_').append(Character.toLowerCase(c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * The same JSON with a key no OTLP message has inserted into every object (first, or after a
   * known key), holding a random value: null, a scalar, an array, an object, or nested containers.
   */
  static byte[] withUnknownKeys(byte[] json, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return rewrite(
        json,
        (p, g) -> {
          JsonToken t = p.currentToken();
          if (t == JsonToken.START_OBJECT) {
            g.writeStartObject();
            unknownField(g, random);
            return true;
          }
          if (t == JsonToken.END_OBJECT && random.nextBoolean()) {
            unknownField(g, random);
          }
          return false;
        });
  }

  private static void unknownField(JsonGenerator g, SplittableRandom random) throws IOException {
    g.writeFieldName("unknownKey" + random.nextInt(3));
    unknownValue(g, random, 0);
  }

  private static void unknownValue(JsonGenerator g, SplittableRandom random, int depth)
      throws IOException {
    switch (random.nextInt(depth > 3 ? 6 : 9)) {
      case 0:
        g.writeNull();
        break;
      case 1:
        g.writeString("traceId");
        break;
      case 2:
        g.writeNumber(random.nextLong());
        break;
      case 3:
        g.writeNumber(1.5e300);
        break;
      case 4:
        g.writeBoolean(random.nextBoolean());
        break;
      case 5:
        g.writeString("");
        break;
      case 6:
        {
          g.writeStartArray();
          int n = random.nextInt(3);
          for (int i = 0; i < n; i++) {
            unknownValue(g, random, depth + 1);
          }
          g.writeEndArray();
          break;
        }
      default:
        {
          g.writeStartObject();
          // Known OTLP key names inside an unknown value must be skipped like everything else.
          g.writeFieldName(random.nextBoolean() ? "spans" : "resourceSpans");
          unknownValue(g, random, depth + 1);
          g.writeEndObject();
          break;
        }
    }
  }

  interface Edit {
    /**
     * Writes a replacement for the parser's current token and returns true, or returns false to
     * copy it.
     */
    boolean apply(JsonParser p, JsonGenerator g) throws IOException;
  }

  static byte[] rewrite(byte[] json, Edit edit) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(json.length * 2);
    try (JsonParser p = JSON.createParser(json);
        JsonGenerator g = JSON.createGenerator(out)) {
      while (p.nextToken() != null) {
        if (!edit.apply(p, g)) {
          g.copyCurrentEvent(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
