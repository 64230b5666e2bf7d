package io.otlp4j.wire;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.List;

/**
 * Brings a request into a form where splitting leaves no trace: consecutive Resource* with equal
 * headers (every field but their scopes) become one, likewise consecutive Scope* within a
 * Resource*, and for metrics consecutive Metric messages with equal headers (every field but their
 * data points). Splitting and concatenating a request must give the same normalized request as the
 * original.
 */
final class RequestNormalizer {
  private RequestNormalizer() {}

  static Message normalize(Signal signal, Message request) {
    Message.Builder out = request.toBuilder();
    FieldDescriptor resourcesField = fd(request, 1);
    out.clearField(resourcesField);
    for (Message resource : coalesce(OfficialView.repeated(request, 1), 2)) {
      Message.Builder r = resource.toBuilder();
      FieldDescriptor scopesField = fd(resource, 2);
      r.clearField(scopesField);
      for (Message scope : coalesce(OfficialView.repeated(resource, 2), 2)) {
        Message.Builder s = scope.toBuilder();
        FieldDescriptor itemsField = fd(scope, 2);
        s.clearField(itemsField);
        List<Message> items = OfficialView.repeated(scope, 2);
        for (Message item : signal == Signal.METRICS ? coalesceMetrics(items) : items) {
          s.addRepeatedField(itemsField, item);
        }
        r.addRepeatedField(scopesField, s.build());
      }
      out.addRepeatedField(resourcesField, r.build());
    }
    return out.build();
  }

  private static List<Message> coalesce(List<Message> entries, int childNumber) {
    List<Message> result = new ArrayList<>();
    Message lastHeader = null;
    for (Message entry : entries) {
      FieldDescriptor children = fd(entry, childNumber);
      Message header = entry.toBuilder().clearField(children).build();
      if (header.equals(lastHeader)) {
        Message last = result.remove(result.size() - 1);
        Message.Builder merged = last.toBuilder();
        for (Message child : OfficialView.repeated(entry, childNumber)) {
          merged.addRepeatedField(children, child);
        }
        result.add(merged.build());
      } else {
        result.add(entry);
        lastHeader = header;
      }
    }
    return result;
  }

  private static List<Message> coalesceMetrics(List<Message> metrics) {
    List<Message> result = new ArrayList<>();
    Message lastHeader = null;
    for (Message metric : metrics) {
      FieldDescriptor data =
          metric.getOneofFieldDescriptor(metric.getDescriptorForType().getOneofs().get(0));
      Message header = data == null ? metric : withPoints(metric, data, List.of());
      if (data != null && header.equals(lastHeader)) {
        Message last = result.remove(result.size() - 1);
        List<Message> points = new ArrayList<>(OfficialView.dataPoints(last));
        points.addAll(OfficialView.dataPoints(metric));
        result.add(withPoints(last, data, points));
      } else {
        result.add(metric);
        lastHeader = data == null ? null : header;
      }
    }
    return result;
  }

  private static Message withPoints(Message metric, FieldDescriptor data, List<Message> points) {
    Message dataMessage = (Message) metric.getField(data);
    Message.Builder d = dataMessage.toBuilder();
    FieldDescriptor pointsField = fd(dataMessage, 1);
    d.clearField(pointsField);
    for (Message point : points) {
      d.addRepeatedField(pointsField, point);
    }
    return metric.toBuilder().setField(data, d.build()).build();
  }

  private static FieldDescriptor fd(Message message, int number) {
    return message.getDescriptorForType().findFieldByNumber(number);
  }
}
