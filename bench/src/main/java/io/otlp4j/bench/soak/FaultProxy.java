package io.otlp4j.bench.soak;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PushbackInputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An HTTP/1.1-aware TCP proxy between the relay's OTLP/HTTP exporter and the {@link SoakSink} that
 * injects one {@link Fault} at a time into the requests passing through it.
 *
 * <p>It reads each request's head and its {@code Content-Length} body from the relay, and then, by
 * the fault in force when the request began:
 *
 * <ul>
 *   <li>{@link Fault#NONE}: forwards it and the sink's answer;
 *   <li>{@link Fault#LATENCY}: waits 100 to 1,500 ms before forwarding;
 *   <li>{@link Fault#RESET_MID_REQUEST}: half the requests: reads half the body, then resets the
 *       connection (TCP RST); the sink never sees them;
 *   <li>{@link Fault#LOST_RESPONSE}: half the requests: forwards them, reads the sink's 200, then
 *       resets the relay's connection instead of answering; the sink has the items, the relay must
 *       send them again (duplicates, counted in {@link #unansweredItems()});
 *   <li>{@link Fault#UNAVAILABLE}: answers {@code 503} with {@code Retry-After: 1} itself;
 *   <li>{@link Fault#BLACK_HOLE}: reads the request and never answers, until the relay gives up;
 *   <li>{@link Fault#SLOW_READ}: reads the body 8 KiB every 100 ms, then forwards it;
 *   <li>{@link Fault#FLAP}: the proxy's listening socket closes and opens again every 1.5 s
 *       (connection refused while down) and every open connection is reset at each close.
 * </ul>
 *
 * <p>A request whose answer from the sink could not be written back to the relay (the relay hung
 * up, timed out or was killed), or came later than {@link #LATE_ANSWER_MILLIS} (the relay may have
 * given up on it), is counted in {@link #unansweredItems()} too: the sink has its items but the
 * relay does not know it. An upstream that refuses the connection (restarting) resets the relay's
 * connection.
 *
 * <p>Threads: one acceptor per listening socket and one per connection (the relay's exporter opens
 * a handful); all daemon. Thread-safe.
 */
final class FaultProxy implements AutoCloseable {

  /** The faults, one in force at a time. */
  enum Fault {
    NONE,
    LATENCY,
    RESET_MID_REQUEST,
    LOST_RESPONSE,
    UNAVAILABLE,
    BLACK_HOLE,
    SLOW_READ,
    FLAP;

    String label() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * An answer later than this after the request began may come after the relay's exporter gave up
   * (its {@code timeout} is 5 s): counted as unanswered, the relay may send those items again.
   */
  static final long LATE_ANSWER_MILLIS = 4_000;

  private static final int MAX_HEAD = 64 * 1024;
  private static final int MAX_BODY = 64 * 1024 * 1024;

  private final int port;
  private final int upstreamPort;
  private final SplittableRandom random;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Map<Fault, AtomicLong> affected = new EnumMap<>(Fault.class);
  private final Map<Fault, AtomicLong> windows = new EnumMap<>(Fault.class);
  private final AtomicLong forwarded = new AtomicLong();
  private final AtomicLong unansweredItems = new AtomicLong();
  private final Object listenLock = new Object();
  private volatile Fault fault = Fault.NONE;
  private volatile ServerSocket server;
  private volatile boolean closed;
  private Thread flapper;

  FaultProxy(int port, int upstreamPort, long seed) throws IOException {
    this.port = port;
    this.upstreamPort = upstreamPort;
    this.random = new SplittableRandom(seed);
    for (Fault f : Fault.values()) {
      affected.put(f, new AtomicLong());
      windows.put(f, new AtomicLong());
    }
    listen();
  }

  int port() {
    return port;
  }

  /** Puts {@code next} in force (and counts a window of it); {@link Fault#NONE} ends a fault. */
  synchronized void fault(Fault next) {
    if (flapper != null) {
      flapper.interrupt();
      try {
        flapper.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      flapper = null;
    }
    fault = next;
    windows.get(next).incrementAndGet();
    if (next == Fault.FLAP) {
      flapper = new Thread(this::flap, "soak-proxy-flap");
      flapper.setDaemon(true);
      flapper.start();
    }
    if (server == null) {
      try {
        listen();
      } catch (IOException e) {
        throw new IllegalStateException("cannot listen again on " + port, e);
      }
    }
  }

  Fault fault() {
    return fault;
  }

  long windows(Fault f) {
    return windows.get(f).get();
  }

  long affected(Fault f) {
    return affected.get(f).get();
  }

  long forwarded() {
    return forwarded.get();
  }

  /** Items the sink accepted whose answer never reached the relay: the relay sends them again. */
  long unansweredItems() {
    return unansweredItems.get();
  }

  private void flap() {
    try {
      while (!Thread.currentThread().isInterrupted()) {
        stopListening();
        resetAll();
        affected.get(Fault.FLAP).incrementAndGet();
        Thread.sleep(1_500);
        listen();
        Thread.sleep(1_500);
      }
    } catch (InterruptedException e) {
      // the flapping window is over
    } catch (IOException e) {
      System.err.println("soak proxy: cannot listen again: " + e);
    }
  }

  private void listen() throws IOException {
    synchronized (listenLock) {
      if (server != null || closed) {
        return;
      }
      ServerSocket s = new ServerSocket();
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
      server = s;
      Thread acceptor = new Thread(() -> accept(s), "soak-proxy-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }
  }

  private void stopListening() {
    synchronized (listenLock) {
      ServerSocket s = server;
      server = null;
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closed
        }
      }
    }
  }

  private void resetAll() {
    for (Socket s : open) {
      reset(s);
    }
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket client = s.accept();
        open.add(client);
        Thread t = new Thread(() -> serve(client), "soak-proxy-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private boolean coin() {
    synchronized (random) {
      return random.nextBoolean();
    }
  }

  private int between(int lo, int hi) {
    synchronized (random) {
      return random.nextInt(lo, hi + 1);
    }
  }

  private void serve(Socket client) {
    Socket up = null;
    try {
      client.setSoTimeout(60_000);
      client.setTcpNoDelay(true);
      PushbackInputStream cin = new PushbackInputStream(client.getInputStream(), 1);
      OutputStream cout = client.getOutputStream();
      while (true) {
        byte[] head = readHead(cin);
        if (head == null) {
          return; // the relay closed an idle connection
        }
        long began = System.nanoTime();
        Fault f = fault;
        int length = contentLength(head);
        if (length < 0) {
          reset(client); // chunked or no length: not what the relay's exporter sends
          return;
        }
        switch (f) {
          case RESET_MID_REQUEST -> {
            if (coin()) {
              affected.get(f).incrementAndGet();
              cin.readNBytes(length / 2);
              reset(client);
              return;
            }
          }
          case BLACK_HOLE -> {
            affected.get(f).incrementAndGet();
            cin.readNBytes(length);
            while (cin.read() >= 0) {
              // hold the request unanswered until the relay gives up and closes
            }
            return;
          }
          case UNAVAILABLE -> {
            affected.get(f).incrementAndGet();
            readBody(cin, length, false);
            cout.write(
                ("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                        + "Content-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            cout.flush();
            continue;
          }
          default -> {
            // read below
          }
        }
        byte[] body = readBody(cin, length, f == Fault.SLOW_READ);
        if (f == Fault.SLOW_READ) {
          affected.get(f).incrementAndGet();
        }
        if (f == Fault.LATENCY) {
          affected.get(f).incrementAndGet();
          Thread.sleep(between(100, 1_500));
        }
        if (up == null) {
          try {
            up = new Socket();
            up.connect(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort), 2_000);
            up.setSoTimeout(30_000);
            up.setTcpNoDelay(true);
          } catch (IOException e) {
            reset(client); // the upstream is down: the relay sees its connection reset
            return;
          }
        }
        byte[] response;
        try {
          up.getOutputStream().write(head);
          up.getOutputStream().write(body);
          up.getOutputStream().flush();
          forwarded.incrementAndGet();
          response = readResponse(up.getInputStream());
        } catch (IOException e) {
          reset(client);
          return;
        }
        int items = itemsOf(response);
        if (System.nanoTime() - began > LATE_ANSWER_MILLIS * 1_000_000L || hungUp(client, cin)) {
          unansweredItems.addAndGet(items); // the relay may have given up: it may send them again
          reset(client);
          return;
        }
        if (f == Fault.LOST_RESPONSE && coin()) {
          affected.get(f).incrementAndGet();
          unansweredItems.addAndGet(items);
          reset(client);
          return;
        }
        try {
          cout.write(response);
          cout.flush();
        } catch (IOException e) {
          unansweredItems.addAndGet(items);
          throw e;
        }
      }
    } catch (IOException | RuntimeException e) {
      reset(client);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      open.remove(client);
      closeQuietly(client);
      closeQuietly(up);
    }
  }

  /**
   * Whether the relay closed its end while the proxy waited for the sink (it timed out). HTTP/1.1
   * without pipelining: the relay sends nothing before it has the answer, so a read that returns at
   * once can only be its end of stream.
   */
  private static boolean hungUp(Socket client, PushbackInputStream in) throws IOException {
    client.setSoTimeout(1);
    try {
      int b = in.read();
      if (b < 0) {
        return true;
      }
      in.unread(b);
      return false;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } finally {
      client.setSoTimeout(60_000);
    }
  }

  /** The request or response head up to and including the blank line; null at a clean EOF. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream(512);
    int matched = 0;
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        if (head.size() == 0) {
          return null;
        }
        throw new EOFException("cut inside a head");
      }
      head.write(b);
      matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      if (head.size() > MAX_HEAD) {
        throw new IOException("head too long");
      }
    }
    return head.toByteArray();
  }

  private static String header(byte[] head, String name) {
    String text = new String(head, StandardCharsets.ISO_8859_1);
    for (String line : text.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static int contentLength(byte[] head) {
    if (header(head, "transfer-encoding") != null) {
      return -1;
    }
    String value = header(head, "content-length");
    if (value == null) {
      return -1;
    }
    int length = Integer.parseInt(value);
    return length > MAX_BODY ? -1 : length;
  }

  private static int itemsOf(byte[] response) {
    String value = header(response, SoakSink.ITEMS_HEADER);
    return value == null ? 0 : Integer.parseInt(value);
  }

  private static byte[] readBody(InputStream in, int length, boolean slowly)
      throws IOException, InterruptedException {
    if (!slowly) {
      byte[] body = in.readNBytes(length);
      if (body.length < length) {
        throw new EOFException("cut inside a body");
      }
      return body;
    }
    byte[] body = new byte[length];
    int done = 0;
    while (done < length) {
      int n = in.readNBytes(body, done, Math.min(8 * 1024, length - done));
      if (n == 0) {
        throw new EOFException("cut inside a body");
      }
      done += n;
      Thread.sleep(100);
    }
    return body;
  }

  /** The sink's whole response: head and body. */
  private static byte[] readResponse(InputStream in) throws IOException {
    byte[] head = readHead(in);
    if (head == null) {
      throw new EOFException("the upstream closed");
    }
    int length = contentLength(head);
    if (length < 0) {
      throw new IOException("a response without Content-Length");
    }
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new EOFException("cut inside a response body");
    }
    byte[] all = new byte[head.length + length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, length);
    return all;
  }

  /** Closes with SO_LINGER 0: the peer gets a TCP RST, not a FIN. */
  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0);
    } catch (SocketException ignored) {
      // already closed
    }
    closeQuietly(s);
  }

  private static void closeQuietly(Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (flapper != null) {
      flapper.interrupt();
    }
    stopListening();
    resetAll();
  }
}
