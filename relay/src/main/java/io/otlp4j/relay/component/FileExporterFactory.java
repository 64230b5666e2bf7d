package io.otlp4j.relay.component;

import io.otlp4j.relay.FileExporter;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import io.otlp4j.relay.config.ExporterHelperReader;
import io.otlp4j.relay.config.FileExporterConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The {@code file} exporter: {@code path}, {@code format} (json, proto), {@code rotation}, {@code
 * flush_interval}, {@code append} and {@code sending_queue}. Builds a {@link FileExporter}.
 */
final class FileExporterFactory implements ExporterFactory<FileExporterConfig> {

  @Override
  public String type() {
    return "file";
  }

  @Override
  public FileExporterConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(
        m,
        where,
        List.of("compression", "encoding", "group_by"),
        "path",
        "rotation",
        "format",
        "flush_interval",
        "append",
        "sending_queue");
    SendingQueueSettings queue =
        ExporterHelperReader.sendingQueue(in, id, m.get("sending_queue"), where);
    ConfigNode p = m.get("path");
    if (p == null) {
      in.error(node.line(), where + ".path", "is required");
      return null;
    }
    String path = in.string(p, where + ".path");
    boolean proto = false;
    ConfigNode f = m.get("format");
    if (f != null) {
      if ("proto".equals(f.text())) {
        proto = true;
      } else if (!"json".equals(f.text())) {
        in.error(
            f.line(),
            where + ".format",
            "unknown format '" + f.value() + "' (supported: json, proto)");
      }
    }
    Duration flush =
        in.duration(m.get("flush_interval"), where + ".flush_interval", Duration.ofSeconds(1));
    if (flush != null && flush.isZero()) {
      in.error(m.get("flush_interval").line(), where + ".flush_interval", "must be positive");
    }
    boolean append = in.bool(m.get("append"), where + ".append", false);
    long maxBytes = FileExporter.DEFAULT_MAX_BYTES;
    int maxBackups = FileExporter.DEFAULT_MAX_BACKUPS;
    Duration maxAge = null;
    boolean localTime = false;
    ConfigNode r = m.get("rotation");
    if (r != null) {
      Map<String, ConfigNode> rm = in.mapOrEmpty(r, where + ".rotation");
      if (rm != null) {
        in.checkKeys(
            rm, where + ".rotation", "max_megabytes", "max_days", "max_backups", "localtime");
        maxBytes =
            in.intValue(rm.get("max_megabytes"), where + ".rotation.max_megabytes", 100, 1)
                * 1024L
                * 1024L;
        maxBackups =
            in.intValue(
                rm.get("max_backups"),
                where + ".rotation.max_backups",
                FileExporter.DEFAULT_MAX_BACKUPS,
                0);
        int days = in.intValue(rm.get("max_days"), where + ".rotation.max_days", 0, 0);
        maxAge = days == 0 ? null : Duration.ofDays(days);
        localTime = in.bool(rm.get("localtime"), where + ".rotation.localtime", false);
      }
      // The Collector's lumberjack rotation always appends to an existing file.
      append = true;
    }
    return path == null
        ? null
        : new FileExporterConfig(
            id,
            in.baseDir().resolve(path),
            null,
            maxBytes,
            maxBackups,
            queue,
            proto,
            maxAge,
            localTime,
            append);
  }

  @Override
  public RelayExporter create(FileExporterConfig f, ComponentContext context) {
    FileExporter.Builder b =
        FileExporter.builder(f.id())
            .maxBytes(f.maxBytes())
            .maxBackups(f.maxBackups())
            .format(f.proto() ? FileExporter.Format.PROTO : FileExporter.Format.JSON)
            .maxAge(f.maxAge())
            .localTime(f.localTime())
            .append(f.append());
    if (f.path() != null) {
      b.path(f.path());
    } else {
      b.directory(f.directory());
    }
    return b.build();
  }
}
