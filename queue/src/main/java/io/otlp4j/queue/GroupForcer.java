package io.otlp4j.queue;

import static io.otlp4j.queue.DurableQueue.LOGGER;

import io.otlp4j.core.GroupResult;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The {@link DurableQueue}'s group commit with overlap ({@link FsyncPolicy#perBatch()} only): the
 * writer thread writes the next groups into the active segment while this class's forcer thread
 * ({@code otlp4j-queue-force-<name>}) forces the ones written before; one force covers every group
 * written when it started, and those groups are published and acknowledged only after it returned.
 *
 * <h2>Concurrency</h2>
 *
 * Two threads: the writer (the coalescer's dispatcher, which calls {@link #writeGroup}) and the
 * forcer ({@link #run}). Both hold {@link #lock} whenever they touch the writer's state (segment
 * lengths, the active segment, the file's length); only the {@code force} itself runs outside it,
 * so the writer's next writes overlap it. A group written ahead is answered by the forcer (through
 * the acknowledgement thread), so the coalescer's operation returns at once and its next group
 * forms from whatever arrived meanwhile. A group is written ahead only if it fits wholly in the
 * active segment without reclaiming or dropping anything ({@link GroupWriter#fitsActive});
 * otherwise the writer first waits until every written group is forced and answered, then writes,
 * forces and publishes that group itself as before ({@link GroupWriter#writeSerially}). So a roll,
 * a reclamation or a dropped segment never happens while a group is unforced, and every unforced
 * group lies in the active segment, after the published tail.
 *
 * <h2>Backpressure</h2>
 *
 * At most {@link #WRITE_AHEAD_BYTES} payload bytes and {@link #WRITE_AHEAD_RECORDS} appends are
 * written and unforced before the writer waits for the force (plus the one group being written):
 * then appends wait in the coalescer, which refuses them past its own bound. The payloads stay the
 * callers' (see {@link DurableQueue}); this class holds only their bookkeeping.
 *
 * <h2>Failure</h2>
 *
 * A failed force refuses its groups and every group written after them (retryable), and truncates
 * the active segment back to the start of the first of them — the end of the last forced group —
 * before the writer may write again: nothing is acknowledged that a force did not cover, and a
 * later force never makes an unacknowledged tail durable behind a gap. A failed write refuses only
 * its own group's unwritten records and truncates only its own bytes (the groups before it, being
 * forced, are untouched). {@link #stop} forces and answers every written group before it returns.
 *
 * <h2>Memory ordering</h2>
 *
 * Groups are published in write order by the forcer under {@link #lock}, from the end lengths
 * recorded when each was written (never the segment's current length, which may include a later,
 * unforced group); the volatile stores of {@code publishedTail} publish them to consumers.
 */
final class GroupForcer implements Runnable {

  /**
   * The most payload bytes written ahead and not yet forced: past it the writer waits for the force
   * before writing the next group (so at most this plus one group, {@link
   * io.otlp4j.core.RequestCoalescer#DEFAULT_MAX_GROUP_BYTES}, are unforced).
   */
  static final long WRITE_AHEAD_BYTES = 8L * 1024 * 1024;

  /** The most appends written ahead and not yet forced (likewise, plus one group). */
  static final int WRITE_AHEAD_RECORDS = 4096;

  private static final CompletionStage<GroupResult<Void>> ANSWERED =
      CompletableFuture.completedFuture(GroupResult.uniform(null));

  /** One group written but not yet forced. */
  static final class WrittenGroup {
    final List<PendingAppend> group;
    final AppendResult[] results;
    final Segment segment;
    final long startLength;
    final long startRecords;
    final long endLength;
    final long endRecords;
    final long recordsAdded;
    final long payloadBytes;
    final long writtenAtNanos = AckTrace.ENABLED ? System.nanoTime() : 0;

    WrittenGroup(
        List<PendingAppend> group,
        AppendResult[] results,
        Segment segment,
        long startLength,
        long startRecords,
        long recordsAdded,
        long payloadBytes) {
      this.group = group;
      this.results = results;
      this.segment = segment;
      this.startLength = startLength;
      this.startRecords = startRecords;
      this.endLength = segment.writeLength;
      this.endRecords = segment.writeRecords;
      this.recordsAdded = recordsAdded;
      this.payloadBytes = payloadBytes;
    }
  }

  /** Guards the writer's state and {@link #written}; see "Concurrency". */
  final Object lock = new Object();

  private final GroupWriter writer;
  private final List<WrittenGroup> written = new ArrayList<>(); // guarded by lock
  private boolean forcing; // guarded by lock
  private long unforcedBytes; // guarded by lock: payload bytes written ahead, not yet answered
  private long unforcedRecords; // guarded by lock: appends written ahead, not yet answered
  private boolean stopping; // guarded by lock
  private final Thread thread;

  GroupForcer(GroupWriter writer, String queueName) {
    this.writer = writer;
    this.thread = new Thread(this, "otlp4j-queue-force-" + queueName);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /**
   * The writer thread's operation: writes {@code group} ahead (answered after the force that covers
   * it) or, when it does not fit in the active segment, waits for the groups in flight and writes,
   * forces and answers it at once.
   */
  CompletionStage<GroupResult<Void>> writeGroup(List<PendingAppend> group) {
    synchronized (lock) {
      awaitUntil(false);
      if (!writer.fitsActive(group)) {
        awaitUntil(true);
        return writer.writeSerially(group);
      }
      WrittenGroup ahead = writeAhead(group);
      if (ahead != null) { // else nothing of it was stored and its answers are on their way
        written.add(ahead);
        unforcedBytes += ahead.payloadBytes;
        unforcedRecords += ahead.group.size();
        lock.notifyAll();
      }
      return ANSWERED;
    }
  }

  /**
   * Waits (holding lock) until every written group is forced and answered ({@code drained}), or
   * else until the unforced groups are within the write-ahead bounds.
   */
  private void awaitUntil(boolean drained) {
    boolean interrupted = false;
    while (drained
        ? forcing || !written.isEmpty()
        : unforcedBytes >= WRITE_AHEAD_BYTES || unforcedRecords >= WRITE_AHEAD_RECORDS) {
      try {
        lock.wait();
      } catch (InterruptedException e) {
        interrupted = true; // the writer must not go on before the forces end: keep waiting
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void run() {
    while (true) {
      List<WrittenGroup> batch;
      FileChannel channel;
      synchronized (lock) {
        while (written.isEmpty() && !stopping) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            // not interrupted by the queue; keep serving until stopped
          }
        }
        if (written.isEmpty()) {
          return;
        }
        batch = new ArrayList<>(written);
        written.clear();
        forcing = true;
        channel = batch.get(0).segment.channel; // every unforced group is in the active segment
      }
      Exception failure = null;
      long forceStart = AckTrace.ENABLED ? System.nanoTime() : 0;
      try {
        if (channel == null) { // a failed truncation closed it: what was written is uncertain
          throw new ClosedChannelException();
        }
        writer.force(channel);
      } catch (IOException | RuntimeException e) {
        failure = e;
      }
      long forceEnd = AckTrace.ENABLED ? System.nanoTime() : 0;
      synchronized (lock) {
        forcing = false;
        if (failure != null) {
          batch.addAll(written); // written during the failed force: rolled back with it
          written.clear();
          refuseAhead(batch, failure);
        } else {
          publishAhead(batch.get(batch.size() - 1), batch);
        }
        for (WrittenGroup group : batch) {
          unforcedBytes -= group.payloadBytes;
          unforcedRecords -= group.group.size();
        }
        lock.notifyAll();
      }
      // Outside the lock: one acknowledgement task per group.
      for (WrittenGroup group : batch) {
        if (AckTrace.ENABLED) {
          writer.acknowledge(
              group.group,
              group.results,
              new AckTrace.Stamps(group.writtenAtNanos, forceStart, forceEnd, batch.size()));
        } else {
          writer.acknowledge(group.group, group.results);
        }
      }
    }
  }

  /**
   * Writes a group that {@link GroupWriter#fitsActive fits} into the active segment without forcing
   * or publishing it (this class does, after the force). A failed write keeps the records written
   * whole ({@link GroupWriter#salvage}) or rolls back this group's own bytes; returns null when
   * nothing of the group was stored (then its answers are on their way already).
   */
  private WrittenGroup writeAhead(List<PendingAppend> group) {
    AppendResult[] results = new AppendResult[group.size()];
    GroupWriter.GroupWrite write = new GroupWriter.GroupWrite(writer.queue.active);
    int placed = 0;
    try {
      writer.prepareHeaders(group.size());
      for (; placed < results.length; placed++) {
        results[placed] = writer.place(group.get(placed), placed, write);
      }
      writer.flushRun(write);
    } catch (IOException e) {
      if (!writer.salvage(write, results, placed, e)) {
        writer.failGroup(group, write, results, e);
        return null;
      }
    } catch (RuntimeException e) {
      writer.failGroup(group, write, results, e);
      return null;
    }
    writer.groupSize.record(group.size());
    return new WrittenGroup(
        group,
        results,
        write.start,
        write.startLength,
        write.startRecords,
        write.recordsAdded,
        write.payloadBytes);
  }

  /**
   * After the force that covered {@code batch} (written-ahead groups, in write order, {@code last}
   * the latest): makes them visible up to the end {@code last} had when it was written.
   */
  private void publishAhead(WrittenGroup last, List<WrittenGroup> batch) {
    Segment segment = last.segment;
    segment.visibleRecords = last.endRecords;
    segment.visibleLength = last.endLength;
    writer.queue.publishedRecords = segment.firstOrdinal + last.endRecords;
    writer.queue.publishedTail =
        segment.base + last.endLength; // volatile store publishes the lengths
    long records = 0;
    for (WrittenGroup group : batch) {
      records += group.recordsAdded;
      writer.appendedBytes.add(group.payloadBytes);
    }
    writer.appendedRecords.add(records);
    if (records > 0) {
      if (writer.loggedWriteFailure) {
        writer.loggedWriteFailure = false;
        LOGGER.log(
            System.Logger.Level.INFO, "queue " + writer.directory + ": writes succeed again");
      }
      for (QueueConsumer consumer : writer.consumers.values()) {
        consumer.signalRecords();
      }
    }
  }

  /**
   * After a failed force: truncates the active segment back to where the first group of {@code
   * batch} started (the end of the last forced group) and refuses every record of {@code batch}
   * (the forced groups and all written after them) as retryable.
   */
  private void refuseAhead(List<WrittenGroup> batch, Exception cause) {
    WrittenGroup first = batch.get(0);
    GroupWriter.GroupWrite restore =
        new GroupWriter.GroupWrite(first.segment, first.startLength, first.startRecords);
    writer.rollback(restore, cause);
    String reason = "force failed, nothing stored of this group or the ones after it: " + cause;
    for (WrittenGroup group : batch) {
      AppendResult[] results = group.results;
      for (int i = 0; i < results.length; i++) {
        if (results[i] == null || results[i].appended()) {
          results[i] = new AppendResult.Refused(reason, true);
          writer.refusedRecords.increment();
        }
      }
    }
  }

  /**
   * Forces and answers every written group, then ends the forcer thread (waits at most 10 s).
   * Called by {@link DurableQueue#close()} after the coalescer stopped, so no group is written
   * meanwhile.
   */
  void stop() {
    synchronized (lock) {
      stopping = true;
      lock.notifyAll();
    }
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
