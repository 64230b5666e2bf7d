package io.otlp4j.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
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
