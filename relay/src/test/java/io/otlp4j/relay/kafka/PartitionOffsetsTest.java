package io.otlp4j.relay.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PartitionOffsetsTest {

  @Test
  void anOffsetIsCommittableOnlyWhenEveryEarlierOneIsDone() {
    PartitionOffsets o = new PartitionOffsets();
    for (long i = 10; i < 15; i++) {
      o.handedOn(i);
    }
    assertThat(o.committable()).isEqualTo(-1);
    o.done(12);
    o.done(11);
    assertThat(o.committable()).isEqualTo(-1);
    o.done(10);
    assertThat(o.committable()).isEqualTo(13);
    o.done(14);
    assertThat(o.committable()).isEqualTo(13);
    o.done(13);
    assertThat(o.committable()).isEqualTo(15);
    assertThat(o.pending()).isZero();
  }

  @Test
  void gapsInOffsetsAreFine() {
    PartitionOffsets o = new PartitionOffsets();
    o.handedOn(3);
    o.handedOn(7); // a transaction marker or a compacted record in between
    o.done(7);
    o.done(3);
    assertThat(o.committable()).isEqualTo(8);
  }

  @Test
  void aRewindForgetsLaterEntriesAndALateFailureOfAnEarlierEpochDoesNotRewindAgain() {
    PartitionOffsets o = new PartitionOffsets();
    for (long i = 0; i < 5; i++) {
      o.handedOn(i);
    }
    int first = o.epoch();
    o.done(0);
    assertThat(o.isPending(2, first)).isTrue();
    o.rewind(2); // offset 2 was refused: 2, 3, 4 are read again
    assertThat(o.pending()).isEqualTo(1); // offset 1 still in flight
    o.handedOn(2);
    o.handedOn(3);
    assertThat(o.isPending(3, first)).isFalse(); // the failure of the first 3 is stale
    assertThat(o.isPending(3, o.epoch())).isTrue();
    o.done(3); // a late success of either delivery counts: the data was accepted
    o.done(1);
    assertThat(o.committable()).isEqualTo(2);
    o.done(2);
    assertThat(o.committable()).isEqualTo(4);
  }

  @Test
  void growsPastItsFirstCapacityAndKeepsOrderUnderRandomCompletion() {
    PartitionOffsets o = new PartitionOffsets();
    List<Long> offsets = new ArrayList<>();
    for (long i = 0; i < 1000; i++) {
      o.handedOn(i * 2);
      offsets.add(i * 2);
      if (i % 3 == 0) {
        o.done(offsets.remove(0)); // the head moves, so the ring wraps
      }
    }
    Collections.shuffle(offsets, new Random(42));
    TreeSet<Long> remaining = new TreeSet<>(offsets);
    for (long off : offsets) {
      long before = o.committable();
      o.done(off);
      remaining.remove(off);
      assertThat(o.committable()).isGreaterThanOrEqualTo(before);
      if (!remaining.isEmpty()) {
        // offsets go in steps of 2: everything below the lowest pending one is done
        assertThat(o.committable()).isEqualTo(remaining.first() - 1);
      }
    }
    assertThat(o.committable()).isEqualTo(1999);
    assertThat(o.pending()).isZero();
  }
}
