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
 * <p>Security and limits use the Collector's {@code configtls}, {@code configgrpc} and {@code confighttp}
 * keys: receiver {@code tls} ({@code cert_file}, {@code key_file}, {@code client_ca_file}), {@code
 * max_recv_msg_size_mib}, {@code max_concurrent_streams}, {@code max_request_body_size} and {@code
 * auth.authenticator}; exporter {@code tls} ({@code insecure}, {@code ca_file}, {@code cert_file}, {@code
 * key_file}), {@code auth.authenticator} and otlphttp's {@code traces_endpoint} etc. The one
 * authenticator is the {@code bearertokenauth} extension ({@code token} or {@code filename}), which must
 * be listed in {@code service.extensions} as in the Collector; its token never appears in a {@code
 * toString} or an error. A Collector key that otlp4j does not implement is an error saying so. Relative
 * file paths resolve against the configuration file's directory.
 *
 * <p>Delivery guarantees (otlp4j's own {@code service.ack_mode}; see {@link AckMode}) and the Collector's
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
 * <p>Component ids may carry a {@code /name} suffix ({@code otlp/upstream}); a component listed with no
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

  /**
   * One receiver: where its protocols listen ({@code null} when off) and their server options ({@link
   * ServerOptions#DEFAULTS} when nothing is set).
   */
  record ReceiverConfig(String id, HostPort grpc, HostPort http, ServerOptions grpcOptions,
      ServerOptions httpOptions) {
    ReceiverConfig(String id, HostPort grpc, HostPort http) {
      this(id, grpc, http, ServerOptions.DEFAULTS, ServerOptions.DEFAULTS);
    }
  }

  /**
   * A receiver protocol's options from the Collector's {@code configgrpc}/{@code confighttp} server
   * settings: TLS, the bearer token of its {@code auth.authenticator} (null when none), the largest
   * request in bytes, the concurrent streams per connection (0: the receiver's default) and, for
   * OTLP/HTTP, the URL paths set by {@code traces_url_path} etc.
   */
  record ServerOptions(ServerTls tls, String authenticator, Secret bearerToken, int maxRequestBytes,
      int maxConcurrentStreams, Map<Signal, String> urlPaths) {
    static final ServerOptions DEFAULTS = new ServerOptions(null, null, null, 0, 0, Map.of());
  }

  /** A server's PEM certificate chain and key, and the CA bundle client certificates must chain to (or null). */
  record ServerTls(Path certFile, Path keyFile, Path clientCaFile) {}

  /** A client's TLS files (each may be null: the JDK's trust store, no client certificate). */
  record ClientTls(Path caFile, Path certFile, Path keyFile) {
    static final ClientTls NONE = new ClientTls(null, null, null);
  }

  /**
   * A secret from the configuration (a bearer token): never part of a {@code toString}, an error or a
   * log line. Immutable.
   */
  static final class Secret {
    private final String value;

    Secret(String value) {
      this.value = java.util.Objects.requireNonNull(value, "value");
    }

    /** The secret itself, for the one place that sends or checks it. */
    String reveal() {
      return value;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Secret other && other.value.equals(value);
    }

    @Override
    public int hashCode() {
      return value.hashCode();
    }

    @Override
    public String toString() {
      return "[redacted]";
    }
  }


  sealed interface ExporterConfig permits OtlpExporterConfig, FileExporterConfig, DebugExporterConfig {
    String id();

    /** The exporter's {@code sending_queue}. */
    SendingQueueSettings sendingQueue();
  }

  /**
   * An {@code otlp} or {@code otlphttp} exporter. {@code signalEndpoints} are otlphttp's {@code
   * traces_endpoint} etc.; {@code authorization} is the bearer token of its {@code auth.authenticator}
   * (null when none), sent as {@code Authorization: Bearer}.
   */
  record OtlpExporterConfig(String id, boolean http, String endpoint, boolean insecure, Map<String, String> headers,
      Compression compression, Duration timeout, SendingQueueSettings sendingQueue, RetryPolicy retry, ClientTls tls,
      Map<Signal, String> signalEndpoints, Secret authorization) implements ExporterConfig {
  }

  /**
   * A {@code file} exporter: one {@code path} or a {@code directory} with a file per signal; {@code proto}
   * writes the Collector's length-prefixed protobuf instead of JSON lines; {@code maxAge} (null: no
   * limit) is rotation's {@code max_days}.
   */
  record FileExporterConfig(String id, Path path, Path directory, long maxBytes, int maxBackups,
      SendingQueueSettings sendingQueue,
      boolean proto, Duration maxAge, boolean localTime, boolean append) implements ExporterConfig {
    FileExporterConfig(String id, Path path, Path directory, long maxBytes, int maxBackups,
        SendingQueueSettings sendingQueue) {
      this(id, path, directory, maxBytes, maxBackups, sendingQueue, false, null, false, true);
    }
  }

  record DebugExporterConfig(String id, SendingQueueSettings sendingQueue, DebugExporter.Verbosity verbosity)
      implements ExporterConfig {}
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

    private final Path baseDir;
    private final List<String> errors = new ArrayList<>();
    /** bearertokenauth extensions by id. */
    private final Map<String, Secret> bearerTokens = new LinkedHashMap<>();
    /** Every extension id defined under {@code extensions}. */
    private final Set<String> definedExtensions = new java.util.LinkedHashSet<>();
    /** The ids listed in {@code service.extensions}, or null when that list is absent. */
    private Set<String> enabledExtensions;
    private final List<AuthenticatorUse> authenticatorUses = new ArrayList<>();

    private record AuthenticatorUse(String id, String where, int line) {}

    /** file_storage extensions by id. */
    private final Map<String, FileStorageConfig> fileStorages = new LinkedHashMap<>();
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
      Map<String, FileStorageConfig> storages = new LinkedHashMap<>();
      AckMode ackMode = null;
      int ackModeLine = 0;
      HostPort admin = new HostPort("127.0.0.1", 8888);
      if (top != null) {
        checkKeys(top, "the configuration", "receivers", "processors", "exporters", "extensions", "connectors",
            "service");
        readExtensions(top.get("extensions"));
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
        forEachComponent(top.get("connectors"), "connectors", Set.of(), (id, type, node) -> { });
        ConfigNode service = top.get("service");
        if (service == null) {
          errors.add(at(root.line, "service", "is missing: it lists the pipelines"));
        } else {
          Map<String, ConfigNode> s = map(service, "service");
          if (s != null) {
            checkKeys(s, "service", "pipelines", "telemetry", "extensions", "ack_mode");
            serviceExtensions(s.get("extensions"));
            if (enabledExtensions != null) {
              for (String e : enabledExtensions) {
                if (fileStorages.containsKey(e)) {
                  storages.put(e, fileStorages.get(e));
                }
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
            checkAuthenticatorsEnabled();
          }
        }
      }
      storageLines.forEach((exporter, line) -> {
        String storage = exporters.containsKey(exporter) ? exporters.get(exporter).sendingQueue().storage() : null;
        if (storage == null) {
          return;
        }
        String where = "exporters." + exporter + ".sending_queue.storage";
        if (!fileStorages.containsKey(storage)) {
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
      ServerOptions[] grpcOptions = {ServerOptions.DEFAULTS};
      ServerOptions[] httpOptions = {ServerOptions.DEFAULTS};
      HostPort grpc = protocol(p.get("grpc"), where + ".protocols.grpc", DEFAULT_GRPC_ENDPOINT, true, grpcOptions);
      HostPort http = protocol(p.get("http"), where + ".protocols.http", DEFAULT_HTTP_ENDPOINT, false, httpOptions);
      return new ReceiverConfig(id, grpc, http, grpcOptions[0], httpOptions[0]);
    }

    /** The Collector's {@code configgrpc}/{@code confighttp} server keys that otlp4j does not implement. */
    private static final List<String> UNSUPPORTED_GRPC_SERVER_KEYS = List.of("keepalive", "read_buffer_size",
        "write_buffer_size", "include_metadata", "transport");
    private static final List<String> UNSUPPORTED_HTTP_SERVER_KEYS = List.of("cors", "include_metadata",
        "response_headers", "compression_algorithms", "read_timeout", "read_header_timeout", "write_timeout",
        "idle_timeout", "keepalive");

    private HostPort protocol(ConfigNode node, String where, String defaultEndpoint, boolean grpc,
        ServerOptions[] options) {
      if (node == null) {
        return null;
      }
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return null;
      }
      List<String> known = new ArrayList<>(List.of("endpoint", "tls", "auth"));
      if (grpc) {
        known.addAll(List.of("max_recv_msg_size_mib", "max_concurrent_streams"));
      } else {
        known.addAll(List.of("max_request_body_size", "traces_url_path", "metrics_url_path", "logs_url_path"));
      }
      checkKeys(m, where, grpc ? UNSUPPORTED_GRPC_SERVER_KEYS : UNSUPPORTED_HTTP_SERVER_KEYS,
          known.toArray(String[]::new));
      ServerTls tls = serverTls(m.get("tls"), where + ".tls");
      String authenticator = authenticator(m.get("auth"), where + ".auth");
      int maxBytes = 0;
      int maxStreams = 0;
      Map<Signal, String> urlPaths = new java.util.EnumMap<>(Signal.class);
      if (grpc) {
        int mib = intValue(m.get("max_recv_msg_size_mib"), where + ".max_recv_msg_size_mib", 0, 1);
        if (mib > 2047) {
          errors.add(at(m.get("max_recv_msg_size_mib").line, where + ".max_recv_msg_size_mib",
              "must be at most 2047, was " + mib));
        } else {
          maxBytes = mib * 1024 * 1024;
        }
        maxStreams = intValue(m.get("max_concurrent_streams"), where + ".max_concurrent_streams", 0, 1);
      } else {
        long bytes = longValue(m.get("max_request_body_size"), where + ".max_request_body_size", 0, 1);
        if (bytes > Integer.MAX_VALUE - 8) {
          errors.add(at(m.get("max_request_body_size").line, where + ".max_request_body_size",
              "must be below 2 GiB, was " + bytes));
        } else {
          maxBytes = (int) bytes;
        }
        for (Signal signal : Signal.values()) {
          String key = signal.id() + "_url_path";
          ConfigNode path = m.get(key);
          String text = path == null ? null : string(path, where + "." + key);
          if (text == null) {
            continue;
          }
          // As the Collector: a missing leading slash is added.
          String sanitized = text.startsWith("/") ? text : "/" + text;
          if (text.isEmpty() || sanitized.indexOf('?') >= 0 || sanitized.indexOf('#') >= 0) {
            errors.add(at(path.line, where + "." + key, "'" + text + "' is not a URL path"));
          } else if (urlPaths.containsValue(sanitized)) {
            errors.add(at(path.line, where + "." + key, "'" + sanitized + "' is already another signal's path"));
          } else {
            urlPaths.put(signal, sanitized);
          }
        }
      }
      options[0] = new ServerOptions(tls, authenticator, authenticator == null ? null : bearerTokens.get(authenticator),
          maxBytes, maxStreams, Map.copyOf(urlPaths));
      ConfigNode endpoint = m.get("endpoint");
      String text = endpoint == null ? defaultEndpoint : string(endpoint, where + ".endpoint");
      return text == null ? null : hostPort(text, where + ".endpoint", endpoint == null ? node.line : endpoint.line,
          errors);
    }

    private ServerTls serverTls(ConfigNode node, String where) {
      if (node == null || node.isNull()) {
        return null;
      }
      Map<String, ConfigNode> m = map(node, where);
      if (m == null) {
        return null;
      }
      checkKeys(m, where, List.of("cert_pem", "key_pem", "ca_pem", "client_ca_file_reload", "reload_interval",
          "cipher_suites", "include_system_ca_certs_pool", "curve_preferences"),
          "cert_file", "key_file", "client_ca_file", "ca_file", "min_version", "max_version");
      tlsVersions(m, where);
      Path cert = file(m.get("cert_file"), where + ".cert_file");
      Path key = file(m.get("key_file"), where + ".key_file");
      Path clientCa = file(m.get("client_ca_file"), where + ".client_ca_file");
      // ca_file: read by the Collector into a server's root CAs, which a server never uses; accepted.
      file(m.get("ca_file"), where + ".ca_file");
      if (cert == null || key == null) {
        if (m.get("cert_file") == null || m.get("key_file") == null) {
          errors.add(at(node.line, where, "a server needs cert_file and key_file"));
        }
        return null;
      }
      return new ServerTls(cert, key, clientCa);
    }

    private ClientTls clientTls(ConfigNode node, String where, boolean[] insecure) {
      if (node == null || node.isNull()) {
        return ClientTls.NONE;
      }
      Map<String, ConfigNode> m = map(node, where);
      if (m == null) {
        return ClientTls.NONE;
      }
      checkKeys(m, where, List.of("cert_pem", "key_pem", "ca_pem", "reload_interval", "cipher_suites",
          "include_system_ca_certs_pool", "curve_preferences"), "insecure", "insecure_skip_verify", "ca_file",
          "cert_file", "key_file", "server_name_override", "min_version", "max_version");
      tlsVersions(m, where);
      insecure[0] = bool(m.get("insecure"), where + ".insecure", false);
      ConfigNode skip = m.get("insecure_skip_verify");
      if (bool(skip, where + ".insecure_skip_verify", false)) {
        errors.add(at(skip.line, where + ".insecure_skip_verify", "true is not supported: otlp4j always verifies "
            + "the server's certificate (give its CA in ca_file)"));
      }
      ConfigNode sni = m.get("server_name_override");
      if (sni != null && sni.text() != null && !sni.text().isEmpty()) {
        errors.add(at(sni.line, where + ".server_name_override", "is not supported: the certificate must name the "
            + "endpoint's host"));
      }
      Path ca = file(m.get("ca_file"), where + ".ca_file");
      Path cert = file(m.get("cert_file"), where + ".cert_file");
      Path key = file(m.get("key_file"), where + ".key_file");
      if ((m.get("cert_file") == null) != (m.get("key_file") == null)) {
        errors.add(at(node.line, where, "cert_file and key_file must be given together"));
      }
      return new ClientTls(ca, cert, key);
    }

    /** min_version/max_version: otlp4j speaks TLS 1.2 and 1.3, the Collector's default range. */
    private void tlsVersions(Map<String, ConfigNode> m, String where) {
      ConfigNode min = m.get("min_version");
      if (min != null && !"1.2".equals(min.text())) {
        errors.add(at(min.line, where + ".min_version", "'" + min.value + "' is not supported (supported: 1.2, "
            + "the default: otlp4j accepts TLS 1.2 and 1.3)"));
      }
      ConfigNode max = m.get("max_version");
      if (max != null && !"1.3".equals(max.text()) && !"".equals(max.text())) {
        errors.add(at(max.line, where + ".max_version", "'" + max.value + "' is not supported (supported: 1.3)"));
      }
    }

    /** A readable file's path, resolved against the configuration's directory; null (and an error) if not. */
    private Path file(ConfigNode node, String where) {
      if (node == null) {
        return null;
      }
      String text = string(node, where);
      if (text == null || text.isEmpty()) {
        if (text != null) {
          errors.add(at(node.line, where, "must not be empty"));
        }
        return null;
      }
      Path path = baseDir.resolve(text);
      if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
        errors.add(at(node.line, where, "'" + text + "' is not a readable file"));
        return null;
      }
      return path;
    }

    /** {@code auth: {authenticator: <extension id>}}: the id, remembered to be resolved once all is read. */
    private String authenticator(ConfigNode node, String where) {
      if (node == null || node.isNull()) {
        return null;
      }
      Map<String, ConfigNode> m = map(node, where);
      if (m == null) {
        return null;
      }
      checkKeys(m, where, "authenticator");
      ConfigNode a = m.get("authenticator");
      if (a == null) {
        errors.add(at(node.line, where + ".authenticator", "is required"));
        return null;
      }
      String id = string(a, where + ".authenticator");
      if (id == null) {
        return null;
      }
      if (!bearerTokens.containsKey(id)) {
        errors.add(at(a.line, where + ".authenticator", definedExtensions.contains(id)
            ? "extension '" + id + "' is not an authenticator (supported: bearertokenauth)"
            : "extension '" + id + "' is not defined"));
        return null;
      }
      authenticatorUses.add(new AuthenticatorUse(id, where + ".authenticator", a.line));
      return id;
    }

    // ------------------------------------------------------------------------------ extensions

    /**
     * How each extension type is read, by type. Readers record what they define; a type missing here
     * is an unknown extension (an error naming it).
     */
    private Map<String, ComponentReader> extensionReaders() {
      Map<String, ComponentReader> readers = new LinkedHashMap<>();
      readers.put("bearertokenauth", this::bearerTokenAuth);
      readers.put("file_storage", (id, type, node) -> {
        FileStorageConfig f = fileStorage(id, node);
        if (f != null) {
          fileStorages.put(id, f);
        }
      });
      return readers;
    }

    private void readExtensions(ConfigNode section) {
      Map<String, ComponentReader> readers = extensionReaders();
      forEachComponent(section, "extensions", readers.keySet(), (id, type, node) -> {
        definedExtensions.add(id);
        readers.get(type).read(id, type, node);
      });
    }

    /**
     * {@code bearertokenauth}: {@code token} or {@code filename} (read now, trimmed). The token never
     * appears in an error.
     */
    private void bearerTokenAuth(String id, String type, ConfigNode node) {
      String where = "extensions." + id;
      Map<String, ConfigNode> m = mapOrEmpty(node, where);
      if (m == null) {
        return;
      }
      checkKeys(m, where, List.of("tokens"), "scheme", "header", "token", "filename");
      ConfigNode scheme = m.get("scheme");
      if (scheme != null && !"Bearer".equals(scheme.text())) {
        errors.add(at(scheme.line, where + ".scheme", "'" + scheme.value + "' is not supported (supported: Bearer)"));
      }
      ConfigNode header = m.get("header");
      if (header != null && (header.text() == null || !header.text().equalsIgnoreCase("Authorization"))) {
        errors.add(at(header.line, where + ".header", "'" + header.value
            + "' is not supported (supported: Authorization)"));
      }
      ConfigNode token = m.get("token");
      ConfigNode filename = m.get("filename");
      if ((token == null) == (filename == null)) {
        errors.add(at(node.line, where, "set exactly one of token and filename"));
        return;
      }
      String value;
      int line;
      if (token != null) {
        value = token.text();
        line = token.line;
        if (value == null) {
          errors.add(at(line, where + ".token", "must be a string"));
          return;
        }
      } else {
        Path file = file(filename, where + ".filename");
        if (file == null) {
          return;
        }
        line = filename.line;
        try {
          value = Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException | RuntimeException e) {
          errors.add(at(line, where + ".filename", "cannot read '" + filename.value + "': " + e.getClass()
              .getSimpleName()));
          return;
        }
      }
      if (value.isBlank()) {
        errors.add(at(line, where + (token != null ? ".token" : ".filename"), "the token is empty"));
        return;
      }
      bearerTokens.put(id, new Secret(value));
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

    /** {@code service.extensions}: each id must be defined. */
    private void serviceExtensions(ConfigNode node) {
      if (node == null || node.isNull()) {
        return;
      }
      enabledExtensions = new java.util.LinkedHashSet<>();
      if (node.list() == null) {
        errors.add(at(node.line, "service.extensions", "must be a list of extension ids"));
        return;
      }
      for (ConfigNode n : node.list()) {
        String id = n.text();
        if (id == null) {
          errors.add(at(n.line, "service.extensions", "must be a list of extension ids"));
        } else if (!definedExtensions.contains(id)) {
          errors.add(at(n.line, "service.extensions", "extension '" + id + "' is not defined"));
        } else {
          enabledExtensions.add(id);
        }
      }
    }

    /** As in the Collector, an authenticator a component uses must be enabled in service.extensions. */
    private void checkAuthenticatorsEnabled() {
      for (AuthenticatorUse use : authenticatorUses) {
        if (enabledExtensions == null || !enabledExtensions.contains(use.id())) {
          errors.add(at(use.line(), use.where(), "extension '" + use.id()
              + "' must be listed in service.extensions"));
        }
      }
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
          // Without a timeout, batches form adaptively: a batch leaves as soon as the exporter has a free
          // slot, holding what queued up meanwhile (up to send_batch_size); with one, a batch's first
          // request waits up to the timeout for more, as in the Collector.
          return new BatchConfig(id, new BatchSettings(size, max, timeout, BatchSettings.DEFAULT_QUEUE_SIZE,
              m.get("timeout") != null));
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

    private static final String RESOURCE_ACTIONS = "insert, update, upsert, delete";

    /** An entry with {@code from_attribute}: insert, update or upsert with another attribute's value. */
    private void fromAttribute(ResourceRewrite.Builder rewrite, String key, String action, ConfigNode from,
        ConfigNode value, int actionLine, String w) {
      String source = from.text();
      if (source == null || source.isEmpty()) {
        errors.add(at(from.line, w + ".from_attribute", "must be an attribute name"));
        return;
      }
      if (value != null) {
        errors.add(at(value.line, w + ".value", "give value or from_attribute, not both"));
        return;
      }
      switch (action) {
        case "insert" -> rewrite.insertFromAttribute(key, source);
        case "update" -> rewrite.updateFromAttribute(key, source);
        case "upsert" -> rewrite.upsertFromAttribute(key, source);
        default -> errors.add(at(actionLine, w + ".action", "'" + action
            + "' does not take from_attribute (insert, update, upsert do)"));
      }
    }

    /** One {@code attributes} entry of the {@code resource} processor, added to {@code rewrite}. */
    private void resourceAction(ResourceRewrite.Builder rewrite, String key, String action, ConfigNode v,
        int actionLine, int line, String w) {
      switch (action) {
        case "delete" -> rewrite.delete(key);
        case "insert", "update", "upsert" -> {
          if (v == null || v.isNull() || v.text() == null) {
            errors.add(at(v == null ? line : v.line, w + ".value", "is required for " + action
                + " (a string, number or boolean)"));
            return;
          }
          switch (v.kind) {
            case VALUE_NUMBER_INT -> {
              try {
                long n = Long.parseLong(v.text());
                switch (action) {
                  case "insert" -> rewrite.insert(key, n);
                  case "update" -> rewrite.update(key, n);
                  default -> rewrite.upsert(key, n);
                }
              } catch (NumberFormatException e) {
                errors.add(at(v.line, w + ".value", "'" + v.text() + "' does not fit a 64-bit integer"));
              }
            }
            case VALUE_NUMBER_FLOAT -> {
              double d = Double.parseDouble(v.text());
              switch (action) {
                case "insert" -> rewrite.insert(key, d);
                case "update" -> rewrite.update(key, d);
                default -> rewrite.upsert(key, d);
              }
            }
            case VALUE_TRUE, VALUE_FALSE -> {
              boolean b = Boolean.parseBoolean(v.text());
              switch (action) {
                case "insert" -> rewrite.insert(key, b);
                case "update" -> rewrite.update(key, b);
                default -> rewrite.upsert(key, b);
              }
            }
            default -> {
              switch (action) {
                case "insert" -> rewrite.insert(key, v.text());
                case "update" -> rewrite.update(key, v.text());
                default -> rewrite.upsert(key, v.text());
              }
            }
          }
        }
        case "hash", "extract", "convert" -> errors.add(at(actionLine, w + ".action",
            "'" + action + "' is not supported by otlp4j (supported: " + RESOURCE_ACTIONS + ")"));
        default -> errors.add(at(actionLine, w + ".action", "unknown action '" + action
            + "' (supported: " + RESOURCE_ACTIONS + ")"));
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
        checkKeys(am, w, List.of("from_context", "pattern", "converted_type"), "key", "value", "action",
            "from_attribute");
        String key = am.get("key") == null ? null : string(am.get("key"), w + ".key");
        String action = am.get("action") == null ? null : string(am.get("action"), w + ".action");
        if (key == null || key.isEmpty()) {
          errors.add(at(a.line, w + ".key", "is required"));
          continue;
        }
        if (action == null) {
          errors.add(at(a.line, w + ".action", "is required (" + RESOURCE_ACTIONS + ")"));
          continue;
        }
        ConfigNode from = am.get("from_attribute");
        if (from != null) {
          fromAttribute(rewrite, key, action, from, am.get("value"), am.get("action").line, w);
        } else {
          resourceAction(rewrite, key, action, am.get("value"), am.get("action").line, a.line, w);
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
          checkKeys(m, where, OTLP_EXPORTER_UNSUPPORTED, concat(OTLP_EXPORTER_KEYS, "sending_queue",
              "retry_on_failure"));
          SendingQueueSettings queue = sendingQueue(id, m.get("sending_queue"), where);
          RetryPolicy retry = retryOnFailure(m.get("retry_on_failure"), where + ".retry_on_failure");
          return otlpExporter(id, type, where, m, node, queue, retry);
        }
        case "file" -> {
          checkKeys(m, where, List.of("compression", "encoding", "group_by"),
              concat(FILE_EXPORTER_KEYS, "sending_queue"));
          SendingQueueSettings queue = sendingQueue(id, m.get("sending_queue"), where);
          return fileExporter(id, where, m, node, queue);
        }
        default -> {
          checkKeys(m, where, "verbosity", "sampling_initial", "sampling_thereafter", "use_internal_logger",
              "sending_queue");
          SendingQueueSettings queue = sendingQueue(id, m.get("sending_queue"), where);
          return debugExporter(id, where, m, queue);
        }
      }
    }

    private static String[] concat(String[] keys, String... more) {
      String[] all = java.util.Arrays.copyOf(keys, keys.length + more.length);
      System.arraycopy(more, 0, all, keys.length, more.length);
      return all;
    }

    // ------------------------------------------------------------------------------ exporter options

    private static final String[] OTLP_EXPORTER_KEYS = {"endpoint", "tls", "headers", "compression", "timeout",
        "auth", "traces_endpoint", "metrics_endpoint", "logs_endpoint", "encoding"};
    /** The Collector's client keys otlp4j does not implement (its own pool and keepalive settings apply). */
    private static final List<String> OTLP_EXPORTER_UNSUPPORTED = List.of("keepalive", "read_buffer_size",
        "write_buffer_size", "wait_for_ready", "balancer_name", "authority", "proxy_url", "max_idle_conns",
        "max_idle_conns_per_host", "max_conns_per_host", "idle_conn_timeout", "disable_keep_alives",
        "http2_read_idle_timeout", "http2_ping_timeout", "cookies", "profiles_endpoint", "batcher");
    private static final String[] FILE_EXPORTER_KEYS = {"path", "rotation", "format", "flush_interval", "append"};

    private ExporterConfig otlpExporter(String id, String type, String where, Map<String, ConfigNode> m,
        ConfigNode node, SendingQueueSettings queue, RetryPolicy retry) {
      boolean http = type.equals("otlphttp");
      ConfigNode e = m.get("endpoint");
      Map<Signal, String> signalEndpoints = new java.util.EnumMap<>(Signal.class);
      if (http) {
        for (Signal signal : Signal.values()) {
          ConfigNode se = m.get(signal.id() + "_endpoint");
          String url = se == null ? null : string(se, where + "." + signal.id() + "_endpoint");
          if (url != null && checkUrl(url, true, se.line, where + "." + signal.id() + "_endpoint")) {
            signalEndpoints.put(signal, url);
          }
        }
        ConfigNode encoding = m.get("encoding");
        if (encoding != null && !"proto".equals(encoding.text())) {
          errors.add(at(encoding.line, where + ".encoding", "'" + encoding.value
              + "' is not supported (supported: proto)"));
        }
      } else {
        for (String key : new String[] {"traces_endpoint", "metrics_endpoint", "logs_endpoint", "encoding"}) {
          if (m.get(key) != null) {
            errors.add(at(m.get(key).line, where + "." + key, "unknown key '" + key + "' (an otlphttp key)"));
          }
        }
      }
      String endpoint = null;
      if (e == null) {
        if (!http || signalEndpoints.size() < Signal.values().length) {
          errors.add(at(node.line, where + ".endpoint", "is required"));
          return null;
        }
      } else {
        endpoint = string(e, where + ".endpoint");
        if (endpoint != null) {
          if (!http) {
            endpoint = grpcTarget(endpoint);
          }
          if (!checkUrl(endpoint, http, e.line, where + ".endpoint")) {
            endpoint = null;
          }
        }
      }
      boolean[] insecure = {false};
      ClientTls tls = clientTls(m.get("tls"), where + ".tls", insecure);
      Map<String, String> headers = new LinkedHashMap<>();
      ConfigNode h = m.get("headers");
      if (h != null && !h.isNull()) {
        Map<String, ConfigNode> hm = map(h, where + ".headers");
        if (hm != null) {
          hm.forEach((k, v) -> {
            String value = v.isNull() ? null : v.text();
            if (value == null) {
              errors.add(at(v.line, where + ".headers." + k, "must be a string"));
            } else {
              headers.put(k, value);
            }
          });
        }
      }
      Compression compression = Compression.GZIP;
      ConfigNode c = m.get("compression");
      if (c != null) {
        String name = c.isNull() ? "" : string(c, where + ".compression");
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
      // The Collector's defaults: 5 s for otlp (exporterhelper), 30 s for otlphttp (its HTTP client).
      Duration timeout = duration(m.get("timeout"), where + ".timeout",
          http ? Duration.ofSeconds(30) : Duration.ofSeconds(5));
      if (timeout != null && timeout.isZero()) {
        errors.add(at(m.get("timeout").line, where + ".timeout", "must be positive"));
        timeout = null;
      }
      String authenticator = authenticator(m.get("auth"), where + ".auth");
      Secret authorization = authenticator == null ? null : bearerTokens.get(authenticator);
      if ((endpoint == null && e != null) || timeout == null || retry == null) {
        return null;
      }
      return new OtlpExporterConfig(id, http, endpoint, insecure[0], headers, compression, timeout, queue, retry,
          tls, signalEndpoints, authorization);
    }

    /**
     * A gRPC target as the Collector takes it: {@code host:port}, {@code dns:///host:port} or a URL; the
     * {@code dns}/{@code passthrough} resolver prefixes are dropped (the exporter resolves names itself).
     */
    private static String grpcTarget(String endpoint) {
      for (String prefix : new String[] {"dns:///", "dns:", "passthrough:///"}) {
        if (endpoint.startsWith(prefix)) {
          return endpoint.substring(prefix.length());
        }
      }
      return endpoint;
    }

    /** Whether {@code endpoint} is {@code host:port} (gRPC only) or an http(s) URL with a host; else an error. */
    private boolean checkUrl(String endpoint, boolean http, int line, String where) {
      String url = endpoint.contains("://") ? endpoint : "http://" + endpoint;
      try {
        java.net.URI uri = new java.net.URI(url);
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
          errors.add(at(line, where, "'" + endpoint + "' must use http or https"));
          return false;
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
          errors.add(at(line, where, "'" + endpoint + "' has no host"));
          return false;
        }
        if (!http && !endpoint.contains("://") && uri.getPort() < 0) {
          errors.add(at(line, where, "'" + endpoint + "' must be host:port or a URL"));
          return false;
        }
        return true;
      } catch (java.net.URISyntaxException | RuntimeException x) {
        errors.add(at(line, where, "'" + endpoint + "' is not a valid endpoint"));
        return false;
      }
    }

    private ExporterConfig fileExporter(String id, String where, Map<String, ConfigNode> m, ConfigNode node,
        SendingQueueSettings queue) {
      ConfigNode p = m.get("path");
      if (p == null) {
        errors.add(at(node.line, where + ".path", "is required"));
        return null;
      }
      String path = string(p, where + ".path");
      boolean proto = false;
      ConfigNode f = m.get("format");
      if (f != null) {
        if ("proto".equals(f.text())) {
          proto = true;
        } else if (!"json".equals(f.text())) {
          errors.add(at(f.line, where + ".format", "unknown format '" + f.value + "' (supported: json, proto)"));
        }
      }
      Duration flush = duration(m.get("flush_interval"), where + ".flush_interval", Duration.ofSeconds(1));
      if (flush != null && flush.isZero()) {
        errors.add(at(m.get("flush_interval").line, where + ".flush_interval", "must be positive"));
      }
      boolean append = bool(m.get("append"), where + ".append", false);
      long maxBytes = FileExporter.DEFAULT_MAX_BYTES;
      int maxBackups = FileExporter.DEFAULT_MAX_BACKUPS;
      Duration maxAge = null;
      boolean localTime = false;
      ConfigNode r = m.get("rotation");
      if (r != null) {
        Map<String, ConfigNode> rm = mapOrEmpty(r, where + ".rotation");
        if (rm != null) {
          checkKeys(rm, where + ".rotation", "max_megabytes", "max_days", "max_backups", "localtime");
          maxBytes = intValue(rm.get("max_megabytes"), where + ".rotation.max_megabytes", 100, 1) * 1024L * 1024L;
          maxBackups = intValue(rm.get("max_backups"), where + ".rotation.max_backups",
              FileExporter.DEFAULT_MAX_BACKUPS, 0);
          int days = intValue(rm.get("max_days"), where + ".rotation.max_days", 0, 0);
          maxAge = days == 0 ? null : Duration.ofDays(days);
          localTime = bool(rm.get("localtime"), where + ".rotation.localtime", false);
        }
        // The Collector's lumberjack rotation always appends to an existing file.
        append = true;
      }
      return path == null ? null : new FileExporterConfig(id, baseDir.resolve(path), null, maxBytes, maxBackups,
          queue, proto, maxAge, localTime, append);
    }

    private ExporterConfig debugExporter(String id, String where, Map<String, ConfigNode> m,
        SendingQueueSettings queue) {
      DebugExporter.Verbosity verbosity = DebugExporter.Verbosity.BASIC;
      ConfigNode v = m.get("verbosity");
      if (v != null) {
        switch (String.valueOf(v.value)) {
          case "basic" -> verbosity = DebugExporter.Verbosity.BASIC;
          case "normal" -> verbosity = DebugExporter.Verbosity.NORMAL;
          case "detailed" -> verbosity = DebugExporter.Verbosity.DETAILED;
          default -> errors.add(at(v.line, where + ".verbosity", "unknown verbosity '" + v.value
              + "' (basic, normal, detailed)"));
        }
      }
      // Accepted for compatibility: the relay logs through its own logger, unsampled.
      intValue(m.get("sampling_initial"), where + ".sampling_initial", 2, 0);
      intValue(m.get("sampling_thereafter"), where + ".sampling_thereafter", 1, 1);
      bool(m.get("use_internal_logger"), where + ".use_internal_logger", true);
      return new DebugExporterConfig(id, queue, verbosity);
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

    /**
     * As {@link #checkKeys(Map, String, String...)}, naming the keys in {@code unsupported} (the
     * Collector's, not implemented by otlp4j) as such rather than as unknown.
     */
    private void checkKeys(Map<String, ConfigNode> m, String where, List<String> unsupported, String... known) {
      Map<String, ConfigNode> rest = new LinkedHashMap<>();
      for (Map.Entry<String, ConfigNode> e : m.entrySet()) {
        if (unsupported.contains(e.getKey())) {
          errors.add(at(e.getValue().line, where + "." + e.getKey(), "'" + e.getKey()
              + "' is not supported by otlp4j"));
        } else {
          rest.put(e.getKey(), e.getValue());
        }
      }
      checkKeys(rest, where, known);
    }

    private long longValue(ConfigNode node, String where, long defaultValue, long min) {
      if (node == null) {
        return defaultValue;
      }
      try {
        long v = Long.parseLong(String.valueOf(node.value).trim());
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
