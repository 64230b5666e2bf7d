package io.otlp4j.bench.relay;

import io.otlp4j.bench.command.ProcessMeter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link PassThroughMiddle} in a child JVM ({@code java -cp <this classpath> ...}), and what is
 * measured of it from outside: its CPU time ({@link ProcessHandle.Info#totalCpuDuration()}, user
 * and system, all threads), its resident set ({@code VmRSS} in {@code /proc/<pid>/status}) and, for
 * the relay, its {@code otlp4j_memory_used_bytes} from the admin {@code /metrics} endpoint.
 *
 * <p>Its standard output and error go to {@code log}. Not thread-safe: one driver thread.
 */
final class MiddleProcess implements AutoCloseable {

  /** Why a middle did not start: the relay does not support the asked ack mode. */
  static final class UnsupportedModeException extends Exception {
    UnsupportedModeException(String message) {
      super(message);
    }
  }

  private final Process process;
  private final ProcessHandle handle;
  private final int port;
  private final int adminPort;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private MiddleProcess(Process process, int port, int adminPort) {
    this.process = process;
    this.handle = process.toHandle();
    this.port = port;
    this.adminPort = adminPort;
  }

  /**
   * Starts the middle and waits (up to a minute) until it listens.
   *
   * @param jvmArgs options for the child JVM, such as {@code -Xmx1g}
   * @param cpus where not null, the child is pinned with {@code taskset -c cpus}
   * @param args the {@link PassThroughMiddle} arguments
   * @throws UnsupportedModeException where the middle reports it cannot run in the asked ack mode
   */
  static MiddleProcess start(List<String> jvmArgs, String cpus, List<String> args, Path log)
      throws IOException, InterruptedException, UnsupportedModeException {
    List<String> command = new ArrayList<>();
    if (cpus != null) {
      command.addAll(List.of("taskset", "-c", cpus));
    }
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), PassThroughMiddle.class.getName()));
    command.addAll(args);
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread reader = new Thread(() -> pump(process, log, ready), "middle-stdout");
    reader.setDaemon(true);
    reader.start();
    String line;
    try {
      line = ready.get(60, TimeUnit.SECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      process.destroyForcibly();
      throw new IOException("the middle did not start (see " + log + "): " + command, e);
    }
    if (line.startsWith("UNSUPPORTED")) {
      process.waitFor(10, TimeUnit.SECONDS);
      throw new UnsupportedModeException(line.substring("UNSUPPORTED".length()).trim());
    }
    int port = -1;
    int admin = -1;
    for (String part : line.split(" ")) {
      if (part.startsWith("port=")) {
        port = Integer.parseInt(part.substring(5));
      } else if (part.startsWith("admin=")) {
        admin = Integer.parseInt(part.substring(6));
      }
    }
    return new MiddleProcess(process, port, admin);
  }

  /**
   * Completes {@code ready} with the first protocol line; copies every other line to {@code log}.
   */
  private static void pump(Process process, Path log, CompletableFuture<String> ready) {
    try (BufferedReader in =
            new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter out =
            new PrintWriter(
                Files.newBufferedWriter(
                    log,
                    StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND),
                true)) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!ready.isDone() && (line.startsWith("READY ") || line.startsWith("UNSUPPORTED"))) {
          ready.complete(line);
        } else {
          out.println(line);
        }
      }
      ready.completeExceptionally(
          new IOException("the middle exited with status " + process.waitFor()));
    } catch (IOException | InterruptedException e) {
      ready.completeExceptionally(e);
    }
  }

  /** The port clients connect to. */
  int port() {
    return port;
  }

  long pid() {
    return handle.pid();
  }

  /** CPU time the child has used so far (user + system, all threads), in nanoseconds. */
  long cpuNanos() {
    return ProcessMeter.cpuNanos(handle);
  }

  /** The child's resident set in bytes, or -1 where {@code /proc} is not available. */
  long rssBytes() {
    return ProcessMeter.rssBytes(handle.pid());
  }

  /**
   * The relay's {@code otlp4j_memory_used_bytes}, or -1 (no admin endpoint, or it did not answer).
   */
  long memoryUsedBytes() {
    return scrape("otlp4j_memory_used_bytes")[0];
  }

  /**
   * Reads the relay's admin {@code /metrics} once: for each metric name, the largest value of its
   * series (-1 where there is no admin endpoint, it did not answer, or has no such series).
   */
  long[] scrape(String... names) {
    long[] values = new long[names.length];
    java.util.Arrays.fill(values, -1);
    if (adminPort < 0) {
      return values;
    }
    try {
      HttpResponse<java.util.stream.Stream<String>> response =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofLines());
      try (java.util.stream.Stream<String> lines = response.body()) {
        lines.forEach(
            line -> {
              for (int i = 0; i < names.length; i++) {
                String rest = line.startsWith(names[i]) ? line.substring(names[i].length()) : "";
                if (rest.startsWith("_total")) {
                  rest = rest.substring("_total".length());
                }
                if (rest.startsWith(" ") || rest.startsWith("{")) {
                  long v = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                  values[i] = Math.max(values[i], v);
                }
              }
            });
      }
    } catch (IOException | RuntimeException e) {
      return values;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return values;
  }

  /** Closes the child's standard input (it shuts down), waits up to 20 s, then kills it. */
  @Override
  public void close() throws InterruptedException {
    try {
      OutputStream in = process.getOutputStream();
      in.close();
    } catch (IOException ignored) {
      // already gone
    }
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
  }
}
