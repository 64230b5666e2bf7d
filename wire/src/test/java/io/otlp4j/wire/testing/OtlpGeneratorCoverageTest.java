package io.otlp4j.wire.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.otlp4j.wire.Signal;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Proves, through protobuf descriptors, that {@link OtlpGenerator} reaches every field of every
 * message type under each request, every oneof case and the unset case, and every enum value. A
 * field added to opentelemetry-proto and not generated makes this test fail, naming it.
 */
class OtlpGeneratorCoverageTest {

  private static final int MESSAGES = 300;

  @ParameterizedTest
  @EnumSource(Signal.class)
  void everyFieldOfEveryReachableMessageTypeIsSetAtLeastOnce(Signal signal) {
    Descriptor root = rootDescriptor(signal);
    Set<String> expected = new TreeSet<>();
    for (Descriptor type : reachableTypes(root)) {
      for (FieldDescriptor field : type.getFields()) {
        expected.add(field.getFullName());
        if (field.getJavaType() == FieldDescriptor.JavaType.ENUM) {
          for (EnumValueDescriptor value : field.getEnumType().getValues()) {
            expected.add(field.getFullName() + "=" + value.getName());
          }
        }
      }
      for (OneofDescriptor oneof : type.getRealOneofs()) {
        expected.add(oneof.getFullName() + "=<not set>");
      }
    }

    Set<String> seen = new TreeSet<>();
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() * 7919L + 1);
    for (int i = 0; i < MESSAGES; i++) {
      record(generator.request(signal), seen);
    }

    Set<String> missing = new TreeSet<>(expected);
    missing.removeAll(seen);
    assertThat(missing)
        .as("fields, enum values and unset oneofs the generator never produced")
        .isEmpty();
    assertThat(expected)
        .as("sanity: the walk found the OTLP types")
        .contains(
            "opentelemetry.proto.common.v1.AnyValue.kvlist_value",
            "opentelemetry.proto.resource.v1.Resource.entity_refs");
  }

  @ParameterizedTest
  @EnumSource(Signal.class)
  void unknownFieldsOfEveryWireTypeAppearAtEveryLevel(Signal signal) {
    Set<String> seen = new TreeSet<>();
    OtlpGenerator generator = new OtlpGenerator(signal.ordinal() + 99L).withUnknownFields(true);
    for (int i = 0; i < MESSAGES; i++) {
      recordUnknown(generator.request(signal), seen);
    }
    Descriptor root = rootDescriptor(signal);
    Descriptor resourceLevel = root.getFields().get(0).getMessageType();
    Descriptor scopeLevel = resourceLevel.findFieldByNumber(2).getMessageType();
    Descriptor item = scopeLevel.findFieldByNumber(2).getMessageType();
    for (Descriptor level :
        new Descriptor[] {
          root,
          resourceLevel,
          scopeLevel,
          item,
          io.opentelemetry.proto.common.v1.KeyValue.getDescriptor(),
          io.opentelemetry.proto.common.v1.AnyValue.getDescriptor(),
          io.opentelemetry.proto.resource.v1.Resource.getDescriptor(),
          io.opentelemetry.proto.common.v1.InstrumentationScope.getDescriptor()
        }) {
      assertThat(seen).as("unknown fields on " + level.getName()).contains(level.getFullName());
    }
    assertThat(seen)
        .contains(
            "wire type varint",
            "wire type fixed32",
            "wire type fixed64",
            "wire type length-delimited");
  }

  private static Descriptor rootDescriptor(Signal signal) {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceRequest.getDescriptor();
      case METRICS:
        return ExportMetricsServiceRequest.getDescriptor();
      default:
        return ExportLogsServiceRequest.getDescriptor();
    }
  }

  private static Set<Descriptor> reachableTypes(Descriptor root) {
    Set<Descriptor> types = new LinkedHashSet<>();
    Deque<Descriptor> todo = new ArrayDeque<>();
    todo.add(root);
    while (!todo.isEmpty()) {
      Descriptor type = todo.poll();
      if (!types.add(type)) {
        continue;
      }
      for (FieldDescriptor field : type.getFields()) {
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
          todo.add(field.getMessageType());
        }
      }
    }
    return types;
  }

  private static void record(Message message, Set<String> seen) {
    for (OneofDescriptor oneof : message.getDescriptorForType().getRealOneofs()) {
      if (!message.hasOneof(oneof)) {
        seen.add(oneof.getFullName() + "=<not set>");
      }
    }
    for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
      FieldDescriptor field = entry.getKey();
      seen.add(field.getFullName());
      if (field.getJavaType() == FieldDescriptor.JavaType.ENUM) {
        seen.add(field.getFullName() + "=" + ((EnumValueDescriptor) entry.getValue()).getName());
      } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        if (field.isRepeated()) {
          for (Object element : (Iterable<?>) entry.getValue()) {
            record((Message) element, seen);
          }
        } else {
          record((Message) entry.getValue(), seen);
        }
      }
    }
    // An enum field left at 0 is not in getAllFields(); record its default value explicitly.
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      if (field.getJavaType() == FieldDescriptor.JavaType.ENUM
          && !field.isRepeated()
          && !message.hasField(field)) {
        seen.add(field.getFullName() + "=" + field.getEnumType().findValueByNumber(0).getName());
      }
    }
  }

  private static void recordUnknown(Message message, Set<String> seen) {
    UnknownFieldSet unknown = message.getUnknownFields();
    if (!unknown.asMap().isEmpty()) {
      seen.add(message.getDescriptorForType().getFullName());
      for (UnknownFieldSet.Field field : unknown.asMap().values()) {
        if (!field.getVarintList().isEmpty()) {
          seen.add("wire type varint");
        }
        if (!field.getFixed32List().isEmpty()) {
          seen.add("wire type fixed32");
        }
        if (!field.getFixed64List().isEmpty()) {
          seen.add("wire type fixed64");
        }
        if (!field.getLengthDelimitedList().isEmpty()) {
          seen.add("wire type length-delimited");
        }
      }
    }
    for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
      FieldDescriptor field = entry.getKey();
      if (field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        continue;
      }
      if (field.isRepeated()) {
        for (Object element : (Iterable<?>) entry.getValue()) {
          recordUnknown((Message) element, seen);
        }
      } else {
        recordUnknown((Message) entry.getValue(), seen);
      }
    }
  }
}
