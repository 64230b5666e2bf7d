package io.otlp4j.relay.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SeriesRingTest {
  private static final SeriesKey A = SeriesKey.of("a", "k", "1");
  private static final SeriesKey B = SeriesKey.of("b");

  @Test
  void keepsTheLastCapacitySamplesAfterWrappingAround() {
    SeriesRing ring = new SeriesRing(4, 8);
    for (int i = 1; i <= 10; i++) {
      ring.append(i * 1000L);
      ring.put(A, i);
    }
    SeriesRing.Window w = ring.since(0);
    assertThat(w.times).containsExactly(7000, 8000, 9000, 10000);
    assertThat(w.keys).containsExactly(A);
    assertThat(w.values[0]).containsExactly(7f, 8f, 9f, 10f);
  }

  @Test
  void sinceReturnsOnlyLaterSamples() {
    SeriesRing ring = new SeriesRing(10, 8);
    for (int i = 1; i <= 5; i++) {
      ring.append(i * 1000L);
      ring.put(A, i * 10);
    }
    assertThat(ring.since(3000).times).containsExactly(4000, 5000);
    assertThat(ring.since(3000).values[0]).containsExactly(40f, 50f);
    assertThat(ring.since(3500).times).containsExactly(4000, 5000);
    assertThat(ring.since(5000).times).isEmpty();
    assertThat(ring.since(5000).values[0]).isEmpty();
    assertThat(ring.since(0).times).hasSize(5);
  }

  @Test
  void sinceOlderThanTheOldestSampleAfterWrapGivesTheWholeWindow() {
    SeriesRing ring = new SeriesRing(3, 8);
    for (int i = 1; i <= 7; i++) {
      ring.append(i * 1000L);
      ring.put(A, i);
    }
    assertThat(ring.since(2000).times).containsExactly(5000, 6000, 7000);
    assertThat(ring.since(5000).times).containsExactly(6000, 7000);
  }

  @Test
  void aSeriesWithoutAValueInASampleReadsAsMissing() {
    SeriesRing ring = new SeriesRing(5, 8);
    ring.append(1000);
    ring.put(A, 1);
    ring.append(2000);
    ring.put(B, 2);
    ring.put(A, Double.NaN); // sets nothing
    SeriesRing.Window w = ring.since(0);
    assertThat(w.keys).containsExactly(A, B);
    assertThat(w.values[0][0]).isEqualTo(1f);
    assertThat(w.values[0][1]).isNaN();
    assertThat(w.values[1][0]).isNaN();
    assertThat(w.values[1][1]).isEqualTo(2f);
  }

  @Test
  void timestampsStrictlyIncreaseWhenTheClockStepsBack() {
    SeriesRing ring = new SeriesRing(5, 8);
    assertThat(ring.append(5000)).isEqualTo(5000);
    assertThat(ring.append(4000)).isEqualTo(5001);
    assertThat(ring.append(5001)).isEqualTo(5002);
    assertThat(ring.since(5000).times).containsExactly(5001, 5002);
  }

  @Test
  void aSeriesIsRemovedOnceItsLastValueLeavesTheWindowAndTheLayoutChanges() {
    SeriesRing ring = new SeriesRing(3, 8);
    ring.append(1000);
    ring.put(A, 1);
    ring.put(B, 1);
    long layout = ring.layout();
    ring.append(2000);
    ring.put(B, 2);
    ring.append(3000);
    ring.put(B, 3);
    assertThat(ring.layout()).isEqualTo(layout);
    assertThat(ring.since(0).keys).containsExactly(A, B);
    ring.append(4000); // A's only value (at 1000) is overwritten
    ring.put(B, 4);
    assertThat(ring.since(0).keys).containsExactly(B);
    assertThat(ring.layout()).isNotEqualTo(layout);
    assertThat(ring.seriesCount()).isEqualTo(1);
  }

  @Test
  void refusesSeriesBeyondMaxSeriesAndCountsThem() {
    SeriesRing ring = new SeriesRing(3, 2);
    ring.append(1000);
    assertThat(ring.put(A, 1)).isTrue();
    assertThat(ring.put(B, 1)).isTrue();
    assertThat(ring.put(SeriesKey.of("c"), 1)).isFalse();
    assertThat(ring.put(A, 2)).isTrue(); // an existing series still takes values
    assertThat(ring.droppedSeries()).isEqualTo(1);
    assertThat(ring.since(0).keys).containsExactly(A, B);
    // A freed slot is reused: after the window passes, A and B are gone and c fits.
    for (int i = 2; i <= 4; i++) {
      ring.append(i * 1000L);
    }
    assertThat(ring.put(SeriesKey.of("c"), 5)).isTrue();
    assertThat(ring.since(0).keys).containsExactly(SeriesKey.of("c"));
    assertThat(ring.since(0).values[0]).containsExactly(Float.NaN, Float.NaN, 5f);
  }

  @Test
  void memoryIsBoundedByCapacityAndMaxSeries() {
    SeriesRing ring = new SeriesRing(901, 256);
    assertThat(ring.maxArrayBytes()).isLessThan(1 << 20);
    ring.append(1);
    for (int i = 0; i < 1000; i++) {
      ring.put(SeriesKey.of("s", "i", Integer.toString(i)), i);
    }
    assertThat(ring.seriesCount()).isEqualTo(256);
    assertThat(ring.droppedSeries()).isEqualTo(1000 - 256);
  }

  @Test
  void rejectsAPutBeforeTheFirstSampleAndBadSizes() {
    assertThatThrownBy(() -> new SeriesRing(4, 4).put(A, 1))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new SeriesRing(1, 4)).hasMessageContaining("capacity");
    assertThatThrownBy(() -> new SeriesRing(4, 0)).hasMessageContaining("maxSeries");
  }
}
