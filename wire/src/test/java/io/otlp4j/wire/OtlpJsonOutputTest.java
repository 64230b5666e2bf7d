package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.google.protobuf.Message;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The protobuf → JSON direction writes bytes itself ({@link JsonOutput}) rather than through
 * Jackson's generator, and must write exactly what that generator (configured as the transcoder's
 * was: UTF-8, fast double writer) writes for the same tokens: the file exporter's output, and
 * anything comparing it byte for byte, must not change. Jackson is the reference here: whatever the
 * transcoder writes, read by Jackson's parser and written again by its generator, comes back as the
 * same bytes.
 */
class OtlpJsonOutputTest {
  private static final JsonFactory JACKSON =
      JsonFactory.builder()
          .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER)
          // The transcoder handed strings to the generator as UTF-8 bytes, which pass characters
          // beyond the BMP through as they are; when rewriting from the parser's chars, this makes
          // the generator do the same rather than escape each half of the surrogate pair.
          .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
          .build();

  @ParameterizedTest
  @EnumSource(Signal.class)
  void theJsonIsByteForByteWhatJacksonsGeneratorWritesForItsTokens(Signal signal)
      throws IOException {
    OtlpGenerator generator =
        new OtlpGenerator(31 + signal.ordinal() * 7_919L).withUnknownFields(true);
    for (int i = 0; i < 500; i++) {
      Message message = generator.request(signal);

      byte[] json = OtlpJson.toJson(signal, message.toByteArray());

      assertThat(rewrittenByJackson(json))
          .as("message %d: %s", i, new String(json, StandardCharsets.UTF_8))
          .isEqualTo(json);
    }
  }

  @Test
  void everyByteOfAStringIsEscapedOrCopiedAsJacksonDoes() throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int c = 0; c < 0x80; c++) {
      all.write(c);
    }
    byte[] multiByte = "é€😀 ü\u2028\u2029\uFEFF".getBytes(StandardCharsets.UTF_8);
    all.write(multiByte, 0, multiByte.length);
    byte[] ascii = all.toByteArray();
    // also a string longer than the escaper's segment, with a multi-byte sequence across its edge
    byte[] longString = new byte[10_000];
    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < longString.length; i++) {
      longString[i] = (byte) random.nextInt(0x80);
    }
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(euro, 0, longString, 4095, euro.length);

    for (byte[] s : new byte[][] {ascii, longString, multiByte, new byte[0]}) {
      assertThat(ours(s)).isEqualTo(jacksons(s));
    }
  }

  @Test
  void integersAreWrittenAsLongToStringAndUnsignedOnesAsToUnsignedString() throws IOException {
    long[] values = {
      0,
      1,
      9,
      10,
      11,
      99,
      100,
      -1,
      -9,
      -10,
      -11,
      1_000_000_007L,
      1796638605976427222L,
      Long.MAX_VALUE,
      Long.MIN_VALUE,
      Long.MIN_VALUE + 1,
      Long.MAX_VALUE - 1,
      Integer.MAX_VALUE,
      Integer.MIN_VALUE,
      0xFFFF_FFFFL,
      -2
    };
    SplittableRandom random = new SplittableRandom(11);
    long[] all = Arrays.copyOf(values, values.length + 1000);
    for (int i = values.length; i < all.length; i++) {
      all[i] = random.nextLong() >> random.nextInt(64);
    }
    for (long v : all) {
      JsonOutput out = new JsonOutput(16);
      out.startArray();
      out.number(v);
      out.decimalString(v, false);
      out.decimalString(v, true);
      out.endArray();

      assertThat(new String(out.bytes(), 0, out.size(), StandardCharsets.US_ASCII))
          .isEqualTo("[" + v + ",\"" + v + "\",\"" + Long.toUnsignedString(v) + "\"]");
    }
  }

  @Test
  void aSinkGetsTheSameBytesInChunks() throws IOException {
    Message message = new OtlpGenerator(3).request(Signal.TRACES);
    byte[] protobuf = message.toByteArray();
    // A large request: many copies of one request's resource spans.
    byte[] many = new byte[protobuf.length * 200];
    for (int i = 0; i < 200; i++) {
      System.arraycopy(protobuf, 0, many, i * protobuf.length, protobuf.length);
    }
    ByteArrayOutputStream streamed = new ByteArrayOutputStream();

    OtlpJson.toJson(Signal.TRACES, many, 0, many.length, streamed);

    assertThat(streamed.size()).isGreaterThan(JsonOutput.CHUNK);
    assertThat(streamed.toByteArray()).isEqualTo(OtlpJson.toJson(Signal.TRACES, many));
  }

  @Test
  void nonCanonicalInputIsWrittenInTwoPassesAfterTheOnePassGaveUpAlsoIntoASink()
      throws IOException {
    // Scope spans whose spans are interleaved with another field (two passes decide that level),
    // and spans whose status is given twice: the one-pass attempt gives up on each span after
    // writing part of it, the output it wrote is taken back (also when the stream got chunks
    // meanwhile), and two passes write the protobuf semantics.
    ProtoWriter w = new ProtoWriter();
    for (int resource = 0; resource < 3; resource++) {
      w.begin(1).begin(2);
      for (int span = 0; span < 2_000; span++) {
        w.begin(2).string(5, "span " + span).begin(15).string(2, "first").end();
        w.begin(15).uint32(3, 2).end().end();
        if (span == 1_000) {
          w.string(3, "https://example.com/interleaved");
        }
      }
      w.end().end();
    }
    byte[] protobuf = w.toByteArray();
    ByteArrayOutputStream streamed = new ByteArrayOutputStream();

    OtlpJson.toJson(Signal.TRACES, protobuf, 0, protobuf.length, streamed);

    byte[] json = OtlpJson.toJson(Signal.TRACES, protobuf);
    assertThat(json.length).isGreaterThan(3 * JsonOutput.CHUNK);
    assertThat(streamed.toByteArray()).isEqualTo(json);
    String text = new String(json, StandardCharsets.UTF_8);
    assertThat(text)
        .contains("{\"name\":\"span 7\",\"status\":{\"message\":\"first\",\"code\":2}}")
        .contains("],\"schemaUrl\":\"https://example.com/interleaved\"}");
    assertThat(OtlpJson.toProtobuf(Signal.TRACES, json))
        .isEqualTo(OfficialJson.parse(Signal.TRACES, protobuf).toByteArray()); // the merged message
  }

  private static byte[] ours(byte[] utf8) throws IOException {
    JsonOutput out = new JsonOutput(8);
    assertThat(out.utf8String(utf8, 0, utf8.length)).isEqualTo(-1);
    return Arrays.copyOf(out.bytes(), out.size());
  }

  private static byte[] jacksons(byte[] utf8) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = JACKSON.createGenerator(out, JsonEncoding.UTF8)) {
      g.writeUTF8String(utf8, 0, utf8.length);
    }
    return out.toByteArray();
  }

  private static byte[] rewrittenByJackson(byte[] json) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonParser p = JACKSON.createParser(json);
        JsonGenerator g = JACKSON.createGenerator(out, JsonEncoding.UTF8)) {
      p.nextToken();
      g.copyCurrentStructure(p);
    }
    return out.toByteArray();
  }
}
