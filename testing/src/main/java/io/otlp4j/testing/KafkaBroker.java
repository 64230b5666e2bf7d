package io.otlp4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * A real Apache Kafka broker (the {@code kafka_2.13} artifact, KRaft mode: one process that is both
 * broker and controller, no ZooKeeper) running in a child JVM, for tests and benchmarks.
 *
 * <p>{@link #start()} picks two free ports on 127.0.0.1 (the client listener and the controller
 * listener), writes a {@code server.properties}, formats the storage and starts the broker (both in
 * one child JVM, {@link KafkaBrokerMain}), then waits until an {@code Admin} client's {@code
 * describeCluster} answers. The child's classpath is this JVM's {@code java.class.path} (under
 * surefire a manifest-only jar whose manifest lists the test classpath, which {@code java -cp}
 * honours), so the broker runs from the Maven artifacts the tests already have.
 *
 * <p>Lifecycle: {@link #stop()} asks the broker to shut down cleanly (SIGTERM, its shutdown hook
 * runs), {@link #kill()} ends it with SIGKILL, {@link #restart()} starts it again on the same ports
 * with the same log directory (so {@link #bootstrapServers()} does not change and every record the
 * broker acknowledged is still there), {@link #close()} stops it and deletes its directory. The
 * broker's own log (WARN and above when logback is on the classpath) and its standard output go to
 * {@code broker.log} in {@link #directory()}; a failed start quotes its tail.
 *
 * <p>Defaults are chosen for quick tests: 256 MiB heap, two network and two I/O threads, one
 * partition per auto-created topic (see {@link Builder#partitions}), replication factor 1 for the
 * internal topics, {@code group.initial.rebalance.delay.ms=0}, Kafka's default flush settings (the
 * page cache; a SIGKILL of the process loses nothing the broker acknowledged). Thread-safe: every
 * lifecycle method is synchronized.
 */
public final class KafkaBroker implements AutoCloseable {
  /** How long {@link #start()} and {@link #restart()} wait for the broker to answer. */
  public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(90);

  private static final List<String> DEFAULT_JVM_OPTIONS =
      List.of("-Xmx256m", "-Xss1m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  private final Path directory;
  private final boolean deleteOnClose;
  private final int port;
  private final int controllerPort;
  private final List<String> jvmOptions;
  private final Duration startTimeout;
  private Process process;
  private Duration lastStartup = Duration.ZERO;

  private KafkaBroker(Builder builder) throws IOException {
    this.deleteOnClose = builder.directory == null;
    this.directory =
        builder.directory != null
            ? Files.createDirectories(builder.directory)
            : Files.createTempDirectory("otlp4j-kafka-");
    this.jvmOptions = builder.jvmOptions;
    this.startTimeout = builder.startTimeout;
    int[] ports = freePorts(2);
    this.port = ports[0];
    this.controllerPort = ports[1];
    writeProperties(builder);
  }

  /** Starts a broker with the defaults in a new temporary directory; see {@link #builder()}. */
  public static KafkaBroker start() throws IOException {
    return builder().start();
  }

  /** A builder of a broker with non-default settings. */
  public static Builder builder() {
    return new Builder();
  }

  /** {@code 127.0.0.1:port}: the value of a client's {@code bootstrap.servers}. Never changes. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /**
   * The directory that holds {@code server.properties}, the log directory and {@code broker.log}.
   */
  public Path directory() {
    return directory;
  }

  /** How long the last start or restart took, from launching the JVM to the first answer. */
  public synchronized Duration lastStartup() {
    return lastStartup;
  }

  /** Whether the broker's JVM is alive. */
  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /**
   * Creates a topic with {@code partitions} partitions (replication factor 1) and waits until the
   * broker leads every one of them, so that the first produce request succeeds; a topic that exists
   * already is left as it is.
   *
   * <p>Why the second wait: the controller answers {@code CreateTopics} once the topic is in the
   * metadata log, and the broker publishes the new metadata to its metadata cache (what clients'
   * metadata requests see) before its replica manager creates the partitions' logs. A produce
   * request in between gets {@code NOT_LEADER_OR_FOLLOWER}; with an idempotent producer and several
   * requests in flight a later batch can then be appended first and the earlier one fails with
   * {@code OUT_OF_ORDER_SEQUENCE_NUMBER} on every retry until {@code delivery.timeout.ms} (two
   * minutes) expires it (KAFKA-15591). A {@code ListOffsets} request is served by the replica
   * manager, as a produce request is, and the admin client retries it until every partition
   * answers.
   */
  public void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      try {
        admin
            .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
            .all()
            .get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      Map<TopicPartition, OffsetSpec> latest = new LinkedHashMap<>();
      admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("creating topic " + topic + " failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("creating topic " + topic + " timed out", e);
    }
  }

  /** Stops the broker cleanly (SIGTERM, waits up to 60 s for its shutdown; then SIGKILL). */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    process = null;
  }

  /** Ends the broker's JVM with SIGKILL, as a crash would, and waits until it is gone. */
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /**
   * Starts the broker again (after {@link #stop()} or {@link #kill()}; stops it first if it runs)
   * on the same ports with the same log directory, and waits until it answers.
   */
  public synchronized void restart() throws IOException {
    stop();
    launch();
  }

  /** Stops the broker and, unless the builder named the directory, deletes its directory. */
  @Override
  public synchronized void close() {
    stop();
    if (deleteOnClose) {
      deleteRecursively(directory);
    }
  }

  private synchronized void launch() throws IOException {
    long started = System.nanoTime();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-Dlogback.configurationFile=" + directory.resolve("logback.xml"));
    command.add("-Dkafka.logs.dir=" + directory);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(KafkaBrokerMain.class.getName());
    command.add(directory.resolve("server.properties").toString());
    command.add(clusterId());
    Path log = directory.resolve("broker.log");
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    awaitReady(started);
  }

  private void awaitReady(long started) {
    long deadline = started + startTimeout.toNanos();
    // first the listener's port (quietly), then the Admin client (which logs every refused connect)
    while (!accepts(port)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "the Kafka broker exited with " + process.exitValue() + " while starting:\n" + tail());
      }
      if (System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException(
            "the Kafka broker did not listen within " + startTimeout + ":\n" + tail());
      }
      try {
        process.waitFor(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
        throw new IllegalStateException("interrupted while the Kafka broker started", e);
      }
    }
    try (Admin admin = admin()) {
      while (true) {
        if (!process.isAlive()) {
          throw new IllegalStateException(
              "the Kafka broker exited with "
                  + process.exitValue()
                  + " while starting:\n"
                  + tail());
        }
        try {
          admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
          lastStartup = Duration.ofNanos(System.nanoTime() - started);
          return;
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            process.destroyForcibly();
            throw new IllegalStateException(
                "the Kafka broker did not answer within " + startTimeout + ":\n" + tail(), e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IllegalStateException("interrupted while the Kafka broker started", e);
    }
  }

  private static boolean accepts(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private Admin admin() {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
    config.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 50);
    config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
    config.put(AdminClientConfig.CLIENT_ID_CONFIG, "otlp4j-kafka-broker-harness");
    return Admin.create(config);
  }

  private String clusterId() throws IOException {
    Path file = directory.resolve("cluster.id");
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
    // Kafka's cluster ids are base64url-encoded UUIDs (22 characters), as kafka-storage
    // random-uuid.
    // One in 64 starts with '-', which the storage tool takes for an option (Kafka's own
    // Uuid.randomUuid draws again then, and so do we).
    String id;
    do {
      UUID uuid = UUID.randomUUID();
      java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(16);
      bytes.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
      id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
    } while (id.startsWith("-"));
    Files.writeString(file, id, StandardCharsets.UTF_8);
    return id;
  }

  private void writeProperties(Builder builder) throws IOException {
    Properties p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", "1");
    p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.setProperty(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("inter.broker.listener.name", "PLAINTEXT");
    p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.setProperty("log.dirs", directory.resolve("data").toString());
    p.setProperty("num.partitions", Integer.toString(builder.partitions));
    p.setProperty("auto.create.topics.enable", "true");
    p.setProperty("offsets.topic.replication.factor", "1");
    p.setProperty("offsets.topic.num.partitions", "1");
    p.setProperty("transaction.state.log.replication.factor", "1");
    p.setProperty("transaction.state.log.min.isr", "1");
    p.setProperty("transaction.state.log.num.partitions", "1");
    p.setProperty("share.coordinator.state.topic.replication.factor", "1");
    p.setProperty("share.coordinator.state.topic.min.isr", "1");
    p.setProperty("group.initial.rebalance.delay.ms", "0");
    p.setProperty("num.network.threads", "2");
    p.setProperty("num.io.threads", "2");
    p.setProperty("num.recovery.threads.per.data.dir", "1");
    p.setProperty("background.threads", "2");
    p.setProperty("log.cleaner.enable", "false");
    p.putAll(builder.properties);
    try (var out = Files.newBufferedWriter(directory.resolve("server.properties"))) {
      p.store(out, "written by io.otlp4j.testing.KafkaBroker");
    }
    Files.writeString(
        directory.resolve("logback.xml"),
        """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
          </appender>
          <root level="WARN"><appender-ref ref="OUT"/></root>
        </configuration>
        """,
        StandardCharsets.UTF_8);
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(directory.resolve("broker.log"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(broker.log unreadable: " + e + ")";
    }
  }

  private static int[] freePorts(int count) throws IOException {
    ServerSocket[] sockets = new ServerSocket[count];
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        sockets[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ports[i] = sockets[i].getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        if (socket != null) {
          socket.close();
        }
      }
    }
  }

  private static void deleteRecursively(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("deleting " + root, e);
    }
  }

  /** Settings of a {@link KafkaBroker}; {@link #start()} builds and starts it. */
  public static final class Builder {
    private Path directory;
    private int partitions = 1;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private List<String> jvmOptions = DEFAULT_JVM_OPTIONS;
    private Duration startTimeout = DEFAULT_START_TIMEOUT;

    private Builder() {}

    /**
     * The broker's directory (kept on {@link KafkaBroker#close()}); default a new temporary one.
     */
    public Builder directory(Path directory) {
      this.directory = directory;
      return this;
    }

    /** Partitions of an auto-created topic ({@code num.partitions}); default 1. */
    public Builder partitions(int partitions) {
      if (partitions < 1) {
        throw new IllegalArgumentException("partitions must be at least 1: " + partitions);
      }
      this.partitions = partitions;
      return this;
    }

    /** A {@code server.properties} entry, overriding the harness's own. */
    public Builder property(String key, String value) {
      properties.put(key, value);
      return this;
    }

    /**
     * The child JVM's options, replacing the defaults ({@code -Xmx256m -XX:+UseSerialGC
     * -XX:TieredStopAtLevel=1}: quick to start; a benchmark wants a full JIT and a larger heap).
     */
    public Builder jvmOptions(String... options) {
      this.jvmOptions = List.of(options);
      return this;
    }

    /** How long to wait for the broker to answer; default {@link #DEFAULT_START_TIMEOUT}. */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = timeout;
      return this;
    }

    /** Formats the storage, starts the broker and waits until it answers. */
    public KafkaBroker start() throws IOException {
      KafkaBroker broker = new KafkaBroker(this);
      try {
        broker.launch();
      } catch (RuntimeException | IOException e) {
        broker.close();
        throw e;
      }
      return broker;
    }
  }
}
