package io.otlp4j.relay.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.FileExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.relay.alert.AlertsConfig;
import io.otlp4j.relay.component.Components;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

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
 * <p>Security and limits use the Collector's {@code configtls}, {@code configgrpc} and {@code
 * confighttp} keys: receiver {@code tls} ({@code cert_file}, {@code key_file}, {@code
 * client_ca_file}), {@code max_recv_msg_size_mib}, {@code max_concurrent_streams} (and otlp4j's
 * {@code max_concurrent_calls}), {@code max_request_body_size} and {@code auth.authenticator};
 * exporter {@code tls} ({@code insecure}, {@code ca_file}, {@code cert_file}, {@code key_file}),
 * {@code auth.authenticator} and otlphttp's {@code traces_endpoint} etc. The one authenticator is
 * the {@code bearertokenauth} extension ({@code token} or {@code filename}), which must be listed
 * in {@code service.extensions} as in the Collector; its token never appears in a {@code toString}
 * or an error. A Collector key that otlp4j does not implement is an error saying so. Relative file
 * paths resolve against the configuration file's directory.
 *
 * <p>Delivery guarantees (otlp4j's own {@code service.ack_mode}; see {@link AckMode}) and the
 * Collector's queue and retry keys:
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
 * <p>Component ids may carry a {@code /name} suffix ({@code otlp/upstream}); a component listed
 * with no value takes its defaults; {@code ${env:VAR}} (and {@code ${VAR}}, {@code
 * ${env:VAR:-default}}) is replaced in every string. An unknown component, key or value is an error
 * naming it and its line; all errors are reported together.
 *
 * <p>Each component type is read by its factory in {@link Components} (the {@code component}
 * package); this package holds the records, the {@link ConfigReader} that collects errors with
 * their lines, the value parsers ({@link ConfigValues}) and the section readers.
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

  private final Map<String, ReceiverConfig> receivers;
  private final Map<String, ProcessorConfig> processors;
  private final Map<String, ExporterConfig> exporters;
  private final List<PipelineConfig> pipelines;
  private final HostPort admin;
  private final AckMode ackMode;
  private final AlertsConfig alerts;

  /** The extensions listed in {@code service.extensions}. */
  private final Map<String, ExtensionConfig> extensions;

  private final Components components;

  private RelayConfig(
      Map<String, ReceiverConfig> receivers,
      Map<String, ProcessorConfig> processors,
      Map<String, ExporterConfig> exporters,
      List<PipelineConfig> pipelines,
      HostPort admin,
      AckMode ackMode,
      Map<String, ExtensionConfig> extensions,
      Components components,
      AlertsConfig alerts) {
    this.receivers = Collections.unmodifiableMap(new LinkedHashMap<>(receivers));
    this.processors = Collections.unmodifiableMap(new LinkedHashMap<>(processors));
    this.exporters = Collections.unmodifiableMap(new LinkedHashMap<>(exporters));
    this.pipelines = List.copyOf(pipelines);
    this.admin = admin;
    this.ackMode = ackMode;
    this.extensions = Collections.unmodifiableMap(new LinkedHashMap<>(extensions));
    this.components = Objects.requireNonNull(components, "components");
    this.alerts = Objects.requireNonNull(alerts, "alerts");
  }

  /**
   * The alerting rules and where their alerts go ({@code service.telemetry.alerts}; the default
   * rules, notifying nobody, when absent).
   */
  public AlertsConfig alerts() {
    return alerts;
  }

  /**
   * When the relay answers its clients ({@code service.ack_mode}; default {@code durable} when an
   * exporter keeps its queue in a {@code file_storage}, else {@code received}).
   */
  public AckMode ackMode() {
    return ackMode;
  }

  /** The receivers by id, in configuration order. */
  public Map<String, ReceiverConfig> receivers() {
    return receivers;
  }

  /** The processors by id, in configuration order. */
  public Map<String, ProcessorConfig> processors() {
    return processors;
  }

  /** The exporters by id, in configuration order. */
  public Map<String, ExporterConfig> exporters() {
    return exporters;
  }

  /** The pipelines, in configuration order. */
  public List<PipelineConfig> pipelines() {
    return pipelines;
  }

  /** The extensions in use (listed in {@code service.extensions}) by id. */
  public Map<String, ExtensionConfig> extensions() {
    return extensions;
  }

  /** The {@code file_storage} extensions in use, by id. */
  public Map<String, FileStorageConfig> storages() {
    Map<String, FileStorageConfig> out = new LinkedHashMap<>();
    extensions.forEach(
        (id, e) -> {
          if (e instanceof FileStorageConfig f) {
            out.put(id, f);
          }
        });
    return out;
  }

  /**
   * The component types this configuration was read with; the relay builds its components with
   * them.
   */
  public Components components() {
    return components;
  }

  /** The admin server's address. */
  public HostPort admin() {
    return admin;
  }

  /**
   * The same configuration answering clients in {@code mode}.
   *
   * @throws IllegalArgumentException when the exporters' queues cannot give that promise ({@code
   *     durable} needs a queue in a {@code file_storage}; {@code received} and {@code delivered}
   *     need none)
   */
  public RelayConfig withAckMode(AckMode mode) {
    String problem = ackModeProblem(Objects.requireNonNull(mode, "mode"), exporters);
    if (problem != null) {
      throw new IllegalArgumentException("ack mode " + mode.id() + ": " + problem);
    }
    return new RelayConfig(
        receivers, processors, exporters, pipelines, admin, mode, extensions, components, alerts);
  }

  /** Why {@code mode} does not fit these exporters, or null when it does. */
  private static String ackModeProblem(AckMode mode, Map<String, ExporterConfig> exporters) {
    List<String> durable =
        exporters.values().stream()
            .filter(e -> e.sendingQueue().durable())
            .map(ExporterConfig::id)
            .sorted()
            .toList();
    if (mode == AckMode.DURABLE && durable.isEmpty()) {
      return "needs an exporter whose sending_queue has a storage (a file_storage extension)";
    }
    if (mode != AckMode.DURABLE && !durable.isEmpty()) {
      return "exporters "
          + durable
          + " keep their queue in a file_storage, which is only used with ack mode "
          + "durable";
    }
    return null;
  }

  /**
   * The configuration of {@code otlp4j run} without a file: OTLP/gRPC and OTLP/HTTP on their
   * default addresses, every signal to the {@code file} exporter writing {@code traces.jsonl},
   * {@code metrics.jsonl} and {@code logs.jsonl} under {@code dataDir}, admin on {@link
   * #DEFAULT_ADMIN_ENDPOINT}; every request is written to a durable queue under {@code
   * dataDir/queue} before it is acknowledged (ack mode {@code durable}, fsync per batch).
   */
  public static RelayConfig defaults(Path dataDir) {
    return defaults(dataDir, DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, DEFAULT_ADMIN_ENDPOINT);
  }

  /** {@link #defaults(Path)} with other listening addresses ({@code host:port}, port 0 for any). */
  public static RelayConfig defaults(
      Path dataDir, String grpcEndpoint, String httpEndpoint, String adminEndpoint) {
    return defaults(dataDir, grpcEndpoint, httpEndpoint, adminEndpoint, AckMode.DURABLE);
  }

  /**
   * {@link #defaults(Path, String, String, String)} answering clients in {@code ackMode}: in {@code
   * durable} the {@code file} exporter's queue is kept in a {@code file_storage} under {@code
   * dataDir/queue}; in {@code received} and {@code delivered} it is the Collector's in-memory queue
   * and nothing but the output files is written.
   */
  public static RelayConfig defaults(
      Path dataDir,
      String grpcEndpoint,
      String httpEndpoint,
      String adminEndpoint,
      AckMode ackMode) {
    Objects.requireNonNull(ackMode, "ackMode");
    List<String> errors = new ArrayList<>();
    HostPort grpc = ConfigValues.hostPort(grpcEndpoint, "--grpc-endpoint", 0, errors);
    HostPort http = ConfigValues.hostPort(httpEndpoint, "--http-endpoint", 0, errors);
    HostPort admin = ConfigValues.hostPort(adminEndpoint, "--admin-endpoint", 0, errors);
    if (!errors.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", errors));
    }
    boolean durable = ackMode == AckMode.DURABLE;
    long mib = 1024L * 1024L;
    FileStorageConfig storage =
        new FileStorageConfig(
            "file_storage",
            dataDir.resolve("queue"),
            FileStorageConfig.DEFAULT_MAX_SIZE_MIB * mib,
            FileStorageConfig.DEFAULT_SEGMENT_SIZE_MIB * mib,
            FileStorageConfig.FsyncMode.BATCH,
            FileStorageConfig.DEFAULT_FSYNC_INTERVAL,
            false);
    SendingQueueSettings queue =
        durable
            ? new SendingQueueSettings(
                true,
                SendingQueueSettings.DEFAULT_NUM_CONSUMERS,
                SendingQueueSettings.DEFAULT_QUEUE_SIZE,
                storage.id())
            : SendingQueueSettings.DEFAULTS;
    ExporterConfig file =
        new FileExporterConfig(
            "file",
            null,
            dataDir,
            FileExporter.DEFAULT_MAX_BYTES,
            FileExporter.DEFAULT_MAX_BACKUPS,
            queue);
    ProcessorConfig batch =
        new BatchConfig(
            "batch",
            new BatchSettings(
                BatchSettings.DEFAULT_SEND_BATCH_SIZE,
                0,
                BatchSettings.DEFAULT_TIMEOUT,
                BatchSettings.DEFAULT_QUEUE_SIZE,
                true));
    List<PipelineConfig> pipelines = new ArrayList<>();
    for (Signal signal : Signal.values()) {
      pipelines.add(
          new PipelineConfig(
              signal.id(), signal, List.of("otlp"), List.of("batch"), List.of("file")));
    }
    Map<String, ExtensionConfig> extensions = durable ? Map.of(storage.id(), storage) : Map.of();
    return new RelayConfig(
        Map.of("otlp", new ReceiverConfig("otlp", grpc, http)),
        Map.of("batch", batch),
        Map.of("file", file),
        pipelines,
        admin,
        ackMode,
        extensions,
        Components.builtIn(),
        AlertsConfig.DEFAULTS);
  }

  /** Reads {@code file}, substituting environment variables from the process environment. */
  public static RelayConfig load(Path file) throws IOException, RelayConfigException {
    return parse(
        Files.readString(file, StandardCharsets.UTF_8),
        System::getenv,
        file.toAbsolutePath().getParent());
  }

  /**
   * Parses YAML text with otlp4j's components ({@link Components#builtIn()}).
   *
   * @param env looks up {@code ${env:VAR}} (null when unset, which substitutes the empty string)
   * @param baseDir relative file paths resolve against it
   * @throws RelayConfigException with every error found, each naming its line
   */
  public static RelayConfig parse(String yaml, Function<String, String> env, Path baseDir)
      throws RelayConfigException {
    return parse(yaml, env, baseDir, Components.builtIn());
  }

  /**
   * Parses YAML text with the component types of {@code components} (an embedding application's own
   * next to the built-in ones); the relay started from the result builds its components with them.
   *
   * @throws RelayConfigException with every error found, each naming its line
   */
  public static RelayConfig parse(
      String yaml, Function<String, String> env, Path baseDir, Components components)
      throws RelayConfigException {
    ConfigNode root;
    try (JsonParser parser = new YAMLFactory().createParser(yaml)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new RelayConfigException(List.of("line 1: the configuration is empty"));
      }
      root = ConfigNode.read(parser, env);
    } catch (JsonProcessingException e) {
      int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
      throw new RelayConfigException(
          List.of("line " + line + ": not valid YAML: " + e.getOriginalMessage()));
    } catch (IOException e) {
      throw new RelayConfigException(List.of("line 0: " + e.getMessage()));
    }
    return read(root, new ConfigReader(baseDir == null ? Path.of("") : baseDir), components);
  }

  /**
   * One pass over the tree: extensions first (components refer to them), then the other sections.
   */
  private static RelayConfig read(ConfigNode root, ConfigReader in, Components components)
      throws RelayConfigException {
    Map<String, ConfigNode> top = in.map(root, "the configuration");
    Map<String, ReceiverConfig> receivers = Map.of();
    Map<String, ProcessorConfig> processors = Map.of();
    Map<String, ExporterConfig> exporters = Map.of();
    ServiceSectionReader service = new ServiceSectionReader(in);
    Map<String, ExtensionConfig> enabled = new LinkedHashMap<>();
    if (top != null) {
      in.checkKeys(
          top,
          "the configuration",
          "receivers",
          "processors",
          "exporters",
          "extensions",
          "connectors",
          "service");
      ComponentSectionReader sections = new ComponentSectionReader(in, components);
      Map<String, ExtensionConfig> defined = sections.extensions(top.get("extensions"));
      receivers = sections.receivers(top.get("receivers"));
      processors = sections.processors(top.get("processors"));
      exporters = sections.exporters(top.get("exporters"));
      sections.connectors(top.get("connectors"));
      ConfigNode s = top.get("service");
      if (s == null) {
        in.error(root.line(), "service", "is missing: it lists the pipelines");
      } else {
        service.read(s, receivers.keySet(), processors.keySet(), exporters.keySet());
        if (service.enabledExtensions != null) {
          for (String id : service.enabledExtensions) {
            if (defined.containsKey(id)) {
              enabled.put(id, defined.get(id));
            }
          }
        }
      }
    }
    checkStorages(in, exporters, enabled, service);
    AckMode ackMode = service.ackMode;
    if (ackMode == null) {
      boolean anyDurable = exporters.values().stream().anyMatch(e -> e.sendingQueue().durable());
      ackMode = anyDurable ? AckMode.DURABLE : AckMode.RECEIVED;
    } else if (in.errors().isEmpty()) {
      String problem = ackModeProblem(ackMode, exporters);
      if (problem != null) {
        in.error(service.ackModeLine, "service.ack_mode", ackMode.id() + " " + problem);
      }
    }
    if (!in.errors().isEmpty()) {
      throw new RelayConfigException(in.errors());
    }
    HostPort admin = service.admin != null ? service.admin : new HostPort("127.0.0.1", 8888);
    return new RelayConfig(
        receivers,
        processors,
        exporters,
        service.pipelines,
        admin,
        ackMode,
        enabled,
        components,
        service.alerts);
  }

  /**
   * Each exporter's {@code sending_queue.storage} must name a {@code file_storage} in use, and a
   * pipeline's exporters may keep their queues in one storage only (a pipeline has one durable
   * queue).
   */
  private static void checkStorages(
      ConfigReader in,
      Map<String, ExporterConfig> exporters,
      Map<String, ExtensionConfig> enabled,
      ServiceSectionReader service) {
    in.storageLines()
        .forEach(
            (exporter, line) -> {
              String storage =
                  exporters.containsKey(exporter)
                      ? exporters.get(exporter).sendingQueue().storage()
                      : null;
              if (storage == null) {
                return;
              }
              String where = "exporters." + exporter + ".sending_queue.storage";
              if (!(in.extensions().get(storage) instanceof FileStorageConfig)) {
                in.error(
                    line,
                    where,
                    "extension '"
                        + storage
                        + "' is not defined (a file_storage extension "
                        + "under extensions)");
              } else if (!enabled.containsKey(storage)) {
                in.error(
                    line,
                    where,
                    "extension '" + storage + "' must be listed in service.extensions");
              }
            });
    for (PipelineConfig p : service.pipelines) {
      List<String> used =
          p.exporters().stream()
              .map(exporters::get)
              .filter(e -> e != null && e.sendingQueue().durable())
              .map(e -> e.sendingQueue().storage())
              .distinct()
              .toList();
      if (used.size() > 1) {
        in.error(
            service.pipelineLines.getOrDefault(p.id(), 0),
            "service.pipelines." + p.id(),
            "its exporters "
                + "keep their queues in different file_storage extensions "
                + used
                + "; a pipeline has one durable "
                + "queue: use one");
      }
    }
  }

  /** The admin server's address as {@code host:port}. */
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
    return "RelayConfig{receivers="
        + receivers.keySet()
        + ", processors="
        + processors.keySet()
        + ", exporters="
        + exporters.keySet()
        + ", pipelines="
        + pipelineIds()
        + ", admin="
        + admin
        + "}";
  }
}
