package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.Message;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzzing of the OTLP/JSON reader, {@link OtlpJson#toProtobuf(Signal, byte[])}.
 *
 * <p>Input: the JSON text, then (from the end) the signal. Properties: each input is transcoded or
 * refused with {@link WireFormatException} (offset inside the input), nothing else; what is
 * written, our walker and protobuf-java both accept; and it survives a round trip through the
 * writer: protobuf to JSON and back gives the same message to the official classes.
 *
 * <p>Seeds: the official OTLP/JSON examples (examples/otlp-json) and generated requests written as
 * JSON, in {@code JsonToProtobufFuzzTestInputs/jsonToProtobuf/}.
 */
class JsonToProtobufFuzzTest {
  private static final OtlpWalker WALKER = OtlpWalker.create();

  @FuzzTest(maxDuration = "5m")
  void jsonToProtobuf(FuzzedDataProvider data) {
    Signal signal = Signal.values()[data.consumeInt(0, 2)];
    byte[] json = data.consumeRemainingAsBytes();
    byte[] protobuf;
    try {
      protobuf = OtlpJson.toProtobuf(signal, json);
    } catch (WireFormatException e) {
      assertThat(e.offset()).as("offset of %s", e).isBetween(-1L, (long) json.length);
      return;
    }
    String input = new String(json, StandardCharsets.UTF_8);
    Message official = OfficialJson.parse(signal, protobuf);
    assertThat(WALKER.walk(signal, protobuf).byteCount()).isEqualTo(protobuf.length);
    byte[] again = OtlpJson.toJson(signal, protobuf);
    byte[] back = OtlpJson.toProtobuf(signal, again);
    assertThat(OfficialJson.parse(signal, back)).as("round trip of %s", input).isEqualTo(official);
  }
}
