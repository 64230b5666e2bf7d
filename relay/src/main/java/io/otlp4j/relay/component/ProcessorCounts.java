package io.otlp4j.relay.component;

import io.netty.buffer.ByteBuf;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.wire.EditedRequest;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;

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

  /**
   * What a processor that may drop items passes on: the edited bytes with {@code summary} when
   * nothing was dropped; else with the counts the editor kept ({@link EditedRequest#summary()}),
   * or, when it has none, flattened into one pooled buffer when they are several pieces and walked;
   * or {@link RelayProcessor#dropped} when nothing is left.
   *
   * @param edited its request is owned by this method from now on: handed on in the result, or
   *     released
   */
  RelayProcessor.Result forwardEdited(
      Signal signal, EditedRequest edited, WalkSummary summary, boolean anyDropped) {
    ByteBuf request = edited.request();
    if (!anyDropped) {
      count(signal, summary.itemCount(), summary.itemCount());
      return RelayProcessor.forward(request, summary);
    }
    WalkSummary kept = edited.summary();
    if (kept == null) {
      try {
        if (request.nioBufferCount() != 1) {
          // The walker would copy a composite onto the heap; one pooled copy instead serves the
          // walk and the exporters, and lets the input go now rather than when its last slice is
          // exported.
          int n = request.readableBytes();
          ByteBuf flat = request.alloc().directBuffer(n, n);
          try {
            flat.writeBytes(request, request.readerIndex(), n);
          } catch (RuntimeException e) {
            flat.release();
            throw e;
          }
          request.release();
          request = flat;
        }
        kept = OtlpWalker.create().walk(signal, request);
      } catch (RuntimeException e) {
        request.release();
        throw e;
      }
    }
    count(signal, summary.itemCount(), kept.itemCount());
    if (kept.resourceCount() == 0) {
      request.release();
      return RelayProcessor.dropped(summary.itemCount());
    }
    return RelayProcessor.forward(request, kept);
  }
}
