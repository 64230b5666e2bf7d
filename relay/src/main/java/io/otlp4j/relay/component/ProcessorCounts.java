package io.otlp4j.relay.component;

import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.wire.Signal;

/**
 * A processor's {@code otelcol_processor_incoming_items} and {@code
 * otelcol_processor_outgoing_items}, per signal, labelled as the Collector labels them ({@code
 * processor}, {@code otel_signal}): what it dropped is the difference. A dropped item is not a
 * refusal: the client was answered as if it had been exported. Thread-safe.
 */
final class ProcessorCounts {
  static final String INCOMING = "otelcol_processor_incoming_items";
  static final String OUTGOING = "otelcol_processor_outgoing_items";
  static final String INCOMING_HELP = "Number of items passed to the processor.";
  static final String OUTGOING_HELP = "Number of items emitted from the processor.";
  private final MetricsRegistry.Counter[] incoming =
      new MetricsRegistry.Counter[Signal.values().length];
  private final MetricsRegistry.Counter[] outgoing =
      new MetricsRegistry.Counter[Signal.values().length];

  ProcessorCounts(MetricsRegistry metrics, String processorId) {
    for (Signal s : Signal.values()) {
      incoming[s.ordinal()] =
          metrics.counter(INCOMING, INCOMING_HELP, "processor", processorId, "otel_signal", s.id());
      outgoing[s.ordinal()] =
          metrics.counter(OUTGOING, OUTGOING_HELP, "processor", processorId, "otel_signal", s.id());
    }
  }

  void count(Signal signal, long in, long out) {
    incoming[signal.ordinal()].add(in);
    outgoing[signal.ordinal()].add(out);
  }
}
