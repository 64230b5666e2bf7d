package io.otlp4j.relay.cli;

import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.Relay;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.relay.config.RelayConfigException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the relay until SIGTERM or Ctrl-C, then stops accepting, drains the queues and exits 0.",
      "Without --config: OTLP/gRPC on 127.0.0.1:4317, OTLP/HTTP on 127.0.0.1:4318, every request written and",
      "fsynced to a durable queue in DATA_DIR/queue before it is acknowledged, then as OTLP/JSON lines to",
      "DATA_DIR/{traces,metrics,logs}.jsonl; admin (/metrics, /healthz) on 127.0.0.1:8888.",
      "With --ack-mode received or delivered and no --config, the queue is kept in memory instead."
    })
final class RunCommand implements Callable<Integer> {

  /**
   * Told about every relay this command starts, once it is ready (tests drive the command through
   * it).
   */
  static volatile Consumer<Relay> startedListener = relay -> {};

  private final Cli.Streams streams;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A Collector-shaped YAML configuration file.")
  Path config;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      defaultValue = "otlp4j-data",
      description = "Where the default configuration writes (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(
      names = "--grpc-endpoint",
      paramLabel = "HOST:PORT",
      defaultValue = RelayConfig.DEFAULT_GRPC_ENDPOINT,
      description = "OTLP/gRPC address of the default configuration (default: ${DEFAULT-VALUE}).")
  String grpcEndpoint;

  @Option(
      names = "--http-endpoint",
      paramLabel = "HOST:PORT",
      defaultValue = RelayConfig.DEFAULT_HTTP_ENDPOINT,
      description = "OTLP/HTTP address of the default configuration (default: ${DEFAULT-VALUE}).")
  String httpEndpoint;

  @Option(
      names = "--admin-endpoint",
      paramLabel = "HOST:PORT",
      defaultValue = RelayConfig.DEFAULT_ADMIN_ENDPOINT,
      description = "Admin address of the default configuration (default: ${DEFAULT-VALUE}).")
  String adminEndpoint;

  @Option(
      names = "--ack-mode",
      paramLabel = "MODE",
      description =
          "When clients are answered: received (queued in memory), delivered (accepted upstream) or "
              + "durable (written and fsynced to the queue). Overrides service.ack_mode; the default follows the "
              + "configuration (durable when an exporter keeps its queue in a file_storage); without --config the "
              + "default configuration follows it (a queue on disk only in durable mode).")
  String ackMode;

  @Option(
      names = "--shutdown-timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description = "How long a stop may take to drain the queues (default: ${DEFAULT-VALUE}).")
  long shutdownSeconds;

  /** Default for {@code --warmup}: the most the warm-up of the embedded default may take. */
  static final String DEFAULT_WARMUP = "10s";

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      defaultValue = DEFAULT_WARMUP,
      converter = SendCommand.DurationConverter.class,
      description =
          "Without --config: before listening, send synthetic traffic through a private copy of the default "
              + "configuration (in a directory in --data-dir, deleted after) so that the first real requests find "
              + "compiled code; stops when the JIT compiler settles, within this long; 0: none "
              + "(default: ${DEFAULT-VALUE}).")
  Duration warmup;

  private interface Restorer {
    void restore();
  }

  RunCommand(Cli.Streams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    AckMode mode = null;
    if (ackMode != null) {
      mode = AckMode.fromId(ackMode);
      if (mode == null) {
        throw new BadInputException(
            "--ack-mode: unknown ack mode '" + ackMode + "' (received, delivered, durable)");
      }
    }
    RelayConfig relayConfig;
    if (config != null) {
      try {
        relayConfig = RelayConfig.load(config);
      } catch (RelayConfigException e) {
        for (String error : e.errors()) {
          streams.err.println(config + ": " + error);
        }
        return Cli.EXIT_BAD_INPUT;
      }
      if (mode != null) {
        try {
          relayConfig = relayConfig.withAckMode(mode);
        } catch (IllegalArgumentException e) {
          throw new BadInputException("--ack-mode: " + e.getMessage());
        }
      }
    } else {
      // The embedded default follows the flag: a queue on disk only in durable mode.
      try {
        relayConfig =
            RelayConfig.defaults(
                dataDir,
                grpcEndpoint,
                httpEndpoint,
                adminEndpoint,
                mode == null ? AckMode.DURABLE : mode);
      } catch (IllegalArgumentException e) {
        throw new BadInputException(e.getMessage());
      }
    }
    if (config == null && !warmup.isZero()) {
      warmUp(mode == null ? AckMode.DURABLE : mode);
    }
    Relay relay;
    try {
      relay = Relay.start(relayConfig);
    } catch (UncheckedIOException | IllegalStateException e) {
      streams.err.println("otlp4j run: " + e.getMessage());
      return Cli.EXIT_IO_ERROR;
    }
    Duration deadline = Duration.ofSeconds(shutdownSeconds);
    Thread hook = new Thread(() -> relay.shutdown(deadline), "otlp4j-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    // SIGTERM and Ctrl-C stop the relay and let call() return, so the process exits 0 (a JVM ended
    // by
    // the signal's default action exits 143); the shutdown hook covers other ways the JVM stops.
    List<Restorer> restorers = new ArrayList<>();
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal signal = new sun.misc.Signal(name);
        sun.misc.SignalHandler previous =
            sun.misc.Signal.handle(
                signal,
                s -> new Thread(() -> relay.shutdown(deadline), "otlp4j-shutdown-" + name).start());
        restorers.add(() -> sun.misc.Signal.handle(signal, previous));
      } catch (IllegalArgumentException | UnsupportedOperationException unavailable) {
        // Not on this platform, or the JVM reserves it: the shutdown hook still stops the relay.
      }
    }
    for (String line : relay.listenerDescriptions()) {
      streams.err.println("otlp4j: " + line);
    }
    if (config == null) {
      streams.err.println("otlp4j: writing every signal to " + dataDir.toAbsolutePath());
    }
    startedListener.accept(relay);
    relay.awaitTermination();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException jvmIsStopping) {
      // The hook is what stopped the relay.
    }
    for (Restorer r : restorers) {
      r.restore();
    }
    streams.err.println("otlp4j: stopped");
    return Cli.EXIT_OK;
  }

  /** Runs {@link RelayWarmup}; a warm-up that fails is reported and skipped. */
  private void warmUp(AckMode mode) throws InterruptedException {
    streams.err.println(
        "otlp4j: warming up (synthetic traffic through a private copy of the default configuration,"
            + " at most "
            + warmup.toMillis() / 1000.0
            + " s; --warmup 0 skips it)");
    try {
      RelayWarmup.Result r = RelayWarmup.run(mode, warmup, dataDir);
      streams.err.printf(
          Locale.ROOT,
          "otlp4j: warmed up in %.1f s: %d requests (%d failed), compiler %s%n",
          r.took().toMillis() / 1000.0,
          r.requests(),
          r.failed(),
          r.compilerSettled() ? "settled" : "still busy at the limit");
    } catch (IOException | RuntimeException e) {
      streams.err.println("otlp4j: warm-up skipped: " + e);
    }
  }
}
