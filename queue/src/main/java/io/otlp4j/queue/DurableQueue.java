package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.RequestCoalescer;
import io.otlp4j.core.internal.FaultInjection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A durable write-ahead queue on local disk: records are appended to segment files, forced to
 * stable storage in groups, and read by named consumers that each keep a persisted checkpoint.
 *
 * <p>Open one with {@link #builder(Path)}; {@link #close()} it when done (idempotent). At most one
 * open queue may use a directory at a time (a lock file enforces it, across processes too).
 *
 * <h2>Concurrency</h2>
 *
 * {@link #append} may be called from any number of threads and never blocks: appends are handed to
 * one writer thread (core's {@link RequestCoalescer}), which takes everything that arrived while
 * the previous group was being written, writes it with one gathering write and, with {@link
 * FsyncPolicy#perBatch()}, hands it to a forcer thread ({@link GroupForcer}): one force covers
 * every group written before it started, and the writer goes on writing the next groups meanwhile.
 * After the force the group's answers go to the queue's acknowledgement thread ({@code
 * otlp4j-queue-ack-<name>}), which completes the append futures: their dependent stages (a client's
 * answer, a gRPC {@code onNext}/{@code onCompleted}) run there, never on the writer, so they cannot
 * delay the next write and force. That thread's backlog is bounded ({@link #ACK_BACKLOG} answers);
 * when it is full, the writer completes the futures itself (back-pressure, nothing is lost). Each
 * consumer ({@link QueueConsumer}) serves one exporter loop; consumers never block the writer: they
 * read only below the published tail, which the writer advances after a group is durable, and are
 * woken off the writer thread. Do not call {@link #close()} from an append's completion stage (it
 * waits for the writer).
 *
 * <h2>Durability</h2>
 *
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
 *
 * The queue holds at most {@code maxBytes} of segment files. Space is reclaimed in whole segments,
 * once every consumer has committed past one. When an append would exceed the bound, {@link
 * FullPolicy#REFUSE} (the default) answers {@link AppendResult.Refused} with {@code retryable =
 * true}; {@link FullPolicy#DROP_OLDEST} deletes the oldest segment instead, advancing lagging
 * consumers and counting the lost records. An I/O error while writing or forcing — such as {@code
 * No space left on device} — is handled like a full queue: the group's partial writes are truncated
 * away, its appends are refused as retryable, and later appends succeed once space returns. At most
 * {@link RequestCoalescer#DEFAULT_MAX_PENDING} appends wait for the writer; beyond that an append
 * is refused as retryable at once. A record larger than {@code maxBytes} is refused as not
 * retryable.
 *
 * <h2>Buffer ownership</h2>
 *
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

  final Path directory;
  private final FsyncPolicy fsync;
  final SegmentChannels channels;
  final LongSupplier millisClock;

  final ConcurrentSkipListMap<Long, Segment> segments = new ConcurrentSkipListMap<>();
  final Object segmentsLock = new Object();
  final Map<String, QueueConsumer> consumers = new LinkedHashMap<>();
  final AtomicLong sizeBytes = new AtomicLong();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** The segment being written; changed by the writer under segmentsLock. */
  volatile Segment active;

  /** Base of the segment the writer's current group started in; Long.MAX_VALUE between groups. */
  volatile long groupStartBase = Long.MAX_VALUE;

  /** Log offset below which everything is durable and readable. */
  volatile long publishedTail;

  /** Records below publishedTail (ordinal of the next record). */
  volatile long publishedRecords;

  private final RequestCoalescer<PendingAppend, Void> coalescer;
  private final GroupWriter writer;
  final SegmentReclaimer reclaimer = new SegmentReclaimer(this);
  private final ScheduledExecutorService intervalForcer;

  /** Completes the append futures off the writer thread; see "Concurrency". */
  final java.util.concurrent.ThreadPoolExecutor
      acks; // also wakes waiting consumers (QueueConsumer)

  /**
   * The acknowledgement thread's backlog: answers waiting to be handed on. When full, the writer
   * hands them on itself (so the bound is back-pressure on the writer, never a loss).
   */
  static final int ACK_BACKLOG = RequestCoalescer.DEFAULT_MAX_PENDING;

  private final FileChannel lockChannel;
  private final FileLock lock;
  private final MetricsRegistry.Counter refusedRecords;

  private DurableQueue(Builder builder, FileChannel lockChannel, FileLock lock) throws IOException {
    this.directory = builder.directory;
    this.fsync = builder.fsyncPolicy;
    this.channels = builder.channels;
    this.millisClock = builder.millisClock;
    this.lockChannel = lockChannel;
    this.lock = lock;
    MetricsRegistry registry = builder.metrics != null ? builder.metrics : MetricsRegistry.create();
    String queueName = builder.queueName;
    QueueMetrics metrics = new QueueMetrics(registry, queueName, sizeBytes, builder.maxBytes);
    this.refusedRecords = metrics.refusedRecords;

    for (String name : builder.consumerNames) {
      consumers.put(name, new QueueConsumer(this, name));
    }
    new QueueRecovery(this).recover();
    metrics.registerConsumers(this);
    this.writer =
        new GroupWriter(
            this,
            queueName,
            builder.segmentBytes,
            builder.maxBytes,
            fsync,
            builder.whenFull,
            metrics);

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
            // Backlog full, or the queue closing: the caller (the writer) completes the future
            // itself.
            (runnable, executor) -> runnable.run());
    this.coalescer =
        RequestCoalescer.<PendingAppend, Void>builder(writer::writeGroup)
            .threadFactory(
                runnable -> {
                  Thread thread = new Thread(runnable, "otlp4j-queue-writer-" + queueName);
                  thread.setDaemon(true);
                  return thread;
                })
            .build();
    if (writer.forcer != null) {
      writer.forcer.start();
    }
    if (fsync.mode() == FsyncPolicy.Mode.INTERVAL) {
      intervalForcer =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "otlp4j-queue-fsync-" + queueName);
                thread.setDaemon(true);
                return thread;
              });
      long nanos = fsync.intervalDuration().toNanos();
      intervalForcer.scheduleWithFixedDelay(
          writer::forceActive, nanos, nanos, TimeUnit.NANOSECONDS);
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
    PendingAppend pending;
    try {
      // Framed here, on the caller's thread: the CRC32C of every record would otherwise run
      // serially on the one writer thread.
      pending = new PendingAppend(kind, itemCount, payload, millisClock.getAsLong());
    } catch (RuntimeException e) { // released or otherwise unreadable: this caller's bug alone
      refusedRecords.increment();
      return CompletableFuture.completedFuture(
          new AppendResult.Refused("payload cannot be read: " + e, false));
    }
    // The writer completes pending.result (through the acknowledgement thread, one task per
    // group); the coalescer's own future only reports an append it never carried.
    coalescer
        .submit(pending, RecordFormat.HEADER_BYTES + (long) pending.length)
        .whenComplete(
            (ignored, error) -> {
              if (error != null) {
                refusedRecords.increment();
                // Off the writer (a failing group's sweep may run there), as every answer is.
                acks.execute(() -> pending.result.complete(refusal(error)));
              }
            });
    return pending.result;
  }

  private AppendResult refusal(Throwable error) {
    if (error instanceof RejectedExecutionException) {
      return new AppendResult.Refused("queue writer backlog is full: " + error.getMessage(), true);
    }
    if (closed.get()) {
      return new AppendResult.Refused("queue is closed", false);
    }
    return new AppendResult.Refused("append failed: " + error, true);
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
    if (writer.forcer != null) {
      writer.forcer.stop(); // forces and answers every group written ahead
    }
    acks.shutdown(); // what is queued still runs; later answers run on the caller (the rejection
    // handler)
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
          LOGGER.log(
              System.Logger.Level.WARNING, "queue " + directory + ": force on close failed", e);
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

  // ------------------------------------------------------------------------------------ segments

  void forceDirectory() throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().contains("Is a directory")) {
        return; // platforms that cannot open a directory: nothing to force
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------ consumers

  /** Deletes every whole segment all consumers have committed past (called after a commit). */
  void reclaim() {
    reclaimer.reclaim();
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
     * Creates the directory if needed, locks it, recovers what is there (verifying every record
     * from the oldest checkpoint on and truncating a torn or corrupt tail) and starts the writer.
     *
     * @throws IOException if the directory cannot be created or read, or another open queue holds
     *     it
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
