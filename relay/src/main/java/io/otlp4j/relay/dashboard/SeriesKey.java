package io.otlp4j.relay.dashboard;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The identity of one dashboard series: a name and its labels (sorted by label name). Immutable;
 * equal keys name the same series in a {@link SeriesRing}.
 */
final class SeriesKey {
  private final String name;
  private final Map<String, String> labels;
  private final int hash;

  private SeriesKey(String name, Map<String, String> labels) {
    this.name = Objects.requireNonNull(name, "name");
    this.labels = Collections.unmodifiableMap(labels);
    this.hash = name.hashCode() * 31 + labels.hashCode();
  }

  /** The key {@code name} with the given label name/value pairs. */
  static SeriesKey of(String name, String... labelPairs) {
    if (labelPairs.length % 2 != 0) {
      throw new IllegalArgumentException("labelPairs must be name/value pairs");
    }
    TreeMap<String, String> labels = new TreeMap<>();
    for (int i = 0; i < labelPairs.length; i += 2) {
      labels.put(labelPairs[i], labelPairs[i + 1]);
    }
    return new SeriesKey(name, labels);
  }

  /** The key {@code name} with {@code labels} (copied). */
  static SeriesKey of(String name, Map<String, String> labels) {
    return new SeriesKey(name, new TreeMap<>(labels));
  }

  String name() {
    return name;
  }

  /** The labels, sorted by name; unmodifiable. */
  Map<String, String> labels() {
    return labels;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SeriesKey
        && ((SeriesKey) o).name.equals(name)
        && ((SeriesKey) o).labels.equals(labels);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return name + labels;
  }
}
