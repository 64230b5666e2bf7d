package io.otlp4j.relay.config;

import io.otlp4j.relay.SendingQueueSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A {@code file} exporter: one {@code path} or a {@code directory} with a file per signal; {@code
 * proto} writes the Collector's length-prefixed protobuf instead of JSON lines; {@code maxAge}
 * (null: no limit) is rotation's {@code max_days}. Immutable.
 */
public record FileExporterConfig(
    String id,
    Path path,
    Path directory,
    long maxBytes,
    int maxBackups,
    SendingQueueSettings sendingQueue,
    boolean proto,
    Duration maxAge,
    boolean localTime,
    boolean append)
    implements ExporterConfig {

  public FileExporterConfig(
      String id,
      Path path,
      Path directory,
      long maxBytes,
      int maxBackups,
      SendingQueueSettings sendingQueue) {
    this(id, path, directory, maxBytes, maxBackups, sendingQueue, false, null, false, true);
  }
}
