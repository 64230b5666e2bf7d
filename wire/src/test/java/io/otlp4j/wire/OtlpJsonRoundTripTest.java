package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.otlp4j.wire.testing.OtlpGenerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Thousands of random official messages per signal (every field, oneof case and enum value, edge
 * values, unknown fields at every level) through protobuf → JSON → protobuf, checked against the
 * official classes and against protobuf-java-util's JsonFormat.
 */
class OtlpJsonRoundTripTest {
  private static final int MESSAGES = 2_000;

  /** For the checks of one reading rule each; the messages cover every field long before this. */
  private static final int FEWER_MESSAGES = 250;

  @ParameterizedTest
  @EnumSource(Signal.class)
  void protobufToJsonAndBackGivesTheOfficialMessageWithoutItsUnknownFields(Signal signal) {
    OtlpGenerator generator =
        new OtlpGenerator(signal.ordinal() * 1_000_003L).withUnknownFields(true);
    for (int i = 0; i < MESSAGES; i++) {
      Message message = generator.request(signal);
      byte[] bytes1 = message.toByteArray();
      // The official classes, told to discard unknown fields, give the reference cheaply; every
      // eighth message cross-checks it against the generator's own stripping.
      Message expected = OfficialJson.parseDiscardingUnknownFields(signal, bytes1);
      if (i % 8 == 0) {
        assertThat(expected).isEqualTo(OtlpGenerator.withoutUnknownFields(message));
      }

      byte[] json = OtlpJson.toJson(signal, bytes1);
      byte[] bytes2 = OtlpJson.toProtobuf(signal, json);

      assertThat(OfficialJson.parse(signal, bytes2)).as("message %d", i).isEqualTo(expected);
      // Canonical input comes back canonical: fields in field-number order, defaults left out.
      assertThat(bytes2).as("message %d", i).isEqualTo(expected.toByteArray());
      // Stable after one round, in both encodings.
      byte[] json2 = OtlpJson.toJson(signal, bytes2);
      assertThat(OtlpJson.toProtobuf(signal, json2)).as("message %d", i).isEqualTo(bytes2);
      assertThat(json2).as("message %d", i).isEqualTo(json);
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void jsonFormatReadsTheJsonWrittenToTheSameMessage(Signal signal) {
    OtlpGenerator generator = new OtlpGenerator(7 + signal.ordinal());
    for (int i = 0; i < FEWER_MESSAGES; i++) {
      Message message = generator.request(signal);

      byte[] json = OtlpJson.toJson(signal, message.toByteArray());

      assertThat(OfficialJson.jsonFormatParse(signal, json))
          .as("message %d: %s", i, OfficialJson.utf8(json))
          .isEqualTo(OfficialJson.withoutNegativeZeros(message));
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void snakeCaseKeysReadAsTheCamelCaseOnes(Signal signal) {
    OtlpGenerator generator = new OtlpGenerator(11 + signal.ordinal());
    for (int i = 0; i < FEWER_MESSAGES; i++) {
      byte[] protobuf = generator.request(signal).toByteArray();
      byte[] json = OtlpJson.toJson(signal, protobuf);

      byte[] snake = JsonRewriter.snakeCaseKeys(json);

      assertThat(OtlpJson.toProtobuf(signal, snake))
          .as("message %d: %s", i, OfficialJson.utf8(snake))
          .isEqualTo(protobuf);
    }
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void unknownKeysAtEveryLevelAreIgnored(Signal signal) {
    OtlpGenerator generator = new OtlpGenerator(13 + signal.ordinal());
    for (int i = 0; i < FEWER_MESSAGES; i++) {
      byte[] protobuf = generator.request(signal).toByteArray();
      byte[] json = OtlpJson.toJson(signal, protobuf);

      byte[] withUnknown = JsonRewriter.withUnknownKeys(json, i);

      assertThat(OtlpJson.toProtobuf(signal, withUnknown))
          .as("message %d: %s", i, OfficialJson.utf8(withUnknown))
          .isEqualTo(protobuf);
    }
  }
}
