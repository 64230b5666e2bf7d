package io.otlp4j.exporter;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for faults no server API offers: it can reset
 * (RST) the next connections once a number of request bytes has passed (a connection reset
 * mid-request), and close every open connection at once (a server dropping pooled connections). Two
 * daemon threads per connection; bounded by the tests' connection counts.
 */
final class FaultyProxy implements AutoCloseable {

  private final ServerSocket listener;
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();

  /** Connections still to reset once {@link #resetAfterBytes} client bytes have passed. */
  final AtomicInteger connectionsToReset = new AtomicInteger();

  volatile int resetAfterBytes = 1;
  final AtomicInteger accepted = new AtomicInteger();
  final AtomicInteger resets = new AtomicInteger();

  FaultyProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.listener = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "faulty-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return listener.getLocalPort();
  }

  /** Closes every connection open through the proxy (both sides), as a server restart would. */
  void dropAll() {
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  int openConnections() {
    return open.size() / 2;
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        accepted.incrementAndGet();
        Socket server = new Socket();
        server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        open.add(client);
        open.add(server);
        boolean reset = connectionsToReset.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0;
        start(() -> pipe(client, server, reset ? resetAfterBytes : -1));
        start(() -> pipe(server, client, -1));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void pipe(Socket from, Socket to, int resetAfter) {
    byte[] buf = new byte[8192];
    long total = 0;
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (resetAfter >= 0 && total + n >= resetAfter) {
          int part = (int) Math.max(0, resetAfter - total);
          out.write(buf, 0, part);
          out.flush();
          resets.incrementAndGet();
          from.setSoLinger(true, 0); // RST to the client
          closeQuietly(from);
          closeQuietly(to);
          return;
        }
        total += n;
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // the other side closed
    } finally {
      closeQuietly(from);
      closeQuietly(to);
      open.remove(from);
      open.remove(to);
    }
  }

  private static void start(Runnable r) {
    Thread t = new Thread(r, "faulty-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    dropAll();
  }
}
