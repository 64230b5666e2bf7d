package io.otlp4j.queue;

import static io.otlp4j.queue.DurableQueue.LOGGER;
import static io.otlp4j.queue.DurableQueue.closeQuietly;

import io.otlp4j.core.GroupResult;
import io.otlp4j.core.MetricsRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link DurableQueue}'s writer: writes each group of appends the coalescer hands over with one
 * gathering write, forces it as the fsync policy says, publishes it to the consumers, and rolls,
 * reclaims or drops segments to make room; a failed group is salvaged or rolled back whole.
 *
 * <h2>Concurrency</h2>
 *
 * Only the writer thread (the coalescer's dispatcher) calls {@link #writeGroup}, and with it every
 * other method here, except {@link #forceActive} (the interval forcer's thread, which only forces
 * the active segment's channel) and, with {@code perBatch}, the {@link GroupForcer}'s thread, which
 * forces, publishes, rolls back and acknowledges written-ahead groups: it and the writer change the
 * writer's state only while holding {@link GroupForcer#lock}. The writer alone writes segments,
 * rolls them and changes Segment's writer fields; it publishes a durable group by storing each
 * touched segment's visibleLength and then the queue's publishedTail (volatile stores). Adding,
 * deleting and rolling back segments happen under the queue's segmentsLock; see the design notes in
 * {@link DurableQueue}.
 *
 * <h2>Buffer ownership</h2>
 *
 * The writer only reads the appends' payloads (through {@code nioBuffers}); it never retains or
 * releases them: they stay the appending callers'.
 */
final class GroupWriter {

  /** What every group's operation returns: the answers travel in the appends' own futures. */
  private static final CompletionStage<GroupResult<Void>> DONE =
      CompletableFuture.completedFuture(GroupResult.uniform(null));

  final DurableQueue queue;
  final Path directory;
  private final long segmentBytes;
  private final long maxBytes;
  private final FsyncPolicy fsync;
  private final FullPolicy whenFull;
  private final SegmentChannels channels;
  private final ConcurrentSkipListMap<Long, Segment> segments;
  private final Object segmentsLock;
  final Map<String, QueueConsumer> consumers;
  private final AtomicLong sizeBytes;
  private ByteBuffer headers = ByteBuffer.allocateDirect(64 * 1024);

  private final MetricsRegistry.Counter droppedRecords;
  final MetricsRegistry.Counter refusedRecords;
  final MetricsRegistry.Counter appendedRecords;
  final MetricsRegistry.Counter appendedBytes;
  private final MetricsRegistry.Histogram fsyncSeconds;
  final MetricsRegistry.Histogram groupSize;
  boolean loggedWriteFailure; // writer state: under GroupForcer.lock with perBatch

  /** Overlaps the next groups' writes with the current force; null unless {@code perBatch}. */
  final GroupForcer forcer;

  GroupWriter(
      DurableQueue queue,
      String queueName,
      long segmentBytes,
      long maxBytes,
      FsyncPolicy fsync,
      FullPolicy whenFull,
      QueueMetrics metrics) {
    this.queue = queue;
    this.directory = queue.directory;
    this.segmentBytes = segmentBytes;
    this.maxBytes = maxBytes;
    this.fsync = fsync;
    this.whenFull = whenFull;
    this.channels = queue.channels;
    this.segments = queue.segments;
    this.segmentsLock = queue.segmentsLock;
    this.consumers = queue.consumers;
    this.sizeBytes = queue.sizeBytes;
    this.droppedRecords = metrics.droppedRecords;
    this.refusedRecords = metrics.refusedRecords;
    this.appendedRecords = metrics.appendedRecords;
    this.appendedBytes = metrics.appendedBytes;
    this.fsyncSeconds = metrics.fsyncSeconds;
    this.groupSize = metrics.groupSize;
    this.forcer =
        fsync.mode() == FsyncPolicy.Mode.PER_BATCH ? new GroupForcer(this, queueName) : null;
  }

  /** The writer's bookkeeping for one group, so that a failure can be rolled back. */
  static final class GroupWrite {
    final Segment start;
    final long startLength;
    final long startRecords;
    boolean startWritten;
    final List<Segment> created = new ArrayList<>(1);
    final List<ByteBuffer> run = new ArrayList<>();

    /**
     * Records this group placed in the active segment: {index in group, end offset, payload bytes}.
     */
    final List<long[]> inActive = new ArrayList<>();

    long recordsAdded;
    long payloadBytes;

    GroupWrite(Segment start) {
      this(start, start.writeLength, start.writeRecords);
    }

    GroupWrite(Segment start, long startLength, long startRecords) {
      this.start = start;
      this.startLength = startLength;
      this.startRecords = startRecords;
    }

    boolean touched(Segment segment) {
      return (segment == start && startWritten) || created.contains(segment);
    }
  }

  /**
   * The coalescer's operation for {@code group}: with {@code perBatch}, through the {@link
   * GroupForcer} (written now, answered after the force that covers it, which may overlap the
   * writes of later groups); otherwise {@link #writeSerially}.
   */
  CompletionStage<GroupResult<Void>> writeGroup(List<PendingAppend> group) {
    return forcer != null ? forcer.writeGroup(group) : writeSerially(group);
  }

  /**
   * Writes, forces and publishes {@code group}, then hands its answers to the acknowledgement
   * thread as one task (see {@link #acknowledge}). The returned stage is always complete; its
   * uniform {@code null} tells the coalescer the group is done: the appends' own futures ({@link
   * PendingAppend#result}) carry the answers, so the writer's per-append cost is one completion of
   * a future with no waiter, instead of one executor hand-off per append.
   */
  CompletionStage<GroupResult<Void>> writeSerially(List<PendingAppend> group) {
    AppendResult[] results = new AppendResult[group.size()];
    GroupWrite write = new GroupWrite(queue.active);
    queue.groupStartBase = write.start.base;
    try {
      if (write.start.channel == null) { // a failed rollback closed it
        write.start.channel = channels.openForWrite(write.start.path);
        write.start.channel.truncate(write.start.writeLength);
        write.start.channel.position(write.start.writeLength);
      }
      prepareHeaders(group.size());
    } catch (IOException | RuntimeException e) {
      return failGroup(group, write, results, e);
    }
    int placed = 0;
    try {
      for (; placed < results.length; placed++) {
        results[placed] = place(group.get(placed), placed, write);
      }
      flushRun(write);
    } catch (IOException e) {
      // A full disk, typically: keep the records written whole, refuse the rest.
      if (!salvage(write, results, placed, e)) {
        return failGroup(group, write, results, e);
      }
    } catch (RuntimeException e) {
      return failGroup(group, write, results, e);
    }
    long writtenAt = AckTrace.ENABLED ? System.nanoTime() : 0;
    try {
      if (fsync.mode() == FsyncPolicy.Mode.PER_BATCH) {
        forceGroup(write);
      }
    } catch (IOException | RuntimeException e) {
      return failGroup(group, write, results, e);
    }
    long forcedAt = AckTrace.ENABLED ? System.nanoTime() : 0;
    publish(write);
    queue.groupStartBase = Long.MAX_VALUE;
    groupSize.record(group.size());
    appendedRecords.add(write.recordsAdded);
    appendedBytes.add(write.payloadBytes);
    if (loggedWriteFailure && write.recordsAdded > 0) {
      loggedWriteFailure = false;
      LOGGER.log(System.Logger.Level.INFO, "queue " + directory + ": writes succeed again");
    }
    if (AckTrace.ENABLED) {
      return acknowledge(group, results, new AckTrace.Stamps(writtenAt, writtenAt, forcedAt, 1));
    }
    return acknowledge(group, results);
  }

  /**
   * Whether {@code group} can be written ahead: the active segment is open and takes all of it
   * without a roll, and the queue's bound without reclaiming or dropping a segment.
   */
  boolean fitsActive(List<PendingAppend> group) {
    Segment segment = queue.active;
    if (segment.channel == null) {
      return false;
    }
    long bytes = 0;
    for (PendingAppend append : group) {
      bytes += RecordFormat.HEADER_BYTES + (long) append.length;
    }
    return segment.writeLength + bytes <= segmentBytes && sizeBytes.get() + bytes <= maxBytes;
  }

  /**
   * Completes every append of the group with its result, in one task on the queue's acknowledgement
   * thread (the writer itself when that thread's backlog is full or the queue is closing): the
   * callers' dependent stages and their threads' wake-ups never run on the writer between two
   * forces, and a group costs one hand-off, not one per append.
   */
  CompletionStage<GroupResult<Void>> acknowledge(
      List<PendingAppend> group, AppendResult[] results) {
    queue.acks.execute(
        () -> {
          for (int i = 0; i < results.length; i++) {
            group.get(i).result.complete(results[i]);
          }
        });
    return DONE;
  }

  /** {@link #acknowledge} with the group's {@link AckTrace} stamps, logged before the answers. */
  CompletionStage<GroupResult<Void>> acknowledge(
      List<PendingAppend> group, AppendResult[] results, AckTrace.Stamps stamps) {
    queue.acks.execute(() -> complete(group, results, stamps));
    return DONE;
  }

  /**
   * Completes every append of the group with its result on this thread (their dependent stages run
   * here); with {@code stamps} (an {@link AckTrace}), logs the slow ones first.
   */
  private static void complete(
      List<PendingAppend> group, AppendResult[] results, AckTrace.Stamps stamps) {
    if (stamps != null) {
      AckTrace.acknowledged(group, stamps);
    }
    for (int i = 0; i < results.length; i++) {
      group.get(i).result.complete(results[i]);
    }
  }

  /** Rolls the whole group back and refuses every append of it that was not refused already. */
  CompletionStage<GroupResult<Void>> failGroup(
      List<PendingAppend> group, GroupWrite write, AppendResult[] results, Exception cause) {
    rollback(write, cause);
    String reason = "write failed, nothing stored: " + cause;
    for (int i = 0; i < results.length; i++) {
      if (results[i] == null || results[i].appended()) {
        results[i] = new AppendResult.Refused(reason, true);
        refusedRecords.increment();
      }
    }
    queue.groupStartBase = Long.MAX_VALUE;
    return acknowledge(group, results);
  }

  /**
   * After a write to the active segment failed part-way (the disk filled): truncates the segment to
   * the end of the last record written whole and refuses the records after it and every record the
   * group had not placed yet. Returns false if the segment cannot be repaired (roll back instead).
   */
  boolean salvage(GroupWrite write, AppendResult[] results, int failedAt, IOException cause) {
    if (!loggedWriteFailure) {
      loggedWriteFailure = true;
      LOGGER.log(
          System.Logger.Level.WARNING,
          "queue " + directory + ": write failed, refusing appends until writes succeed again",
          cause);
    }
    Segment segment = queue.active;
    String reason = "write failed, record not stored: " + cause;
    try {
      long written = segment.channel.position();
      long keepEnd = segment == write.start ? write.startLength : 0;
      long dropped = 0;
      for (long[] record : write.inActive) {
        if (record[1] <= written && dropped == 0) {
          keepEnd = record[1];
          continue;
        }
        dropped++;
        results[(int) record[0]] = new AppendResult.Refused(reason, true);
        refusedRecords.increment();
        write.recordsAdded--;
        write.payloadBytes -= record[2];
      }
      segment.channel.truncate(keepEnd);
      segment.channel.position(keepEnd);
      sizeBytes.addAndGet(-(segment.writeLength - keepEnd));
      segment.writeLength = keepEnd;
      segment.writeRecords -= dropped;
      if (segment == write.start && keepEnd == write.startLength) {
        write.startWritten = false;
      }
    } catch (IOException | RuntimeException e) {
      cause.addSuppressed(e);
      return false;
    }
    write.run.clear();
    for (int i = failedAt; i < results.length; i++) {
      if (results[i] == null || results[i].appended()) {
        results[i] = new AppendResult.Refused(reason, true);
        refusedRecords.increment();
      }
    }
    return true;
  }

  void prepareHeaders(int records) {
    int need = records * RecordFormat.HEADER_BYTES;
    if (headers.capacity() < need) {
      headers = ByteBuffer.allocateDirect(Math.max(need, headers.capacity() * 2));
    }
    headers.clear();
  }

  /** Plans one record into the current run (rolling or making room first); returns its result. */
  AppendResult place(PendingAppend append, int index, GroupWrite write) throws IOException {
    long frame = RecordFormat.HEADER_BYTES + (long) append.length;
    if (frame > maxBytes) {
      refusedRecords.increment();
      return new AppendResult.Refused(
          "record of "
              + frame
              + " bytes (with its header) exceeds the queue's maxBytes "
              + maxBytes,
          false);
    }
    if (!makeRoom(frame, write)) {
      refusedRecords.increment();
      return new AppendResult.Refused(
          "queue is full: " + sizeBytes.get() + " of " + maxBytes + " bytes on disk", true);
    }
    Segment segment = queue.active;
    if (segment.writeLength > 0 && segment.writeLength + frame > segmentBytes) {
      flushRun(write);
      roll(write);
      segment = queue.active;
    }
    int headerStart = headers.position();
    RecordFormat.writeHeader(
        headers,
        append.length,
        append.checksum,
        append.kind,
        append.itemCount,
        append.appendedAtMillis);
    write.run.add(headers.slice(headerStart, RecordFormat.HEADER_BYTES));
    // The append's own views (a write advances their positions; an append is placed once).
    Collections.addAll(write.run, append.payload);
    if (segment == write.start) {
      write.startWritten = true;
    }
    segment.writeLength += frame;
    segment.writeRecords++;
    write.inActive.add(new long[] {index, segment.writeLength, append.length});
    sizeBytes.addAndGet(frame);
    write.recordsAdded++;
    write.payloadBytes += append.length;
    return new AppendResult.Appended(segment.base + segment.writeLength);
  }

  /** Writes the planned buffers to the active segment. */
  void flushRun(GroupWrite write) throws IOException {
    if (write.run.isEmpty()) {
      return;
    }
    ByteBuffer[] buffers = write.run.toArray(new ByteBuffer[0]);
    write.run.clear();
    FileChannel channel = queue.active.channel;
    int first = 0;
    while (first < buffers.length) {
      channel.write(buffers, first, buffers.length - first);
      while (first < buffers.length && !buffers[first].hasRemaining()) {
        first++;
      }
    }
  }

  /** Seals the active segment and starts a new one at its end. */
  private void roll(GroupWrite write) throws IOException {
    Segment old = queue.active;
    long base = old.base + old.writeLength;
    Segment next =
        new Segment(
            base, directory.resolve(Segment.fileName(base)), old.firstOrdinal + old.writeRecords);
    Files.deleteIfExists(next.path); // a leftover of a rolled-back group
    next.channel = channels.openForWrite(next.path);
    synchronized (segmentsLock) {
      segments.put(base, next);
      write.created.add(next);
      queue.active = next;
    }
    write.inActive.clear(); // the previous segment's records were written whole by flushRun
  }

  /** Deletes whole segments (reclaiming, or dropping when so configured) until frame fits. */
  private boolean makeRoom(long frame, GroupWrite write) throws IOException {
    while (sizeBytes.get() + frame > maxBytes) {
      if (reclaimForWriter(write)) {
        continue;
      }
      if (whenFull == FullPolicy.DROP_OLDEST && dropOldest(write)) {
        continue;
      }
      return false;
    }
    return true;
  }

  /**
   * One step of reclamation from the writer, which may also seal a fully consumed active segment.
   */
  private boolean reclaimForWriter(GroupWrite write) throws IOException {
    Segment first = segments.firstEntry().getValue();
    if (write.touched(first)) {
      return false;
    }
    long min = queue.reclaimer.minCheckpoint();
    if (first != queue.active) {
      if (first.visibleEnd() <= min) {
        synchronized (segmentsLock) {
          queue.reclaimer.delete(first);
        }
        return true;
      }
      return false;
    }
    if (first.writeLength > 0 && first.base + first.writeLength <= min) {
      flushRun(write);
      roll(write);
      synchronized (segmentsLock) {
        queue.reclaimer.delete(first);
      }
      return true;
    }
    return false;
  }

  /** Deletes the oldest segment even if consumers lag, unless the current group wrote to it. */
  private boolean dropOldest(GroupWrite write) throws IOException {
    Segment first = segments.firstEntry().getValue();
    if (write.touched(first) || first.writeLength == 0) {
      return false;
    }
    if (first == queue.active) {
      flushRun(write);
      roll(write);
    }
    long end = first.base + first.writeLength;
    long endOrdinal = first.firstOrdinal + first.writeRecords;
    long lost = 0;
    synchronized (segmentsLock) {
      for (QueueConsumer consumer : consumers.values()) {
        lost =
            Math.max(lost, endOrdinal - Math.max(consumer.checkpointOrdinal(), first.firstOrdinal));
        consumer.advanceTo(end, endOrdinal);
      }
      queue.reclaimer.delete(first);
    }
    if (lost > 0) {
      droppedRecords.add(lost);
      LOGGER.log(
          System.Logger.Level.WARNING,
          "queue " + directory + " is full: dropped " + lost + " unconsumed records of " + first);
    }
    return true;
  }

  private void forceGroup(GroupWrite write) throws IOException {
    if (write.startWritten) {
      force(write.start.channel);
    }
    for (Segment segment : write.created) {
      force(segment.channel);
    }
    if (!write.created.isEmpty()) {
      queue.forceDirectory();
    }
  }

  void force(FileChannel channel) throws IOException {
    long start = System.nanoTime();
    channel.force(false);
    fsyncSeconds.record((System.nanoTime() - start) / 1e9);
  }

  /** Undoes a failed group: truncates what it wrote, deletes the segments it created. */
  void rollback(GroupWrite write, Exception cause) {
    if (!loggedWriteFailure) {
      loggedWriteFailure = true;
      LOGGER.log(
          System.Logger.Level.WARNING,
          "queue " + directory + ": write failed, refusing appends until writes succeed again",
          cause);
    }
    synchronized (segmentsLock) {
      // If the group deleted its start segment (reclaimed or dropped after a roll), the first
      // segment it created stays, emptied, as the active one: positions never go back.
      int keep = write.start.deleted && !write.created.isEmpty() ? 1 : 0;
      for (int i = write.created.size() - 1; i >= keep; i--) {
        Segment created = write.created.get(i);
        created.deleted = true;
        segments.remove(created.base);
        closeQuietly(created.channel);
        created.channel = null;
        sizeBytes.addAndGet(-created.writeLength);
        try {
          Files.deleteIfExists(created.path);
        } catch (IOException e) {
          LOGGER.log(System.Logger.Level.WARNING, "could not delete segment " + created.path, e);
        }
      }
      Segment restored = keep == 1 ? write.created.get(0) : write.start;
      long length = keep == 1 ? 0 : write.startLength;
      sizeBytes.addAndGet(-(restored.writeLength - length));
      restored.writeLength = length;
      restored.writeRecords = keep == 1 ? 0 : write.startRecords;
      queue.active = restored;
      try {
        if (restored.channel == null) {
          restored.channel = channels.openForWrite(restored.path);
        }
        restored.channel.truncate(length);
        restored.channel.position(length);
      } catch (IOException e) {
        // The channel is unusable; the next group reopens it. Readers never see past visibleLength.
        LOGGER.log(System.Logger.Level.WARNING, "could not truncate " + restored.path, e);
        closeQuietly(restored.channel);
        restored.channel = null;
      }
    }
    write.run.clear();
  }

  /** Makes a durable group visible to consumers and seals the segments it rolled past. */
  private void publish(GroupWrite write) {
    List<Segment> touched = new ArrayList<>(1 + write.created.size());
    touched.add(write.start);
    touched.addAll(write.created);
    for (Segment segment : touched) {
      segment.visibleRecords = segment.writeRecords;
      segment.visibleLength = segment.writeLength;
    }
    Segment current = queue.active;
    queue.publishedRecords = current.firstOrdinal + current.writeRecords;
    queue.publishedTail =
        current.base + current.writeLength; // volatile store publishes the lengths
    for (Segment segment : touched) {
      if (segment != current && segment.channel != null) {
        if (fsync.mode() == FsyncPolicy.Mode.INTERVAL) {
          try {
            segment.channel.force(false);
          } catch (IOException e) {
            LOGGER.log(
                System.Logger.Level.WARNING, "force of sealed segment " + segment + " failed", e);
          }
        }
        closeQuietly(segment.channel);
        segment.channel = null;
      }
    }
    if (write.recordsAdded > 0) {
      for (QueueConsumer consumer : consumers.values()) {
        consumer.signalRecords();
      }
    }
  }

  void forceActive() {
    Segment segment = queue.active;
    FileChannel channel = segment.channel;
    if (channel == null) {
      return;
    }
    try {
      force(channel);
    } catch (ClosedChannelException e) {
      // rolled or closed meanwhile; the roll forced it
    } catch (IOException e) {
      LOGGER.log(System.Logger.Level.WARNING, "interval force of " + segment + " failed", e);
    }
  }
}
