package io.otlp4j.relay.dashboard;

import java.util.Map;

/**
 * The JSON of {@code GET /api/v1/series}: a {@link SeriesRing.Window} in one of two shapes.
 *
 * <p><b>Full</b> (no {@code layout} parameter, or one that is not the ring's current layout): the
 * names and labels of every series and all the samples later than {@code since} (all the samples
 * held when the layout changed, so a client rebuilds from scratch):
 *
 * <pre>{@code
 * {"interval_ms":1000,"window_ms":900000,"layout":7,"full":true,
 *  "t":[1765100000000,1765100001000],
 *  "series":[{"name":"items_rate","labels":{"outcome":"accepted","signal":"traces"},"v":[120,118.5]}]}
 * }</pre>
 *
 * <p><b>Incremental</b> ({@code layout} equal to the ring's): values only, in layout order, for the
 * samples later than {@code since}: {@code {"interval_ms":1000,"window_ms":900000,"layout":7,
 * "full":false,"t":[...],"v":[[...],...]}}. A missing value is {@code null}; {@code t} is in
 * milliseconds since the epoch. Values are single precision (about 7 significant digits).
 */
final class SeriesJson {
  private SeriesJson() {}

  /**
   * Writes {@code window} in the full shape, or in the incremental one when {@code clientLayout}
   * equals the window's layout.
   */
  static String write(
      SeriesRing.Window window, long clientLayout, long intervalMillis, long windowMillis) {
    boolean incremental = clientLayout == window.layout;
    StringBuilder b = new StringBuilder(64 + window.keys.size() * (16 + 8 * window.times.length));
    b.append("{\"interval_ms\":")
        .append(intervalMillis)
        .append(",\"window_ms\":")
        .append(windowMillis)
        .append(",\"layout\":")
        .append(window.layout)
        .append(",\"full\":")
        .append(!incremental)
        .append(",\"t\":[");
    for (int i = 0; i < window.times.length; i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(window.times[i]);
    }
    b.append(incremental ? "],\"v\":[" : "],\"series\":[");
    for (int s = 0; s < window.keys.size(); s++) {
      if (s > 0) {
        b.append(',');
      }
      if (!incremental) {
        SeriesKey key = window.keys.get(s);
        b.append("{\"name\":");
        string(b, key.name());
        b.append(",\"labels\":{");
        boolean first = true;
        for (Map.Entry<String, String> label : key.labels().entrySet()) {
          if (!first) {
            b.append(',');
          }
          first = false;
          string(b, label.getKey());
          b.append(':');
          string(b, label.getValue());
        }
        b.append("},\"v\":");
      }
      b.append('[');
      float[] column = window.values[s];
      for (int i = 0; i < column.length; i++) {
        if (i > 0) {
          b.append(',');
        }
        number(b, column[i]);
      }
      b.append(']');
      if (!incremental) {
        b.append('}');
      }
    }
    return b.append("]}").toString();
  }

  /** A float as the shortest JSON number that reads back as it, {@code null} when not finite. */
  static void number(StringBuilder b, float v) {
    if (!Float.isFinite(v)) {
      b.append("null");
    } else if (v == Math.rint(v) && Math.abs(v) < 1e15f) {
      b.append((long) v);
    } else {
      b.append(Float.toString(v)); // e.g. 0.25, 1.0E-5 (valid JSON)
    }
  }

  private static void string(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x2028 || c == 0x2029) {
            b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    b.append('"');
  }
}
