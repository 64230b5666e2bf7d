package io.otlp4j.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import java.util.ArrayList;
import java.util.List;

/**
 * A request as protobuf-java sees it, flattened into the lists the walker reports: Resource*, their
 * resources, Scope*, their scopes, items, data points, trace ids; read generically by field number
 * through the descriptors, so that one view serves all three signals.
 */
final class OfficialView {
  final List<Message> resourceEntries = new ArrayList<>();
  final List<Message> resources = new ArrayList<>();
  final List<Message> scopeEntries = new ArrayList<>();
  final List<Message> scopes = new ArrayList<>();
  final List<Message> items = new ArrayList<>();
  final List<Message> dataPoints = new ArrayList<>();
  final List<ByteString> traceIds = new ArrayList<>();

  /** Per Resource*: the string value of the first attribute with the key, or null. */
  final List<String> attributeValues = new ArrayList<>();

  static Parser<? extends Message> parser(Signal signal) {
    switch (signal) {
      case TRACES:
        return ExportTraceServiceRequest.parser();
      case METRICS:
        return ExportMetricsServiceRequest.parser();
      default:
        return ExportLogsServiceRequest.parser();
    }
  }

  static Message parse(Signal signal, byte[] bytes) throws InvalidProtocolBufferException {
    return parser(signal).parseFrom(bytes);
  }

  static OfficialView of(Signal signal, Message request, String attributeKey) {
    OfficialView view = new OfficialView();
    for (Message entry : repeated(request, 1)) {
      view.resourceEntries.add(entry);
      Message resource = null;
      if (has(entry, 1)) {
        resource = (Message) field(entry, 1);
        view.resources.add(resource);
      }
      view.attributeValues.add(
          attributeKey == null || resource == null
              ? null
              : stringAttribute((Resource) resource, attributeKey));
      for (Message scopeEntry : repeated(entry, 2)) {
        view.scopeEntries.add(scopeEntry);
        if (has(scopeEntry, 1)) {
          view.scopes.add((Message) field(scopeEntry, 1));
        }
        for (Message item : repeated(scopeEntry, 2)) {
          view.items.add(item);
          if (signal == Signal.METRICS) {
            view.dataPoints.addAll(dataPoints(item));
          } else {
            ByteString traceId = (ByteString) field(item, signal == Signal.TRACES ? 1 : 9);
            if (!traceId.isEmpty()) {
              view.traceIds.add(traceId);
            }
          }
        }
      }
    }
    return view;
  }

  /** The data points of a metric, of whichever type it is (pdata's DataPointCount counts these). */
  static List<Message> dataPoints(Message metric) {
    OneofDescriptor data = metric.getDescriptorForType().getOneofs().get(0);
    FieldDescriptor set = metric.getOneofFieldDescriptor(data);
    if (set == null) {
      return List.of();
    }
    return repeated((Message) metric.getField(set), 1);
  }

  static String stringAttribute(Resource resource, String key) {
    for (KeyValue kv : resource.getAttributesList()) {
      if (kv.getKey().equals(key)) {
        return kv.getValue().getValueCase() == AnyValue.ValueCase.STRING_VALUE
            ? kv.getValue().getStringValue()
            : null;
      }
    }
    return null;
  }

  @SuppressWarnings("unchecked")
  static List<Message> repeated(Message message, int number) {
    FieldDescriptor field = message.getDescriptorForType().findFieldByNumber(number);
    return (List<Message>) message.getField(field);
  }

  static Object field(Message message, int number) {
    return message.getField(message.getDescriptorForType().findFieldByNumber(number));
  }

  static boolean has(Message message, int number) {
    return message.hasField(message.getDescriptorForType().findFieldByNumber(number));
  }
}
