package io.otlp4j.bench.relay;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line of {@link RelayPassThroughBench} ({@link #USAGE}); parsed once, then read-only.
 */
final class RelayBenchOptions {
  static final String USAGE =
      """
      java -cp bench/target/benchmarks.jar io.otlp4j.bench.relay.RelayPassThroughBench [options]
        --quick                  smoke run: 2 x 3 s after 5 s warm-up, 6 s upstream down
        --protocols grpc,http    scenarios: OTLP/gRPC -> OTLP/gRPC, OTLP/HTTP -> OTLP/HTTP
        --middles raw,naive,relay   (relay-tail: the relay with tail_sampling, always_sample, decision_wait 1s,
                                 before batch; relay-lb4: the relay with a loadbalancing exporter, routing_key
                                 traceID, over four backends that are four names of the one sink)
        --tail-num-traces 50000  relay-tail's num_traces (size it for the offered rate: new traces/s x 2 s x 2)
        --memory-limit-mib 0     relay middles: a memory_limiter with this limit_mib (0: none, the 512 MiB default)
        --fresh-trace-ids        every export carries new trace ids (what tail_sampling needs to see new traces)
        --ack-modes received     relay ack modes, comma-separated (received, delivered, durable); a mode the
                                 relay rejects at start is skipped with a message
        --clients 16             load connections, one export in flight each
        --spans 100              spans per pre-encoded request (OtlpGenerator.realisticTraces)
        --warmup 10              seconds of closed-loop warm-up per middle
        --iterations 5           measurement windows per measurement
        --seconds 10             seconds per window
        --latency-load 0.5       open-loop rate for latency, as a fraction of the measured max (0: skip)
        --down-seconds 10        seconds of upstream-down sampling for the relay (0: skip)
        --batch-size 8192        batch processor send_batch_size (relay and naive)
        --batch-timeout-ms 200   batch processor timeout (relay and naive; 0: none, adaptive batching)
        --middle-jvm "-Xmx1g"    JVM options of the middle's child JVM
        --middle-cpus LIST       pin the middle with taskset -c LIST (e.g. 1; pin this JVM with taskset too)
        --load-threads 2         load generator event loop threads
        --sink-threads 2         upstream sink event loop threads
        --retry-backoff-ms 50    closed loop: pause of a connection after a refused export
        --out bench/results/relay-passthrough   results: <out>.json and <out>.txt
        --middle-log bench/target/relay-passthrough-middle.log   the middles' standard output and error
      """;

  final List<String> args;
  boolean quick;
  boolean freshTraceIds;
  List<String> protocols = List.of("grpc", "http");
  List<String> middles = List.of("raw", "naive", "relay");
  List<String> ackModes = List.of("received");
  int clients = 16;
  int spansPerRequest = 100;
  int warmupSeconds = 10;
  int iterations = 5;
  int seconds = 10;
  double latencyLoad = 0.5;
  int downSeconds = 10;
  int batchSize = 8192;
  int tailNumTraces = 50_000;
  int memoryLimitMib;
  long batchTimeoutMs = 200;
  List<String> middleJvmArgs = List.of("-Xmx1g");
  String middleCpus;
  int loadThreads = 2;
  int sinkThreads = 2;
  long retryBackoffMs = 50;
  String out = "bench/results/relay-passthrough";
  String middleLog = "bench/target/relay-passthrough-middle.log";

  private RelayBenchOptions(String[] args) {
    this.args = List.of(args);
  }

  /** The options, or null when help was asked for. */
  static RelayBenchOptions parse(String[] args) {
    RelayBenchOptions o = new RelayBenchOptions(args);
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--help", "-h" -> {
          return null;
        }
        case "--quick" -> o.quick = true;
        case "--fresh-trace-ids" -> o.freshTraceIds = true;
        default -> {
          if (!a.startsWith("--") || i + 1 >= args.length) {
            throw new IllegalArgumentException("unknown or incomplete option " + a + "\n" + USAGE);
          }
          values.put(a.substring(2), args[++i]);
        }
      }
    }
    if (o.quick) {
      o.warmupSeconds = 5;
      o.iterations = 2;
      o.seconds = 3;
      o.downSeconds = 6;
    }
    values.forEach(
        (k, v) -> {
          switch (k) {
            case "protocols" -> o.protocols = list(v, "grpc", "http");
            case "middles" ->
                o.middles = list(v, "raw", "naive", "relay", "relay-tail", "relay-lb4");
            case "ack-modes" -> o.ackModes = list(v, "received", "delivered", "durable");
            case "clients" -> o.clients = positive(k, v);
            case "spans" -> o.spansPerRequest = positive(k, v);
            case "warmup" -> o.warmupSeconds = Integer.parseInt(v);
            case "iterations" -> o.iterations = positive(k, v);
            case "seconds" -> o.seconds = positive(k, v);
            case "latency-load" -> o.latencyLoad = Double.parseDouble(v);
            case "down-seconds" -> o.downSeconds = Integer.parseInt(v);
            case "batch-size" -> o.batchSize = positive(k, v);
            case "tail-num-traces" -> o.tailNumTraces = positive(k, v);
            case "memory-limit-mib" -> o.memoryLimitMib = Integer.parseInt(v);
            case "batch-timeout-ms" -> {
              o.batchTimeoutMs = Integer.parseInt(v);
              if (o.batchTimeoutMs < 0) {
                throw new IllegalArgumentException(
                    "--batch-timeout-ms must be 0 or positive, was " + v);
              }
            }
            case "middle-jvm" ->
                o.middleJvmArgs = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
            case "middle-cpus" -> o.middleCpus = v;
            case "load-threads" -> o.loadThreads = positive(k, v);
            case "sink-threads" -> o.sinkThreads = positive(k, v);
            case "retry-backoff-ms" -> o.retryBackoffMs = positive(k, v);
            case "out" -> o.out = v;
            case "middle-log" -> o.middleLog = v;
            default -> throw new IllegalArgumentException("unknown option --" + k + "\n" + USAGE);
          }
        });
    return o;
  }

  private static List<String> list(String value, String... allowed) {
    List<String> items =
        Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    for (String item : items) {
      if (!Arrays.asList(allowed).contains(item)) {
        throw new IllegalArgumentException(
            "'" + item + "' is not one of " + Arrays.toString(allowed));
      }
    }
    return items;
  }

  private static int positive(String name, String value) {
    int n = Integer.parseInt(value);
    if (n < 1) {
      throw new IllegalArgumentException("--" + name + " must be positive, was " + value);
    }
    return n;
  }
}
