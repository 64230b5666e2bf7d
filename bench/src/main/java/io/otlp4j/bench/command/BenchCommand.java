package io.otlp4j.bench.command;

import io.otlp4j.bench.relay.GatewayScenario;
import io.otlp4j.bench.sdk.LibraryScenario;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@code ./otlp4j bench [--quick] [--out DIR] [--json]}: the seed plan's before/after table,
 * measured on this machine — the library scenario ({@link LibraryScenario}) and the gateway
 * scenario in ack modes {@code received} and {@code durable} ({@link GatewayScenario}), each with
 * throughput, memory, latency, CPU and error rate — written to {@code DIR/report.md}, {@code
 * report.json} and {@code report.html}. Exit status 0, or 1 when a scenario could not run (it says
 * which and why), 2 for a bad command line.
 *
 * <p>Internal options (tests, development): {@code --durations key=value,...} overrides the phase
 * lengths ({@link BenchSettings#with}); {@code --scenarios library,gateway-received,...} runs only
 * those.
 */
public final class BenchCommand {

  static final String USAGE =
      """
      Usage: otlp4j bench [--quick] [--out DIR] [--json]
        Measures the seed plan's before/after table on this machine: the OpenTelemetry SDK's
        BatchSpanProcessor + OTLP exporter vs otlp4j's (library), a protobuf-java decode/re-encode
        relay vs the otlp4j relay (gateway, ack=received and ack=durable), each flat out, at a
        fixed offered rate and under upstream faults.
        --quick     about a minute on 2 cores (same rows, wider spreads); default: at most ~10 min
        --out DIR   where report.md, report.json, report.html go (default ./otlp4j-bench/<time>/)
        --json      print report.json instead of the table
      """;

  private static final List<String> ALL = List.of("library", "gateway-received", "gateway-durable");

  private BenchCommand() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the command; returns the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    BenchSettings settings = BenchSettings.full();
    String durations = null;
    Path dir = null;
    boolean json = false;
    List<String> wanted = ALL;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--quick" -> settings = BenchSettings.quick();
          case "--json" -> json = true;
          case "--out" -> dir = Path.of(value(args, ++i, "--out"));
          case "--durations" -> durations = value(args, ++i, "--durations");
          case "--scenarios" -> {
            wanted = List.of(value(args, ++i, "--scenarios").split(","));
            for (String w : wanted) {
              if (!ALL.contains(w)) {
                throw new IllegalArgumentException("unknown scenario " + w + " (" + ALL + ")");
              }
            }
          }
          case "--help", "-h" -> {
            out.print(USAGE);
            return 0;
          }
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      }
      if (durations != null) {
        settings = settings.with(durations);
      }
    } catch (IllegalArgumentException e) {
      err.println("otlp4j bench: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    if (dir == null) {
      dir =
          Path.of(
              "otlp4j-bench",
              ZonedDateTime.now(ZoneOffset.UTC)
                  .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
    Map<String, String> machine = MachineInfo.describe();
    long planned = 0;
    for (String w : wanted) {
      planned +=
          w.equals("library")
              ? LibraryScenario.plannedMillis(settings)
              : GatewayScenario.plannedMillis(settings);
    }
    err.printf(
        "otlp4j bench: %s; planned about %d:%02d; %s cores, %s%n",
        settings, planned / 60_000, planned / 1000 % 60, machine.get("cores"), machine.get("cpu"));
    List<ScenarioResult> results = new ArrayList<>();
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-meter");
              t.setDaemon(true);
              return t;
            });
    Path logs = dir.resolve("logs");
    try (Progress progress = new Progress(err, System.console() != null, planned)) {
      for (String w : wanted) {
        results.add(
            w.equals("library")
                ? LibraryScenario.run(settings, progress, timer, logs)
                : GatewayScenario.run(
                    w.substring("gateway-".length()), settings, progress, timer, logs));
      }
    } finally {
      timer.shutdownNow();
    }
    Report report = new Report(machine, settings, results);
    try {
      Files.createDirectories(dir);
      report.write(dir);
    } catch (IOException e) {
      err.println("otlp4j bench: could not write the report to " + dir + ": " + e.getMessage());
      return 1;
    }
    out.print(json ? report.json() : report.terminal());
    if (!json) {
      out.println();
      out.println("report: " + dir.resolve("report.md") + ", report.json, report.html");
    }
    int status = 0;
    for (ScenarioResult r : results) {
      if (r.failure != null) {
        err.println("otlp4j bench: scenario " + r.id + " could not run: " + r.failure);
        status = 1;
      }
    }
    return status;
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }
}
