package io.otlp4j.bench.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code otlp4j send} as a client: one child JVM after another ({@code io.otlp4j.relay.Main send},
 * what {@code ./otlp4j send} runs), each sending spans over OTLP/HTTP to the relay for {@code
 * runSeconds} at a steady rate, without retries (a failed request is not acknowledged and never
 * sent twice, so send's duplicates all come from the relay), then printing its JSON summary, of
 * which the soak takes {@code succeeded × items_per_request} as acknowledged items.
 *
 * <p>One thread runs the loop. Thread-safe.
 */
final class SendClient implements AutoCloseable {
  static final int ITEMS_PER_REQUEST = 20;
  static final int CONCURRENCY = 4;

  private final Ledger ledger;
  private final List<String> command;
  private final Path log;
  private final Thread thread;
  private final AtomicLong runs = new AtomicLong();
  private final AtomicLong failedRuns = new AtomicLong();
  private final AtomicLong failedRequests = new AtomicLong();
  private final int runSeconds;
  private final long endNanos;
  private volatile boolean running = true;
  private volatile Process current;

  /**
   * Starts the loop: runs of {@code runSeconds}, the last one cut to end at {@code endNanos} (a
   * {@link System#nanoTime()}); no run starts with less than 3 s left.
   */
  SendClient(
      Ledger ledger,
      int httpPort,
      double requestsPerSecond,
      int runSeconds,
      long endNanos,
      Path log) {
    this.ledger = ledger;
    this.log = log;
    this.runSeconds = runSeconds;
    this.endNanos = endNanos;
    command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xmx128m",
            "-cp",
            System.getProperty("java.class.path"),
            "io.otlp4j.relay.Main",
            "send",
            "--protocol",
            "http/protobuf",
            "--endpoint",
            "http://127.0.0.1:" + httpPort,
            "--rate",
            Double.toString(requestsPerSecond),
            "--concurrency",
            Integer.toString(CONCURRENCY),
            "--items-per-request",
            Integer.toString(ITEMS_PER_REQUEST),
            "--duration",
            "DURATION",
            "--warmup",
            "0",
            "--retries",
            "0",
            "--timeout",
            "5s",
            "--json",
            "--quiet"));
    thread = new Thread(this::loop, "soak-send");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    ObjectMapper json = new ObjectMapper();
    while (running) {
      long left = TimeUnit.NANOSECONDS.toSeconds(endNanos - System.nanoTime());
      if (left < 3) {
        return;
      }
      List<String> run = new ArrayList<>(command);
      run.set(run.indexOf("DURATION"), Math.min(left, runSeconds) + "s");
      try {
        Process p =
            new ProcessBuilder(run)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        current = p;
        byte[] out = p.getInputStream().readAllBytes();
        p.waitFor();
        runs.incrementAndGet();
        try {
          JsonNode summary = json.readTree(new String(out, StandardCharsets.UTF_8));
          long ok = summary.get("succeeded").asLong();
          ledger.sendAcknowledged(ok * summary.get("items_per_request").asLong());
          failedRequests.addAndGet(summary.get("failed").asLong());
        } catch (IOException | RuntimeException e) {
          failedRuns.incrementAndGet(); // no summary: nothing counted as acknowledged
        }
      } catch (IOException e) {
        failedRuns.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  long runs() {
    return runs.get();
  }

  long failedRuns() {
    return failedRuns.get();
  }

  long failedRequests() {
    return failedRequests.get();
  }

  /** Lets the running send finish (at most its duration and timeouts), starts no other. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join(TimeUnit.MINUTES.toMillis(3));
    Process p = current;
    if (thread.isAlive() && p != null) {
      p.destroyForcibly();
      thread.join(10_000);
    }
  }
}
