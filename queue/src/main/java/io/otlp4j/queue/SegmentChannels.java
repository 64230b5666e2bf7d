package io.otlp4j.queue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opens the channel a segment is written through. A seam for tests, which wrap the channel to fail
 * writes as a full disk would ({@code No space left on device}).
 */
interface SegmentChannels {

  SegmentChannels DEFAULT =
      path ->
          FileChannel.open(
              path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);

  /** Opens {@code path} for reading and writing, creating it if absent. */
  FileChannel openForWrite(Path path) throws IOException;
}
