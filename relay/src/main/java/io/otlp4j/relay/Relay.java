package io.otlp4j.relay;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.queue.DurableQueue;
import io.otlp4j.queue.FsyncPolicy;
import io.otlp4j.queue.FullPolicy;
import io.otlp4j.receiver.GrpcConnectionPolicy;
import io.otlp4j.receiver.GrpcReceiver;
import io.otlp4j.receiver.HttpReceiver;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.receiver.ReceiverTls;
import io.otlp4j.relay.alert.AlertEvaluator;
import io.otlp4j.relay.component.ComponentContext;
import io.otlp4j.relay.component.Components;
import io.otlp4j.relay.component.ListeningExtension;
import io.otlp4j.relay.component.RelayProcessor;
import io.otlp4j.relay.component.RelayReceiver;
import io.otlp4j.relay.component.ServiceStatus;
import io.otlp4j.relay.config.BatchConfig;
import io.otlp4j.relay.config.ExporterConfig;
import io.otlp4j.relay.config.ExtensionConfig;
import io.otlp4j.relay.config.FileStorageConfig;
import io.otlp4j.relay.config.MemoryLimiterConfig;
import io.otlp4j.relay.config.PipelineConfig;
import io.otlp4j.relay.config.ProcessorConfig;
import io.otlp4j.relay.config.ReceiverConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.pipeline.Pipeline;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A running relay: the receivers, pipelines, exporters and admin server of one {@link RelayConfig}.
 *
 * <p>Lifecycle: {@link #start} binds everything (exporters first, receivers last, so nothing is
 * accepted that cannot be queued) and the relay is ready; {@link #shutdown} marks it draining
 * ({@code /healthz} answers 503), stops the receivers (requests in flight are answered), drains
 * every queue up to the deadline, shuts the exporters down (flushing files) and stops the admin
 * server. Data still queued in memory when the deadline passes is dropped and logged; data in a
 * durable queue stays on disk (only the batch in flight is waited for) and is sent first after the
 * next start.
 *
 * <p>Durable queues: {@link #start} opens (or recovers) one queue per pipeline whose exporters keep
 * their queue in a {@code file_storage}, in {@code <directory>/<pipeline id>} (the id with {@code
 * /} and other characters unsafe in file names as {@code %XX}); a queue directory is locked by one
 * relay at a time.
 *
 * <p>Components: each exporter, processor and extension is built by its type's factory in {@link
 * RelayConfig#components()} (the registry the configuration was read with, {@link
 * Components#builtIn()} unless the embedder added its own); the receivers are built here from their
 * configuration.
 *
 * <p>Thread-safe. Must be shut down (or closed) to free its threads and ports.
 */
public final class Relay implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Relay.class.getName());

  /** How long {@link #close()} lets queues drain. */
  public static final Duration DEFAULT_SHUTDOWN_DEADLINE = Duration.ofSeconds(10);

  private final MetricsRegistry metrics = MetricsRegistry.create();
  private final MemoryBudget budget;
  private final AckMode ackMode;
  private final Components components;
  private final ServiceStatus status;
  private final ComponentContext context;
  private final Map<String, RelayExporter> exporters = new LinkedHashMap<>();
  private final Map<String, AutoCloseable> extensions = new LinkedHashMap<>();
  private final List<Pipeline> pipelines = new ArrayList<>();
  private final Map<String, GrpcReceiver> grpcReceivers = new LinkedHashMap<>();
  private final Map<String, HttpReceiver> httpReceivers = new LinkedHashMap<>();
  private final Map<String, RelayReceiver> otherReceivers = new LinkedHashMap<>();
  private final AdminServer admin;
  private volatile AlertEvaluator alerts;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private volatile boolean ready;
  private boolean shutdownStarted;
  private boolean cleanShutdown;

  private Relay(RelayConfig config) {
    this.ackMode = config.ackMode();
    this.components = config.components();
    this.status = new ServiceStatus(config, Clock.systemUTC());
    long limit =
        config.processors().values().stream()
            .filter(p -> p instanceof MemoryLimiterConfig)
            .mapToLong(p -> ((MemoryLimiterConfig) p).limitBytes())
            .min()
            .orElse(RelayConfig.DEFAULT_MEMORY_LIMIT_BYTES);
    budget = MemoryBudget.builder(limit).build();
    context = new ComponentContext(metrics, status, budget);
    metrics.gauge(
        "otlp4j_memory_used_bytes",
        "Bytes held by requests in the relay",
        () -> budget.usedBytes());
    metrics.gauge(
        "otlp4j_memory_limit_bytes", "The relay's memory budget", () -> budget.limitBytes());
    BufferPoolMetrics.register(metrics, io.netty.buffer.ByteBufAllocator.DEFAULT);
    ProcessMetrics.register(metrics);
    try {
      for (ExtensionConfig e : config.extensions().values()) {
        AutoCloseable running = components.startExtension(e, context);
        if (running != null) {
          extensions.put(e.id(), running);
        }
      }
      for (ExporterConfig e : config.exporters().values()) {
        exporters.put(e.id(), components.createExporter(e, context));
      }
      Map<String, Map<Signal, List<Pipeline>>> routes = new LinkedHashMap<>();
      for (PipelineConfig p : config.pipelines()) {
        Pipeline pipeline = createPipeline(config, p);
        pipelines.add(pipeline);
        for (String r : p.receivers()) {
          routes
              .computeIfAbsent(r, k -> new EnumMap<>(Signal.class))
              .computeIfAbsent(p.signal(), k -> new ArrayList<>())
              .add(pipeline);
        }
      }
      admin = new AdminServer(config.admin().host(), config.admin().port(), metrics, () -> ready);
      alerts =
          AlertEvaluator.builder(config.alerts(), metrics)
              .externalUrl("http://" + format(admin.address()) + "/")
              .build()
              .start();
      for (ReceiverConfig r : config.receivers().values()) {
        Map<Signal, List<Pipeline>> route = routes.get(r.id());
        if (route == null) {
          continue; // defined but in no pipeline, as the Collector ignores it
        }
        if (r.settings() != null) {
          Router router = new Router(route, ackLatency(r.id(), "kafka"));
          Map<Signal, ReceiverSink> sinks = new EnumMap<>(Signal.class);
          Map<Signal, Duration> holds = new EnumMap<>(Signal.class);
          route.forEach(
              (s, targets) -> {
                sinks.put(s, router);
                holds.put(
                    s,
                    targets.stream()
                        .map(Pipeline::maxHold)
                        .max(Duration::compareTo)
                        .orElse(Duration.ZERO));
              });
          RelayReceiver started =
              components
                  .receiver(io.otlp4j.relay.config.ComponentConfig.typeOf(r.id()))
                  .start(r, sinks, holds, context);
          if (started != null) {
            otherReceivers.put(r.id(), started);
          }
          continue;
        }
        if (r.grpc() != null) {
          grpcReceivers.put(
              r.id(), grpcReceiver(r, new Router(route, ackLatency(r.id(), "grpc"))).start());
        }
        if (r.http() != null) {
          httpReceivers.put(
              r.id(), httpReceiver(r, new Router(route, ackLatency(r.id(), "http"))).start());
        }
      }
    } catch (RuntimeException e) {
      shutdownQuietly();
      throw e;
    }
    ready = true;
    status.running();
  }

  /** Upper bounds of {@code otlp4j_receiver_ack_latency_seconds}. */
  private static final double[] ACK_LATENCY_BOUNDS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
  };

  /** Time from a request handed to the pipelines to its answer, per receiver and transport. */
  private MetricsRegistry.Histogram ackLatency(String receiver, String transport) {
    return metrics.histogram(
        "otlp4j_receiver_ack_latency_seconds",
        "Time from a request read by the receiver to the pipelines' answer to it (what the ack mode"
            + " waits for: queued, written to disk or delivered), in seconds",
        ACK_LATENCY_BOUNDS,
        "receiver",
        receiver,
        "transport",
        transport,
        "ack_mode",
        ackMode.id());
  }

  /**
   * Starts a relay.
   *
   * @throws java.io.UncheckedIOException or {@link IllegalStateException} when an address cannot be
   *     bound
   */
  public static Relay start(RelayConfig config) {
    return new Relay(config);
  }

  private GrpcReceiver grpcReceiver(ReceiverConfig r, ReceiverSink sink) {
    ReceiverConfig.ServerOptions o = r.grpcOptions();
    GrpcReceiver.Builder b =
        GrpcReceiver.builder(sink)
            .host(r.grpc().host())
            .port(r.grpc().port())
            .memoryBudget(budget)
            .metrics(metrics)
            .name(r.id());
    if (o.tls() != null) {
      b.tls(receiverTls(o.tls()));
    }
    if (o.bearerToken() != null) {
      b.bearerToken(o.bearerToken().reveal());
    }
    if (o.maxRequestBytes() > 0) {
      b.maxMessageBytes(o.maxRequestBytes());
    }
    if (o.maxConcurrentStreams() > 0) {
      b.maxConcurrentStreams(o.maxConcurrentStreams());
    }
    if (o.maxConcurrentCalls() > 0) {
      b.maxConcurrentCalls(o.maxConcurrentCalls());
    }
    b.connectionPolicy(connectionPolicy(o.connections()));
    return b.build();
  }

  private HttpReceiver httpReceiver(ReceiverConfig r, ReceiverSink sink) {
    ReceiverConfig.ServerOptions o = r.httpOptions();
    HttpReceiver.Builder b =
        HttpReceiver.builder(sink)
            .host(r.http().host())
            .port(r.http().port())
            .memoryBudget(budget)
            .metrics(metrics)
            .name(r.id());
    if (o.tls() != null) {
      b.tls(receiverTls(o.tls()));
    }
    if (o.bearerToken() != null) {
      b.bearerToken(o.bearerToken().reveal());
    }
    if (o.maxRequestBytes() > 0) {
      b.maxRequestBytes(o.maxRequestBytes());
    }
    o.urlPaths().forEach(b::path);
    ReceiverConfig.ConnectionOptions c = o.connections();
    if (c.maxConnections() > 0) {
      b.maxConnections(c.maxConnections());
    }
    if (c.readHeaderTimeout() != null) {
      b.readHeaderTimeout(c.readHeaderTimeout());
    }
    if (c.readTimeout() != null) {
      b.readTimeout(c.readTimeout());
    }
    if (c.idleTimeout() != null) {
      b.idleTimeout(c.idleTimeout());
    }
    return b.build();
  }

  /**
   * configgrpc's keepalive keys, max_connections, max_control_frames and max_unanswered_resets;
   * what is not set keeps gRPC's default (otlp4j's for its own keys).
   */
  private static GrpcConnectionPolicy connectionPolicy(ReceiverConfig.ConnectionOptions c) {
    GrpcConnectionPolicy.Builder p = GrpcConnectionPolicy.builder();
    if (c.maxConnections() > 0) {
      p.maxConnections(c.maxConnections());
    }
    if (c.maxConnectionIdle() != null) {
      p.maxConnectionIdle(c.maxConnectionIdle());
    }
    if (c.maxConnectionAge() != null) {
      p.maxConnectionAge(c.maxConnectionAge());
    }
    if (c.maxConnectionAgeGrace() != null) {
      p.maxConnectionAgeGrace(c.maxConnectionAgeGrace());
    }
    if (c.keepaliveTime() != null) {
      p.keepAliveTime(c.keepaliveTime());
    }
    if (c.keepaliveTimeout() != null) {
      p.keepAliveTimeout(c.keepaliveTimeout());
    }
    if (c.minTime() != null) {
      p.permitKeepAliveTime(c.minTime());
    }
    if (c.permitWithoutStream() != null) {
      p.permitKeepAliveWithoutCalls(c.permitWithoutStream());
    }
    if (c.maxControlFrames() >= 0) {
      p.maxControlFramesPerWindow(
          c.maxControlFrames(), GrpcConnectionPolicy.DEFAULT_CONTROL_FRAMES_WINDOW);
    }
    if (c.maxUnansweredResets() >= 0) {
      p.maxUnansweredResets(c.maxUnansweredResets());
    }
    return p.build();
  }

  private static ReceiverTls receiverTls(ReceiverConfig.ServerTls tls) {
    ReceiverTls t = ReceiverTls.server(tls.certFile(), tls.keyFile());
    return tls.clientCaFile() == null ? t : t.requireClientCertificates(tls.clientCaFile());
  }

  private Pipeline createPipeline(RelayConfig config, PipelineConfig p) {
    BatchSettings batch = BatchSettings.UNBATCHED;
    List<RelayProcessor> steps = new ArrayList<>();
    for (String id : p.processors()) {
      ProcessorConfig processor = config.processors().get(id);
      if (processor instanceof BatchConfig b) {
        batch = b.settings();
      }
      // memory_limiter: the one shared budget, set up in the constructor; neither adds a step.
      RelayProcessor step = components.createProcessor(processor, context);
      if (step != null) {
        steps.add(step);
      }
    }
    Pipeline.Builder b =
        Pipeline.builder(p.id(), p.signal())
            .ackMode(config.ackMode())
            .memoryBudget(budget)
            .processors(steps)
            .batch(batch)
            .metrics(metrics);
    List<String> onDisk = new ArrayList<>();
    String storage = null;
    for (String id : p.exporters()) {
      ExporterConfig e = config.exporters().get(id);
      b.exporter(exporters.get(id), e.sendingQueue());
      if (e.sendingQueue().durable()) {
        onDisk.add(id);
        storage = e.sendingQueue().storage();
        if (e.retryOnFailure() != null) {
          b.durableBackoff(exporters.get(id), e.retryOnFailure());
        }
      }
    }
    if (!onDisk.isEmpty()) {
      FileStorageConfig s = config.storages().get(storage);
      b.durableQueue(openQueue(s, p.id(), onDisk), s.maxBytes());
    }
    return b.build();
  }

  /**
   * Opens (creating or recovering) pipeline {@code pipelineId}'s queue in its own directory under
   * the storage's, one consumer per exporter.
   */
  private DurableQueue openQueue(
      FileStorageConfig storage, String pipelineId, List<String> consumers) {
    Path directory = storage.directory().resolve(fileNameSafe(pipelineId));
    FsyncPolicy fsync =
        switch (storage.fsync()) {
          case BATCH -> FsyncPolicy.perBatch();
          case INTERVAL -> FsyncPolicy.interval(storage.fsyncInterval());
          case NEVER -> FsyncPolicy.never();
        };
    try {
      Files.createDirectories(storage.directory());
      DurableQueue queue =
          DurableQueue.builder(directory)
              .maxBytes(storage.maxBytes())
              .segmentBytes(Math.min(storage.segmentBytes(), storage.maxBytes()))
              .fsyncPolicy(fsync)
              .whenFull(storage.dropOldest() ? FullPolicy.DROP_OLDEST : FullPolicy.REFUSE)
              .consumers(consumers.toArray(String[]::new))
              .metrics(metrics, pipelineId)
              .open();
      LOG.log(
          System.Logger.Level.INFO,
          () ->
              "pipeline "
                  + pipelineId
                  + ": durable queue in "
                  + directory
                  + " ("
                  + queue.sizeBytes()
                  + " bytes on disk)");
      return queue;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot open the durable queue of pipeline "
              + pipelineId
              + " in "
              + directory
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * A pipeline id as one file name: letters, digits, '.', '-' and '_' kept, anything else as %XX.
   */
  static String fileNameSafe(String id) {
    StringBuilder out = new StringBuilder();
    for (byte b : id.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xFF);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || (c == '.' && out.length() > 0)) {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xFF));
      }
    }
    return out.toString();
  }

  /** Where receiver {@code id}'s OTLP/gRPC server listens. */
  public InetSocketAddress grpcAddress(String receiverId) {
    GrpcReceiver r = grpcReceivers.get(receiverId);
    if (r == null) {
      throw new IllegalArgumentException("no OTLP/gRPC receiver '" + receiverId + "'");
    }
    return r.address();
  }

  /** Where receiver {@code id}'s OTLP/HTTP server listens. */
  public InetSocketAddress httpAddress(String receiverId) {
    HttpReceiver r = httpReceivers.get(receiverId);
    if (r == null) {
      throw new IllegalArgumentException("no OTLP/HTTP receiver '" + receiverId + "'");
    }
    return r.address();
  }

  /** Where the admin server listens. */
  public InetSocketAddress adminAddress() {
    return admin.address();
  }

  /** One line per listener, such as {@code OTLP/gRPC receiver otlp listening on 127.0.0.1:4317}. */
  public List<String> listenerDescriptions() {
    List<String> lines = new ArrayList<>();
    grpcReceivers.forEach(
        (id, r) -> lines.add("OTLP/gRPC receiver " + id + " listening on " + format(r.address())));
    httpReceivers.forEach(
        (id, r) -> lines.add("OTLP/HTTP receiver " + id + " listening on " + format(r.address())));
    otherReceivers.values().forEach(r -> lines.add(r.describe()));
    lines.add("admin (/metrics, /healthz) listening on http://" + format(admin.address()));
    extensions.forEach(
        (id, e) -> {
          if (e instanceof ListeningExtension l) {
            lines.add("extension " + id + " listening on http://" + format(l.address()));
          }
        });
    return lines;
  }

  /**
   * Where extension {@code id} ({@code health_check}, {@code zpages}) listens.
   *
   * @throws IllegalArgumentException when no running extension of that id serves an address
   */
  public InetSocketAddress extensionAddress(String id) {
    if (extensions.get(id) instanceof ListeningExtension l) {
      return l.address();
    }
    throw new IllegalArgumentException("no extension '" + id + "' listening on an address");
  }

  private static String format(InetSocketAddress a) {
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }

  /** Whether every receiver is bound and the pipelines run (false once draining). */
  public boolean isReady() {
    return ready;
  }

  /** When this relay answers its clients. */
  public AckMode ackMode() {
    return ackMode;
  }

  /** The relay's metrics (receivers, pipelines, queues, exporters). */
  public MetricsRegistry metrics() {
    return metrics;
  }

  /** The alert rule evaluator: its rules and the alerts now pending or firing. */
  public AlertEvaluator alerts() {
    return alerts;
  }

  /** The exporter {@code id} (for tests and embedding). */
  public RelayExporter exporter(String id) {
    return exporters.get(id);
  }

  /**
   * Stops accepting, drains the queues and flushes the exporters, all within {@code deadline};
   * blocks until done. Later calls return the first call's result at once.
   *
   * @return whether everything queued was exported in time
   */
  public boolean shutdown(Duration deadline) {
    synchronized (this) {
      if (shutdownStarted) {
        try {
          terminated.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return cleanShutdown;
      }
      shutdownStarted = true;
    }
    long end = System.nanoTime() + deadline.toNanos();
    ready = false;
    status.draining();
    boolean clean = stopReceivers(end);
    List<CompletableFuture<Boolean>> drains = new ArrayList<>();
    for (Pipeline p : pipelines) {
      drains.add(p.shutdown(remaining(end)));
    }
    for (CompletableFuture<Boolean> d : drains) {
      clean &= await(d, end);
    }
    List<CompletableFuture<Void>> flushes = new ArrayList<>();
    for (RelayExporter e : exporters.values()) {
      flushes.add(e.shutdown(remaining(end)));
    }
    for (CompletableFuture<Void> f : flushes) {
      clean &= await(f.thenApply(v -> true), end + TimeUnit.SECONDS.toNanos(1));
    }
    closeAlerts();
    closeExtensions();
    if (admin != null) {
      admin.stop();
    }
    if (!clean) {
      LOG.log(System.Logger.Level.WARNING, "relay stopped before everything queued was sent");
    }
    cleanShutdown = clean;
    status.stopped();
    terminated.countDown();
    return clean;
  }

  /** Blocks until a {@link #shutdown} has finished. */
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  @Override
  public void close() {
    shutdown(DEFAULT_SHUTDOWN_DEADLINE);
  }

  private void shutdownQuietly() {
    for (GrpcReceiver r : grpcReceivers.values()) {
      r.shutdown(Duration.ZERO);
    }
    for (HttpReceiver r : httpReceivers.values()) {
      r.shutdown(Duration.ZERO);
    }
    for (RelayReceiver r : otherReceivers.values()) {
      r.shutdown(Duration.ZERO);
    }
    for (Pipeline p : pipelines) {
      p.shutdown(Duration.ZERO);
    }
    for (RelayExporter e : exporters.values()) {
      e.shutdown(Duration.ZERO);
    }
    closeAlerts();
    closeExtensions();
  }

  private void closeAlerts() {
    AlertEvaluator a = alerts;
    if (a != null) {
      a.close();
    }
  }

  private void closeExtensions() {
    for (AutoCloseable e : extensions.values()) {
      try {
        e.close();
      } catch (Exception x) {
        LOG.log(System.Logger.Level.WARNING, () -> "an extension failed to stop: " + x);
      }
    }
    extensions.clear();
  }

  private static Duration remaining(long end) {
    return Duration.ofNanos(Math.max(0, end - System.nanoTime()));
  }

  /**
   * Stops every receiver at once, each on its own thread, so that every listener closes now: one
   * after another, a receiver waiting for its calls in flight (or its event loops' quiet period)
   * kept the next one accepting new requests while the relay already reported draining.
   */
  private boolean stopReceivers(long end) {
    List<Supplier<Boolean>> stops = new ArrayList<>();
    grpcReceivers.values().forEach(r -> stops.add(() -> r.shutdown(remaining(end))));
    httpReceivers.values().forEach(r -> stops.add(() -> r.shutdown(remaining(end))));
    otherReceivers.values().forEach(r -> stops.add(() -> r.shutdown(remaining(end))));
    List<CompletableFuture<Boolean>> stopped = new ArrayList<>();
    for (Supplier<Boolean> stop : stops) {
      CompletableFuture<Boolean> f = new CompletableFuture<>();
      Thread t =
          new Thread(
              () -> {
                try {
                  f.complete(stop.get());
                } catch (RuntimeException | Error e) {
                  f.completeExceptionally(e);
                }
              },
              "otlp4j-stop-receiver");
      t.setDaemon(true);
      t.start();
      stopped.add(f);
    }
    boolean clean = true;
    for (CompletableFuture<Boolean> f : stopped) {
      // a receiver's own shutdown ends by the deadline; a second more for its last steps
      clean &= await(f, end + TimeUnit.SECONDS.toNanos(1));
    }
    return clean;
  }

  private static boolean await(CompletableFuture<Boolean> f, long end) {
    try {
      return f.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * A receiver's sink: hands each request to the pipelines of its signal that list the receiver.
   * With several pipelines each gets its own reference to the one buffer. Buffer ownership as
   * {@link ReceiverSink}.
   */
  private static final class Router implements ReceiverSink {
    private final Map<Signal, List<Pipeline>> routes;
    private final MetricsRegistry.Histogram ackLatency;

    Router(Map<Signal, List<Pipeline>> routes, MetricsRegistry.Histogram ackLatency) {
      this.routes = routes;
      this.ackLatency = ackLatency;
    }

    @Override
    public CompletionStage<Outcome> accept(Signal signal, ByteBuf request, WalkSummary summary) {
      return accept(signal, request, summary, Reservation.NONE);
    }

    /** One pipeline may take the receiver's reservation over; several each reserve their own. */
    @Override
    public CompletionStage<Outcome> accept(
        Signal signal, ByteBuf request, WalkSummary summary, Reservation reservation) {
      long start = System.nanoTime();
      CompletionStage<Outcome> answer = route(signal, request, summary, reservation);
      return answer.whenComplete((o, e) -> ackLatency.record((System.nanoTime() - start) / 1e9));
    }

    private CompletionStage<Outcome> route(
        Signal signal, ByteBuf request, WalkSummary summary, Reservation reservation) {
      List<Pipeline> targets = routes.get(signal);
      if (targets == null) {
        request.release();
        return CompletableFuture.completedFuture(
            Outcome.permanent("no pipeline takes " + signal.id()));
      }
      if (targets.size() == 1) {
        return targets.get(0).accept(signal, request, summary, reservation);
      }
      List<CompletableFuture<Outcome>> outcomes = new ArrayList<>(targets.size());
      try {
        for (Pipeline p : targets) {
          outcomes.add(p.accept(signal, request.retain(), summary).toCompletableFuture());
        }
      } finally {
        request.release();
      }
      return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
          .thenApply(
              v -> {
                Outcome worst = Outcome.accepted();
                for (CompletableFuture<Outcome> o : outcomes) {
                  worst = Outcome.worst(worst, o.join());
                }
                return worst;
              });
    }
  }
}
