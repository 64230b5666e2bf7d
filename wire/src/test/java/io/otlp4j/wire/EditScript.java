package io.otlp4j.wire;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.otlp4j.wire.ElementView.Kind;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * A seeded script of edits, applied two ways: as an {@link EditPolicy} to encoded bytes, and with
 * the official protobuf builders to the parsed request ({@link #expected}). Both number the
 * elements in the order the editor visits them (a resource, then each scope, its items, each item's
 * events and links or data points), and the n-th element gets the same action either way: keep,
 * drop, or an attribute edit (remove one, upsert one, insert one, or clear them all).
 */
final class EditScript {
  enum Action {
    KEEP,
    DROP,
    EDIT
  }

  private final long seed;
  private final int dropPercent;
  private final int editPercent;
  final Map<Kind, int[]> drops = new EnumMap<>(Kind.class);
  final Map<Kind, int[]> edits = new EnumMap<>(Kind.class);

  /** Containers dropped because they became empty: METRIC, SCOPE, RESOURCE. */
  final Map<Kind, int[]> emptied = new EnumMap<>(Kind.class);

  private int counter;

  /** The kinds the policy visits ({@link EditPolicy#visits}); the others are kept as they are. */
  private final EnumSet<Kind> visited;

  EditScript(long seed, int dropPercent, int editPercent) {
    this(seed, dropPercent, editPercent, EnumSet.allOf(Kind.class));
  }

  EditScript(long seed, int dropPercent, int editPercent, EnumSet<Kind> visited) {
    this.visited = visited;
    this.seed = seed;
    this.dropPercent = dropPercent;
    this.editPercent = editPercent;
    for (Kind k : Kind.values()) {
      drops.put(k, new int[1]);
      edits.put(k, new int[1]);
      emptied.put(k, new int[1]);
    }
  }

  Action action(Kind kind, int n) {
    long h = seed * 0x9E3779B97F4A7C15L + n * 0xBF58476D1CE4E5B9L;
    h ^= h >>> 31;
    h *= 0x94D049BB133111EBL;
    h ^= h >>> 29;
    int roll = (int) Long.remainderUnsigned(h, 100);
    // Fewer drops high up, so that most requests keep something to compare.
    int drop = kind == Kind.RESOURCE || kind == Kind.SCOPE ? dropPercent / 3 : dropPercent;
    if (roll < drop) {
      return Action.DROP;
    }
    return roll < drop + editPercent ? Action.EDIT : Action.KEEP;
  }

  /** The policy: numbers elements as it meets them. Call {@link #restart()} before each request. */
  EditPolicy policy() {
    return new EditPolicy() {
      @Override
      public boolean visits(Kind kind) {
        return visited.contains(kind);
      }

      private Decision decide(ElementView view) {
        int n = counter++;
        Action action = action(view.kind(), n);
        if (action == Action.DROP) {
          return Decision.DROP;
        }
        if (action == Action.EDIT) {
          AttributeList list = view.attributes();
          if (n % 7 == 0) {
            list.clear();
          } else {
            if (list.size() > 0) {
              list.remove(n % list.size());
            }
            list.upsert(EncodedAttribute.of("edited", (long) n));
            list.insert(EncodedAttribute.of("inserted", "v" + n));
          }
        }
        return Decision.KEEP;
      }

      @Override
      public Decision resource(ElementView resource) {
        return decide(resource);
      }

      @Override
      public Decision scope(ElementView scope) {
        return decide(scope);
      }

      @Override
      public Decision span(ElementView span) {
        return decide(span);
      }

      @Override
      public Decision spanEvent(ElementView event) {
        return decide(event);
      }

      @Override
      public Decision spanLink(ElementView link) {
        return decide(link);
      }

      @Override
      public Decision metric(ElementView metric) {
        return decide(metric);
      }

      @Override
      public Decision dataPoint(ElementView point) {
        return decide(point);
      }

      @Override
      public Decision logRecord(ElementView record) {
        return decide(record);
      }
    };
  }

  void restart() {
    counter = 0;
  }

  /** The same edit as the policy's, on a list of official KeyValues. */
  static List<KeyValue> edit(List<KeyValue> attributes, int n) {
    List<KeyValue> list = new ArrayList<>(attributes);
    if (n % 7 == 0) {
      list.clear();
      return list;
    }
    if (!list.isEmpty()) {
      list.remove(n % list.size());
    }
    KeyValue edited =
        KeyValue.newBuilder()
            .setKey("edited")
            .setValue(AnyValue.newBuilder().setIntValue(n))
            .build();
    int i = indexOf(list, "edited");
    if (i < 0) {
      list.add(edited);
    } else {
      list.set(i, edited);
    }
    if (indexOf(list, "inserted") < 0) {
      list.add(
          KeyValue.newBuilder()
              .setKey("inserted")
              .setValue(AnyValue.newBuilder().setStringValue("v" + n))
              .build());
    }
    return list;
  }

  private static int indexOf(List<KeyValue> list, String key) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).getKey().equals(key)) {
        return i;
      }
    }
    return -1;
  }

  // ---- the expected result, with the official builders (generically, by field number)

  Message expected(Signal signal, Message request) {
    counter = 0;
    Message.Builder out = request.toBuilder();
    FieldDescriptor entries = field(request, 1);
    out.clearField(entries);
    for (Object entry : (List<?>) request.getField(entries)) {
      Message kept = resourceEntry(signal, (Message) entry);
      if (kept != null) {
        out.addRepeatedField(entries, kept);
      }
    }
    return out.build();
  }

  private Message resourceEntry(Signal signal, Message entry) {
    Action action = next(Kind.RESOURCE);
    if (action == Action.DROP) {
      return null;
    }
    Message.Builder b = entry.toBuilder();
    if (action == Action.EDIT) {
      editSubmessage(b, field(entry, 1), 1, counter - 1);
    }
    FieldDescriptor scopes = field(entry, 2);
    b.clearField(scopes);
    List<?> children = (List<?>) entry.getField(scopes);
    for (Object scope : children) {
      Message kept = scopeEntry(signal, (Message) scope);
      if (kept != null) {
        b.addRepeatedField(scopes, kept);
      }
    }
    if (!children.isEmpty() && b.getRepeatedFieldCount(scopes) == 0) {
      emptied.get(Kind.RESOURCE)[0]++;
      return null;
    }
    return b.build();
  }

  private Message scopeEntry(Signal signal, Message entry) {
    Action action = next(Kind.SCOPE);
    if (action == Action.DROP) {
      return null;
    }
    Message.Builder b = entry.toBuilder();
    if (action == Action.EDIT) {
      editSubmessage(b, field(entry, 1), 3, counter - 1);
    }
    FieldDescriptor items = field(entry, 2);
    b.clearField(items);
    List<?> children = (List<?>) entry.getField(items);
    for (Object item : children) {
      Message kept =
          switch (signal) {
            case TRACES -> span((Message) item);
            case METRICS -> metric((Message) item);
            default -> leaf((Message) item, Kind.LOG_RECORD, 6);
          };
      if (kept != null) {
        b.addRepeatedField(items, kept);
      }
    }
    if (!children.isEmpty() && b.getRepeatedFieldCount(items) == 0) {
      emptied.get(Kind.SCOPE)[0]++;
      return null;
    }
    return b.build();
  }

  private Message span(Message span) {
    Message kept = leaf(span, Kind.SPAN, 9);
    if (kept == null) {
      return null;
    }
    Message.Builder b = kept.toBuilder();
    filterRepeated(span, b, 11, Kind.SPAN_EVENT, 3);
    filterRepeated(span, b, 13, Kind.SPAN_LINK, 4);
    return b.build();
  }

  private Message metric(Message metric) {
    Message kept = leaf(metric, Kind.METRIC, 12);
    if (kept == null) {
      return null;
    }
    Message.Builder b = kept.toBuilder();
    for (int f : new int[] {5, 7, 9, 10, 11}) {
      FieldDescriptor data = field(metric, f);
      if (!metric.hasField(data)) {
        continue;
      }
      Message container = (Message) metric.getField(data);
      Message.Builder cb = container.toBuilder();
      int kept2 = filterRepeated(container, cb, 1, Kind.DATA_POINT, f == 9 ? 9 : f == 10 ? 1 : 7);
      if (container.getRepeatedFieldCount(field(container, 1)) > 0 && kept2 == 0) {
        emptied.get(Kind.METRIC)[0]++;
        return null;
      }
      b.setField(data, cb.build());
    }
    return b.build();
  }

  /**
   * Rebuilds repeated field {@code number} of {@code from} into {@code b}, leaf by leaf; returns
   * how many were kept.
   */
  private int filterRepeated(
      Message from, Message.Builder b, int number, Kind kind, int attributeField) {
    FieldDescriptor f = field(from, number);
    b.clearField(f);
    int kept = 0;
    for (Object child : (List<?>) from.getField(f)) {
      Message m = leaf((Message) child, kind, attributeField);
      if (m != null) {
        b.addRepeatedField(f, m);
        kept++;
      }
    }
    return kept;
  }

  private Message leaf(Message element, Kind kind, int attributeField) {
    Action action = next(kind);
    int n = counter - 1;
    if (action == Action.DROP) {
      return null;
    }
    if (action == Action.KEEP) {
      return element;
    }
    Message.Builder b = element.toBuilder();
    replaceAttributes(b, field(element, attributeField), n);
    return b.build();
  }

  @SuppressWarnings("unchecked")
  private static void replaceAttributes(Message.Builder b, FieldDescriptor attributes, int n) {
    List<KeyValue> current = (List<KeyValue>) b.getField(attributes);
    List<KeyValue> edited = edit(current, n);
    b.clearField(attributes);
    for (KeyValue kv : edited) {
      b.addRepeatedField(attributes, kv);
    }
  }

  /**
   * A resource's or scope's attributes edited; an absent one appears only if the new list is not
   * empty.
   */
  @SuppressWarnings("unchecked")
  private static void editSubmessage(
      Message.Builder b, FieldDescriptor field, int attributeField, int n) {
    Message sub = (Message) b.getField(field);
    FieldDescriptor attributes = field(sub, attributeField);
    List<KeyValue> edited = edit((List<KeyValue>) sub.getField(attributes), n);
    if (!b.hasField(field) && edited.isEmpty()) {
      return;
    }
    Message.Builder sb = sub.toBuilder();
    sb.clearField(attributes);
    for (KeyValue kv : edited) {
      sb.addRepeatedField(attributes, kv);
    }
    b.setField(field, sb.build());
  }

  /**
   * The action for the next element of {@code kind}, as the policy numbers them (only visited kinds
   * count).
   */
  private Action next(Kind kind) {
    if (!visited.contains(kind)) {
      return Action.KEEP;
    }
    return count(kind, action(kind, counter++));
  }

  private Action count(Kind kind, Action action) {
    if (action == Action.DROP) {
      drops.get(kind)[0]++;
    } else if (action == Action.EDIT) {
      edits.get(kind)[0]++;
    }
    return action;
  }

  static FieldDescriptor field(Message m, int number) {
    return m.getDescriptorForType().findFieldByNumber(number);
  }
}
