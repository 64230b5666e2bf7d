package io.otlp4j.queue;

import static io.otlp4j.queue.DurableQueue.LOGGER;
import static io.otlp4j.queue.DurableQueue.readFully;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Opens a {@link DurableQueue}'s directory: finds the segment files, deletes the whole segments
 * every consumer is past, verifies every record's CRC32C from the oldest checkpoint on and
 * truncates a torn or corrupt tail, then places each consumer at its persisted checkpoint (snapped
 * to a record's start) and the writer at the end of the last segment. Runs once, in the queue's
 * constructor, before the writer and the consumers start: single-threaded.
 */
final class QueueRecovery {

  private final DurableQueue queue;
  private final Path directory;
  private final SegmentChannels channels;
  private final ConcurrentSkipListMap<Long, Segment> segments;
  private final Map<String, QueueConsumer> consumers;
  private final AtomicLong sizeBytes;

  QueueRecovery(DurableQueue queue) {
    this.queue = queue;
    this.directory = queue.directory;
    this.channels = queue.channels;
    this.segments = queue.segments;
    this.consumers = queue.consumers;
    this.sizeBytes = queue.sizeBytes;
  }

  void recover() throws IOException {
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
      queue.active = segment;
      queue.forceDirectory();
      for (QueueConsumer consumer : consumers.values()) {
        consumer.recovered(base, 0);
      }
      queue.publishedTail = base;
      queue.publishedRecords = 0;
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
    queue.active = last;
    queue.publishedRecords = ordinal;
    queue.publishedTail = tail;
    if (removed || truncated) {
      queue.forceDirectory();
    }
  }

  /**
   * Verifies every record of {@code segment}'s file, truncating it at the first torn or corrupt
   * one; fills the segment's lengths and snaps each checkpoint that falls inside a record to its
   * start. Returns whether the file was truncated.
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
}
