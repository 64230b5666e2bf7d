package io.otlp4j.relay.component;

import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.relay.config.ReceiverConfig;
import io.otlp4j.wire.Signal;
import java.time.Duration;
import java.util.Map;

/**
 * A receiver type. Its configuration is read here; the relay builds the OTLP servers from it (both
 * share the relay's memory budget and hand requests to the pipelines), and a receiver of another
 * kind ({@code kafka}) is started by {@link #start}.
 */
public interface ReceiverFactory extends ComponentFactory<ReceiverConfig> {

  /**
   * Starts a receiver that is no OTLP server, or returns null for one the relay builds itself
   * ({@code otlp}, the default). Called once at start, after the pipelines and exporters started;
   * the relay shuts down what it returns before it drains the pipelines.
   *
   * @param sinks for each signal a pipeline of which lists the receiver, where its requests go (the
   *     pipelines' answers are the receiver's acknowledgements, in the relay's ack mode)
   * @param maxHold for each of those signals, the longest its pipelines may hold data they already
   *     answered for ({@link RelayProcessor#maxHold})
   */
  default RelayReceiver start(
      ReceiverConfig config,
      Map<Signal, ReceiverSink> sinks,
      Map<Signal, Duration> maxHold,
      ComponentContext context) {
    return null;
  }
}
