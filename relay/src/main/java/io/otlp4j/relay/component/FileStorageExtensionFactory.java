package io.otlp4j.relay.component;

import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.FileStorageConfig;
import io.otlp4j.relay.config.FileStorageConfig.FsyncMode;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code file_storage} extension: where the durable queues of the exporters whose {@code
 * sending_queue.storage} names it live ({@code directory}), their bounds ({@code max_size_mib},
 * {@code segment_size_mib}), how they force writes ({@code fsync}, {@code fsync_interval}) and what
 * happens when full ({@code when_full}). The relay opens one queue per pipeline in it.
 */
final class FileStorageExtensionFactory implements ExtensionFactory<FileStorageConfig> {

  @Override
  public String type() {
    return "file_storage";
  }

  @Override
  public FileStorageConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    // timeout, create_directory and compaction are the Collector's (bbolt) keys: accepted, not
    // needed.
    in.checkKeys(
        m,
        where,
        "directory",
        "max_size_mib",
        "segment_size_mib",
        "fsync",
        "fsync_interval",
        "when_full",
        "timeout",
        "create_directory",
        "compaction");
    ConfigNode d = m.get("directory");
    if (d == null) {
      in.error(node.line(), where + ".directory", "is required");
      return null;
    }
    String directory = in.string(d, where + ".directory");
    if (directory != null && directory.isBlank()) {
      in.error(d.line(), where + ".directory", "must not be empty");
      directory = null;
    }
    int maxMib =
        in.intValue(
            m.get("max_size_mib"),
            where + ".max_size_mib",
            FileStorageConfig.DEFAULT_MAX_SIZE_MIB,
            1);
    int segmentMib =
        in.intValue(
            m.get("segment_size_mib"),
            where + ".segment_size_mib",
            FileStorageConfig.DEFAULT_SEGMENT_SIZE_MIB,
            1);
    if (m.get("segment_size_mib") != null && segmentMib > maxMib) {
      in.error(
          m.get("segment_size_mib").line(),
          where + ".segment_size_mib",
          "must not exceed max_size_mib (" + maxMib + "), was " + segmentMib);
    }
    FsyncMode fsync = FsyncMode.BATCH;
    ConfigNode f = m.get("fsync");
    if (f != null) {
      String t = String.valueOf(f.value()).trim().toLowerCase(Locale.ROOT);
      switch (t) {
        case "batch", "true" -> fsync = FsyncMode.BATCH;
        case "interval" -> fsync = FsyncMode.INTERVAL;
        case "never", "false" -> fsync = FsyncMode.NEVER;
        default ->
            in.error(
                f.line(),
                where + ".fsync",
                "unknown fsync policy '" + f.value() + "' (batch, interval, never)");
      }
    }
    Duration interval =
        in.duration(
            m.get("fsync_interval"),
            where + ".fsync_interval",
            FileStorageConfig.DEFAULT_FSYNC_INTERVAL);
    if (interval != null && interval.isZero()) {
      in.error(m.get("fsync_interval").line(), where + ".fsync_interval", "must be positive");
    }
    boolean dropOldest = false;
    ConfigNode w = m.get("when_full");
    if (w != null) {
      String t = String.valueOf(w.value()).trim();
      switch (t) {
        case "refuse" -> dropOldest = false;
        case "drop_oldest" -> dropOldest = true;
        default ->
            in.error(
                w.line(),
                where + ".when_full",
                "unknown policy '" + w.value() + "' (refuse, drop_oldest)");
      }
    }
    in.bool(m.get("create_directory"), where + ".create_directory", true);
    in.duration(m.get("timeout"), where + ".timeout", Duration.ofSeconds(1));
    if (directory == null) {
      return null;
    }
    return new FileStorageConfig(
        id,
        in.baseDir().resolve(directory),
        maxMib * 1024L * 1024L,
        segmentMib * 1024L * 1024L,
        fsync,
        interval == null ? FileStorageConfig.DEFAULT_FSYNC_INTERVAL : interval,
        dropOldest);
  }
}
