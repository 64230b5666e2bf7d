package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.Message;

/**
 * Coverage-guided fuzzing of the OTLP/JSON writer, {@link OtlpJson#toJson(Signal, byte[])}.
 *
 * <p>Input: protobuf bytes, then (from the end) the signal. Properties: each input is transcoded or
 * refused with {@link WireFormatException} (offset inside the input), nothing else; what is
 * accepted, protobuf-java accepts too, and the JSON written reads back (our reader) to the message
 * protobuf-java parsed (unknown fields aside, which OTLP/JSON cannot carry).
 *
 * <p>Seeds: the official OTLP/JSON examples as protobuf, and generated requests, in {@code
 * ProtobufToJsonFuzzTestInputs/protobufToJson/}.
 */
class ProtobufToJsonFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void protobufToJson(FuzzedDataProvider data) {
    Signal signal = Signal.values()[data.consumeInt(0, 2)];
    byte[] protobuf = data.consumeRemainingAsBytes();
    byte[] json;
    try {
      json = OtlpJson.toJson(signal, protobuf);
    } catch (WireFormatException e) {
      assertThat(e.offset()).as("offset of %s", e).isBetween(-1L, (long) protobuf.length);
      return;
    }
    Message official =
        OfficialJson.parseDiscardingUnknownFields(signal, protobuf); // throws if it refuses
    byte[] back;
    try {
      back = OtlpJson.toProtobuf(signal, json);
    } catch (WireFormatException e) {
      throw new AssertionError(
          "the JSON written does not read back: " + e + "\n" + OfficialJson.utf8(json), e);
    }
    assertThat(OfficialJson.parse(signal, back))
        .as("input %s", WalkSplitEditFuzzTest.hex(protobuf))
        .isEqualTo(official);
  }
}
