package io.otlp4j.bench.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One incarnation of the relay: {@code otlp4j run --config <file>} ({@code io.otlp4j.relay.Main})
 * in a child JVM on this JVM's class path. Its output is copied to a log file by a thread of this
 * process (a pipe, not a file the child writes: a disk-full episode limits the size of the files
 * the child may write, and must not cut its log).
 *
 * <p>Not thread-safe: the soak's event thread starts and kills it; other threads read {@link
 * #pid()} and {@link #isAlive()}.
 */
final class RelayChild {
  private final Process process;

  private RelayChild(Process process) {
    this.process = process;
  }

  /**
   * Starts the relay and waits (up to a minute) until both {@code ports} accept connections.
   *
   * @throws IOException if it exits or does not listen in time (it is killed then)
   */
  static RelayChild start(List<String> jvmArgs, Path config, Path log, int... ports)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            "io.otlp4j.relay.Main",
            "run",
            "--config",
            config.toString()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    Thread pump = new Thread(() -> copy(process.getInputStream(), log), "soak-relay-log");
    pump.setDaemon(true);
    pump.start();
    RelayChild child = new RelayChild(process);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (int port : ports) {
      while (!accepts(port)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          child.kill();
          throw new IOException("the relay did not start (see " + log + ")");
        }
        Thread.sleep(100);
      }
    }
    return child;
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void copy(InputStream in, Path log) {
    try (in;
        OutputStream out =
            Files.newOutputStream(log, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      byte[] buffer = new byte[8192];
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // the relay is gone
    }
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL ({@link Process#destroyForcibly()} on Linux), and waits until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the relay " + process.pid() + " survived SIGKILL");
    }
  }

  /** SIGTERM, then SIGKILL after 30 s: the soak's end. */
  void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      kill();
    }
  }
}
