package io.otlp4j.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/** Loopback ports for the scenario runners' child processes. */
public final class LocalPorts {
  private LocalPorts() {}

  /** A loopback port that was free a moment ago (the child binds it next). */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * A loopback port that was free a moment ago and lies below the kernel's ephemeral range, for a
   * server that stops and listens again on the same port (a relay killed and restarted, a proxy
   * that flaps). While nothing listens on a port inside that range, a client that keeps
   * reconnecting to it can be given that very port as its own source port and connect to itself
   * (TCP simultaneous open), holding the port so the server cannot listen again: the chaos soak's
   * fault proxy failed so with "Address already in use" after a flap.
   */
  public static int freePortBelowEphemeralRange() throws IOException {
    int low = ephemeralRangeLow();
    int from = Math.max(1024, low - 16_384);
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(from, low);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        return port;
      } catch (IOException taken) {
        // another one
      }
    }
    throw new IOException("no free loopback port in " + from + ".." + (low - 1));
  }

  /**
   * The first port of Linux's ephemeral range, or 32768 (its default) where it cannot be read or is
   * too low to leave room below it. Read line by line: {@code Files.readString} returned only the
   * first byte of this sysctl file here (JDK 17; {@code /proc/loadavg} and {@code /proc/<pid>/stat}
   * read whole).
   */
  static int ephemeralRangeLow() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"));
      int low = Integer.parseInt(lines.get(0).trim().split("\\s+")[0]);
      return low > 4_096 ? low : 32_768;
    } catch (IOException | RuntimeException unreadable) {
      return 32_768;
    }
  }

  /**
   * Returns once {@code port} on 127.0.0.1 accepts a connection; fails with {@code log}'s text if
   * {@code child} exits first or 60 s pass.
   */
  public static void awaitListening(int port, Process child, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException("the relay exited: " + Files.readString(log));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    throw new IllegalStateException(
        "the relay did not listen on " + port + ": " + Files.readString(log));
  }
}
