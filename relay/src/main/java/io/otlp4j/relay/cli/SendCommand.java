package io.otlp4j.relay.cli;

import static io.otlp4j.relay.cli.SendSummary.itemName;
import static io.otlp4j.relay.cli.SendSummary.millis;
import static io.otlp4j.relay.cli.SendSummary.number;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.exporter.OtlpExporter;
import io.otlp4j.exporter.Protocol;
import io.otlp4j.wire.Compression;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Sends synthetic spans, metrics or logs (or a file) to an OTLP endpoint.",
      "At a fixed --rate (open loop: latency counts from when each request was due, so",
      "queueing is not hidden) or flat out (--rate 0, --concurrency requests in flight),",
      "for --duration or --count requests, after a --warmup that is sent but not counted.",
      "A progress line each second on stderr, then",
      "requests/s, items/s, MB/s, latency percentiles and errors by kind (--json: one",
      "JSON object on stdout). Exit status: 0 all accepted, 1 some failed, 2 bad options."
    })
final class SendCommand implements Callable<Integer> {
  static final String DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317";
  static final String DEFAULT_HTTP_ENDPOINT = "http://127.0.0.1:4318";
  static final Duration DEFAULT_DURATION = Duration.ofSeconds(10);

  /**
   * The default warm-up: long enough for this JVM's JIT to compile the send path (about 0.5 s of
   * late requests on a 2-core machine without it) and for the endpoint to settle; short next to a
   * run.
   */
  static final String DEFAULT_WARMUP = "3s";

  static final int MAX_ITEMS_PER_REQUEST = 1_000_000;
  static final int MAX_CONCURRENCY = 100_000;

  private final Cli.Streams streams;

  @Option(
      names = "--signal",
      paramLabel = "SIGNAL",
      converter = SignalConverter.class,
      description =
          "traces, metrics or logs (default: traces; with --file: detected from the content).")
  Signal signal;

  @Option(
      names = "--items-per-request",
      paramLabel = "N",
      description =
          "Spans, metric data points or log records in each synthetic request (default: 100).")
  Integer itemsPerRequest;

  @Option(
      names = "--file",
      paramLabel = "PATH",
      description =
          "Send this OTLP export request (OTLP/JSON or protobuf, plain, gzip or zstd; - for standard "
              + "input) instead of synthetic data.")
  String file;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "Where to send (default: "
              + DEFAULT_GRPC_ENDPOINT
              + " for grpc, "
              + DEFAULT_HTTP_ENDPOINT
              + " for http, /v1/<signal> appended). https turns TLS on; a gRPC endpoint without a scheme uses TLS "
              + "unless --insecure is given.")
  String endpoint;

  @Option(
      names = "--protocol",
      paramLabel = "PROTOCOL",
      defaultValue = "grpc",
      converter = ProtocolConverter.class,
      description = "grpc, http/protobuf or http/json (default: ${DEFAULT-VALUE}).")
  Protocol protocol;

  @Option(
      names = "--compression",
      paramLabel = "NAME",
      defaultValue = "none",
      converter = CompressionConverter.class,
      description = "none, gzip or zstd (default: ${DEFAULT-VALUE}).")
  Compression compression;

  @Option(
      names = "--header",
      paramLabel = "KEY=VALUE",
      description = "A header (gRPC metadata) sent with every " + "request; repeatable.")
  Map<String, String> headers = new LinkedHashMap<>();

  @Option(
      names = "--insecure",
      description = "Plaintext for a gRPC endpoint given without a scheme.")
  boolean insecure;

  @Option(
      names = "--ca-file",
      paramLabel = "PEM",
      description = "CA certificates to trust for TLS (default: " + "the JDK's).")
  Path caFile;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "100",
      description =
          "Requests per second, open loop; 0 sends flat out, closed loop (default: ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--concurrency",
      paramLabel = "C",
      defaultValue = "64",
      description =
          "Requests in flight at most. Open loop: a request due while C are in flight is not sent and "
              + "counts as a 'client overloaded' error. Closed loop: always C in flight (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "How long to send: 30s, 500ms, 2m (default: 10s unless --count is given).")
  Duration duration;

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      defaultValue = DEFAULT_WARMUP,
      converter = DurationConverter.class,
      description =
          "Send like this first, for this long, without counting anything, so that the figures describe "
              + "the endpoint and not this client's cold start; --duration and --count start after it; 0: none "
              + "(default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "How many requests to send (with --duration: " + "whichever ends first).")
  Long count;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How long one request may take (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--retries",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "Retries of a retryable failure, as the OTLP specification says (default: ${DEFAULT-VALUE}: "
              + "every failure is counted).")
  int retries;

  @Option(
      names = "--json",
      description = "Print the summary as one JSON object on stdout (and nothing else there).")
  boolean json;

  @Option(names = "--quiet", description = "No progress line.")
  boolean quiet;

  SendCommand(Cli.Streams streams) {
    this.streams = streams;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    validate();
    Signal sendSignal;
    int items;
    Supplier<ByteBuf> payloads;
    if (file != null) {
      Payload payload = Payload.read(file, signal, streams.in);
      byte[] protobuf =
          InspectCommand.transcoded(payload); // JSON once to protobuf; http/json re-encodes it
      try {
        items =
            (int)
                Math.min(
                    Integer.MAX_VALUE,
                    OtlpWalker.create().walk(payload.signal, protobuf).itemCount());
      } catch (WireFormatException e) {
        throw new BadInputException(payload.name + ": " + e.getMessage());
      }
      sendSignal = payload.signal;
      payloads =
          () ->
              Unpooled.wrappedBuffer(protobuf); // a new wrapper each time: no copy, nothing shared
    } else {
      sendSignal = signal != null ? signal : Signal.TRACES;
      items = itemsPerRequest != null ? itemsPerRequest : 100;
      SyntheticRequests synthetic = new SyntheticRequests(sendSignal, items, System.nanoTime());
      payloads = () -> synthetic.next(ByteBufAllocator.DEFAULT);
    }

    OtlpExporter exporter = buildExporter();
    long maxRequests = count != null ? count : Long.MAX_VALUE;
    Duration runFor = duration != null ? duration : count != null ? null : DEFAULT_DURATION;
    long durationNanos = runFor != null ? runFor.toNanos() : Long.MAX_VALUE;
    LoadRun run =
        new LoadRun(
            exporter,
            sendSignal,
            items,
            payloads,
            rate,
            concurrency,
            maxRequests,
            durationNanos,
            warmup.toNanos());
    String target = exporter.endpoint(sendSignal);
    streams.err.printf(
        Locale.ROOT,
        "otlp4j send: %s, %d %s per request, over %s to %s, %s, %s%s%n",
        sendSignal.id(),
        items,
        itemName(sendSignal),
        protocol.configName(),
        target,
        rate > 0
            ? "open loop at " + number(rate) + " requests/s, at most " + concurrency + " in flight"
            : "closed loop, " + concurrency + " in flight",
        (count != null ? count + " requests" : "")
            + (count != null && runFor != null ? " or " : "")
            + (runFor != null ? "for " + runFor.toMillis() / 1000.0 + " s" : ""),
        warmup.isZero()
            ? ""
            : ", after a " + warmup.toMillis() / 1000.0 + " s warm-up (sent, not counted)");

    Runnable restoreInterrupt = onInterrupt(run::stop);
    LoadRun.Snapshot last;
    try {
      run.start();
      long previousOk = 0;
      long previousItems = 0;
      long previousNanos = 0;
      while (!run.await(1, TimeUnit.SECONDS)) {
        LoadRun.Snapshot s = run.snapshot();
        if (!quiet && s.warmingUp) {
          streams.err.printf(
              Locale.ROOT, "[warm-up] %d requests sent, not counted%n", s.warmupRequests);
        } else if (!quiet) {
          double seconds = Math.max(1e-9, (s.elapsedNanos - previousNanos) / 1e9);
          streams.err.printf(
              Locale.ROOT,
              "[%5.1fs] %s requests/s, %s %s/s, %d errors, p99 %s ms%n",
              s.seconds(),
              number((s.succeeded - previousOk) / seconds),
              number((s.items - previousItems) / seconds),
              itemName(sendSignal),
              s.errorCount(),
              millis(s.latencyMicros.getValueAtPercentile(99)));
        }
        previousOk = s.succeeded;
        previousItems = s.items;
        previousNanos = s.elapsedNanos;
      }
      last = run.snapshot();
    } finally {
      restoreInterrupt.run();
      run.close();
      exporter.shutdown(Duration.ofSeconds(1)).join();
    }
    SendSummary summary =
        new SendSummary(
            streams.out, sendSignal, items, target, protocol, compression, rate, concurrency);
    if (json) {
      summary.writeJson(last);
    } else {
      summary.writeText(last);
    }
    return last.errorCount() == 0 ? Cli.EXIT_OK : Cli.EXIT_IO_ERROR;
  }

  private void validate() {
    if (!(rate >= 0) || Double.isInfinite(rate)) {
      throw new BadInputException("--rate must be >= 0 (0: flat out): " + rate);
    }
    if (concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new BadInputException(
          "--concurrency must be in [1, " + MAX_CONCURRENCY + "]: " + concurrency);
    }
    if (count != null && count < 1) {
      throw new BadInputException("--count must be >= 1: " + count);
    }
    if (duration != null && (duration.isZero() || duration.isNegative())) {
      throw new BadInputException("--duration must be positive: " + duration);
    }
    if (warmup.isNegative()) {
      throw new BadInputException("--warmup must be >= 0 (0: none): " + warmup);
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new BadInputException("--timeout must be positive: " + timeout);
    }
    if (retries < 0 || retries > 100) {
      throw new BadInputException("--retries must be in [0, 100]: " + retries);
    }
    if (itemsPerRequest != null) {
      if (file != null) {
        throw new BadInputException(
            "--items-per-request does not go with --file (the file says how many items)");
      }
      if (itemsPerRequest < 1 || itemsPerRequest > MAX_ITEMS_PER_REQUEST) {
        throw new BadInputException(
            "--items-per-request must be in [1, "
                + MAX_ITEMS_PER_REQUEST
                + "]: "
                + itemsPerRequest);
      }
    }
  }

  private OtlpExporter buildExporter() {
    try {
      OtlpExporter.Builder b =
          OtlpExporter.builder()
              .name("send")
              .protocol(protocol)
              .endpoint(
                  endpoint != null
                      ? endpoint
                      : protocol == Protocol.GRPC ? DEFAULT_GRPC_ENDPOINT : DEFAULT_HTTP_ENDPOINT)
              .compression(compression)
              .timeout(timeout)
              .insecure(insecure)
              .retryPolicy(
                  RetryPolicy.builder()
                      .initialDelay(Duration.ofMillis(100))
                      .multiplier(2)
                      .maxDelay(Duration.ofSeconds(5))
                      .maxAttempts(retries + 1)
                      .build())
              // Every failure is to be seen: the breaker never trips (a time window never holds
              // MAX_VALUE calls).
              .circuitBreaker(
                  cb ->
                      cb.timeBasedWindow(1, Duration.ofSeconds(1)).minimumCalls(Integer.MAX_VALUE))
              // The run bounds what is in flight; the exporter never needs to queue or refuse.
              .maxInFlight(concurrency, concurrency)
              .maxConnections(concurrency) // HTTP/1.1: one connection per request in flight
              .acquireTimeout(timeout);
      headers.forEach(b::header);
      if (caFile != null) {
        b.trustedCertificates(caFile);
      }
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage());
    }
  }

  /**
   * The first Ctrl-C (SIGINT) or SIGTERM stops sending: the requests in flight finish and the
   * summary is printed. A second one does what it did before. Returns what restores the previous
   * handlers.
   */
  private static Runnable onInterrupt(Runnable stop) {
    List<Runnable> restorers = new ArrayList<>();
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        sun.misc.Signal signal = new sun.misc.Signal(name);
        sun.misc.SignalHandler[] previous = new sun.misc.SignalHandler[1];
        previous[0] =
            sun.misc.Signal.handle(
                signal,
                s -> {
                  stop.run();
                  sun.misc.Signal.handle(signal, previous[0]);
                });
        restorers.add(() -> sun.misc.Signal.handle(signal, previous[0]));
      } catch (IllegalArgumentException | UnsupportedOperationException unavailable) {
        // Not on this platform, or ignored (a background job's SIGINT): the default action stays.
      }
    }
    return () -> restorers.forEach(Runnable::run);
  }

  /** Reads {@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h}, or a bare number of seconds. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT);
      try {
        if (v.endsWith("ms")) {
          return Duration.ofNanos(
              Math.round(Double.parseDouble(v.substring(0, v.length() - 2)) * 1e6));
        }
        double unit = v.endsWith("s") ? 1 : v.endsWith("m") ? 60 : v.endsWith("h") ? 3600 : 0;
        String n = unit == 0 ? v : v.substring(0, v.length() - 1);
        double seconds = Double.parseDouble(n) * (unit == 0 ? 1 : unit);
        if (!(seconds >= 0) || seconds > TimeUnit.DAYS.toSeconds(365)) {
          throw new NumberFormatException();
        }
        return Duration.ofNanos(Math.round(seconds * 1e9));
      } catch (NumberFormatException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration (examples: 30s, 500ms, 2m, 1h)");
      }
    }
  }

  static final class ProtocolConverter implements CommandLine.ITypeConverter<Protocol> {
    @Override
    public Protocol convert(String value) {
      try {
        return Protocol.fromConfigName(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  static final class CompressionConverter implements CommandLine.ITypeConverter<Compression> {
    @Override
    public Compression convert(String value) {
      try {
        return Compression.fromEncoding(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
