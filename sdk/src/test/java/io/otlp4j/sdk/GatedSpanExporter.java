package io.otlp4j.sdk;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An SDK SpanExporter whose exports stay in flight until the test opens the gate: it records every
 * batch and the most exports it ever had in flight at once.
 */
final class GatedSpanExporter implements SpanExporter {

  final List<List<SpanData>> batches = new CopyOnWriteArrayList<>();
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger maxInFlight = new AtomicInteger();
  volatile boolean shutdownCalled;
  private final Queue<CompletableResultCode> waiting = new ConcurrentLinkedQueue<>();
  private volatile boolean open;

  GatedSpanExporter(boolean open) {
    this.open = open;
  }

  @Override
  public CompletableResultCode export(Collection<SpanData> spans) {
    batches.add(List.copyOf(spans));
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    CompletableResultCode code = new CompletableResultCode();
    code.whenComplete(inFlight::decrementAndGet);
    waiting.add(code);
    if (open) {
      completeWaiting();
    }
    return code;
  }

  /** Completes every export in flight and every later one at once. */
  void openGate() {
    open = true;
    completeWaiting();
  }

  private void completeWaiting() {
    CompletableResultCode code;
    while ((code = waiting.poll()) != null) {
      code.succeed();
    }
  }

  int spanCount() {
    return batches.stream().mapToInt(List::size).sum();
  }

  @Override
  public CompletableResultCode flush() {
    return CompletableResultCode.ofSuccess();
  }

  @Override
  public CompletableResultCode shutdown() {
    shutdownCalled = true;
    return CompletableResultCode.ofSuccess();
  }
}
