package io.otlp4j.relay.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Consecutive records of one poll and one partition, each a valid {@code otlp_proto} traces or logs
 * request, handed to the pipeline as one request: their bytes one after another (a concatenation of
 * requests is a request holding all their items, see {@code RequestMerger}), with one reservation,
 * one answer and one entry in {@link PartitionOffsets}, instead of one of each per record.
 *
 * <p><b>Why.</b> Per record, the hand-off (the router's and the pipeline's bookkeeping, the queue's
 * entry, the answer's future and its trip back to the consumer thread) cost about as much as
 * walking the record; grouped, it is paid once per poll and partition. Each record is still walked
 * on its own, so a record that is not OTLP is found, counted and skipped exactly as before: it ends
 * the group before it and is dealt with alone. The pipeline's answer holds for every record of the
 * group; a refusal pauses the partition at the group's first record, so at-least-once and the
 * per-partition order are unchanged (a refused group is handed on again whole).
 *
 * <p>Not for metrics (a metrics summary is counted by walking, not by adding) nor for {@code
 * otlp_json} records or header extraction, which rewrite each record: those go one by one.
 *
 * <p><b>Buffer ownership:</b> {@link #request} returns a new buffer (a composite wrapping the
 * records' arrays, no copy) that the caller owns. Consumer thread only.
 */
final class RecordGroup {
  /** Records in one group at most (a poll returns up to {@code max.poll.records}, 500). */
  static final int MAX_RECORDS = 1024;

  /** Bytes in one group at most (and at most 1/16 of the memory budget). */
  static final long MAX_BYTES = 1 << 20;

  private static final byte[] EMPTY = new byte[0];

  private final List<ConsumerRecord<byte[], byte[]>> records;
  private final int from;
  private final int count;
  private final long bytes;
  private final WalkSummary summary;

  private RecordGroup(
      List<ConsumerRecord<byte[], byte[]>> records,
      int from,
      int count,
      long bytes,
      WalkSummary summary) {
    this.records = records;
    this.from = from;
    this.count = count;
    this.bytes = bytes;
    this.summary = summary;
  }

  /**
   * The longest run of valid records from {@code records.get(from)} on, of at most {@code
   * maxRecords} records and {@code maxBytes} bytes (a first record larger than that is a group of
   * one). A group of fewer than two records is not walked to its end: the caller hands that record
   * on alone, and its own walk reports what is wrong with it.
   */
  static RecordGroup collect(
      OtlpWalker walker,
      Signal signal,
      List<ConsumerRecord<byte[], byte[]>> records,
      int from,
      int maxRecords,
      long maxBytes) {
    int end = (int) Math.min(records.size(), (long) from + maxRecords);
    if (end - from < 2) {
      return new RecordGroup(records, from, end - from, 0, null);
    }
    if ((long) valueOf(records.get(from)).length + valueOf(records.get(from + 1)).length
        > maxBytes) {
      // The first two do not fit together: a group of one, not walked here (its caller walks it).
      return new RecordGroup(records, from, 1, 0, null);
    }
    long bytes = 0;
    int resources = 0;
    int scopes = 0;
    long items = 0;
    int i = from;
    for (; i < end; i++) {
      byte[] value = valueOf(records.get(i));
      if (i > from && bytes + value.length > maxBytes) {
        break;
      }
      WalkSummary s;
      try {
        s = walker.walk(signal, value);
      } catch (RuntimeException e) {
        break; // not OTLP: dealt with alone, after the group
      }
      bytes += value.length;
      resources += s.resourceCount();
      scopes += s.scopeCount();
      items += s.itemCount();
    }
    int count = i - from;
    if (count < 2) {
      return new RecordGroup(records, from, count, 0, null);
    }
    return new RecordGroup(
        records,
        from,
        count,
        bytes,
        WalkSummary.counted(signal, (int) bytes, resources, scopes, items));
  }

  /** Records in the group. */
  int count() {
    return count;
  }

  /** The group's bytes (the sum of its records' values). */
  long bytes() {
    return bytes;
  }

  /** The counts of the whole group (null for a group of fewer than two records). */
  WalkSummary summary() {
    return summary;
  }

  /**
   * The group's records as one request: the caller owns it (one reference). A composite of the
   * records' arrays, wrapped, not copied.
   */
  ByteBuf request() {
    byte[][] values = new byte[count][];
    for (int k = 0; k < count; k++) {
      values[k] = valueOf(records.get(from + k));
    }
    return Unpooled.wrappedBuffer(count, values);
  }

  private static byte[] valueOf(ConsumerRecord<byte[], byte[]> r) {
    return r.value() == null ? EMPTY : r.value();
  }
}
