package io.otlp4j.queue;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One segment file: records from position {@code base} on. Fields marked "writer" belong to the
 * writer thread; the volatile ones are published by it after a group is durable and read by
 * consumers.
 */
final class Segment {

  static final String SUFFIX = ".seg";

  final long base;
  final Path path;

  /** Ordinal (count of records in the log before it) of this segment's first record. */
  final long firstOrdinal;

  /** Writer: bytes written (durable or not). */
  long writeLength;

  /** Writer: records written. */
  long writeRecords;

  /** Writer: the channel while this segment is written; null once sealed. */
  FileChannel channel;

  /** Published length: consumers read only below {@code base + visibleLength}. */
  volatile long visibleLength;

  /** Published record count. */
  volatile long visibleRecords;

  /** Set (under the queue's segments lock) when the file is deleted. */
  volatile boolean deleted;

  Segment(long base, Path path, long firstOrdinal) {
    this.base = base;
    this.path = path;
    this.firstOrdinal = firstOrdinal;
  }

  static String fileName(long base) {
    return String.format("%020d%s", base, SUFFIX);
  }

  /** The base parsed from a segment file name, or -1 if it is not one. */
  static long parseBase(String fileName) {
    if (!fileName.endsWith(SUFFIX) || fileName.length() != 20 + SUFFIX.length()) {
      return -1;
    }
    try {
      return Long.parseLong(fileName.substring(0, 20));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  long visibleEnd() {
    return base + visibleLength;
  }

  @Override
  public String toString() {
    return path.getFileName() + "[" + base + ", +" + visibleLength + ")";
  }
}
