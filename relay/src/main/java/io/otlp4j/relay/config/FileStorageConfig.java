package io.otlp4j.relay.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A {@code file_storage} extension: where durable queues live, and their bounds. Immutable.
 *
 * @param directory created when missing
 * @param maxBytes the bound on disk of each pipeline's queue ({@code max_size_mib})
 * @param segmentBytes the size of one segment file ({@code segment_size_mib})
 * @param fsyncInterval for {@link FsyncMode#INTERVAL}
 * @param dropOldest when full: drop the oldest records ({@code when_full: drop_oldest}) instead of
 *     refusing new ones with a retryable answer ({@code refuse}, the default)
 */
public record FileStorageConfig(
    String id,
    Path directory,
    long maxBytes,
    long segmentBytes,
    FsyncMode fsync,
    Duration fsyncInterval,
    boolean dropOldest)
    implements ExtensionConfig {

  /** The default bound on disk of one pipeline's durable queue. */
  public static final int DEFAULT_MAX_SIZE_MIB = 1024;

  /** The default size of one durable queue segment file. */
  public static final int DEFAULT_SEGMENT_SIZE_MIB = 64;

  /** The default interval of {@code fsync: interval}. */
  public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofSeconds(1);

  /** How a durable queue forces its writes to disk ({@code file_storage.fsync}). */
  public enum FsyncMode {
    /** Every group of concurrent appends is forced before it is acknowledged (the default). */
    BATCH,
    /** Forced on an interval: an acknowledged record may be lost in a machine crash within it. */
    INTERVAL,
    /** Never forced by the relay (unsafe: the operating system decides). */
    NEVER
  }
}
