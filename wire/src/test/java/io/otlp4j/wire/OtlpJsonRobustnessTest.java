package io.otlp4j.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.otlp4j.wire.testing.AllocationMeter;
import io.otlp4j.wire.testing.Mutator;
import io.otlp4j.wire.testing.OtlpGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Over 100,000 mutated inputs per run (both directions, three signals): each is either transcoded
 * or refused with {@link WireFormatException}, nothing else; what is accepted is well-formed (the
 * official classes parse the protobuf written; the JSON written reads back) and, for protobuf
 * input, means what it means to the official classes (which accept it too, and parse it to the same
 * message); and no call allocates more than a bounded multiple of its input. A preemptive timeout
 * turns a hang into a failure.
 */
class OtlpJsonRobustnessTest {
  private static final int MUTATIONS_PER_SIGNAL_AND_DIRECTION =
      17_000; // x 3 signals x 2 directions
  private static final int BASE_MESSAGES = 48;

  /** Base messages are kept small so that the mutations, not the bulk, make up the run time. */
  private static final int MAX_BASE_SIZE = 2_000;

  /**
   * The allocation bound: a multiple of the input's size, plus a fixed allowance for the parser's
   * state.
   */
  private static final int ALLOCATION_PER_INPUT_BYTE = 40;

  private static final long ALLOCATION_ALLOWANCE = 256 * 1024;

  private static List<Message> baseMessages(Signal signal, boolean unknownFields) {
    OtlpGenerator generator =
        new OtlpGenerator(100 + signal.ordinal()).withUnknownFields(unknownFields);
    List<Message> messages = new ArrayList<>();
    while (messages.size() < BASE_MESSAGES) {
      Message m = generator.request(signal);
      if (m.getSerializedSize() <= MAX_BASE_SIZE) {
        messages.add(m);
      }
    }
    return messages;
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  @Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void mutatedJsonIsTranscodedOrRefusedWithWireFormatExceptionOnly(Signal signal) {
    List<byte[]> jsons = new ArrayList<>();
    for (Message m : baseMessages(signal, false)) {
      jsons.add(OtlpJson.toJson(signal, m.toByteArray()));
    }
    JsonMutator mutator = new JsonMutator(signal.ordinal());
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < MUTATIONS_PER_SIGNAL_AND_DIRECTION; i++) {
      byte[] input = mutator.mutate(jsons.get(i % jsons.size()));
      long before = AllocationMeter.threadAllocatedBytes();
      byte[] output = null;
      try {
        output = OtlpJson.toProtobuf(signal, input);
        accepted++;
      } catch (WireFormatException e) {
        refused++;
        assertThat(e.offset()).as("offset of %s", e).isBetween(-1L, (long) input.length);
      } catch (Throwable t) {
        fail(
            "JSON input %d threw %s; input (base64): %s",
            i, t, Base64.getEncoder().encodeToString(input), t);
      }
      long allocated = AllocationMeter.threadAllocatedBytes() - before;
      if (allocated > bound(input)) {
        allocated = allocationOf(() -> OtlpJson.toProtobuf(signal, input));
      }
      assertAllocationBounded(allocated, input, "JSON", i);
      if (output != null) {
        parseOrFail(signal, output, input);
      }
    }
    assertThat(accepted).as("accepted").isPositive();
    assertThat(refused).as("refused").isGreaterThan(MUTATIONS_PER_SIGNAL_AND_DIRECTION / 2);
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  @Timeout(value = 300, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void mutatedProtobufIsTranscodedOrRefusedWithWireFormatExceptionOnly(Signal signal) {
    List<byte[]> protobufs = new ArrayList<>();
    for (Message m : baseMessages(signal, true)) {
      protobufs.add(m.toByteArray());
    }
    Mutator mutator = new Mutator(signal.ordinal());
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < MUTATIONS_PER_SIGNAL_AND_DIRECTION; i++) {
      byte[] input = mutator.mutate(protobufs.get(i % protobufs.size()));
      long before = AllocationMeter.threadAllocatedBytes();
      byte[] json = null;
      try {
        json = OtlpJson.toJson(signal, input);
        accepted++;
      } catch (WireFormatException e) {
        refused++;
        assertThat(e.offset()).as("offset of %s", e).isBetween(-1L, (long) input.length);
      } catch (Throwable t) {
        fail(
            "protobuf input %d threw %s; input (base64): %s",
            i, t, Base64.getEncoder().encodeToString(input), t);
      }
      long allocated = AllocationMeter.threadAllocatedBytes() - before;
      if (allocated > bound(input)) {
        allocated = allocationOf(() -> OtlpJson.toJson(signal, input));
      }
      assertAllocationBounded(allocated, input, "protobuf", i);
      if (json != null) {
        // What was written is OTLP/JSON this transcoder reads back, to bytes the official classes
        // parse.
        byte[] back;
        try {
          back = OtlpJson.toProtobuf(signal, json);
        } catch (WireFormatException e) {
          throw new AssertionError(
              "JSON written for protobuf input "
                  + i
                  + " does not read back: "
                  + e
                  + "\n"
                  + OfficialJson.utf8(json),
              e);
        }
        // Differential: the official classes accept the input too, and the JSON stands for the same
        // message (protobuf-java may accept more: ids of a length OTLP does not allow, for one).
        Message official;
        try {
          official = OfficialJson.parseDiscardingUnknownFields(signal, input);
        } catch (AssertionError refusedByOfficial) {
          throw new AssertionError(
              "accepted protobuf input "
                  + i
                  + " that the official classes refuse; input"
                  + " (base64): "
                  + Base64.getEncoder().encodeToString(input),
              refusedByOfficial);
        }
        assertThat(OfficialJson.parse(signal, back)).as("protobuf input %d", i).isEqualTo(official);
      }
    }
    assertThat(accepted).as("accepted").isPositive();
    assertThat(refused).as("refused").isPositive();
  }

  private static long bound(byte[] input) {
    return ALLOCATION_PER_INPUT_BYTE * (long) input.length + ALLOCATION_ALLOWANCE;
  }

  /**
   * The allocation of a second run of the same call: the first call down a path also pays one-time
   * costs (class initialisation, the thread's first Jackson buffers), which are not per-call costs.
   */
  private static long allocationOf(Runnable call) {
    long before = AllocationMeter.threadAllocatedBytes();
    try {
      call.run();
    } catch (WireFormatException expected) {
      // the outcome was checked on the first run
    }
    return AllocationMeter.threadAllocatedBytes() - before;
  }

  private static void assertAllocationBounded(long allocated, byte[] input, String kind, int i) {
    long bound = bound(input);
    if (allocated > bound) {
      fail(
          "%s input %d of %d bytes allocated %d bytes (bound %d); input (base64): %s",
          kind, i, input.length, allocated, bound, Base64.getEncoder().encodeToString(input));
    }
  }

  private static void parseOrFail(Signal signal, byte[] protobuf, byte[] input) {
    try {
      switch (signal) {
        case TRACES:
          io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.parseFrom(protobuf);
          break;
        case METRICS:
          io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest.parseFrom(
              protobuf);
          break;
        default:
          io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.parseFrom(protobuf);
          break;
      }
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(
          "accepted input gave protobuf the official classes refuse; input (base64): "
              + Base64.getEncoder().encodeToString(input),
          e);
    }
  }
}
