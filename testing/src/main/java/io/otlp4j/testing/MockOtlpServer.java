package io.otlp4j.testing;

import com.google.protobuf.Message;
import io.grpc.Status;
import io.netty.handler.ssl.SslContext;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.testing.RecordedRequest.Outcome;
import io.otlp4j.wire.Signal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;

/**
 * A scriptable fake OTLP receiver for tests, in the spirit of OkHttp's MockWebServer: a real
 * grpc-java server (OTLP/gRPC) and a real JDK HTTP server (OTLP/HTTP, protobuf and JSON) on
 * 127.0.0.1, for traces, metrics and logs.
 *
 * <p><b>Script.</b> Each request takes the next {@linkplain #enqueue enqueued} {@link Answer}, or
 * the {@linkplain #defaultAnswer(Answer) default answer} (OK unless set) when the queue is empty;
 * both transports share the queue. Delays and gates are scheduled on a timer, never slept.
 *
 * <p><b>Records.</b> Every request is recorded when it arrives ({@link #takeRequest}, {@link
 * #requests()}), decoded by the official opentelemetry-proto classes. A request answered with
 * success is <em>accepted</em>: it is added to {@link #accepted()} just before its answer is sent
 * (so a client that saw the answer finds it there), and its items count in {@link #spanCount()},
 * {@link #pointCount()}, {@link #logCount()}. A gRPC call the client cancelled before the answer is
 * not accepted. Records are kept until {@link #clear()}: a test's load must be bounded.
 *
 * <p><b>Life cycle.</b> {@link #start()} binds (the ports chosen at the first start are kept, so an
 * upstream that {@link #stop() stops} comes back on the same ports), {@link #stop()} cancels the
 * calls in flight and refuses connections, {@link #close()} stops for good. Thread-safe.
 */
public final class MockOtlpServer implements AutoCloseable {

  private final GrpcFrontend grpc;
  private final HttpFrontend http;
  private final ConcurrentLinkedDeque<Answer> script = new ConcurrentLinkedDeque<>();
  private volatile Answer defaultAnswer;
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  private final BlockingQueue<RecordedRequest> untaken = new LinkedBlockingQueue<>();
  private final List<RecordedRequest> accepted = new CopyOnWriteArrayList<>();
  private final Set<InetSocketAddress> remoteAddresses = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sequence = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicLong spans = new AtomicLong();
  private final AtomicLong points = new AtomicLong();
  private final AtomicLong logs = new AtomicLong();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "mock-otlp-timer");
            t.setDaemon(true);
            return t;
          });
  private final boolean grpcTls;
  private int grpcPort;
  private int httpPort;

  /**
   * While stopped: sockets bound (not listening) to the ports, so that no other server takes them.
   */
  private final List<Socket> reservations = new ArrayList<>();

  private boolean running;
  private boolean closed;

  private MockOtlpServer(Builder b) {
    grpc = new GrpcFrontend(this, b.grpcTls);
    http = new HttpFrontend(this, b.httpTls, b.needClientAuth, b.requireContentLength);
    grpcTls = b.grpcTls != null;
    grpcPort = b.grpcPort;
    httpPort = b.httpPort;
    defaultAnswer = b.defaultAnswer;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A started server on free ports, answering OK. */
  public static MockOtlpServer started() {
    return builder().start();
  }

  /**
   * A port of 127.0.0.1 that nothing listens on now (for an upstream that comes up later, or never,
   * or a server that stops and listens again on it), below the kernel's ephemeral range: no
   * listener on port 0 (the relay's own admin server, say) is given it meanwhile, and no client
   * retrying it gets it as its own source port and connects to itself. Seen with ephemeral ones:
   * the relay's admin server was given a closed "dead" port, and the exporter took its HTTP 405 for
   * the upstream's permanent answer; the chaos soak's fault proxy could not listen again after a
   * flap. The range is read line by line: {@code Files.readString} returned only the first byte of
   * this sysctl file (JDK 17).
   */
  public static int freePort() {
    int ephemeralFrom = 32_768; // Linux's default, where the range cannot be read
    try {
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      ephemeralFrom = Math.max(4_097, Integer.parseInt(range.split("\\s+")[0]));
    } catch (IOException | RuntimeException unreadable) {
      // keep the default
    }
    SplittableRandom random = new SplittableRandom();
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = random.nextInt(Math.max(1024, ephemeralFrom - 16_384), ephemeralFrom);
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new UncheckedIOException(new IOException("no free loopback port below " + ephemeralFrom));
  }

  /** Configures a {@link MockOtlpServer}. */
  public static final class Builder {
    private int grpcPort;
    private int httpPort;
    private SslContext grpcTls;
    private SSLContext httpTls;
    private boolean needClientAuth;
    private boolean requireContentLength;
    private Answer defaultAnswer = Answer.ok();

    private Builder() {}

    /** The gRPC port (default 0: a free one, chosen at the first start). */
    public Builder grpcPort(int port) {
      grpcPort = port;
      return this;
    }

    /** The HTTP port (default 0: a free one, chosen at the first start). */
    public Builder httpPort(int port) {
      httpPort = port;
      return this;
    }

    /** Serves gRPC over TLS with {@code context} (a grpc-netty server context). */
    public Builder grpcTls(SslContext context) {
      grpcTls = context;
      return this;
    }

    /**
     * Serves HTTPS with {@code context}, requiring a client certificate if {@code needClientAuth}.
     */
    public Builder httpTls(SSLContext context, boolean needClientAuth) {
      httpTls = context;
      this.needClientAuth = needClientAuth;
      return this;
    }

    /** Refuses (400) an HTTP body without a {@code Content-Length} equal to its size. */
    public Builder requireContentLength() {
      requireContentLength = true;
      return this;
    }

    /** The answer when the script is empty (default OK). */
    public Builder defaultAnswer(Answer answer) {
      defaultAnswer = Objects.requireNonNull(answer, "answer");
      return this;
    }

    /** A server not started yet: its ports are chosen at {@link MockOtlpServer#start()}. */
    public MockOtlpServer build() {
      return new MockOtlpServer(this);
    }

    public MockOtlpServer start() {
      MockOtlpServer server = build();
      server.start();
      return server;
    }
  }

  /**
   * Binds both transports: on the configured ports at the first start (fixed ones first, so a free
   * port chosen for the other cannot take them), on the same ports again after {@link #stop()}.
   */
  public synchronized void start() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    if (running) {
      throw new IllegalStateException("already running");
    }
    releaseReservations();
    try {
      if (httpPort != 0 && grpcPort == 0) {
        httpPort = http.start(httpPort);
        grpcPort = grpc.start(grpcPort);
      } else {
        grpcPort = grpc.start(grpcPort);
        httpPort = http.start(httpPort);
      }
    } catch (IOException e) {
      try {
        grpc.stop();
        http.stop();
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      throw new UncheckedIOException(
          "cannot bind gRPC port " + grpcPort + " / HTTP port " + httpPort, e);
    }
    running = true;
  }

  /**
   * Takes both transports down: calls in flight are cancelled, new connections refused. Records
   * stay. Until {@link #start()} the ports stay reserved by sockets that are bound but do not
   * listen (a client connecting is refused as by a closed port): a server binding a free port, the
   * relay's own receivers say, cannot be given one of them meanwhile.
   */
  public synchronized void stop() {
    boolean wasRunning = running;
    running = false;
    try {
      grpc.stop();
      http.stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (wasRunning && !closed) {
      reserve(grpcPort);
      reserve(httpPort);
    }
  }

  private void reserve(int port) {
    Socket socket = new Socket();
    try {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      reservations.add(socket);
    } catch (IOException e) {
      closeQuietly(socket); // best effort: the port stays free
    }
  }

  private void releaseReservations() {
    reservations.forEach(MockOtlpServer::closeQuietly);
    reservations.clear();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // nothing holds it any more
    }
  }

  public synchronized boolean isRunning() {
    return running;
  }

  /** Stops the server for good. */
  @Override
  public synchronized void close() {
    closed = true;
    stop();
    releaseReservations();
    timer.shutdownNow();
  }

  public synchronized int grpcPort() {
    return grpcPort;
  }

  public synchronized int httpPort() {
    return httpPort;
  }

  /** {@code http://127.0.0.1:<grpc port>} ({@code https} with TLS). */
  public String grpcEndpoint() {
    return (grpcTls ? "https" : "http") + "://127.0.0.1:" + grpcPort();
  }

  /** {@code http://127.0.0.1:<http port>} ({@code https} with TLS), without a signal path. */
  public String httpEndpoint() {
    return (http.isTls() ? "https" : "http") + "://127.0.0.1:" + httpPort();
  }

  /** Queues answers for the next requests, in order. */
  public void enqueue(Answer... answers) {
    script.addAll(Arrays.asList(answers));
  }

  /** The answer for requests when the queue is empty. */
  public void defaultAnswer(Answer answer) {
    defaultAnswer = Objects.requireNonNull(answer, "answer");
  }

  /**
   * Every later request (once the queue is empty) fails with {@code status}; null: answer OK again.
   */
  public void failWith(Status status) {
    defaultAnswer(status == null ? Answer.ok() : Answer.grpcStatus(status));
  }

  /** The next request not taken yet, waiting up to {@code timeout}; null if none came. */
  public RecordedRequest takeRequest(Duration timeout) throws InterruptedException {
    return untaken.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Every request, in arrival order. */
  public List<RecordedRequest> requests() {
    return List.copyOf(requests);
  }

  /** Requests answered with success, in the order they were answered. */
  public List<RecordedRequest> accepted() {
    return List.copyOf(accepted);
  }

  /** Accepted requests of {@code signal}, in the order they were answered. */
  public List<RecordedRequest> accepted(Signal signal) {
    return accepted.stream().filter(r -> r.signal() == signal).toList();
  }

  /** Requests that arrived, whatever became of them. */
  public int requestCount() {
    return requests.size();
  }

  public int acceptedCount() {
    return accepted.size();
  }

  /** Requests that arrived and are not answered yet. */
  public int inFlight() {
    return inFlight.get();
  }

  /** The most requests ever {@linkplain #inFlight() in flight} at once. */
  public int maxInFlight() {
    return maxInFlight.get();
  }

  /** Requests waiting for the gate of their {@link Answer#heldUntil} answer. */
  public int heldCount() {
    return held.get();
  }

  /** The distinct client addresses requests came from: one per connection. */
  public Set<InetSocketAddress> remoteAddresses() {
    return Set.copyOf(remoteAddresses);
  }

  /** Spans in accepted requests. */
  public long spanCount() {
    return spans.get();
  }

  /** Metric data points in accepted requests. */
  public long pointCount() {
    return points.get();
  }

  /** Log records in accepted requests. */
  public long logCount() {
    return logs.get();
  }

  public List<ExportTraceServiceRequest> traceRequests() {
    return accepted(Signal.TRACES).stream().map(RecordedRequest::traces).toList();
  }

  public List<ExportMetricsServiceRequest> metricsRequests() {
    return accepted(Signal.METRICS).stream().map(RecordedRequest::metrics).toList();
  }

  public List<ExportLogsServiceRequest> logsRequests() {
    return accepted(Signal.LOGS).stream().map(RecordedRequest::logs).toList();
  }

  /** Every accepted span, in the order accepted. */
  public List<Span> spans() {
    return traceRequests().stream()
        .flatMap(r -> r.getResourceSpansList().stream())
        .flatMap(rs -> rs.getScopeSpansList().stream())
        .flatMap(ss -> ss.getSpansList().stream())
        .toList();
  }

  /** Every accepted metric (one entry per metric in each request). */
  public List<Metric> metrics() {
    return metricsRequests().stream()
        .flatMap(r -> r.getResourceMetricsList().stream())
        .flatMap(rm -> rm.getScopeMetricsList().stream())
        .flatMap(sm -> sm.getMetricsList().stream())
        .toList();
  }

  /** Every accepted log record. */
  public List<LogRecord> logRecords() {
    return logsRequests().stream()
        .flatMap(r -> r.getResourceLogsList().stream())
        .flatMap(rl -> rl.getScopeLogsList().stream())
        .flatMap(sl -> sl.getLogRecordsList().stream())
        .toList();
  }

  /** How often each span name was accepted. */
  public Map<String, Long> spanNameCounts() {
    return spans().stream().collect(Collectors.groupingBy(Span::getName, Collectors.counting()));
  }

  /** How often each log record body (a string) was accepted. */
  public Map<String, Long> logBodyCounts() {
    return logRecords().stream()
        .collect(Collectors.groupingBy(r -> r.getBody().getStringValue(), Collectors.counting()));
  }

  /** Accepted data points per metric name. */
  public Map<String, Long> metricPointCounts() {
    return metrics().stream()
        .collect(
            Collectors.groupingBy(
                Metric::getName, Collectors.summingLong(OfficialDecoding::dataPoints)));
  }

  /** Forgets every request and resets the counters (the script stays). */
  public void clear() {
    requests.clear();
    untaken.clear();
    accepted.clear();
    remoteAddresses.clear();
    sequence.set(0);
    maxInFlight.set(inFlight.get());
    spans.set(0);
    points.set(0);
    logs.set(0);
  }

  /** Called by a front end for each request, on its thread. */
  void arrived(
      Transport transport,
      Signal signal,
      Map<String, List<String>> headers,
      byte[] body,
      Message decoded,
      String decodeError,
      InetSocketAddress remote,
      Exchange exchange) {
    RecordedRequest request =
        new RecordedRequest(
            sequence.getAndIncrement(),
            transport,
            signal,
            headers,
            body,
            decoded,
            decodeError,
            remote);
    Answer polled = script.poll();
    Answer answer = polled == null ? defaultAnswer : polled;
    request.answer(answer);
    if (remote != null) {
      remoteAddresses.add(remote);
    }
    maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    if (answer.gate != null) {
      held.incrementAndGet(); // before the request is published: whoever takes it sees it held
    }
    requests.add(request);
    untaken.add(request);
    if (answer.gate != null) {
      answer.gate.whenComplete(
          (v, e) -> {
            held.decrementAndGet();
            afterDelay(answer, () -> deliver(request, answer, exchange));
          });
    } else {
      afterDelay(answer, () -> deliver(request, answer, exchange));
    }
  }

  private void afterDelay(Answer answer, Runnable deliver) {
    try {
      if (answer.delay.isZero()) {
        if (answer.gate == null) {
          deliver.run();
        } else {
          timer.execute(deliver);
        }
      } else {
        timer.schedule(deliver, answer.delay.toNanos(), TimeUnit.NANOSECONDS);
      }
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      inFlight.decrementAndGet(); // the server is closed: the request stays unanswered
    }
  }

  private void deliver(RecordedRequest request, Answer answer, Exchange exchange) {
    switch (answer.kind) {
      case NO_ANSWER -> {
        return; // stays PENDING and in flight
      }
      case DROP_CONNECTION -> {
        inFlight.decrementAndGet();
        request.outcome(Outcome.DROPPED);
        exchange.dropConnection();
        return;
      }
      case RESPOND -> {}
    }
    inFlight.decrementAndGet();
    if (exchange.isCancelled()) {
      request.outcome(Outcome.CANCELLED);
      return;
    }
    boolean accept = answer.isSuccess() && request.message() != null;
    if (accept) {
      count(request, 1);
      accepted.add(request);
      request.outcome(Outcome.ACCEPTED);
    } else {
      request.outcome(Outcome.REJECTED);
    }
    try {
      exchange.respond(answer, request);
    } catch (Exception e) {
      if (accept) {
        accepted.remove(request);
        count(request, -1);
      }
      request.outcome(Outcome.CANCELLED);
    }
  }

  private void count(RecordedRequest request, int sign) {
    long items = sign * request.items();
    switch (request.signal()) {
      case TRACES -> spans.addAndGet(items);
      case METRICS -> points.addAndGet(items);
      case LOGS -> logs.addAndGet(items);
    }
  }

  @Override
  public String toString() {
    return "MockOtlpServer[grpc "
        + grpcEndpoint()
        + ", http "
        + httpEndpoint()
        + ", "
        + requests.size()
        + " requests, "
        + accepted.size()
        + " accepted]";
  }
}
