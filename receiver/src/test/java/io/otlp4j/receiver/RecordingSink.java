package io.otlp4j.receiver;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.otlp4j.core.Outcome;
import io.otlp4j.wire.Signal;
import io.otlp4j.wire.WalkSummary;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A {@link ReceiverSink} for tests: copies and releases every request, records it, and answers with
 * what {@link #answer} says (by default: accepted), after {@link #delay} when set, or holds the
 * answer until {@link #releaseHeld()}.
 */
final class RecordingSink implements ReceiverSink {

  /** One request as the sink saw it. */
  record Received(Signal signal, byte[] bytes, WalkSummary summary) {}

  final List<Received> received = new CopyOnWriteArrayList<>();
  private final Queue<CompletableFuture<Outcome>> held = new ConcurrentLinkedQueue<>();
  volatile Function<Received, Outcome> answer = r -> Outcome.accepted();
  volatile boolean hold;

  /** When set, each answer completes this long after the request arrived (a busy pipeline). */
  volatile Duration delay;

  @Override
  public CompletionStage<Outcome> accept(Signal signal, ByteBuf request, WalkSummary summary) {
    Received r;
    try {
      r = new Received(signal, ByteBufUtil.getBytes(request), summary);
    } finally {
      request.release();
    }
    received.add(r);
    if (hold) {
      CompletableFuture<Outcome> f = new CompletableFuture<>();
      held.add(f);
      return f;
    }
    Duration d = delay;
    if (d != null) {
      return CompletableFuture.supplyAsync(
          () -> answer.apply(r),
          CompletableFuture.delayedExecutor(d.toNanos(), TimeUnit.NANOSECONDS));
    }
    return CompletableFuture.completedFuture(answer.apply(r));
  }

  int heldCount() {
    return held.size();
  }

  /** Stops holding and completes every held request as accepted. */
  void releaseHeld() {
    hold = false;
    CompletableFuture<Outcome> f;
    while ((f = held.poll()) != null) {
      f.complete(Outcome.accepted());
    }
  }

  List<byte[]> bytesOf(Signal signal) {
    return received.stream().filter(r -> r.signal() == signal).map(Received::bytes).toList();
  }
}
