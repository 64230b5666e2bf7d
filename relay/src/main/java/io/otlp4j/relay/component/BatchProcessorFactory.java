package io.otlp4j.relay.component;

import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.config.BatchConfig;
import io.otlp4j.relay.config.ConfigNode;
import io.otlp4j.relay.config.ConfigReader;
import java.time.Duration;
import java.util.Map;

/**
 * The {@code batch} processor: {@code send_batch_size}, {@code send_batch_max_size} and {@code
 * timeout}. It adds no step of its own: the pipeline's exporter queues batch by its settings.
 */
final class BatchProcessorFactory implements ProcessorFactory<BatchConfig> {

  @Override
  public String type() {
    return "batch";
  }

  @Override
  public BatchConfig read(String id, ConfigNode node, String where, ConfigReader in) {
    Map<String, ConfigNode> m = in.mapOrEmpty(node, where);
    if (m == null) {
      return null;
    }
    in.checkKeys(m, where, "send_batch_size", "send_batch_max_size", "timeout");
    int size =
        in.intValue(
            m.get("send_batch_size"),
            where + ".send_batch_size",
            BatchSettings.DEFAULT_SEND_BATCH_SIZE,
            1);
    int max = in.intValue(m.get("send_batch_max_size"), where + ".send_batch_max_size", 0, 0);
    Duration timeout =
        in.duration(m.get("timeout"), where + ".timeout", BatchSettings.DEFAULT_TIMEOUT);
    if (max > 0 && max < size) {
      in.error(
          m.get("send_batch_max_size").line(),
          where + ".send_batch_max_size",
          "must be 0 or at least send_batch_size (" + size + "), was " + max);
      return null;
    }
    if (timeout == null || timeout.isZero()) {
      if (timeout != null) {
        in.error(m.get("timeout").line(), where + ".timeout", "must be positive");
      }
      return null;
    }
    // Without a timeout, batches form adaptively: a batch leaves as soon as the exporter has a free
    // slot, holding what queued up meanwhile (up to send_batch_size); with one, a batch's first
    // request waits up to the timeout for more, as in the Collector.
    return new BatchConfig(
        id,
        new BatchSettings(
            size, max, timeout, BatchSettings.DEFAULT_QUEUE_SIZE, m.get("timeout") != null));
  }

  /** None: a pipeline's batching is its exporter queues' ({@link BatchConfig#settings()}). */
  @Override
  public RelayProcessor create(BatchConfig config, ComponentContext context) {
    return null;
  }
}
