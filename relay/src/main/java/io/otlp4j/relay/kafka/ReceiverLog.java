package io.otlp4j.relay.kafka;

import io.otlp4j.core.Outcome;
import io.otlp4j.core.ThrottledLog;
import io.otlp4j.relay.config.KafkaReceiverConfig;
import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * What the {@link KafkaReceiver} logs about single records (warnings throttled), and how it reads
 * an answer that came back at once. Consumer thread only.
 */
final class ReceiverLog {
  private static final System.Logger LOG = System.getLogger(KafkaReceiver.class.getName());

  private final KafkaReceiverConfig config;
  private final ThrottledLog warnings;

  ReceiverLog(KafkaReceiverConfig config, ThrottledLog warnings) {
    this.config = config;
    this.warnings = warnings;
  }

  /** A record at {@code offset} of {@code p} that is not the signal's OTLP. */
  void notOtlp(PartitionState p, long offset, boolean json, RuntimeException e) {
    LOG.log(
        warnings.level(Level.WARNING),
        () ->
            "kafka receiver "
                + config.id()
                + ": record "
                + p.tp
                + "@"
                + offset
                + " is not OTLP "
                + p.signal.id()
                + " ("
                + (json ? "otlp_json" : "otlp_proto")
                + "): "
                + e.getMessage()
                + (config.skipOnPermanentError() ? "; skipped" : "; partition stopped"));
  }

  /** The pipeline refused what was handed on from {@code offset} retryably. */
  void refused(PartitionState p, long offset, Outcome o) {
    LOG.log(
        warnings.level(Level.INFO),
        () ->
            "kafka receiver "
                + config.id()
                + ": "
                + p.tp
                + "@"
                + offset
                + " refused ("
                + o.message()
                + "); partition paused, read again later");
  }

  /** The pipeline rejected what was handed on from {@code offset} for good; the partition stops. */
  void rejectedForGood(PartitionState p, long offset, Outcome o) {
    LOG.log(
        Level.ERROR,
        () ->
            "kafka receiver "
                + config.id()
                + ": the pipeline rejected "
                + p.tp
                + "@"
                + offset
                + " for good ("
                + o.message()
                + "); partition stopped (message_marking.on_permanent_error: false)");
  }

  /** The outcome of {@code answer} when it is already a retryable refusal, else null. */
  static Outcome refusedAtOnce(CompletionStage<Outcome> answer) {
    if (!(answer instanceof CompletableFuture<Outcome> f)
        || !f.isDone()
        || f.isCompletedExceptionally()) {
      return null;
    }
    Outcome o = f.getNow(null);
    if (o == null) {
      return null;
    }
    return switch (o.kind()) {
      case ACCEPTED, PARTIALLY_ACCEPTED, PERMANENT -> null;
      default -> o;
    };
  }
}
