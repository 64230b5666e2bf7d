package io.otlp4j.relay.alert;

import io.otlp4j.core.MetricsRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Posts JSON notifications to one receiver (an Alertmanager or a webhook) from its own daemon
 * thread, so that neither the evaluator nor the pipeline ever waits for it.
 *
 * <p><b>Queue:</b> the evaluator is the producer ({@link #offer} never blocks), the sender thread
 * the one consumer. It holds at most {@code capacity} messages; when full, the oldest waiting
 * message is dropped to make room (a newer message carries the newer state of the same alerts) and
 * counted as {@code outcome="dropped"}.
 *
 * <p><b>Retries:</b> a message that fails (no connection, a timeout, HTTP 408, 429 or 5xx) is sent
 * again after 0.5 s, 1 s, 2 s… (doubling up to {@code maxBackoff}) until {@code maxAttempts}; then
 * it counts as {@code outcome="failed"} and is logged. Any other 4xx fails at once (sending it
 * again would not help). Every retry is counted in {@code otlp4j_alert_notification_retries_total}.
 *
 * <p>Thread-safe. {@link #close} stops the thread; messages still queued are dropped.
 */
final class HttpNotifier implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HttpNotifier.class.getName());

  static final int DEFAULT_CAPACITY = 256;
  static final int DEFAULT_MAX_ATTEMPTS = 5;
  static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(500);
  static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(8);
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final String receiver;
  private final URI uri;
  private final BlockingQueue<byte[]> queue;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final HttpClient client;
  private final Thread thread;
  private final MetricsRegistry.Counter sent;
  private final MetricsRegistry.Counter failed;
  private final MetricsRegistry.Counter dropped;
  private final MetricsRegistry.Counter retries;
  private volatile boolean closed;

  HttpNotifier(
      String receiver,
      URI uri,
      MetricsRegistry metrics,
      int capacity,
      int maxAttempts,
      Duration initialBackoff,
      Duration maxBackoff) {
    this.receiver = receiver;
    this.uri = uri;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.maxAttempts = maxAttempts;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    String help = "Alert notifications by receiver and outcome (sent, failed, dropped)";
    sent = metrics.counter(COUNTER, help, "receiver", receiver, "outcome", "sent");
    failed = metrics.counter(COUNTER, help, "receiver", receiver, "outcome", "failed");
    dropped = metrics.counter(COUNTER, help, "receiver", receiver, "outcome", "dropped");
    retries =
        metrics.counter(
            "otlp4j_alert_notification_retries",
            "Alert notification attempts that failed and were tried again",
            "receiver",
            receiver);
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    thread = new Thread(this::run, "otlp4j-alerts-" + receiver);
    thread.setDaemon(true);
    thread.start();
  }

  static final String COUNTER = "otlp4j_alert_notifications";

  /** Queues {@code body} for sending; never blocks (drops the oldest message when full). */
  void offer(byte[] body) {
    if (closed) {
      return;
    }
    while (!queue.offer(body)) {
      if (queue.poll() != null) {
        dropped.increment();
      }
    }
  }

  /** The receiver's URL. */
  URI uri() {
    return uri;
  }

  private void run() {
    try {
      while (!closed) {
        byte[] body = queue.take();
        deliver(body);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void deliver(byte[] body) throws InterruptedException {
    long backoff = initialBackoff.toMillis();
    String problem = null;
    for (int attempt = 1; attempt <= maxAttempts && !closed; attempt++) {
      if (attempt > 1) {
        retries.increment();
        TimeUnit.MILLISECONDS.sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoff.toMillis());
      }
      try {
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(uri)
                    .timeout(REQUEST_TIMEOUT)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", "otlp4j-alerts")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status / 100 == 2) {
          sent.increment();
          return;
        }
        problem = "HTTP " + status + " " + abbreviate(response.body());
        if (status / 100 == 4 && status != 408 && status != 429) {
          break;
        }
      } catch (IOException e) {
        problem = e.toString();
      }
    }
    failed.increment();
    String why = problem;
    LOG.log(
        System.Logger.Level.WARNING,
        () -> "alert notification to " + receiver + " " + uri + " failed: " + why);
  }

  private static String abbreviate(String s) {
    String t = s == null ? "" : s.strip();
    return t.length() > 200 ? t.substring(0, 200) + "…" : t;
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(2));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    queue.clear();
  }
}
