package io.otlp4j.wire.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.otlp4j.wire.Signal;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MutatorTest {

  @Test
  void theSameSeedGivesTheSameMutationsAndTheInputIsNeverChanged() {
    byte[] valid = new OtlpGenerator(1).traces().toByteArray();
    byte[] copy = valid.clone();
    Mutator a = new Mutator(9);
    Mutator b = new Mutator(9);
    for (int i = 0; i < 500; i++) {
      assertThat(a.mutate(valid)).isEqualTo(b.mutate(valid));
    }
    assertThat(valid).isEqualTo(copy);
  }

  /**
   * protobuf-java's own parser names each kind of damage; seeing all of them proves the mutator
   * produces lying lengths, over-long varints, bad wire types, field zero, truncation and nesting
   * too deep, as well as inputs that still parse.
   */
  @Test
  void mutationsProduceEveryKindOfProtobufDamageAndSomeStillValidInputs() {
    OtlpGenerator generator = new OtlpGenerator(2);
    Mutator mutator = new Mutator(3);
    Set<String> reasons = new HashSet<>();
    int parsed = 0;
    int changed = 0;
    for (int i = 0; i < 5000; i++) {
      byte[] valid = generator.traces().toByteArray();
      byte[] mutated = mutator.mutate(valid);
      if (!Arrays.equals(valid, mutated)) {
        changed++;
      }
      try {
        ExportTraceServiceRequest.parseFrom(mutated);
        parsed++;
      } catch (InvalidProtocolBufferException e) {
        reasons.add(reason(e.getMessage()));
      }
    }
    assertThat(changed).isGreaterThan(4900);
    assertThat(parsed).isBetween(200, 4800);
    assertThat(reasons)
        .contains(
            "truncated",
            "negative size",
            "malformed varint",
            "invalid tag",
            "invalid wire type",
            "recursion limit");
  }

  private static String reason(String message) {
    if (message.contains("ended unexpectedly")) {
      return "truncated";
    }
    if (message.contains("negative size")) {
      return "negative size";
    }
    if (message.contains("malformed varint")) {
      return "malformed varint";
    }
    if (message.contains("invalid tag (zero)")) {
      return "invalid tag";
    }
    if (message.contains("too many levels of nesting")) {
      return "recursion limit";
    }
    if (message.contains("invalid wire type")) {
      return "invalid wire type";
    }
    return message;
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void deeplyNestedAnyValueIsAValidRequestWithTheRequestedDepth(Signal signal) throws Exception {
    byte[] bytes =
        Mutator.deeplyNestedAnyValue(signal, 40); // 80 messages deep: within protobuf's limit
    KeyValue attribute;
    switch (signal) {
      case TRACES:
        attribute =
            ExportTraceServiceRequest.parseFrom(bytes)
                .getResourceSpans(0)
                .getScopeSpans(0)
                .getSpans(0)
                .getAttributes(0);
        break;
      case METRICS:
        attribute =
            ExportMetricsServiceRequest.parseFrom(bytes)
                .getResourceMetrics(0)
                .getScopeMetrics(0)
                .getMetrics(0)
                .getGauge()
                .getDataPoints(0)
                .getAttributes(0);
        break;
      default:
        attribute =
            ExportLogsServiceRequest.parseFrom(bytes)
                .getResourceLogs(0)
                .getScopeLogs(0)
                .getLogRecords(0)
                .getAttributes(0);
        break;
    }
    assertThat(attribute.getKey()).isEqualTo("deep");
    AnyValue value = attribute.getValue();
    int depth = 0;
    while (value.hasArrayValue()) {
      assertThat(value.getArrayValue().getValuesCount()).isEqualTo(1);
      value = value.getArrayValue().getValues(0);
      depth++;
    }
    assertThat(depth).isEqualTo(40);
    assertThat(value.getStringValue()).isEqualTo("leaf");
  }

  @Test
  void tenThousandLevelsAreWellFormedButBeyondProtobufsRecursionLimit() throws Exception {
    byte[] bytes = Mutator.deeplyNestedAnyValue(Signal.LOGS, 10_000);
    assertThat(bytes.length).isBetween(40_000, 140_000);
    assertThatThrownBy(() -> ExportLogsServiceRequest.parseFrom(bytes))
        .isInstanceOf(InvalidProtocolBufferException.class)
        .hasMessageContaining("too many levels of nesting");
    // Structurally sound all the way down: every length matches its content.
    assertThat(walkLengths(bytes, 0, bytes.length)).isGreaterThan(20_000);
  }

  /**
   * Descends, without recursion, into the largest length-delimited field of each level, checking
   * that every field's length fits its enclosing message; returns the number of levels descended.
   */
  private static int walkLengths(byte[] bytes, int start, int end) throws Exception {
    int depth = 0;
    while (true) {
      int pos = start;
      int bestStart = -1;
      int bestLength = -1;
      while (pos < end) {
        CodedInputStream in = CodedInputStream.newInstance(bytes, pos, end - pos);
        int tag = in.readTag();
        if ((tag & 7) != 2) {
          in.skipField(tag);
          pos += in.getTotalBytesRead();
          continue;
        }
        int length = in.readRawVarint32();
        int contentStart = pos + in.getTotalBytesRead();
        assertThat(contentStart + length).isLessThanOrEqualTo(end);
        if (length > bestLength) {
          bestLength = length;
          bestStart = contentStart;
        }
        pos = contentStart + length;
      }
      assertThat(pos).isEqualTo(end);
      if (bestLength < 8 || !looksLikeMessage(bytes, bestStart, bestLength)) {
        return depth;
      }
      depth++;
      start = bestStart;
      end = bestStart + bestLength;
    }
  }

  private static boolean looksLikeMessage(byte[] bytes, int start, int length) {
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes, start, length);
      int tag = in.readTag();
      int wireType = tag & 7;
      return tag != 0 && (wireType <= 2 || wireType == 5) && (tag >>> 3) < 20;
    } catch (Exception e) {
      return false;
    }
  }
}
