package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WireFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The {@code kafka} exporter: sends each export request as Kafka records ({@link KafkaRecords})
 * with kafka-clients' own {@link KafkaProducer}.
 *
 * <h2>Outcomes</h2>
 *
 * A request is accepted when Kafka acknowledged every record of it (with {@code acks=all} under the
 * {@code delivered} and {@code durable} ack modes, which {@link KafkaExporterFactory} forces). Our
 * own failure is never the upstream's verdict: a producer error is retryable (timeouts, a broker
 * that is down, not enough replicas, a closed producer...) except the errors that sending the same
 * bytes again cannot fix, which are permanent: a record too large, an authorization failure, a
 * serialization error, an invalid topic. A request whose records partly failed for good is
 * partially accepted (the failed records' items rejected). {@link #export} retries the records that
 * failed retryably by {@code retry_on_failure} (only those: records Kafka has are not sent again);
 * {@link #exportOnce} tries once, for the durable queue that owns the retries (it sends the whole
 * batch again, so records that had arrived arrive twice: at least once).
 *
 * <h2>Concurrency and backpressure</h2>
 *
 * {@code producer.send} may block (for topic metadata while the broker is unreachable, or while the
 * producer's 32 MiB buffer is full) up to {@code timeout}; it runs on this exporter's one sender
 * thread, never on the caller's. Requests in flight (being sent, waiting for acks or for a retry)
 * are bounded by {@link #MAX_IN_FLIGHT}; one more is refused at once with a retryable outcome.
 * Completions run on the producer's I/O thread and only count and complete futures.
 *
 * <p><b>Buffer ownership:</b> {@link #export} and {@link #exportOnce} take ownership of the request
 * and release it before they return, once its records are copied out.
 */
final class KafkaExporter implements RelayExporter {
  private static final System.Logger LOG = System.getLogger(KafkaExporter.class.getName());

  /** The most requests in flight; one more is refused, retryably. */
  static final int MAX_IN_FLIGHT = 4096;

  private static final double[] LATENCY_BOUNDS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };
  private static final double[] SIZE_BOUNDS = {
    256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216
  };

  private final String id;
  private final KafkaExporterConfig config;
  private final Producer<byte[], byte[]> producer;
  private final KafkaRecords records;
  private final RetryPolicy retry;
  private final ScheduledThreadPoolExecutor sender;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final MetricsRegistry.Histogram latency;
  private final MetricsRegistry.Histogram recordBytes;
  private final MetricsRegistry.Counter acknowledgedRecords;
  private volatile boolean closed;

  KafkaExporter(KafkaExporterConfig config, int acks, MetricsRegistry metrics) {
    this(config, new KafkaProducer<>(producerProperties(config, acks)), metrics);
  }

  KafkaExporter(
      KafkaExporterConfig config, Producer<byte[], byte[]> producer, MetricsRegistry metrics) {
    this.id = config.id();
    this.config = config;
    this.producer = producer;
    this.records = new KafkaRecords(config.maxMessageBytes());
    this.retry = config.retryOnFailure();
    this.sender = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "kafka-exporter-" + id));
    this.sender.setRemoveOnCancelPolicy(true);
    this.latency =
        metrics.histogram(
            "otlp4j_kafka_exporter_send_latency_seconds",
            "Time from handing a record to the Kafka producer to Kafka's acknowledgement (or the"
                + " failure)",
            LATENCY_BOUNDS,
            "exporter",
            id);
    this.recordBytes =
        metrics.histogram(
            "otlp4j_kafka_exporter_record_bytes",
            "Size of each record value the kafka exporter sends, in bytes",
            SIZE_BOUNDS,
            "exporter",
            id);
    this.acknowledgedRecords =
        metrics.counter(
            "otlp4j_kafka_exporter_records_acknowledged",
            "Records Kafka acknowledged",
            "exporter",
            id);
  }

  /** The producer settings: the configuration's, with otlp4j's choices for the rest. */
  static Map<String, Object> producerProperties(KafkaExporterConfig c, int acks) {
    Map<String, Object> p = new HashMap<>(c.producerProperties());
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, c.brokers());
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, acks == -1 ? "all" : Integer.toString(acks));
    // idempotence (no duplicates from the producer's own retries) needs acks=all
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.toString(acks == -1));
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, c.compression());
    if (c.compressionLevel() != null) {
      p.put("compression." + c.compression() + ".level", c.compressionLevel());
    }
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, c.maxMessageBytes());
    long linger = c.linger().toMillis();
    long timeout = Math.max(1, c.timeout().toMillis());
    p.put(ProducerConfig.LINGER_MS_CONFIG, linger);
    // timeout bounds one attempt: the wait for metadata, one request, and the producer's own
    // retries within it (the client requires delivery.timeout >= linger + request.timeout)
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout));
    p.put(
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
        (int) Math.min(Integer.MAX_VALUE, timeout + linger));
    p.putIfAbsent(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
    return p;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
    return start(signal, request, itemCount, retry);
  }

  @Override
  public CompletableFuture<Outcome> exportOnce(Signal signal, ByteBuf request, long itemCount) {
    return start(signal, request, itemCount, null);
  }

  private CompletableFuture<Outcome> start(
      Signal signal, ByteBuf request, long itemCount, RetryPolicy policy) {
    List<KafkaRecords.Record> recs;
    try {
      recs =
          records.records(
              signal,
              request,
              itemCount,
              config.partitioned(signal),
              config.json().contains(signal));
    } catch (WireFormatException e) {
      return CompletableFuture.completedFuture(
          Outcome.permanent(id + ": not a valid " + signal.id() + " request: " + e.getMessage()));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, id + ": cutting a request into records failed", e);
      return CompletableFuture.completedFuture(
          Outcome.localFailure(id + ": cutting a request into records failed: " + e, e));
    } finally {
      request.release();
    }
    if (closed) {
      return CompletableFuture.completedFuture(
          Outcome.retryable(id + ": the kafka exporter is shutting down"));
    }
    if (inFlight.incrementAndGet() > MAX_IN_FLIGHT) {
      inFlight.decrementAndGet();
      return CompletableFuture.completedFuture(
          Outcome.overloaded(
              Outcome.DEFAULT_RETRY_AFTER,
              id + ": " + MAX_IN_FLIGHT + " requests already in flight to Kafka"));
    }
    Attempt attempt = new Attempt(signal, recs, policy);
    attempt.future.whenComplete((o, e) -> inFlight.decrementAndGet());
    schedule(attempt, 0);
    return attempt.future;
  }

  private void schedule(Attempt attempt, long delayNanos) {
    try {
      sender.schedule(attempt::send, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      attempt.future.complete(Outcome.retryable(id + ": the kafka exporter is shutting down"));
    }
  }

  /** One request's records and what became of each, across the retries of {@link #export}. */
  private final class Attempt {
    final Signal signal;
    final List<KafkaRecords.Record> pending;
    final RetryPolicy policy;
    final CompletableFuture<Outcome> future = new CompletableFuture<>();
    final long startNanos = System.nanoTime();
    int attempts;
    long rejectedItems;
    int rejectedRecords;
    int total;
    String permanentReason;
    // this round's results, written by producer callbacks
    final List<KafkaRecords.Record> failed = new ArrayList<>();
    Exception lastRetryable;
    int outstanding;

    Attempt(Signal signal, List<KafkaRecords.Record> records, RetryPolicy policy) {
      this.signal = signal;
      this.pending = new ArrayList<>(records);
      this.policy = policy;
      this.total = records.size();
    }

    /** Sends the pending records (on the sender thread). */
    void send() {
      attempts++;
      List<KafkaRecords.Record> round = new ArrayList<>(pending);
      pending.clear();
      synchronized (this) {
        outstanding = round.size();
        failed.clear();
        lastRetryable = null;
      }
      if (round.isEmpty()) {
        finish();
        return;
      }
      String topic = config.topics().get(signal);
      for (KafkaRecords.Record r : round) {
        long sent = System.nanoTime();
        recordBytes.record(r.value().length);
        try {
          producer.send(
              new ProducerRecord<>(topic, null, r.key(), r.value()),
              (metadata, error) -> done(r, sent, error));
        } catch (RuntimeException e) {
          done(r, sent, e);
        }
      }
    }

    private void done(KafkaRecords.Record r, long sentNanos, Exception error) {
      latency.record((System.nanoTime() - sentNanos) / 1e9);
      boolean last;
      synchronized (this) {
        if (error == null) {
          acknowledgedRecords.increment();
        } else if (isPermanent(error)) {
          rejectedItems += r.items();
          rejectedRecords++;
          if (permanentReason == null) {
            permanentReason = error.getClass().getSimpleName() + ": " + error.getMessage();
          }
        } else {
          failed.add(r);
          lastRetryable = error;
        }
        last = --outstanding == 0;
      }
      if (last) {
        finish();
      }
    }

    private void finish() {
      List<KafkaRecords.Record> again;
      Exception cause;
      synchronized (this) {
        again = new ArrayList<>(failed);
        cause = lastRetryable;
      }
      if (!again.isEmpty()) {
        RetryPolicy.RetryDecision d =
            policy == null || closed
                ? null
                : policy.decide(attempts, System.nanoTime() - startNanos, Outcome.NO_DELAY);
        if (d != null && d.shouldRetry()) {
          pending.addAll(again);
          schedule(this, d.delayNanos());
          return;
        }
        future.complete(
            Outcome.retryable(
                    "upstream unavailable: Kafka did not take "
                        + again.size()
                        + " of "
                        + total
                        + " records: "
                        + describe(cause),
                    cause,
                    Outcome.NO_DELAY)
                .withAttempts(attempts));
        return;
      }
      if (rejectedRecords == 0) {
        future.complete(Outcome.accepted().withAttempts(attempts));
      } else if (rejectedRecords == total) {
        future.complete(
            Outcome.permanent("Kafka rejected the data: " + permanentReason)
                .withAttempts(attempts));
      } else {
        future.complete(
            Outcome.partiallyAccepted(
                    rejectedItems,
                    "Kafka rejected "
                        + rejectedRecords
                        + " of "
                        + total
                        + " records: "
                        + permanentReason)
                .withAttempts(attempts));
      }
    }
  }

  /** The producer errors that sending the same bytes again cannot fix. */
  static boolean isPermanent(Throwable error) {
    return error instanceof RecordTooLargeException
        || error instanceof RecordBatchTooLargeException
        || error instanceof AuthorizationException
        || error instanceof SerializationException
        || error instanceof InvalidTopicException;
  }

  private static String describe(Throwable e) {
    return e == null ? "unknown" : e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  @Override
  public CompletableFuture<Void> shutdown(Duration deadline) {
    closed = true;
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                // what is in the producer's buffer gets until the deadline to be acknowledged
                producer.close(deadline);
              } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, id + ": closing the Kafka producer failed", e);
              } finally {
                sender.shutdownNow().forEach(Runnable::run);
                done.complete(null);
              }
            },
            "kafka-exporter-close-" + id);
    t.setDaemon(true);
    t.start();
    return done;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public String toString() {
    return id + "{kafka " + config.brokers() + "}";
  }
}
