package io.otlp4j.relay.dashboard;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's recent past: the last {@code capacity} samples of up to {@code maxSeries} series,
 * in primitive arrays (one {@code long[]} of timestamps, one {@code float[]} per series; no object
 * per sample).
 *
 * <h2>Shape</h2>
 *
 * A sample is a timestamp ({@link #append}) and a value for each series that has one ({@link
 * #put}); a series without a value in a sample reads as missing ({@code NaN}, {@code null} in
 * JSON). Timestamps strictly increase: one that does not (a wall clock stepped back) is taken as
 * the previous one plus one millisecond, so a reader's {@code since} cursor never skips or repeats
 * a sample.
 *
 * <h2>Bounds</h2>
 *
 * When full, a new sample overwrites the oldest. A series whose last value has left the window is
 * removed (its slot is reused). At {@code maxSeries} series a new series is refused: {@link #put}
 * returns false and {@link #droppedSeries()} counts it; the series already held carry on. Memory:
 * {@code 8 × capacity + 4 × capacity × maxSeries} bytes of arrays at most, plus one key per series.
 *
 * <h2>Layout</h2>
 *
 * The series held, in the order they were added, form the layout; {@link #layout()} is a number
 * that changes whenever a series is added or removed, so a reader that knows the current layout can
 * take values without the series' names (see {@link SeriesJson}).
 *
 * <h2>Concurrency</h2>
 *
 * Thread-safe: every method synchronizes on the ring. One writer (the sampler, once a second) and a
 * few readers (HTTP requests, each copying a {@link Window}) meet on it for microseconds, so a lock
 * is simpler than anything lock-free and costs nothing measurable.
 */
final class SeriesRing {
  private final int capacity;
  private final int maxSeries;
  private final long[] times;
  private final SeriesKey[] keys;
  private final float[][] values;
  private final long[] lastSet;
  private final Map<SeriesKey, Integer> slotOf = new HashMap<>();

  /** Slots in layout order. */
  private final List<Integer> order = new ArrayList<>();

  private long appended;
  private long layout;
  private long droppedSeries;

  /**
   * @param capacity samples kept (the oldest is overwritten when full), at least 2
   * @param maxSeries series kept at most, at least 1
   */
  SeriesRing(int capacity, int maxSeries) {
    if (capacity < 2) {
      throw new IllegalArgumentException("capacity must be at least 2: " + capacity);
    }
    if (maxSeries < 1) {
      throw new IllegalArgumentException("maxSeries must be at least 1: " + maxSeries);
    }
    this.capacity = capacity;
    this.maxSeries = maxSeries;
    this.times = new long[capacity];
    this.keys = new SeriesKey[maxSeries];
    this.values = new float[maxSeries][];
    this.lastSet = new long[maxSeries];
  }

  int capacity() {
    return capacity;
  }

  int maxSeries() {
    return maxSeries;
  }

  /** The bytes of arrays this ring holds at most. */
  long maxArrayBytes() {
    return 8L * capacity + 4L * capacity * maxSeries + 8L * maxSeries;
  }

  /**
   * Starts a new sample at {@code timeMillis} (raised to the previous one plus 1 when it is not
   * later), overwriting the oldest when full, and removes the series with no value left in the
   * window. Returns the timestamp used.
   */
  synchronized long append(long timeMillis) {
    long seq = appended;
    if (seq > 0) {
      long previous = times[index(seq - 1)];
      if (timeMillis <= previous) {
        timeMillis = previous + 1;
      }
    }
    int idx = index(seq);
    times[idx] = timeMillis;
    appended = seq + 1;
    for (int i = order.size() - 1; i >= 0; i--) {
      int slot = order.get(i);
      values[slot][idx] = Float.NaN;
      if (lastSet[slot] <= seq - capacity) {
        order.remove(i);
        slotOf.remove(keys[slot]);
        keys[slot] = null;
        layout++;
      }
    }
    return timeMillis;
  }

  /**
   * Sets {@code key}'s value in the current sample (a NaN value sets nothing). Returns false when
   * the series is new and the ring already holds {@code maxSeries} series (counted in {@link
   * #droppedSeries()}).
   *
   * @throws IllegalStateException before the first {@link #append}
   */
  synchronized boolean put(SeriesKey key, double value) {
    if (appended == 0) {
      throw new IllegalStateException("put before the first append");
    }
    if (Double.isNaN(value)) {
      return true;
    }
    Integer slot = slotOf.get(key);
    if (slot == null) {
      if (order.size() == maxSeries) {
        droppedSeries++;
        return false;
      }
      slot = freeSlot();
      keys[slot] = key;
      if (values[slot] == null) {
        values[slot] = new float[capacity];
      }
      Arrays.fill(values[slot], Float.NaN);
      slotOf.put(key, slot);
      order.add(slot);
      layout++;
    }
    long seq = appended - 1;
    values[slot][index(seq)] = (float) value;
    lastSet[slot] = seq;
    return true;
  }

  /** The current layout's number (see the class comment). */
  synchronized long layout() {
    return layout;
  }

  /** Series refused because the ring held {@code maxSeries} already. */
  synchronized long droppedSeries() {
    return droppedSeries;
  }

  /** Series held now. */
  synchronized int seriesCount() {
    return order.size();
  }

  /**
   * A copy of the samples later than {@code sinceMillis} (all the samples held when it is older
   * than the oldest, for example 0), with every series held, in layout order.
   */
  synchronized Window since(long sinceMillis) {
    long first = Math.max(0, appended - capacity);
    long from = appended;
    while (from > first && times[index(from - 1)] > sinceMillis) {
      from--;
    }
    int n = (int) (appended - from);
    long[] t = new long[n];
    for (int i = 0; i < n; i++) {
      t[i] = times[index(from + i)];
    }
    List<SeriesKey> k = new ArrayList<>(order.size());
    float[][] v = new float[order.size()][];
    for (int s = 0; s < order.size(); s++) {
      int slot = order.get(s);
      k.add(keys[slot]);
      float[] column = new float[n];
      for (int i = 0; i < n; i++) {
        column[i] = values[slot][index(from + i)];
      }
      v[s] = column;
    }
    return new Window(layout, t, List.copyOf(k), v);
  }

  private int index(long seq) {
    return (int) (seq % capacity);
  }

  private int freeSlot() {
    for (int i = 0; i < maxSeries; i++) {
      if (keys[i] == null) {
        return i;
      }
    }
    throw new AssertionError("no free slot below maxSeries");
  }

  /**
   * Samples copied out of the ring: {@code times[i]} with {@code values[s][i]} for series {@code
   * keys.get(s)} (NaN: no value). Immutable by convention (the arrays are the reader's own copy).
   */
  static final class Window {
    final long layout;
    final long[] times;
    final List<SeriesKey> keys;
    final float[][] values;

    Window(long layout, long[] times, List<SeriesKey> keys, float[][] values) {
      this.layout = layout;
      this.times = times;
      this.keys = keys;
      this.values = values;
    }
  }
}
