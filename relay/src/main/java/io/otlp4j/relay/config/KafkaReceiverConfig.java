package io.otlp4j.relay.config;

import io.otlp4j.core.RetryPolicy;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A {@code kafka} receiver's settings, with the Collector's keys and defaults (see {@code
 * KafkaReceiverFactory}). Immutable.
 *
 * @param brokers bootstrap servers, {@code host:port}
 * @param signals per signal read: its topics and encoding (only the signals of pipelines that list
 *     the receiver are consumed)
 * @param afterPipeline {@code message_marking.after}: an offset is committed only once the pipeline
 *     accepted the record (otlp4j's default, true); false commits it once the record was handed to
 *     the pipeline (the Collector's default, at most once)
 * @param skipOnError {@code message_marking.on_error}: a record the pipeline refused retryably is
 *     skipped (counted) instead of retried after a pause
 * @param skipOnPermanentError {@code message_marking.on_permanent_error}: a record that is not
 *     valid OTLP or that the pipeline rejected for good is skipped (counted) instead of stopping
 *     its partition
 * @param errorBackoff {@code error_backoff} when enabled, else null (10 ms doubling up to {@link
 *     #DEFAULT_PAUSE})
 * @param headers {@code header_extraction.headers} when {@code extract_headers} is true, else empty
 * @param sasl {@code auth.sasl} / {@code auth.plain_text}, or null
 * @param tls {@code tls} (or the deprecated {@code auth.tls}), or null for plain text
 */
public record KafkaReceiverConfig(
    String id,
    List<String> brokers,
    String clientId,
    String groupId,
    String groupInstanceId,
    String initialOffset,
    Duration sessionTimeout,
    Duration heartbeatInterval,
    List<String> rebalanceStrategies,
    int minFetchSize,
    int maxFetchSize,
    Duration maxFetchWait,
    int maxPartitionFetchSize,
    boolean autocommit,
    Duration autocommitInterval,
    Map<Signal, Topics> signals,
    boolean afterPipeline,
    boolean skipOnError,
    boolean skipOnPermanentError,
    RetryPolicy errorBackoff,
    List<String> headers,
    Sasl sasl,
    ClientTls tls)
    implements ComponentConfig {

  /**
   * The longest a partition pauses after refusals in a row when {@code error_backoff} is not
   * enabled (the first pause is 10 ms, doubling).
   */
  public static final Duration DEFAULT_PAUSE = Duration.ofSeconds(1);

  /**
   * One signal's topics: names, or regular expressions when one starts with {@code ^} (then {@code
   * exclude} removes matching topics), and the records' encoding.
   */
  public record Topics(List<String> topics, List<String> exclude, boolean json) {
    /** Whether the topics are a pattern (some entry starts with {@code ^}). */
    public boolean regex() {
      return topics.stream().anyMatch(t -> t.startsWith("^"));
    }
  }

  /** SASL credentials: {@code PLAIN}, {@code SCRAM-SHA-256} or {@code SCRAM-SHA-512}. */
  public record Sasl(String mechanism, String username, Secret password) {}
}
