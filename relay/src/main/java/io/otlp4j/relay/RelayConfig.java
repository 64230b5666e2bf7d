package io.otlp4j.relay;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.ResourceRewrite;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The relay's configuration, read from YAML in the OpenTelemetry Collector's shape:
 *
 * <pre>{@code
 * receivers:
 *   otlp:
 *     protocols:
 *       grpc: { endpoint: 127.0.0.1:4317 }
 *       http: { endpoint: 127.0.0.1:4318 }
 * processors:
 *   batch: { send_batch_size: 8192, send_batch_max_size: 10000, timeout: 200ms }
 *   memory_limiter: { check_interval: 1s, limit_mib: 512 }
 *   resource:
 *     attributes:
 *       - { key: deployment.environment, value: prod, action: upsert }
 * exporters:
 *   otlp: { endpoint: collector:4317, tls: { insecure: true }, headers: { x-key: "${env:KEY}" } }
 *   otlphttp: { endpoint: http://collector:4318, compression: gzip }
 *   file: { path: ./spans.jsonl, rotation: { max_megabytes: 100, max_backups: 10 } }
 *   debug:
 * service:
 *   telemetry: { metrics: { address: 127.0.0.1:8888 } }
 *   pipelines:
 *     traces: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp, file] }
 * }</pre>
 *
 * Delivery guarantees (otlp4j's own {@code service.ack_mode}; see {@link AckMode}) and the Collector's
 * queue and retry keys:
 *
 * <pre>{@code
 * extensions:
 *   file_storage: { directory: /var/lib/otlp4j, max_size_mib: 1024, fsync: batch, when_full: refuse }
 * exporters:
 *   otlp:
 *     endpoint: collector:4317
 *     retry_on_failure: { initial_interval: 5s, max_interval: 30s, max_elapsed_time: 5m }
 *     sending_queue: { num_consumers: 10, queue_size: 1000, storage: file_storage }
 * service:
 *   ack_mode: durable      # received | delivered | durable; durable is the default with a storage
 *   extensions: [file_storage]
 * }</pre>
 *
 * Component ids may carry a {@code /name} suffix ({@code otlp/upstream}); a component listed with no
 * value takes its defaults; {@code ${env:VAR}} (and {@code ${VAR}}, {@code ${env:VAR:-default}}) is
 * replaced in every string. An unknown component, key or value is an error naming it and its line;
 * all errors are reported together.
 *
 * <p>Immutable and thread-safe.
 */
public final class RelayConfig {

  /** The admin server's default address. */
  public static final String DEFAULT_ADMIN_ENDPOINT = "127.0.0.1:8888";
  /** The OTLP/gRPC receiver's default address. */
  public static final String DEFAULT_GRPC_ENDPOINT = "127.0.0.1:4317";
  /** The OTLP/HTTP receiver's default address. */
  public static final String DEFAULT_HTTP_ENDPOINT = "127.0.0.1:4318";
  /** The shared memory budget when no {@code memory_limiter} sets one. */
  public static final long DEFAULT_MEMORY_LIMIT_BYTES = 512L * 1024 * 1024;

  record HostPort(String host, int port) {
    @Override
    public String toString() {
      return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
  }

  record ReceiverConfig(String id, HostPort grpc, HostPort http) {}

  sealed interface ExporterConfig permits OtlpExporterConfig, FileExporterConfig, DebugExporterConfig {
    String id();

    /** The exporter's {@code sending_queue}. */
    SendingQueueSettings sendingQueue();
  }

  /** @param retry the {@code retry_on_failure} policy (one attempt when disabled) */
  record OtlpExporterConfig(String id, boolean http, String endpoint, boolean insecure, Map<String, String> headers,
      Compression compression, Duration timeout, SendingQueueSettings sendingQueue, RetryPolicy retry)
      implements ExporterConfig {}

  record FileExporterConfig(String id, Path path, Path directory, long maxBytes, int maxBackups,
      SendingQueueSettings sendingQueue) implements ExporterConfig {}

  record DebugExporterConfig(String id, SendingQueueSettings sendingQueue) implements ExporterConfig {}

  /** How a durable queue forces its writes to disk ({@code file_storage.fsync}). */
  enum FsyncMode {
    /** Every group of concurrent appends is forced before it is acknowledged (the default). */
    BATCH,
    /** Forced on an interval: an acknowledged record may be lost in a machine crash within it. */
    INTERVAL,
    /** Never forced by the relay (unsafe: the operating system decides). */
    NEVER
  }

  /**
   * A {@code file_storage} extension: where durable queues live, and their bounds.
   *
   * @param directory created when missing
   * @param maxBytes the bound on disk of each pipeline's queue ({@code max_size_mib})
   * @param segmentBytes the size of one segment file ({@code segment_size_mib})
   * @param fsyncInterval for {@link FsyncMode#INTERVAL}
   * @param dropOldest when full: drop the oldest records ({@code when_full: drop_oldest}) instead of
   *     refusing new ones with a retryable answer ({@code refuse}, the default)
   */
  record FileStorageConfig(String id, Path directory, long maxBytes, long segmentBytes, FsyncMode fsync,
      Duration fsyncInterval, boolean dropOldest) {}

  /** The default bound on disk of one pipeline's durable queue. */
  public static final int DEFAULT_QUEUE_MAX_SIZE_MIB = 1024;
  /** The default size of one durable queue segment file. */
  public static final int DEFAULT_QUEUE_SEGMENT_SIZE_MIB = 64;
  /** The default interval of {@code fsync: interval}. */
  public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofSeconds(1);

  sealed interface ProcessorConfig permits BatchConfig, MemoryLimiterConfig, ResourceConfig {
    String id();
  }

  record BatchConfig(String id, BatchSettings settings) implements ProcessorConfig {}

  record MemoryLimiterConfig(String id, long limitBytes) implements ProcessorConfig {}

  record ResourceConfig(String id, ResourceRewrite rewrite) implements ProcessorConfig {}

  record PipelineConfig(String id, Signal signal, List<String> receivers, List<String> processors,
      List<String> exporters) {}

  final Map<String, ReceiverConfig> receivers;
  final Map<String, ProcessorConfig> processors;
  final Map<String, ExporterConfig> exporters;
  final List<PipelineConfig> pipelines;
  final HostPort admin;
  final AckMode ackMode;
  /** The {@code file_storage} extensions listed in {@code service.extensions}. */
  final Map<String, FileStorageConfig> storages;

  private RelayConfig(Map<String, ReceiverConfig> receivers, Map<String, ProcessorConfig> processors,
      Map<String, ExporterConfig> exporters, List<PipelineConfig> pipelines, HostPort admin) {
    this(receivers, processors, exporters, pipelines, admin, AckMode.RECEIVED, Map.of());
  }

  private RelayConfig(Map<String, ReceiverConfig> receivers, Map<String, ProcessorConfig> processors,
      Map<String, ExporterConfig> exporters, List<PipelineConfig> pipelines, HostPort admin, AckMode ackMode,
      Map<String, FileStorageConfig> storages) {
    this.receivers = Map.copyOf(receivers);
    this.processors = Map.copyOf(processors);
    this.exporters = Map.copyOf(exporters);
    this.pipelines = List.copyOf(pipelines);
    this.admin = admin;
    this.ackMode = ackMode;
    this.storages = Map.copyOf(storages);
  }

  /**
   * When the relay answers its clients ({@code service.ack_mode}; default {@code durable} when an
   * exporter keeps its queue in a {@code file_storage}, else {@code received}).
   */
  public AckMode ackMode() {
    return ackMode;
  }

  /**
   * The same configuration answering clients in {@code mode}.
   *
   * @throws IllegalArgumentException when the exporters' queues cannot give that promise ({@code
   *     durable} needs a queue in a {@code file_storage}; {@code received} and {@code delivered} need
   *     none)
   */
  public RelayConfig withAckMode(AckMode mode) {
    String problem = ackModeProblem(java.util.Objects.requireNonNull(mode, "mode"), exporters);
    if (problem != null) {
      throw new IllegalArgumentException("ack mode " + mode.id() + ": " + problem);
    }
    return new RelayConfig(receivers, processors, exporters, pipelines, admin, mode, storages);
  }

  /** Why {@code mode} does not fit these exporters, or null when it does. */
  private static String ackModeProblem(AckMode mode, Map<String, ExporterConfig> exporters) {
    List<String> durable = exporters.values().stream().filter(e -> e.sendingQueue().durable())
        .map(ExporterConfig::id).sorted().toList();
    if (mode == AckMode.DURABLE && durable.isEmpty()) {
      return "needs an exporter whose sending_queue has a storage (a file_storage extension)";
    }
    if (mode != AckMode.DURABLE && !durable.isEmpty()) {
      return "exporters " + durable + " keep their queue in a file_storage, which is only used with ack mode "
          + "durable";
    }
    return null;
  }

  /**
   * The configuration of {@code otlp4j run} without a file: OTLP/gRPC and OTLP/HTTP on their default
   * addresses, every signal to the {@code file} exporter writing {@code traces.jsonl}, {@code
   * metrics.jsonl} and {@code logs.jsonl} under {@code dataDir}, admin on {@link #DEFAULT_ADMIN_ENDPOINT};
   * every request is written to a durable queue under {@code dataDir/queue} before it is acknowledged
   * (ack mode {@code durable}, fsync per batch).
   */
  public static RelayConfig defaults(Path dataDir) {
    return defaults(dataDir, DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, DEFAULT_ADMIN_ENDPOINT);
  }

  /** {@link #defaults(Path)} with other listening addresses ({@code host:port}, port 0 for any). */
  public static RelayConfig defaults(Path dataDir, String grpcEndpoint, String httpEndpoint, String adminEndpoint) {
    List<String> errors = new ArrayList<>();
    HostPort grpc = hostPort(grpcEndpoint, "--grpc-endpoint", 0, errors);
    HostPort http = hostPort(httpEndpoint, "--http-endpoint", 0, errors);
    HostPort admin = hostPort(adminEndpoint, "--admin-endpoint", 0, errors);
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", errors));
    }
    FileStorageConfig storage = new FileStorageConfig("file_storage", dataDir.resolve("queue"),
        DEFAULT_QUEUE_MAX_SIZE_MIB * 1024L * 1024L, DEFAULT_QUEUE_SEGMENT_SIZE_MIB * 1024L * 1024L, FsyncMode.BATCH,
        DEFAULT_FSYNC_INTERVAL, false);
    ExporterConfig file = new FileExporterConfig("file", null, dataDir, FileExporter.DEFAULT_MAX_BYTES,
        FileExporter.DEFAULT_MAX_BACKUPS, new SendingQueueSettings(true, SendingQueueSettings.DEFAULT_NUM_CONSUMERS,
            SendingQueueSettings.DEFAULT_QUEUE_SIZE, storage.id()));
    ProcessorConfig batch = new BatchConfig("batch", new BatchSettings(BatchSettings.DEFAULT_SEND_BATCH_SIZE, 0,
        BatchSettings.DEFAULT_TIMEOUT, BatchSettings.DEFAULT_QUEUE_SIZE, true));
    List<PipelineConfig> pipelines = new ArrayList<>();
    for (Signal signal : Signal.values()) {
      pipelines.add(new PipelineConfig(signal.id(), signal, List.of("otlp"), List.of("batch"), List.of("file")));
    }
    return new RelayConfig(Map.of("otlp", new ReceiverConfig("otlp", grpc, http)), Map.of("batch", batch),
        Map.of("file", file), pipelines, admin, AckMode.DURABLE, Map.of(storage.id(), storage));
  }

  /** Reads {@code file}, substituting environment variables from the process environment. */
  public static RelayConfig load(Path file) throws IOException, RelayConfigException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), System::getenv, file.toAbsolutePath().getParent());
  }

  /**
   * Parses YAML text.
   *
   * @param env looks up {@code ${env:VAR}} (null when unset, which substitutes the empty string)
   * @param baseDir relative file paths resolve against it
   * @throws RelayConfigException with every error found, each naming its line
   */
  public static RelayConfig parse(String yaml, Function<String, String> env, Path baseDir) throws RelayConfigException {
    ConfigNode root;
    try (JsonParser parser = new YAMLFactory().createParser(yaml)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new RelayConfigException(List.of("line 1: the configuration is empty"));
      }
      root = ConfigNode.read(parser, env);
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
      throw new RelayConfigException(List.of("line " + line + ": not valid YAML: " + e.getOriginalMessage()));
    } catch (IOException e) {
      throw new RelayConfigException(List.of("line 0: " + e.getMessage()));
    }
    return new Reader(baseDir == null ? Path.of("") : baseDir).read(root);
  }

  /** The admin server's address. */
  public String adminEndpoint() {
    return admin.toString();
  }

  /** The pipeline ids, in configuration order. */
  public List<String> pipelineIds() {
    return pipelines.stream().map(PipelineConfig::id).toList();
  }

  /** The exporter ids. */
  public Set<String> exporterIds() {
    return exporters.keySet();
  }

  @Override
  public String toString() {
    return "RelayConfig{receivers=" + receivers.keySet() + ", processors=" + processors.keySet() + ", exporters="
        + exporters.keySet() + ", pipelines=" + pipelineIds() + ", admin=" + admin + "}";
  }

  // ---------------------------------------------------------------------------------------- reading

  private static HostPort hostPort(String endpoint, String where, int line, List<String> errors) {
    String e = endpoint.trim();
    int colon = e.lastIndexOf(':');
    if (colon < 0) {
      errors.add(at(line, where, "endpoint '" + endpoint + "' must be host:port"));
      return null;
    }
    String host = e.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty()) {
      host = "0.0.0.0";
    }
    try {
      int port = Integer.parseInt(e.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return new HostPort(host, port);
    } catch (NumberFormatException x) {
      errors.add(at(line, where, "endpoint '" + endpoint + "' has no valid port"));
      return null;
    }
  }

  private static String at(int line, String where, String message) {
    return "line " + line + ": " + where + ": " + message;
  }

  /** One pass over the tree, collecting errors. Not thread-safe; used once. */
  private static final class Reader {
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");
    private static final Set<String> RECEIVER_TYPES = Set.of("otlp");
    private static final Set<String> PROCESSOR_TYPES = Set.of("batch", "memory_limiter", "resource");
    private static final Set<String> EXPORTER_TYPES = Set.of("otlp", "otlphttp", "file", "debug");

    private static final Set<String> EXTENSION_TYPES = Set.of("file_storage");

    private final Path baseDir;
    private final List<String> errors = new ArrayList<>();
    /** Exporter id → the line of its {@code sending_queue.storage}, for checks once extensions are known. */
    private final Map<String, Integer> storageLines = new LinkedHashMap<>();
    private final Map<String, Integer> pipelineLines = new LinkedHashMap<>();

    Reader(Path baseDir) {
      this.baseDir = baseDir;
    }

    RelayConfig read(ConfigNode root) throws RelayConfigException {
      Map<String, ConfigNode> top = map(root, "the configuration");
      Map<String, ReceiverConfig> receivers = new LinkedHashMap<>();
      Map<String, ProcessorConfig> processors = new LinkedHashMap<>();
      Map<String, ExporterConfig> exporters = new LinkedHashMap<>();
      List<PipelineConfig> pipelines = new ArrayList<>();
      Map<String, FileStorageConfig> extensions = new LinkedHashMap<>();
      Map<String, FileStorageConfig> storages = new LinkedHashMap<>();
      AckMode ackMode = null;
      int ackModeLine = 0;
      HostPort admin = new HostPort("127.0.0.1", 8888);
      if (top != null) {
        checkKeys(top, "the configuration", "receivers", "processors", "exporters", "extensions", "connectors",
            "service");
        forEachComponent(top.get("receivers"), "receivers", RECEIVER_TYPES, (id, type, node) -> {
          ReceiverConfig r = receiver(id, node);
          if (r != null) {
            receivers.put(id, r);
          }
        });
        forEachComponent(top.get("processors"), "processors", PROCESSOR_TYPES, (id, type, node) -> {
          ProcessorConfig p = processor(id, type, node);
          if (p != null) {
            processors.put(id, p);
          }
        });
        forEachComponent(top.get("exporters"), "exporters", EXPORTER_TYPES, (id, type, node) -> {
          ExporterConfig e = exporter(id, type, node);
          if (e != null) {
            exporters.put(id, e);
          }
        });
        forEachComponent(top.get("extensions"), "extensions", EXTENSION_TYPES, (id, type, node) -> {
          FileStorageConfig f = fileStorage(id, node);
          if (f != null) {
            extensions.put(id, f);
          }
        });
        forEachComponent(top.get("connectors"), "connectors", Set.of(), (id, type, node) -> { });
        ConfigNode service = top.get("service");
        if (service == null) {
          errors.add(at(root.line, "service", "is missing: it lists the pipelines"));
        } else {
          Map<String, ConfigNode> s = map(service, "service");
          if (s != null) {
            checkKeys(s, "service", "pipelines", "telemetry", "extensions", "ack_mode");
            ConfigNode ext = s.get("extensions");
            Set<String> definedExtensions = top.get("extensions") == null || top.get("extensions").map() == null
                ? Set.of() : top.get("extensions").map().keySet();
            for (String e : ids(ext, "service.extensions", definedExtensions, "extension", false, service.line)) {
              if (extensions.containsKey(e)) {
                storages.put(e, extensions.get(e));
              }
            }
            ConfigNode mode = s.get("ack_mode");
            if (mode != null) {
              ackModeLine = mode.line;
              String text = string(mode, "service.ack_mode");
              ackMode = text == null ? null : AckMode.fromId(text);
              if (text != null && ackMode == null) {
                errors.add(at(mode.line, "service.ack_mode", "unknown ack mode '" + text
                    + "' (received, delivered, durable)"));
              }
            }
            HostPort a = telemetry(s.get("telemetry"));
            if (a != null) {
              admin = a;
            }
            pipelines(s.get("pipelines"), receivers.keySet(), processors.keySet(), exporters.keySet(), pipelines,
                service.line);
          }
        }
      }
      storageLines.forEach((exporter, line) -> {
        String storage = exporters.containsKey(exporter) ? exporters.get(exporter).sendingQueue().storage() : null;
        if (storage == null) {
          return;
        }
        String where = "exporters." + exporter + ".sending_queue.storage";
        if (!extensions.containsKey(storage)) {
          errors.add(at(line, where, "extension '" + storage + "' is not defined (a file_storage extension "
              + "under extensions)"));
        } else if (!storages.containsKey(storage)) {
          errors.add(at(line, where, "extension '" + storage + "' must be listed in service.extensions"));
        }
      });
      for (PipelineConfig p : pipelines) {
        List<String> used = p.exporters().stream().map(exporters::get)
            .filter(e -> e != null && e.sendingQueue().durable()).map(e -> e.sendingQueue().storage())
            .distinct().toList();
        if (used.size() > 1) {
          errors.add(at(pipelineLines.getOrDefault(p.id(), 0), "service.pipelines." + p.id(), "its exporters keep their queues in different "
              + "file_storage extensions " + used + "; a pipeline has one durable queue: use one"));
        }
      }
      if (ackMode == null) {
        boolean anyDurable = exporters.values().stream().anyMatch(e -> e.sendingQueue().durable());
        ackMode = anyDurable ? AckMode.DURABLE : AckMode.RECEIVED;
      } else if (errors.isEmpty()) {
        String problem = ackModeProblem(ackMode, exporters);
        if (problem != null) {
          errors.add(at(ackModeLine, "service.ack_mode", ackMode.id() + " " + problem));
        }
      }
      if (!errors.isEmpty()) {
        throw new RelayConfigException(errors);
      }
      return new RelayConfig(receivers, processors, exporters, pipelines, admin, ackMode, storages);
    }

    private FileStorageConfig fileStorage(String id, ConfigNode node) {
      String where = "extensions." + id;
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      // timeout, create_directory and compaction are the Collector's (bbolt) keys: accepted, not needed.
      checkKeys(m, where, "directory", "max_size_mib", "segment_size_mib", "fsync", "fsync_interval", "when_full",
          "timeout", "create_directory", "compaction");
      ConfigNode d = m.get("directory");
      if (d == null) {
        errors.add(at(node.line, where + ".directory", "is required"));
        return null;
      }
      String directory = string(d, where + ".directory");
      if (directory != null && directory.isBlank()) {
        errors.add(at(d.line, where + ".directory", "must not be empty"));
        directory = null;
      }
      int maxMib = intValue(m.get("max_size_mib"), where + ".max_size_mib", DEFAULT_QUEUE_MAX_SIZE_MIB, 1);
      int segmentMib = intValue(m.get("segment_size_mib"), where + ".segment_size_mib",
          DEFAULT_QUEUE_SEGMENT_SIZE_MIB, 1);
      if (m.get("segment_size_mib") != null && segmentMib > maxMib) {
        errors.add(at(m.get("segment_size_mib").line, where + ".segment_size_mib", "must not exceed max_size_mib ("
            + maxMib + "), was " + segmentMib));
      }
      FsyncMode fsync = FsyncMode.BATCH;
      ConfigNode f = m.get("fsync");
      if (f != null) {
        String t = String.valueOf(f.value).trim().toLowerCase(Locale.ROOT);
        switch (t) {
          case "batch", "true" -> fsync = FsyncMode.BATCH;
          case "interval" -> fsync = FsyncMode.INTERVAL;
          case "never", "false" -> fsync = FsyncMode.NEVER;
          default -> errors.add(at(f.line, where + ".fsync", "unknown fsync policy '" + f.value
              + "' (batch, interval, never)"));
        }
      }
      Duration interval = duration(m.get("fsync_interval"), where + ".fsync_interval", DEFAULT_FSYNC_INTERVAL);
      if (interval != null && interval.isZero()) {
        errors.add(at(m.get("fsync_interval").line, where + ".fsync_interval", "must be positive"));
      }
      boolean dropOldest = false;
      ConfigNode w = m.get("when_full");
      if (w != null) {
        String t = String.valueOf(w.value).trim();
        switch (t) {
          case "refuse" -> dropOldest = false;
          case "drop_oldest" -> dropOldest = true;
          default -> errors.add(at(w.line, where + ".when_full", "unknown policy '" + w.value
              + "' (refuse, drop_oldest)"));
        }
      }
      bool(m.get("create_directory"), where + ".create_directory", true);
      duration(m.get("timeout"), where + ".timeout", Duration.ofSeconds(1));
      if (directory == null) {
        return null;
      }
      return new FileStorageConfig(id, baseDir.resolve(directory), maxMib * 1024L * 1024L,
          segmentMib * 1024L * 1024L, fsync, interval == null ? DEFAULT_FSYNC_INTERVAL : interval, dropOldest);
    }

    interface ComponentReader {
      void read(String id, String type, ConfigNode node);
    }

    private void forEachComponent(ConfigNode section, String where, Set<String> types, ComponentReader reader) {
      if (section == null || section.isNull()) {
        return;
      }
      Map<String, ConfigNode> m = map(section, where);
      if (m == null) {
        return;
      }
      for (Map.Entry<String, ConfigNode> e : m.entrySet()) {
        String id = e.getKey();
        String type = id.contains("/") ? id.substring(0, id.indexOf('/')) : id;
        if (!types.contains(type)) {
          errors.add(at(e.getValue().line, where + "." + id, "unknown " + where.substring(0, where.length() - 1)
              + " type '" + type + "'" + (types.isEmpty() ? " (none are supported yet)" : " (known: "
              + String.join(", ", types.stream().sorted().toList()) + ")")));
          continue;
        }
        reader.read(id, type, e.getValue());
      }
    }

    private ReceiverConfig receiver(String id, ConfigNode node) {
      String where = "receivers." + id;
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      checkKeys(m, where, "protocols");
      ConfigNode protocols = m.get("protocols");
      if (protocols == null || protocols.isNull() || (protocols.map() != null && protocols.map().isEmpty())) {
        errors.add(at(node.line, where + ".protocols", "must enable grpc, http or both"));
        return null;
      }
      Map<String, ConfigNode> p = map(protocols, where + ".protocols");
      if (p == null) {
        return null;
      }
      checkKeys(p, where + ".protocols", "grpc", "http");
      HostPort grpc = protocol(p.get("grpc"), where + ".protocols.grpc", DEFAULT_GRPC_ENDPOINT);
      HostPort http = protocol(p.get("http"), where + ".protocols.http", DEFAULT_HTTP_ENDPOINT);
      return new ReceiverConfig(id, grpc, http);
    }

    private HostPort protocol(ConfigNode node, String where, String defaultEndpoint) {
      if (node == null) {
        return null;
      }
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      checkKeys(m, where, "endpoint");
      ConfigNode endpoint = m.get("endpoint");
      String text = endpoint == null ? defaultEndpoint : string(endpoint, where + ".endpoint");
      return text == null ? null : hostPort(text, where + ".endpoint", endpoint == null ? node.line : endpoint.line,
          errors);
    }

    private ProcessorConfig processor(String id, String type, ConfigNode node) {
      String where = "processors." + id;
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      switch (type) {
        case "batch" -> {
          checkKeys(m, where, "send_batch_size", "send_batch_max_size", "timeout");
          int size = intValue(m.get("send_batch_size"), where + ".send_batch_size",
              BatchSettings.DEFAULT_SEND_BATCH_SIZE, 1);
          int max = intValue(m.get("send_batch_max_size"), where + ".send_batch_max_size", 0, 0);
          Duration timeout = duration(m.get("timeout"), where + ".timeout", BatchSettings.DEFAULT_TIMEOUT);
          if (max > 0 && max < size) {
            errors.add(at(m.get("send_batch_max_size").line, where + ".send_batch_max_size",
                "must be 0 or at least send_batch_size (" + size + "), was " + max));
            return null;
          }
          if (timeout == null || timeout.isZero()) {
            if (timeout != null) {
              errors.add(at(m.get("timeout").line, where + ".timeout", "must be positive"));
            }
            return null;
          }
          return new BatchConfig(id, new BatchSettings(size, max, timeout, BatchSettings.DEFAULT_QUEUE_SIZE, true));
        }
        case "memory_limiter" -> {
          checkKeys(m, where, "check_interval", "limit_mib", "spike_limit_mib");
          duration(m.get("check_interval"), where + ".check_interval", Duration.ofSeconds(1));
          intValue(m.get("spike_limit_mib"), where + ".spike_limit_mib", 0, 0);
          if (m.get("limit_mib") == null) {
            errors.add(at(node.line, where + ".limit_mib", "is required"));
            return null;
          }
          int mib = intValue(m.get("limit_mib"), where + ".limit_mib", 0, 1);
          return new MemoryLimiterConfig(id, mib * 1024L * 1024L);
        }
        default -> {
          return resource(id, where, m, node.line);
        }
      }
    }

    private ProcessorConfig resource(String id, String where, Map<String, ConfigNode> m, int line) {
      checkKeys(m, where, "attributes");
      ConfigNode attributes = m.get("attributes");
      if (attributes == null || attributes.list() == null || attributes.list().isEmpty()) {
        errors.add(at(attributes == null ? line : attributes.line, where + ".attributes",
            "must be a non-empty list of {key, value, action}"));
        return null;
      }
      ResourceRewrite.Builder rewrite = ResourceRewrite.builder();
      int index = 0;
      for (ConfigNode a : attributes.list()) {
        String w = where + ".attributes[" + index++ + "]";
        Map<String, ConfigNode> am = map(a, w);
        if (am == null) {
          continue;
        }
        checkKeys(am, w, "key", "value", "action");
        String key = am.get("key") == null ? null : string(am.get("key"), w + ".key");
        String action = am.get("action") == null ? null : string(am.get("action"), w + ".action");
        if (key == null || key.isEmpty()) {
          errors.add(at(a.line, w + ".key", "is required"));
          continue;
        }
        if (action == null) {
          errors.add(at(a.line, w + ".action", "is required (upsert or delete)"));
          continue;
        }
        switch (action) {
          case "delete" -> rewrite.delete(key);
          case "upsert" -> {
            ConfigNode v = am.get("value");
            if (v == null || v.isNull() || v.text() == null) {
              errors.add(at(a.line, w + ".value", "is required for upsert"));
              continue;
            }
            switch (v.kind) {
              case VALUE_NUMBER_INT -> {
                try {
                  rewrite.upsert(key, Long.parseLong(v.text()));
                } catch (NumberFormatException e) {
                  rewrite.upsert(key, v.text());
                }
              }
              case VALUE_NUMBER_FLOAT -> rewrite.upsert(key, Double.parseDouble(v.text()));
              case VALUE_TRUE, VALUE_FALSE -> rewrite.upsert(key, Boolean.parseBoolean(v.text()));
              default -> rewrite.upsert(key, v.text());
            }
          }
          case "insert", "update" -> errors.add(at(am.get("action").line, w + ".action",
              "'" + action + "' is not supported yet (supported: upsert, delete)"));
          default -> errors.add(at(am.get("action").line, w + ".action", "unknown action '" + action
              + "' (supported: upsert, delete)"));
        }
      }
      return new ResourceConfig(id, rewrite.build());
    }

    private ExporterConfig exporter(String id, String type, ConfigNode node) {
      String where = "exporters." + id;
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      switch (type) {
        case "otlp", "otlphttp" -> {
          checkKeys(m, where, "endpoint", "tls", "headers", "compression", "timeout", "sending_queue",
              "retry_on_failure");
          ConfigNode e = m.get("endpoint");
          if (e == null) {
            errors.add(at(node.line, where + ".endpoint", "is required"));
            return null;
          }
          String endpoint = string(e, where + ".endpoint");
          boolean insecure = false;
          ConfigNode tls = m.get("tls");
          if (tls != null) {
            Map<String, ConfigNode> t = mapOrEmpty(tls, where + ".tls");
            if (t != null) {
              checkKeys(t, where + ".tls", "insecure");
              insecure = bool(t.get("insecure"), where + ".tls.insecure", false);
            }
          }
          Map<String, String> headers = new LinkedHashMap<>();
          ConfigNode h = m.get("headers");
          if (h != null && !h.isNull()) {
            Map<String, ConfigNode> hm = map(h, where + ".headers");
            if (hm != null) {
              hm.forEach((k, v) -> {
                String value = string(v, where + ".headers." + k);
                if (value != null) {
                  headers.put(k, value);
                }
              });
            }
          }
          Compression compression = Compression.GZIP;
          ConfigNode c = m.get("compression");
          if (c != null) {
            String name = string(c, where + ".compression");
            if (name != null) {
              switch (name.toLowerCase(Locale.ROOT)) {
                case "gzip" -> compression = Compression.GZIP;
                case "zstd" -> compression = Compression.ZSTD;
                case "none", "" -> compression = Compression.NONE;
                default -> errors.add(at(c.line, where + ".compression", "unknown compression '" + name
                    + "' (supported: gzip, zstd, none)"));
              }
            }
          }
          Duration timeout = duration(m.get("timeout"), where + ".timeout", Duration.ofSeconds(5));
          SendingQueueSettings queue = sendingQueue(id, m.get("sending_queue"), where);
          RetryPolicy retry = retryOnFailure(m.get("retry_on_failure"), where + ".retry_on_failure");
          if (endpoint == null || timeout == null || retry == null) {
            return null;
          }
          return new OtlpExporterConfig(id, type.equals("otlphttp"), endpoint, insecure, headers, compression,
              timeout, queue, retry);
        }
        case "file" -> {
          checkKeys(m, where, "path", "rotation", "format", "sending_queue");
          ConfigNode p = m.get("path");
          if (p == null) {
            errors.add(at(node.line, where + ".path", "is required"));
            return null;
          }
          String path = string(p, where + ".path");
          ConfigNode f = m.get("format");
          if (f != null && !"json".equals(f.text())) {
            errors.add(at(f.line, where + ".format", "unknown format '" + f.value + "' (supported: json)"));
          }
          long maxBytes = FileExporter.DEFAULT_MAX_BYTES;
          int maxBackups = FileExporter.DEFAULT_MAX_BACKUPS;
          ConfigNode r = m.get("rotation");
          if (r != null) {
            Map<String, ConfigNode> rm = mapOrEmpty(r, where + ".rotation");
            if (rm != null) {
              checkKeys(rm, where + ".rotation", "max_megabytes", "max_backups");
              maxBytes = intValue(rm.get("max_megabytes"), where + ".rotation.max_megabytes", 100, 1) * 1024L * 1024L;
              maxBackups = intValue(rm.get("max_backups"), where + ".rotation.max_backups",
                  FileExporter.DEFAULT_MAX_BACKUPS, 0);
            }
          }
          SendingQueueSettings queue = sendingQueue(id, m.get("sending_queue"), where);
          return path == null ? null
              : new FileExporterConfig(id, baseDir.resolve(path), null, maxBytes, maxBackups, queue);
        }
        default -> {
          checkKeys(m, where, "verbosity", "sending_queue");
          ConfigNode v = m.get("verbosity");
          if (v != null && !Set.of("basic", "normal", "detailed").contains(String.valueOf(v.value))) {
            errors.add(at(v.line, where + ".verbosity", "unknown verbosity '" + v.value
                + "' (basic, normal, detailed)"));
          }
          return new DebugExporterConfig(id, sendingQueue(id, m.get("sending_queue"), where));
        }
      }
    }

    /** The Collector's {@code sending_queue}: enabled, num_consumers, queue_size, storage. */
    private SendingQueueSettings sendingQueue(String exporterId, ConfigNode node, String where) {
      if (node == null) {
        return SendingQueueSettings.DEFAULTS;
      }
      String w = where + ".sending_queue";
      Map<String, ConfigNode> m = mapOrEmpty(node, w);
      if (m == null) {
        return SendingQueueSettings.DEFAULTS;
      }
      checkKeys(m, w, "enabled", "num_consumers", "queue_size", "storage");
      boolean enabled = bool(m.get("enabled"), w + ".enabled", true);
      int consumers = intValue(m.get("num_consumers"), w + ".num_consumers",
          SendingQueueSettings.DEFAULT_NUM_CONSUMERS, 1);
      int size = intValue(m.get("queue_size"), w + ".queue_size", SendingQueueSettings.DEFAULT_QUEUE_SIZE, 1);
      String storage = null;
      ConfigNode st = m.get("storage");
      if (st != null && !st.isNull()) {
        storage = string(st, w + ".storage");
        if (storage != null && !enabled) {
          errors.add(at(st.line, w + ".storage", "a disabled sending_queue (enabled: false) has no storage"));
          storage = null;
        } else if (storage != null) {
          storageLines.put(exporterId, st.line);
        }
      }
      return new SendingQueueSettings(enabled, consumers, size, storage);
    }

    /**
     * The Collector's {@code retry_on_failure}, with its defaults (5s initial interval, 0.5 randomization,
     * 1.5 multiplier, 30s max interval, 5m max elapsed time; {@code 0} max elapsed time retries without
     * end). A randomization factor above 0 spreads each delay uniformly over [delay/2, delay] (the core
     * policy's equal jitter); 0 turns jitter off. Disabled: one attempt, no retry.
     */
    private RetryPolicy retryOnFailure(ConfigNode node, String where) {
      Map<String, ConfigNode> m = node == null ? Map.of() : mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      checkKeys(m, where, "enabled", "initial_interval", "randomization_factor", "multiplier", "max_interval",
          "max_elapsed_time");
      boolean enabled = bool(m.get("enabled"), where + ".enabled", true);
      Duration initial = duration(m.get("initial_interval"), where + ".initial_interval", Duration.ofSeconds(5));
      Duration maxInterval = duration(m.get("max_interval"), where + ".max_interval", Duration.ofSeconds(30));
      Duration maxElapsed = duration(m.get("max_elapsed_time"), where + ".max_elapsed_time", Duration.ofMinutes(5));
      double randomization = number(m.get("randomization_factor"), where + ".randomization_factor", 0.5, 0, 1);
      double multiplier = number(m.get("multiplier"), where + ".multiplier", 1.5, 1, 1000);
      boolean ok = initial != null && maxInterval != null && maxElapsed != null && !Double.isNaN(randomization)
          && !Double.isNaN(multiplier);
      if (initial != null && initial.isZero()) {
        errors.add(at(m.get("initial_interval").line, where + ".initial_interval", "must be positive"));
        ok = false;
      }
      if (maxInterval != null && maxInterval.isZero()) {
        errors.add(at(m.get("max_interval").line, where + ".max_interval", "must be positive"));
        ok = false;
      } else if (ok && maxInterval.compareTo(initial) < 0) {
        errors.add(at(m.containsKey("max_interval") ? m.get("max_interval").line : m.get("initial_interval").line,
            where + ".max_interval", "must be at least initial_interval (" + initial + "), was " + maxInterval));
        ok = false;
      }
      if (!ok) {
        return null;
      }
      if (!enabled) {
        return RetryPolicy.builder().maxAttempts(1).build();
      }
      return RetryPolicy.builder()
          .initialDelay(initial)
          .maxDelay(maxInterval)
          .multiplier(multiplier)
          .maxElapsed(maxElapsed.isZero() ? UNLIMITED_ELAPSED : maxElapsed)
          .maxAttempts(Integer.MAX_VALUE)
          .jitter(randomization == 0 ? RetryPolicy.Jitter.NONE : RetryPolicy.Jitter.EQUAL)
          .build();
    }

    /** {@code max_elapsed_time: 0}: retry for as long as the relay runs (a century). */
    private static final Duration UNLIMITED_ELAPSED = Duration.ofDays(36_500);

    private double number(ConfigNode node, String where, double defaultValue, double min, double max) {
      if (node == null) {
        return defaultValue;
      }
      try {
        double v = Double.parseDouble(String.valueOf(node.value).trim());
        if (!(v >= min && v <= max)) {
          errors.add(at(node.line, where, "must be between " + fmt(min) + " and " + fmt(max) + ", was "
              + node.value));
          return Double.NaN;
        }
        return v;
      } catch (NumberFormatException e) {
        errors.add(at(node.line, where, "must be a number, was '" + node.value + "'"));
        return Double.NaN;
      }
    }

    private static String fmt(double d) {
      return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private HostPort telemetry(ConfigNode node) {
      if (node == null || node.isNull()) {
        return null;
      }
      Map<String, ConfigNode> m = map(node, "service.telemetry");
      if (m == null) {
        return null;
      }
      checkKeys(m, "service.telemetry", "metrics");
      ConfigNode metrics = m.get("metrics");
      if (metrics == null || metrics.isNull()) {
        return null;
      }
      Map<String, ConfigNode> mm = map(metrics, "service.telemetry.metrics");
      if (mm == null) {
        return null;
      }
      checkKeys(mm, "service.telemetry.metrics", "address");
      ConfigNode a = mm.get("address");
      String text = a == null ? null : string(a, "service.telemetry.metrics.address");
      return text == null ? null : hostPort(text, "service.telemetry.metrics.address", a.line, errors);
    }

    private void pipelines(ConfigNode node, Set<String> receivers, Set<String> processors, Set<String> exporters,
        List<PipelineConfig> out, int serviceLine) {
      if (node == null || node.map() == null || node.map().isEmpty()) {
        errors.add(at(node == null ? serviceLine : node.line, "service.pipelines", "must define at least one pipeline"));
        return;
      }
      for (Map.Entry<String, ConfigNode> e : node.map().entrySet()) {
        String id = e.getKey();
        String where = "service.pipelines." + id;
        String type = id.contains("/") ? id.substring(0, id.indexOf('/')) : id;
        Signal signal;
        try {
          signal = Signal.fromId(type);
        } catch (IllegalArgumentException x) {
          errors.add(at(e.getValue().line, where, "unknown signal '" + type + "' (traces, metrics, logs)"));
          continue;
        }
        Map<String, ConfigNode> m = map(e.getValue(), where);
        if (m == null) {
          continue;
        }
        pipelineLines.put(id, e.getValue().line);
        checkKeys(m, where, "receivers", "processors", "exporters");
        List<String> r = ids(m.get("receivers"), where + ".receivers", receivers, "receiver", true, e.getValue().line);
        List<String> p = ids(m.get("processors"), where + ".processors", processors, "processor", false,
            e.getValue().line);
        List<String> x = ids(m.get("exporters"), where + ".exporters", exporters, "exporter", true, e.getValue().line);
        out.add(new PipelineConfig(id, signal, r, p, x));
      }
    }

    private List<String> ids(ConfigNode node, String where, Set<String> defined, String kind, boolean required,
        int line) {
      List<String> ids = new ArrayList<>();
      if (node == null || node.isNull()) {
        if (required) {
          errors.add(at(line, where, "must list at least one " + kind));
        }
        return ids;
      }
      if (node.list() == null) {
        errors.add(at(node.line, where, "must be a list of " + kind + " ids"));
        return ids;
      }
      for (ConfigNode n : node.list()) {
        String id = n.text();
        if (id == null) {
          errors.add(at(n.line, where, "must be a list of " + kind + " ids"));
        } else if (!defined.contains(id)) {
          errors.add(at(n.line, where, kind + " '" + id + "' is not defined"));
        } else {
          ids.add(id);
        }
      }
      if (required && ids.isEmpty() && node.list().isEmpty()) {
        errors.add(at(node.line, where, "must list at least one " + kind));
      }
      return ids;
    }

    // ------------------------------------------------------------------------------ scalar helpers

    private void checkKeys(Map<String, ConfigNode> m, String where, String... known) {
      Set<String> k = Set.of(known);
      for (Map.Entry<String, ConfigNode> e : m.entrySet()) {
        if (!k.contains(e.getKey())) {
          String path = where.equals("the configuration") ? e.getKey() : where + "." + e.getKey();
          errors.add(at(e.getValue().line, path, "unknown key '" + e.getKey() + "' (known: "
              + String.join(", ", known) + ")"));
        }
      }
    }

    private Map<String, ConfigNode> map(ConfigNode node, String where) {
      Map<String, ConfigNode> m = node.map();
      if (m == null) {
        errors.add(at(node.line, where, "must be a mapping"));
      }
      return m;
    }

    private Map<String, ConfigNode> mapOrEmpty(ConfigNode node, String where) {
      return node.isNull() ? Map.of() : map(node, where);
    }

    private String string(ConfigNode node, String where) {
      String t = node.text();
      if (t == null) {
        errors.add(at(node.line, where, "must be a string"));
      }
      return t;
    }

    private int intValue(ConfigNode node, String where, int defaultValue, int min) {
      if (node == null) {
        return defaultValue;
      }
      try {
        int v = Integer.parseInt(String.valueOf(node.value).trim());
        if (v < min) {
          errors.add(at(node.line, where, "must be at least " + min + ", was " + v));
          return defaultValue;
        }
        return v;
      } catch (NumberFormatException e) {
        errors.add(at(node.line, where, "must be a whole number, was '" + node.value + "'"));
        return defaultValue;
      }
    }

    private boolean bool(ConfigNode node, String where, boolean defaultValue) {
      if (node == null) {
        return defaultValue;
      }
      String t = String.valueOf(node.value).trim().toLowerCase(Locale.ROOT);
      if (t.equals("true") || t.equals("false")) {
        return Boolean.parseBoolean(t);
      }
      errors.add(at(node.line, where, "must be true or false, was '" + node.value + "'"));
      return defaultValue;
    }

    private Duration duration(ConfigNode node, String where, Duration defaultValue) {
      if (node == null) {
        return defaultValue;
      }
      String t = String.valueOf(node.value).trim();
      Duration d = parseDuration(t);
      if (d == null) {
        errors.add(at(node.line, where, "must be a duration such as 200ms, 5s or 1m30s, was '" + node.value + "'"));
      }
      return d;
    }

    /** Go's duration syntax (what the Collector reads): {@code 1h2m3s}, {@code 200ms}, {@code 0}. */
    static Duration parseDuration(String text) {
      if (text.equals("0")) {
        return Duration.ZERO;
      }
      Matcher m = DURATION.matcher(text);
      int at = 0;
      double nanos = 0;
      while (at < text.length()) {
        if (!m.find(at) || m.start() != at) {
          return null;
        }
        double n = Double.parseDouble(m.group(1));
        nanos += n * switch (m.group(2)) {
          case "ns" -> 1;
          case "us", "µs" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          case "m" -> 60e9;
          default -> 3600e9;
        };
        at = m.end();
      }
      return at == 0 ? null : Duration.ofNanos((long) nanos);
    }
  }
}
