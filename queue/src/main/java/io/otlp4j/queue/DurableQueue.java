package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.GroupResult;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.RequestCoalescer;
import io.otlp4j.core.internal.FaultInjection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A durable write-ahead queue on local disk: records are appended to segment files, forced to stable
 * storage in groups, and read by named consumers that each keep a persisted checkpoint.
 *
 * <p>Open one with {@link #builder(Path)}; {@link #close()} it when done (idempotent). At most one
 * open queue may use a directory at a time (a lock file enforces it, across processes too).
 *
 * <h2>Concurrency</h2>
 * {@link #append} may be called from any number of threads and never blocks: appends are handed to
 * one writer thread (core's {@link RequestCoalescer}), which takes everything that arrived while the
 * previous group was being written and forced, writes it with one gathering write, forces once,
 * and then hands the group's answers to the queue's acknowledgement thread ({@code
 * otlp4j-queue-ack-<name>}), which completes the append futures: their dependent stages (a client's
 * answer, a gRPC {@code onNext}/{@code onCompleted}) run there, never on the writer, so they cannot
 * delay the next write and force. That thread's backlog is bounded ({@link #ACK_BACKLOG} answers);
 * when it is full, the writer completes the futures itself (back-pressure, nothing is
 * lost). Each consumer ({@link QueueConsumer}) serves one exporter loop;
 * consumers never block the writer: they read only below the published tail, which the writer
 * advances after a group is durable, and are woken off the writer thread. Do not call {@link
 * #close()} from an append's completion stage (it waits for the writer).
 *
 * <h2>Durability</h2>
 * With {@link FsyncPolicy#perBatch()} (the default) an append completes with {@link
 * AppendResult.Appended} only after the {@code force} covering its record (and, for a new segment,
 * its directory entry) returned: an acknowledged record survives a process crash or a power loss.
 * {@link FsyncPolicy#interval} and {@link FsyncPolicy#never()} trade that for latency, see there.
 * Every record carries a CRC32C; on open the queue scans the segments from the oldest checkpoint,
 * verifies every record and truncates a torn or corrupt tail (a write cut short by a crash), so
 * nothing after a bad record is served. Delivery is <b>at-least-once</b>: a consumer resumes after
 * its last persisted checkpoint, so a record it read but had not committed (or whose checkpoint
 * file write the crash overtook) is delivered again; an acknowledged record is never lost. A
 * consumer name new to an existing directory starts at the oldest record still on disk.
 *
 * <h2>Backpressure</h2>
 * The queue holds at most {@code maxBytes} of segment files. Space is reclaimed in whole segments,
 * once every consumer has committed past one. When an append would exceed the bound, {@link
 * FullPolicy#REFUSE} (the default) answers {@link AppendResult.Refused} with {@code retryable =
 * true}; {@link FullPolicy#DROP_OLDEST} deletes the oldest segment instead, advancing lagging
 * consumers and counting the lost records. An I/O error while writing or forcing — such as {@code
 * No space left on device} — is handled like a full queue: the group's partial writes are truncated
 * away, its appends are refused as retryable, and later appends succeed once space returns. At
 * most {@link RequestCoalescer#DEFAULT_MAX_PENDING} appends wait for the writer; beyond that an
 * append is refused as retryable at once. A record larger than {@code maxBytes} is refused as not
 * retryable.
 *
 * <h2>Buffer ownership</h2>
 * {@code append} never takes ownership of its payload: the caller keeps it alive and unmodified
 * until the returned stage completes and releases it afterwards. Payloads returned by {@link
 * QueueConsumer#poll} belong to the caller, who must release them.
 *
 * <p>Thread-safe.
 */
public final class DurableQueue implements AutoCloseable {

  /*
   * Design notes.
   *
   * Positions: the log is a sequence of bytes numbered from 0; a segment file holds the bytes from
   * the base in its name, and a new segment starts where the previous one ends, so positions only
   * grow. A record's position is the offset just past it, which makes "commit(position)" exactly
   * the next read position to persist. Recovery may leave a gap (a corrupt record truncated inside
   * an older segment); readers skip to the next segment's base.
   *
   * Concurrency: only the writer thread (the coalescer's dispatcher) writes segments, rolls them
   * and changes Segment's writer fields. It publishes a durable group by storing each touched
   * segment's visibleLength and then publishedTail (volatile stores): a consumer that reads
   * publishedTail sees every byte below it. Deleting segments (reclamation, DROP_OLDEST), adding
   * them (roll) and rolling back a failed group happen under segmentsLock; reclamation never deletes
   * the active segment nor any segment at or after the base where the current group started
   * (groupStartBase), so it cannot delete bytes written but not yet published.
   *
   * Backpressure: see the class comment; the pending bound is the coalescer's.
   */

  /** Default size of one segment file: 64 MiB. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
  /** Default bound on the segment files' total size: 1 GiB. */
  public static final long DEFAULT_MAX_BYTES = 1024L * 1024 * 1024;

  static final System.Logger LOGGER = System.getLogger(DurableQueue.class.getName());
  private static final String LOCK_FILE = "queue.lock";
  private static final double[] FSYNC_SECONDS_BOUNDS = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
  };
  private static final double[] GROUP_SIZE_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  final Path directory;
  private final long segmentBytes;
  private final long maxBytes;
  private final FsyncPolicy fsync;
  private final FullPolicy whenFull;
  private final SegmentChannels channels;
  final LongSupplier millisClock;

  final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  final Object segmentsLock = new Object();
  private final Map<String, QueueConsumer> consumers = new LinkedHashMap<>();
  private final AtomicLong sizeBytes = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** The segment being written; changed by the writer under segmentsLock. */
  private volatile Segment active;
  /** Base of the segment the writer's current group started in; Long.MAX_VALUE between groups. */
  private volatile long groupStartBase = Long.MAX_VALUE;
  /** Log offset below which everything is durable and readable. */
  volatile long publishedTail;
  /** Records below publishedTail (ordinal of the next record). */
  volatile long publishedRecords;

  private final RequestCoalescer<PendingAppend, AppendResult> coalescer;
  private final ScheduledExecutorService intervalForcer;
  /** Completes the append futures off the writer thread; see "Concurrency". */
  final java.util.concurrent.ThreadPoolExecutor acks; // also wakes waiting consumers (QueueConsumer)

  /**
   * The acknowledgement thread's backlog: answers waiting to be handed on. When full, the writer hands
   * them on itself (so the bound is back-pressure on the writer, never a loss).
   */
  static final int ACK_BACKLOG = RequestCoalescer.DEFAULT_MAX_PENDING;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private ByteBuffer headers = ByteBuffer.allocateDirect(64 * 1024);

  private final MetricsRegistry.Counter droppedRecords;
  private final MetricsRegistry.Counter refusedRecords;
  private final MetricsRegistry.Counter appendedRecords;
  private final MetricsRegistry.Counter appendedBytes;
  private final MetricsRegistry.Histogram fsyncSeconds;
  private final MetricsRegistry.Histogram groupSize;
  private boolean loggedWriteFailure;

  private DurableQueue(Builder builder, FileChannel lockChannel, FileLock lock) throws IOException {
    this.directory = builder.directory;
    this.segmentBytes = builder.segmentBytes;
    this.maxBytes = builder.maxBytes;
    this.fsync = builder.fsyncPolicy;
    this.whenFull = builder.whenFull;
    this.channels = builder.channels;
    this.millisClock = builder.millisClock;
    this.lockChannel = lockChannel;
    this.lock = lock;
    MetricsRegistry registry =
        builder.metrics != null ? builder.metrics : MetricsRegistry.create();
    String queueName = builder.queueName;
    this.droppedRecords =
        registry.counter(
            "otlp4j_queue_dropped_records",
            "Records deleted unread by the DROP_OLDEST policy",
            "queue",
            queueName);
    this.refusedRecords =
        registry.counter(
            "otlp4j_queue_refused_records",
            "Appends refused (queue full, disk full or failed, backlog full, closed)",
            "queue",
            queueName);
    this.appendedRecords =
        registry.counter(
            "otlp4j_queue_appended_records", "Records appended", "queue", queueName);
    this.appendedBytes =
        registry.counter(
            "otlp4j_queue_appended_bytes", "Payload bytes appended", "queue", queueName);
    this.fsyncSeconds =
        registry.histogram(
            "otlp4j_queue_fsync_seconds",
            "Time one force() of a segment took",
            FSYNC_SECONDS_BOUNDS,
            "queue",
            queueName);
    this.groupSize =
        registry.histogram(
            "otlp4j_queue_group_size",
            "Appends carried by one group commit (one write, one force)",
            GROUP_SIZE_BOUNDS,
            "queue",
            queueName);
    registry.gauge(
        "otlp4j_queue_size_bytes", "Bytes of segment files on disk", sizeBytes::get, "queue", queueName);

    for (String name : builder.consumerNames) {
      consumers.put(name, new QueueConsumer(this, name));
    }
    recover();
    for (QueueConsumer consumer : consumers.values()) {
      registry.gauge(
          "otlp4j_queue_pending_bytes",
          "Bytes queued that the consumer has not committed",
          consumer::pendingBytes,
          "queue",
          queueName,
          "consumer",
          consumer.name());
      registry.gauge(
          "otlp4j_queue_pending_records",
          "Records queued that the consumer has not committed",
          consumer::pendingRecords,
          "queue",
          queueName,
          "consumer",
          consumer.name());
      registry.gauge(
          "otlp4j_queue_oldest_record_age_seconds",
          "Age of the oldest record the consumer has not committed, 0 when none",
          () -> oldestPendingAgeSeconds(consumer),
          "queue",
          queueName,
          "consumer",
          consumer.name());
    }

    this.acks =
        new java.util.concurrent.ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(ACK_BACKLOG),
            runnable -> {
              Thread thread = new Thread(runnable, "otlp4j-queue-ack-" + queueName);
              thread.setDaemon(true);
              return thread;
            },
            // Backlog full, or the queue closing: the caller (the writer) completes the future itself.
            (runnable, executor) -> runnable.run());
    this.coalescer =
        RequestCoalescer.<PendingAppend, AppendResult>builder(this::writeGroup)
            .threadFactory(
                runnable -> {
                  Thread thread = new Thread(runnable, "otlp4j-queue-writer-" + queueName);
                  thread.setDaemon(true);
                  return thread;
                })
            .build();
    if (fsync.mode() == FsyncPolicy.Mode.INTERVAL) {
      intervalForcer =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "otlp4j-queue-fsync-" + queueName);
                thread.setDaemon(true);
                return thread;
              });
      long nanos = fsync.intervalDuration().toNanos();
      intervalForcer.scheduleWithFixedDelay(this::forceActive, nanos, nanos, TimeUnit.NANOSECONDS);
    } else {
      intervalForcer = null;
    }
  }

  /** Starts a builder for a queue in {@code directory} (created if absent). */
  public static Builder builder(Path directory) {
    return new Builder(directory);
  }

  // ------------------------------------------------------------------------------------ appending

  /**
   * Appends one record. The payload's readable bytes are written as they are (not re-encoded);
   * ownership of {@code payload} stays with the caller, who must keep it alive and unmodified until
   * the returned stage completes (the queue never touches it after). Completes, never
   * exceptionally, once the record is as durable as the fsync policy says — with {@link
   * FsyncPolicy#perBatch()} only after the {@code force} that covers it — or with a {@link
   * AppendResult.Refused}. Concurrent appends share one write and one force. Never blocks.
   *
   * @param kind a byte stored with the record (the relay stores the signal)
   * @param itemCount the number of items in the payload (spans, points, log records), stored
   * @throws NullPointerException if {@code payload} is null
   * @throws IllegalArgumentException if {@code itemCount} is negative
   */
  public CompletableFuture<AppendResult> append(byte kind, long itemCount, ByteBuf payload) {
    Objects.requireNonNull(payload, "payload");
    if (itemCount < 0) {
      throw new IllegalArgumentException("itemCount must not be negative, was " + itemCount);
    }
    FaultInjection.check(FaultInjection.Stage.QUEUE_APPEND);
    if (closed.get()) {
      refusedRecords.increment();
      return CompletableFuture.completedFuture(new AppendResult.Refused("queue is closed", false));
    }
    PendingAppend pending =
        new PendingAppend(
            kind, itemCount, payload, payload.readerIndex(), payload.readableBytes(),
            millisClock.getAsLong());
    return coalescer
        .submit(pending, RecordFormat.HEADER_BYTES + (long) pending.length)
        .handleAsync(
            (result, error) -> {
              if (error == null) {
                return result;
              }
              refusedRecords.increment();
              if (error instanceof RejectedExecutionException) {
                return new AppendResult.Refused(
                    "queue writer backlog is full: " + error.getMessage(), true);
              }
              if (closed.get()) {
                return new AppendResult.Refused("queue is closed", false);
              }
              return new AppendResult.Refused("append failed: " + error, true);
            },
            acks);
  }

  /** Bytes of segment files on disk (including bytes written and not yet forced). */
  public long sizeBytes() {
    return sizeBytes.get();
  }

  /**
   * The consumer {@code name}, one of the names given to {@link Builder#consumers(String...)}; the
   * same instance on every call.
   *
   * @throws IllegalArgumentException if {@code name} was not configured
   */
  public QueueConsumer consumer(String name) {
    QueueConsumer consumer = consumers.get(name);
    if (consumer == null) {
      throw new IllegalArgumentException(
          "no consumer named '" + name + "'; configured: " + consumers.keySet());
    }
    return consumer;
  }

  /** The configured consumer names, in builder order. */
  public Set<String> consumerNames() {
    return Collections.unmodifiableSet(consumers.keySet());
  }

  /** The directory holding this queue's files. */
  public Path directory() {
    return directory;
  }

  /**
   * Stops accepting appends, completes the ones already submitted, forces and closes the files and
   * releases the directory lock. Pending {@link QueueConsumer#awaitRecords()} stages fail with an
   * {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    coalescer.shutdown(Duration.ofSeconds(30)).join();
    acks.shutdown(); // what is queued still runs; later answers run on the caller (the rejection handler)
    if (intervalForcer != null) {
      intervalForcer.shutdown(); // no interrupt: it would close the segment's channel mid-force
      try {
        intervalForcer.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (segmentsLock) {
      Segment segment = active;
      if (segment != null && segment.channel != null) {
        try {
          segment.channel.force(false);
        } catch (IOException e) {
          LOGGER.log(System.Logger.Level.WARNING, "queue " + directory + ": force on close failed", e);
        }
        closeQuietly(segment.channel);
        segment.channel = null;
      }
    }
    for (QueueConsumer consumer : consumers.values()) {
      consumer.onQueueClosed();
    }
    try {
      lock.release();
    } catch (IOException e) {
      LOGGER.log(System.Logger.Level.DEBUG, "releasing the queue lock failed", e);
    }
    closeQuietly(lockChannel);
  }

  boolean isClosed() {
    return closed.get();
  }

  // ------------------------------------------------------------------------------------ the writer

  /** One append waiting for the writer. The payload is only read, never retained or released. */
  private static final class PendingAppend {
    final byte kind;
    final long itemCount;
    final ByteBuf payload;
    final int index;
    final int length;
    final long appendedAtMillis;

    PendingAppend(
        byte kind, long itemCount, ByteBuf payload, int index, int length, long appendedAtMillis) {
      this.kind = kind;
      this.itemCount = itemCount;
      this.payload = payload;
      this.index = index;
      this.length = length;
      this.appendedAtMillis = appendedAtMillis;
    }
  }

  /** The writer's bookkeeping for one group, so that a failure can be rolled back. */
  private static final class GroupWrite {
    final Segment start;
    final long startLength;
    final long startRecords;
    boolean startWritten;
    final List<Segment> created = new ArrayList<>(1);
    final List<ByteBuffer> run = new ArrayList<>();
    /** Records this group placed in the active segment: {index in group, end offset, payload bytes}. */
    final List<long[]> inActive = new ArrayList<>();
    long recordsAdded;
    long payloadBytes;

    GroupWrite(Segment start) {
      this.start = start;
      this.startLength = start.writeLength;
      this.startRecords = start.writeRecords;
    }

    boolean touched(Segment segment) {
      return (segment == start && startWritten) || created.contains(segment);
    }
  }

  private CompletionStage<GroupResult<AppendResult>> writeGroup(List<PendingAppend> group) {
    AppendResult[] results = new AppendResult[group.size()];
    GroupWrite write = new GroupWrite(active);
    groupStartBase = write.start.base;
    try {
      if (write.start.channel == null) { // a failed rollback closed it
        write.start.channel = channels.openForWrite(write.start.path);
        write.start.channel.truncate(write.start.writeLength);
        write.start.channel.position(write.start.writeLength);
      }
      int need = group.size() * RecordFormat.HEADER_BYTES;
      if (headers.capacity() < need) {
        headers = ByteBuffer.allocateDirect(Math.max(need, headers.capacity() * 2));
      }
      headers.clear();
    } catch (IOException | RuntimeException e) {
      return failGroup(write, results, e);
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
        return failGroup(write, results, e);
      }
    } catch (RuntimeException e) {
      return failGroup(write, results, e);
    }
    try {
      if (fsync.mode() == FsyncPolicy.Mode.PER_BATCH) {
        forceGroup(write);
      }
    } catch (IOException | RuntimeException e) {
      return failGroup(write, results, e);
    }
    publish(write);
    groupStartBase = Long.MAX_VALUE;
    groupSize.record(group.size());
    appendedRecords.add(write.recordsAdded);
    appendedBytes.add(write.payloadBytes);
    if (loggedWriteFailure && write.recordsAdded > 0) {
      loggedWriteFailure = false;
      LOGGER.log(System.Logger.Level.INFO, "queue " + directory + ": writes succeed again");
    }
    return CompletableFuture.completedFuture(GroupResult.perPayload(Arrays.asList(results)));
  }

  /** Rolls the whole group back and refuses every append of it that was not refused already. */
  private CompletionStage<GroupResult<AppendResult>> failGroup(
      GroupWrite write, AppendResult[] results, Exception cause) {
    rollback(write, cause);
    String reason = "write failed, nothing stored: " + cause;
    for (int i = 0; i < results.length; i++) {
      if (results[i] == null || results[i].appended()) {
        results[i] = new AppendResult.Refused(reason, true);
        refusedRecords.increment();
      }
    }
    groupStartBase = Long.MAX_VALUE;
    return CompletableFuture.completedFuture(GroupResult.perPayload(Arrays.asList(results)));
  }

  /**
   * After a write to the active segment failed part-way (the disk filled): truncates the segment to
   * the end of the last record written whole and refuses the records after it and every record the
   * group had not placed yet. Returns false if the segment cannot be repaired (roll back instead).
   */
  private boolean salvage(GroupWrite write, AppendResult[] results, int failedAt, IOException cause) {
    if (!loggedWriteFailure) {
      loggedWriteFailure = true;
      LOGGER.log(
          System.Logger.Level.WARNING,
          "queue " + directory + ": write failed, refusing appends until writes succeed again",
          cause);
    }
    Segment segment = active;
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

  /** Plans one record into the current run (rolling or making room first); returns its result. */
  private AppendResult place(PendingAppend append, int index, GroupWrite write) throws IOException {
    long frame = RecordFormat.HEADER_BYTES + (long) append.length;
    if (frame > maxBytes) {
      refusedRecords.increment();
      return new AppendResult.Refused(
          "record of " + frame + " bytes (with its header) exceeds the queue's maxBytes " + maxBytes,
          false);
    }
    ByteBuffer[] payload;
    try {
      payload =
          append.length == 0 ? new ByteBuffer[0] : append.payload.nioBuffers(append.index, append.length);
    } catch (RuntimeException e) { // released or otherwise unreadable: this caller's bug alone
      refusedRecords.increment();
      return new AppendResult.Refused("payload cannot be read: " + e, false);
    }
    if (!makeRoom(frame, write)) {
      refusedRecords.increment();
      return new AppendResult.Refused(
          "queue is full: " + sizeBytes.get() + " of " + maxBytes + " bytes on disk", true);
    }
    Segment segment = active;
    if (segment.writeLength > 0 && segment.writeLength + frame > segmentBytes) {
      flushRun(write);
      roll(write);
      segment = active;
    }
    int headerStart = headers.position();
    RecordFormat.writeHeader(headers, append.kind, append.itemCount, append.appendedAtMillis, payload);
    write.run.add(headers.slice(headerStart, RecordFormat.HEADER_BYTES));
    Collections.addAll(write.run, payload);
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
  private void flushRun(GroupWrite write) throws IOException {
    if (write.run.isEmpty()) {
      return;
    }
    ByteBuffer[] buffers = write.run.toArray(new ByteBuffer[0]);
    write.run.clear();
    FileChannel channel = active.channel;
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
    Segment old = active;
    long base = old.base + old.writeLength;
    Segment next =
        new Segment(base, directory.resolve(Segment.fileName(base)), old.firstOrdinal + old.writeRecords);
    Files.deleteIfExists(next.path); // a leftover of a rolled-back group
    next.channel = channels.openForWrite(next.path);
    synchronized (segmentsLock) {
      segments.put(base, next);
      write.created.add(next);
      active = next;
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

  /** One step of reclamation from the writer, which may also seal a fully consumed active segment. */
  private boolean reclaimForWriter(GroupWrite write) throws IOException {
    Segment first = segments.firstEntry().getValue();
    if (write.touched(first)) {
      return false;
    }
    long min = minCheckpoint();
    if (first != active) {
      if (first.visibleEnd() <= min) {
        synchronized (segmentsLock) {
          delete(first);
        }
        return true;
      }
      return false;
    }
    if (first.writeLength > 0 && first.base + first.writeLength <= min) {
      flushRun(write);
      roll(write);
      synchronized (segmentsLock) {
        delete(first);
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
    if (first == active) {
      flushRun(write);
      roll(write);
    }
    long end = first.base + first.writeLength;
    long endOrdinal = first.firstOrdinal + first.writeRecords;
    long lost = 0;
    synchronized (segmentsLock) {
      for (QueueConsumer consumer : consumers.values()) {
        lost = Math.max(lost, endOrdinal - Math.max(consumer.checkpointOrdinal(), first.firstOrdinal));
        consumer.advanceTo(end, endOrdinal);
      }
      delete(first);
    }
    if (lost > 0) {
      droppedRecords.add(lost);
      LOGGER.log(
          System.Logger.Level.WARNING,
          "queue " + directory + " is full: dropped " + lost + " unconsumed records of " + first);
    }
    return true;
  }

  /** Deletes {@code segment}'s file. Caller holds segmentsLock; never the active segment. */
  private void delete(Segment segment) {
    segment.deleted = true;
    segments.remove(segment.base);
    closeQuietly(segment.channel);
    segment.channel = null;
    sizeBytes.addAndGet(-Math.max(segment.writeLength, segment.visibleLength));
    try {
      Files.deleteIfExists(segment.path);
    } catch (IOException e) {
      LOGGER.log(System.Logger.Level.WARNING, "could not delete segment " + segment.path, e);
    }
  }

  private void forceGroup(GroupWrite write) throws IOException {
    if (write.startWritten) {
      force(write.start.channel);
    }
    for (Segment segment : write.created) {
      force(segment.channel);
    }
    if (!write.created.isEmpty()) {
      forceDirectory();
    }
  }

  private void force(FileChannel channel) throws IOException {
    long start = System.nanoTime();
    channel.force(false);
    fsyncSeconds.record((System.nanoTime() - start) / 1e9);
  }

  private void forceDirectory() throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().contains("Is a directory")) {
        return; // platforms that cannot open a directory: nothing to force
      }
      throw e;
    }
  }

  /** Undoes a failed group: truncates what it wrote, deletes the segments it created. */
  private void rollback(GroupWrite write, Exception cause) {
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
      active = restored;
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
    Segment current = active;
    publishedRecords = current.firstOrdinal + current.writeRecords;
    publishedTail = current.base + current.writeLength; // volatile store publishes the lengths
    for (Segment segment : touched) {
      if (segment != current && segment.channel != null) {
        if (fsync.mode() == FsyncPolicy.Mode.INTERVAL) {
          try {
            segment.channel.force(false);
          } catch (IOException e) {
            LOGGER.log(System.Logger.Level.WARNING, "force of sealed segment " + segment + " failed", e);
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

  private void forceActive() {
    Segment segment = active;
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

  // ------------------------------------------------------------------------------------ consumers

  long minCheckpoint() {
    long min = Long.MAX_VALUE;
    for (QueueConsumer consumer : consumers.values()) {
      min = Math.min(min, consumer.checkpoint());
    }
    return min;
  }

  /** Deletes every whole segment all consumers have committed past (called after a commit). */
  void reclaim() {
    synchronized (segmentsLock) {
      long min = minCheckpoint();
      while (true) {
        Map.Entry<Long, Segment> first = segments.firstEntry();
        if (first == null) {
          return;
        }
        Segment segment = first.getValue();
        if (segment == active || segment.base >= groupStartBase || segment.visibleEnd() > min) {
          return;
        }
        delete(segment);
      }
    }
  }

  /** The segment holding {@code position}, or null if it is below the first segment. */
  Segment segmentAt(long position) {
    Map.Entry<Long, Segment> entry = segments.floorEntry(position);
    return entry == null ? null : entry.getValue();
  }

  Segment segmentAfter(Segment segment) {
    Map.Entry<Long, Segment> entry = segments.higherEntry(segment.base);
    return entry == null ? null : entry.getValue();
  }

  Segment firstSegment() {
    Map.Entry<Long, Segment> entry = segments.firstEntry();
    return entry == null ? null : entry.getValue();
  }

  private double oldestPendingAgeSeconds(QueueConsumer consumer) {
    long position = consumer.checkpoint();
    if (position >= publishedTail) {
      return 0;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
      Segment segment = segmentAt(position);
      if (segment == null) {
        segment = firstSegment();
        if (segment == null) {
          return 0;
        }
        position = segment.base;
      }
      if (position >= segment.visibleEnd()) {
        Segment next = segmentAfter(segment);
        if (next == null) {
          return 0;
        }
        position = next.base;
        continue;
      }
      try (FileChannel channel = FileChannel.open(segment.path, StandardOpenOption.READ)) {
        ByteBuffer header = ByteBuffer.allocate(RecordFormat.HEADER_BYTES);
        readFully(channel, header, position - segment.base);
        long age = millisClock.getAsLong() - RecordFormat.appendedAtMillis(header);
        return Math.max(0, age) / 1000.0;
      } catch (IOException e) {
        position = consumer.checkpoint(); // deleted meanwhile: look again
      }
    }
    return 0;
  }

  static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, at);
      if (n < 0) {
        throw new IOException("unexpected end of file at " + at + " in a segment");
      }
      at += n;
    }
  }

  static void closeQuietly(AutoCloseable closeable) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      LOGGER.log(System.Logger.Level.DEBUG, "close failed", e);
    }
  }

  // ------------------------------------------------------------------------------------ recovery

  private void recover() throws IOException {
    TreeMap<Long, Path> files = new TreeMap<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
      for (Path path : stream) {
        String name = path.getFileName().toString();
        long base = Segment.parseBase(name);
        if (base >= 0) {
          files.put(base, path);
        }
      }
    }
    long[] checkpoints = new long[consumers.size()];
    int c = 0;
    long maxCheckpoint = 0;
    for (QueueConsumer consumer : consumers.values()) {
      checkpoints[c] = consumer.readPersistedCheckpoint();
      maxCheckpoint = Math.max(maxCheckpoint, checkpoints[c]);
      c++;
    }
    if (files.isEmpty()) {
      long base = maxCheckpoint;
      Segment segment = new Segment(base, directory.resolve(Segment.fileName(base)), 0);
      segment.channel = channels.openForWrite(segment.path);
      segments.put(base, segment);
      active = segment;
      forceDirectory();
      for (QueueConsumer consumer : consumers.values()) {
        consumer.recovered(base, 0);
      }
      publishedTail = base;
      publishedRecords = 0;
      return;
    }
    long firstBase = files.firstKey();
    long min = Long.MAX_VALUE;
    for (int i = 0; i < checkpoints.length; i++) {
      checkpoints[i] = checkpoints[i] < 0 ? firstBase : Math.max(firstBase, checkpoints[i]);
      min = Math.min(min, checkpoints[i]);
    }
    // Whole segments every consumer is past (deleted just before a crash, or not yet): remove.
    boolean removed = false;
    while (files.size() > 1 && files.higherKey(files.firstKey()) <= min) {
      Files.deleteIfExists(files.pollFirstEntry().getValue());
      removed = true;
    }
    long[] checkpointOrdinals = new long[checkpoints.length];
    Arrays.fill(checkpointOrdinals, -1);
    long ordinal = 0;
    boolean truncated = false;
    Segment last = null;
    for (Map.Entry<Long, Path> file : files.entrySet()) {
      Segment segment = new Segment(file.getKey(), file.getValue(), ordinal);
      truncated |= scan(segment, checkpoints, checkpointOrdinals);
      ordinal = segment.firstOrdinal + segment.writeRecords;
      segment.visibleLength = segment.writeLength;
      segment.visibleRecords = segment.writeRecords;
      segments.put(segment.base, segment);
      sizeBytes.addAndGet(segment.writeLength);
      last = segment;
    }
    long tail = last.base + last.writeLength;
    c = 0;
    for (QueueConsumer consumer : consumers.values()) {
      long checkpoint = Math.min(checkpoints[c], tail);
      long checkpointOrdinal = checkpointOrdinals[c] < 0 ? ordinal : checkpointOrdinals[c];
      consumer.recovered(checkpoint, checkpointOrdinal);
      c++;
    }
    last.channel = channels.openForWrite(last.path);
    last.channel.position(last.writeLength);
    active = last;
    publishedRecords = ordinal;
    publishedTail = tail;
    if (removed || truncated) {
      forceDirectory();
    }
  }

  /**
   * Verifies every record of {@code segment}'s file, truncating it at the first torn or corrupt one;
   * fills the segment's lengths and snaps each checkpoint that falls inside a record to its start.
   * Returns whether the file was truncated.
   */
  private boolean scan(Segment segment, long[] checkpoints, long[] checkpointOrdinals)
      throws IOException {
    try (FileChannel channel =
        FileChannel.open(segment.path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      long offset = 0;
      long records = 0;
      ByteBuffer header = ByteBuffer.allocate(RecordFormat.HEADER_BYTES);
      ByteBuffer payload = ByteBuffer.allocate(64 * 1024);
      String problem = null;
      while (offset < size) {
        if (size - offset < RecordFormat.HEADER_BYTES) {
          problem = "torn header";
          break;
        }
        header.clear();
        readFully(channel, header, offset);
        int length = RecordFormat.payloadLength(header);
        if (length < 0) {
          problem = "bad record header";
          break;
        }
        if (offset + RecordFormat.HEADER_BYTES + length > size) {
          problem = "torn record (" + length + " bytes declared)";
          break;
        }
        if (payload.capacity() < length) {
          payload = ByteBuffer.allocate(Math.max(length, payload.capacity() * 2));
        }
        payload.clear().limit(length);
        readFully(channel, payload, offset + RecordFormat.HEADER_BYTES);
        payload.flip();
        if (!RecordFormat.crcMatches(header, payload)) {
          problem = "CRC mismatch";
          break;
        }
        long start = segment.base + offset;
        long end = start + RecordFormat.HEADER_BYTES + length;
        long ordinal = segment.firstOrdinal + records;
        for (int i = 0; i < checkpoints.length; i++) {
          if (checkpointOrdinals[i] >= 0) {
            continue;
          }
          if (start >= checkpoints[i]) {
            checkpointOrdinals[i] = ordinal;
          } else if (checkpoints[i] < end) {
            checkpoints[i] = start; // inside a record: deliver it again
            checkpointOrdinals[i] = ordinal;
          }
        }
        offset = end - segment.base;
        records++;
      }
      segment.writeLength = offset;
      segment.writeRecords = records;
      if (problem != null) {
        LOGGER.log(
            System.Logger.Level.WARNING,
            "queue "
                + directory
                + ": "
                + problem
                + " at offset "
                + offset
                + " of "
                + segment.path.getFileName()
                + " ("
                + (size - offset)
                + " bytes); truncating them, "
                + records
                + " records before it are kept");
        channel.truncate(offset);
        channel.force(true);
        return true;
      }
      return false;
    }
  }

  // ------------------------------------------------------------------------------------ builder

  /**
   * Configures and opens a {@link DurableQueue}. Not thread-safe; setters validate and name the bad
   * parameter.
   */
  public static final class Builder {
    private final Path directory;
    private long segmentBytes = DEFAULT_SEGMENT_BYTES;
    private long maxBytes = DEFAULT_MAX_BYTES;
    private FsyncPolicy fsyncPolicy = FsyncPolicy.perBatch();
    private FullPolicy whenFull = FullPolicy.REFUSE;
    private final Set<String> consumerNames = new LinkedHashSet<>();
    private MetricsRegistry metrics;
    private String queueName = "queue";
    private SegmentChannels channels = SegmentChannels.DEFAULT;
    private LongSupplier millisClock = System::currentTimeMillis;

    private Builder(Path directory) {
      this.directory = Objects.requireNonNull(directory, "directory");
    }

    /**
     * The size at which a segment file is sealed and a new one started; default {@link
     * #DEFAULT_SEGMENT_BYTES}. A record larger than this goes alone into its own segment.
     */
    public Builder segmentBytes(long bytes) {
      if (bytes < RecordFormat.HEADER_BYTES + 1) {
        throw new IllegalArgumentException(
            "segmentBytes must be at least " + (RecordFormat.HEADER_BYTES + 1) + ", was " + bytes);
      }
      this.segmentBytes = bytes;
      return this;
    }

    /**
     * The most bytes of segment files on disk; default {@link #DEFAULT_MAX_BYTES}. Must be at least
     * {@code segmentBytes}; since space is reclaimed in whole segments, a bound of several segments
     * lets producers go on while consumers catch up.
     */
    public Builder maxBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxBytes must be positive, was " + bytes);
      }
      this.maxBytes = bytes;
      return this;
    }

    /** When records are forced to disk; default {@link FsyncPolicy#perBatch()}. */
    public Builder fsyncPolicy(FsyncPolicy policy) {
      this.fsyncPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** What a full queue does; default {@link FullPolicy#REFUSE}. */
    public Builder whenFull(FullPolicy policy) {
      this.whenFull = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The consumers (one per exporter), at least one; each keeps a checkpoint file named after it.
     * Any string without control characters is a valid name.
     */
    public Builder consumers(String... names) {
      Objects.requireNonNull(names, "names");
      for (String name : names) {
        Objects.requireNonNull(name, "consumer name");
        if (name.isEmpty() || name.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
          throw new IllegalArgumentException(
              "consumer name must be non-empty without control characters, was '" + name + "'");
        }
        if (!consumerNames.add(name)) {
          throw new IllegalArgumentException("consumer '" + name + "' given twice");
        }
      }
      return this;
    }

    /** Registers the {@code otlp4j_queue_*} metrics with label {@code queue=queueName}. */
    public Builder metrics(MetricsRegistry registry, String queueName) {
      this.metrics = Objects.requireNonNull(registry, "registry");
      this.queueName = Objects.requireNonNull(queueName, "queueName");
      return this;
    }

    /** Test seam: how segment files are opened for writing. */
    Builder segmentChannels(SegmentChannels channels) {
      this.channels = Objects.requireNonNull(channels, "channels");
      return this;
    }

    /** Test seam: the wall clock for append times. */
    Builder millisClock(LongSupplier millisClock) {
      this.millisClock = Objects.requireNonNull(millisClock, "millisClock");
      return this;
    }

    /**
     * Creates the directory if needed, locks it, recovers what is there (verifying every record from
     * the oldest checkpoint on and truncating a torn or corrupt tail) and starts the writer.
     *
     * @throws IOException if the directory cannot be created or read, or another open queue holds it
     * @throws IllegalStateException if no consumer was configured or maxBytes &lt; segmentBytes
     */
    public DurableQueue open() throws IOException {
      if (consumerNames.isEmpty()) {
        throw new IllegalStateException("a durable queue needs at least one consumer");
      }
      if (maxBytes < segmentBytes) {
        throw new IllegalStateException(
            "maxBytes (" + maxBytes + ") must be at least segmentBytes (" + segmentBytes + ")");
      }
      Files.createDirectories(directory);
      FileChannel lockChannel =
          FileChannel.open(
              directory.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      } catch (IOException e) {
        lockChannel.close();
        throw e;
      }
      if (lock == null) {
        lockChannel.close();
        throw new IOException("queue directory " + directory + " is in use by another open queue");
      }
      try {
        return new DurableQueue(this, lockChannel, lock);
      } catch (IOException | RuntimeException e) {
        lock.release();
        lockChannel.close();
        throw e;
      }
    }
  }
}
