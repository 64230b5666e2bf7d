package io.otlp4j.queue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.otlp4j.core.internal.FaultInjection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;

/**
 * One consumer's view of a {@link DurableQueue}: it reads the records after its read position and
 * persists a checkpoint when told they are done. Obtain it with {@link
 * DurableQueue#consumer(String)}.
 *
 * <p><b>Thread-safety:</b> meant for one exporter loop, but safe from any thread: {@link #poll},
 * {@link #commit} and {@link #awaitRecords()} serialize on this consumer (so a commit from an
 * export callback may race a poll on the loop thread); {@link #pendingBytes()} and {@link
 * #pendingRecords()} never block.
 *
 * <p><b>Delivery:</b> at-least-once. The read position starts at the persisted checkpoint when the
 * queue opens; records polled but not committed before a restart are polled again. Commits need not
 * follow every poll: committing a later position covers every record before it.
 *
 * <p><b>Buffer ownership:</b> every {@link QueueRecord#payload()} returned by {@link #poll} belongs
 * to the caller, who must release it.
 */
public final class QueueConsumer {

  private static final int CHECKPOINT_BYTES = 12;

  private final DurableQueue queue;
  private final String name;
  private final Path checkpointPath;

  /** Persisted read position; only grows (commits, drops). Guarded by this for writes. */
  private volatile long checkpoint;

  /** Records before the checkpoint. */
  private volatile long checkpointOrdinal;

  // consumer thread
  private long readPosition;
  private long readOrdinal;
  private final ArrayDeque<long[]> polled = new ArrayDeque<>(); // {end, ordinal after}
  private Segment readSegment;
  private FileChannel readChannel;
  private final ByteBuffer header = ByteBuffer.allocate(RecordFormat.HEADER_BYTES);

  /** Guarded by this. */
  private FileChannel checkpointChannel;

  private final AtomicReference<CompletableFuture<Void>> waiter = new AtomicReference<>();

  QueueConsumer(DurableQueue queue, String name) {
    this.queue = queue;
    this.name = name;
    this.checkpointPath = queue.directory.resolve("consumer-" + fileSafe(name) + ".checkpoint");
  }

  /** This consumer's name. */
  public String name() {
    return name;
  }

  /**
   * Reads up to {@code maxRecords} records, and about {@code maxBytes} of payload (always at least
   * one record when one is there), after the read position without blocking, and advances the
   * in-memory read position past them; empty when none. Each record's payload is a buffer the
   * caller must release. A record that fails its CRC (the disk changed under a running queue) is
   * skipped with its segment's rest, and logged.
   *
   * @throws IllegalArgumentException if {@code maxRecords} or {@code maxBytes} is not positive
   */
  public synchronized List<QueueRecord> poll(int maxRecords, long maxBytes) {
    if (maxRecords < 1) {
      throw new IllegalArgumentException("maxRecords must be positive, was " + maxRecords);
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
    }
    List<QueueRecord> out = new ArrayList<>(Math.min(maxRecords, 64));
    if (queue.isClosed()) {
      return out;
    }
    skipDropped();
    long bytes = 0;
    while (out.size() < maxRecords) {
      if (readPosition >= queue.publishedTail) {
        break;
      }
      Segment segment = queue.segmentAt(readPosition);
      if (segment == null || segment.deleted) {
        if (!skipDropped()) {
          break;
        }
        continue;
      }
      if (readPosition >= segment.visibleEnd()) {
        Segment next = queue.segmentAfter(segment);
        if (next == null) {
          break;
        }
        moveTo(next.base, next.firstOrdinal);
        continue;
      }
      ByteBuf payload = null;
      try {
        FileChannel channel = channelFor(segment);
        long offset = readPosition - segment.base;
        header.clear();
        DurableQueue.readFully(channel, header, offset);
        int length = RecordFormat.payloadLength(header);
        long end = readPosition + RecordFormat.HEADER_BYTES + length;
        if (length < 0 || end > segment.visibleEnd()) {
          skipCorrupt(segment, "bad record header");
          continue;
        }
        if (!out.isEmpty() && bytes + length > maxBytes) {
          break;
        }
        payload = ByteBufAllocator.DEFAULT.directBuffer(length, length);
        long at = offset + RecordFormat.HEADER_BYTES;
        while (payload.isWritable()) {
          int n = payload.writeBytes(channel, at, payload.writableBytes());
          if (n < 0) {
            throw new IOException("unexpected end of " + segment.path);
          }
          at += n;
        }
        if (!RecordFormat.crcMatches(header, payload.nioBuffer())) {
          payload.release();
          payload = null;
          skipCorrupt(segment, "CRC mismatch");
          continue;
        }
        out.add(
            new QueueRecord(
                end,
                RecordFormat.kind(header),
                RecordFormat.itemCount(header),
                RecordFormat.appendedAtMillis(header),
                payload));
        payload = null;
        bytes += length;
        readPosition = end;
        readOrdinal++;
        polled.addLast(new long[] {end, readOrdinal});
      } catch (IOException e) {
        if (payload != null) {
          payload.release();
        }
        closeReadChannel();
        if (segment.deleted || e instanceof NoSuchFileException) {
          continue; // dropped meanwhile: skipDropped moves on
        }
        DurableQueue.LOGGER.log(
            System.Logger.Level.WARNING,
            "consumer '" + name + "' could not read " + segment.path + ": " + e);
        break;
      }
    }
    return out;
  }

  /**
   * Completes when a record beyond the read position exists (at once if one does). When it had to
   * wait, it completes on the queue's ack thread, never on its writer thread. Fails with an {@link
   * IllegalStateException} when the queue closes.
   */
  public synchronized CompletableFuture<Void> awaitRecords() {
    if (readPosition < queue.publishedTail) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> future = waiter.get();
    if (future == null || future.isDone()) {
      future = new CompletableFuture<>();
      waiter.set(future);
    }
    // re-check after publishing the waiter: the writer reads it after storing publishedTail
    if (readPosition < queue.publishedTail) {
      future.complete(null);
    } else if (queue.isClosed()) {
      future.completeExceptionally(new IllegalStateException("queue is closed"));
    }
    return future;
  }

  /**
   * Everything up to and including {@code position} (a polled record's {@link
   * QueueRecord#position()}) is done — exported or given up. Persists the checkpoint (12 bytes
   * overwritten in place, not forced: after a power loss an older checkpoint may come back, which
   * only means redelivery) and deletes whole segments every consumer is past. A position at or
   * before the checkpoint is ignored.
   *
   * @throws IllegalArgumentException if {@code position} is beyond what was polled
   */
  public void commit(long position) {
    FaultInjection.check(FaultInjection.Stage.CHECKPOINT);
    if (advanceFromPolled(position)) {
      queue.reclaim(); // outside this consumer's lock: the writer takes the segments lock first
    }
  }

  private synchronized boolean advanceFromPolled(long position) {
    if (position <= checkpoint) {
      return false;
    }
    if (position > readPosition) {
      throw new IllegalArgumentException(
          "cannot commit position "
              + position
              + " beyond consumer '"
              + name
              + "''s read position "
              + readPosition
              + ": commit positions of polled records");
    }
    long ordinal = checkpointOrdinal;
    while (!polled.isEmpty() && polled.peekFirst()[0] <= position) {
      ordinal = polled.pollFirst()[1];
    }
    advanceTo(position, ordinal);
    return true;
  }

  /** Bytes queued after the checkpoint (record headers included). */
  public long pendingBytes() {
    return Math.max(0, queue.publishedTail - checkpoint);
  }

  /** Records queued after the checkpoint. */
  public long pendingRecords() {
    return Math.max(0, queue.publishedRecords - checkpointOrdinal);
  }

  /** The persisted read position (the position of the last committed record, or where it began). */
  public long checkpoint() {
    return checkpoint;
  }

  long checkpointOrdinal() {
    return checkpointOrdinal;
  }

  // ------------------------------------------------------------------------------------ internals

  /** Advances the checkpoint (commit, or DROP_OLDEST from the writer) and persists it. */
  synchronized void advanceTo(long position, long ordinal) {
    if (position <= checkpoint) {
      return;
    }
    checkpointOrdinal = Math.max(checkpointOrdinal, ordinal);
    checkpoint = position;
    persist(position);
  }

  /**
   * After recovery, before any other thread sees this consumer: starts reading at the recovered
   * checkpoint and persists it (it may have been clamped or snapped; this also creates the file
   * while the disk has room, so later commits only overwrite it).
   */
  synchronized void recovered(long checkpoint, long checkpointOrdinal) {
    this.checkpoint = checkpoint;
    this.checkpointOrdinal = checkpointOrdinal;
    this.readPosition = checkpoint;
    this.readOrdinal = checkpointOrdinal;
    persist(checkpoint);
  }

  /**
   * From the writer thread: wakes a waiting consumer off that thread (on the queue's ack thread),
   * so its work never delays a force. Not the common fork-join pool: with fewer than three cores
   * its async methods start a new thread for every task (thousands a minute at 10k spans/s on 2
   * cores).
   */
  void signalRecords() {
    CompletableFuture<Void> future = waiter.getAndSet(null);
    if (future != null) {
      future.completeAsync(() -> null, queue.acks);
    }
  }

  void onQueueClosed() {
    CompletableFuture<Void> future = waiter.getAndSet(null);
    if (future != null) {
      future.completeExceptionally(new IllegalStateException("queue is closed"));
    }
    synchronized (this) {
      closeReadChannel();
      DurableQueue.closeQuietly(checkpointChannel);
      checkpointChannel = null;
    }
  }

  /** Moves the read position past segments deleted by DROP_OLDEST; false if none is left. */
  private boolean skipDropped() {
    Segment first = queue.firstSegment();
    if (first == null) {
      return false;
    }
    if (readPosition < first.base) {
      moveTo(first.base, first.firstOrdinal);
      while (!polled.isEmpty() && polled.peekFirst()[0] <= first.base) {
        polled.pollFirst();
      }
    }
    return true;
  }

  private void moveTo(long position, long ordinal) {
    readPosition = position;
    readOrdinal = ordinal;
  }

  private void skipCorrupt(Segment segment, String problem) {
    DurableQueue.LOGGER.log(
        System.Logger.Level.ERROR,
        "consumer '"
            + name
            + "': "
            + problem
            + " at position "
            + readPosition
            + " in "
            + segment.path
            + "; skipping the rest of the segment");
    Segment next = queue.segmentAfter(segment);
    if (next != null) {
      moveTo(next.base, next.firstOrdinal);
    } else {
      moveTo(segment.visibleEnd(), segment.firstOrdinal + segment.visibleRecords);
    }
  }

  private FileChannel channelFor(Segment segment) throws IOException {
    if (readSegment != segment || readChannel == null) {
      closeReadChannel();
      readChannel = FileChannel.open(segment.path, StandardOpenOption.READ);
      readSegment = segment;
    }
    return readChannel;
  }

  private void closeReadChannel() {
    DurableQueue.closeQuietly(readChannel);
    readChannel = null;
    readSegment = null;
  }

  /** The persisted checkpoint, or -1 if there is none (or it is unreadable). */
  long readPersistedCheckpoint() {
    try {
      byte[] bytes = Files.readAllBytes(checkpointPath);
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      if (bytes.length != CHECKPOINT_BYTES) {
        throw new IOException("checkpoint file has " + bytes.length + " bytes");
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes, 0, 8);
      if ((int) crc.getValue() != buffer.getInt(8)) {
        throw new IOException("checkpoint file fails its CRC");
      }
      return buffer.getLong(0);
    } catch (NoSuchFileException e) {
      return -1;
    } catch (IOException e) {
      DurableQueue.LOGGER.log(
          System.Logger.Level.WARNING,
          "consumer '" + name + "': " + e.getMessage() + "; starting from the oldest record");
      return -1;
    }
  }

  /**
   * Overwrites the checkpoint file in place: one 12-byte positional write (position and its CRC32C)
   * that needs no new disk space, so commits keep working on a full disk. A write torn by a power
   * loss fails the CRC on open, which means redelivery from the oldest record, never loss.
   */
  private void persist(long position) {
    ByteBuffer buffer = ByteBuffer.allocate(CHECKPOINT_BYTES);
    buffer.putLong(0, position);
    CRC32C crc = new CRC32C();
    crc.update(buffer.array(), 0, 8);
    buffer.putInt(8, (int) crc.getValue());
    try {
      if (checkpointChannel == null) {
        checkpointChannel =
            FileChannel.open(checkpointPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      }
      while (buffer.hasRemaining()) {
        checkpointChannel.write(buffer, buffer.position());
      }
    } catch (IOException e) {
      DurableQueue.closeQuietly(checkpointChannel);
      checkpointChannel = null;
      // Not fatal: an older checkpoint means redelivery after a restart (at-least-once).
      DurableQueue.LOGGER.log(
          System.Logger.Level.WARNING,
          "consumer '" + name + "': could not persist checkpoint " + position + ": " + e);
    }
  }

  /** Letters, digits, '-', '_' and '.' as they are; every other UTF-8 byte as %XX. */
  static String fileSafe(String name) {
    StringBuilder out = new StringBuilder();
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      int ch = b & 0xff;
      if ((ch >= 'a' && ch <= 'z')
          || (ch >= 'A' && ch <= 'Z')
          || (ch >= '0' && ch <= '9')
          || ch == '-'
          || ch == '_'
          || (ch == '.' && out.length() > 0)) {
        out.append((char) ch);
      } else {
        out.append('%').append(String.format("%02X", ch));
      }
    }
    return out.toString();
  }

  @Override
  public String toString() {
    return "QueueConsumer[" + name + ", checkpoint " + checkpoint + "]";
  }
}
