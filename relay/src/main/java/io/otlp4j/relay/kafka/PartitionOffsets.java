package io.otlp4j.relay.kafka;

/**
 * One partition's records handed to the pipeline and not yet committable, in offset order: what
 * makes commits in order. An offset becomes committable only when it and every earlier offset
 * handed on are done, so a commit never skips a record the pipeline has not accepted.
 *
 * <p>Each entry carries the <em>epoch</em> it was handed on in: a rewind ({@link #rewind}) starts a
 * new epoch after dropping the entries from its offset on, so that a late failure of a record
 * handed on before the rewind does not rewind again ({@link #isPending}), while a late success of
 * one still counts (the data was accepted, whichever delivery carried it).
 *
 * <p>Bounded by the records in flight, which the receiver caps ({@code MAX_IN_FLIGHT}): the arrays
 * grow to that and no further. Not thread-safe: the consumer thread alone uses it.
 */
final class PartitionOffsets {
  private long[] offsets = new long[64];
  private int[] epochs = new int[64];
  private boolean[] done = new boolean[64];
  private int head;
  private int size;
  private int epoch;
  private long committable = -1;

  /** The epoch records are now handed on in. */
  int epoch() {
    return epoch;
  }

  /** Records handed on and not yet committable. */
  int pending() {
    return size;
  }

  /**
   * The offset to commit (the next record to read after a restart), or -1 when nothing was done
   * yet. Never decreases.
   */
  long committable() {
    return committable;
  }

  /** Records {@code offset} as handed on now; offsets must increase (within an epoch). */
  void handedOn(long offset) {
    if (size > 0 && offset <= offsets[index(size - 1)]) {
      throw new IllegalStateException(
          "offset " + offset + " after " + offsets[index(size - 1)] + " in one epoch");
    }
    if (size == offsets.length) {
      grow();
    }
    int i = index(size);
    offsets[i] = offset;
    epochs[i] = epoch;
    done[i] = false;
    size++;
  }

  /** Marks {@code offset} done (accepted, or skipped); unknown offsets are ignored. */
  void done(long offset) {
    int at = find(offset);
    if (at < 0) {
      return;
    }
    done[index(at)] = true;
    while (size > 0 && done[head]) {
      committable = Math.max(committable, offsets[head] + 1);
      head = (head + 1) % offsets.length;
      size--;
    }
  }

  /** Whether {@code offset} was handed on in {@code inEpoch} and is not done. */
  boolean isPending(long offset, int inEpoch) {
    int at = find(offset);
    return at >= 0 && epochs[index(at)] == inEpoch && !done[index(at)];
  }

  /**
   * Forgets the entries from {@code offset} on (they will be read and handed on again) and starts a
   * new epoch.
   */
  void rewind(long offset) {
    while (size > 0 && offsets[index(size - 1)] >= offset) {
      size--;
    }
    epoch++;
  }

  private int index(int position) {
    return (head + position) % offsets.length;
  }

  /** The position of {@code offset} among the entries, or -1. */
  private int find(long offset) {
    int lo = 0;
    int hi = size - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      long v = offsets[index(mid)];
      if (v < offset) {
        lo = mid + 1;
      } else if (v > offset) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -1;
  }

  private void grow() {
    int n = offsets.length * 2;
    long[] o = new long[n];
    int[] e = new int[n];
    boolean[] d = new boolean[n];
    for (int p = 0; p < size; p++) {
      o[p] = offsets[index(p)];
      e[p] = epochs[index(p)];
      d[p] = done[index(p)];
    }
    offsets = o;
    epochs = e;
    done = d;
    head = 0;
  }
}
