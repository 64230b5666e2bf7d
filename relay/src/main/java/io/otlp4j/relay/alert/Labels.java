package io.otlp4j.relay.alert;

import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Label sets as the evaluator keeps them: unmodifiable maps sorted by name (so that two sets with
 * the same labels are equal and print the same), with the metric name under {@code __name__}.
 * Stateless.
 */
final class Labels {
  /** The label that holds a series' metric name. */
  static final String NAME = "__name__";

  private Labels() {}

  static SortedMap<String, String> of(Map<String, String> labels) {
    return Collections.unmodifiableSortedMap(new TreeMap<>(labels));
  }

  /** {@code labels} without the metric name. */
  static SortedMap<String, String> withoutName(Map<String, String> labels) {
    if (!labels.containsKey(NAME)) {
      return of(labels);
    }
    TreeMap<String, String> copy = new TreeMap<>(labels);
    copy.remove(NAME);
    return Collections.unmodifiableSortedMap(copy);
  }

  /** Only the labels named in {@code keep}. */
  static SortedMap<String, String> keep(Map<String, String> labels, Collection<String> keep) {
    TreeMap<String, String> out = new TreeMap<>();
    for (String k : keep) {
      String v = labels.get(k);
      if (v != null && !v.isEmpty()) {
        out.put(k, v);
      }
    }
    return Collections.unmodifiableSortedMap(out);
  }

  /** Every label but those named in {@code drop}. */
  static SortedMap<String, String> drop(Map<String, String> labels, Collection<String> drop) {
    TreeMap<String, String> out = new TreeMap<>(labels);
    out.keySet().removeAll(drop);
    return Collections.unmodifiableSortedMap(out);
  }

  /** {@code name{a="x", b="y"}} as PromQL prints a series (for logs and errors). */
  static String format(Map<String, String> labels) {
    StringBuilder out = new StringBuilder();
    String name = labels.get(NAME);
    if (name != null) {
      out.append(name);
    }
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, String> e : of(labels).entrySet()) {
      if (e.getKey().equals(NAME)) {
        continue;
      }
      if (!first) {
        out.append(", ");
      }
      first = false;
      out.append(e.getKey()).append("=\"").append(escape(e.getValue())).append('"');
    }
    return out.append('}').toString();
  }

  private static String escape(String value) {
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
