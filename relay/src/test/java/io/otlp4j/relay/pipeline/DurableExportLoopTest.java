package io.otlp4j.relay.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.core.RetryPolicy;
import io.otlp4j.queue.DurableQueue;
import io.otlp4j.relay.AckMode;
import io.otlp4j.relay.BatchSettings;
import io.otlp4j.relay.RelayExporter;
import io.otlp4j.relay.SendingQueueSettings;
import io.otlp4j.wire.OtlpWalker;
import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A durable pipeline's consumer loop: a batch that failed retryably is sent again, the same bytes;
 * one rejected for good is committed and counted, not sent again; batches follow send_batch_size
 * and send_batch_max_size; a restarted pipeline resumes after its checkpoint.
 */
class DurableExportLoopTest {
  @TempDir Path dir;

  /** Answers each export with the next scripted outcome (delivered once the script is used up). */
  private static final class ScriptedExporter implements RelayExporter {
    final LinkedBlockingQueue<Outcome> script = new LinkedBlockingQueue<>();
    final ConcurrentLinkedQueue<byte[]> calls = new ConcurrentLinkedQueue<>();

    @Override
    public String id() {
      return "scripted";
    }

    @Override
    public CompletableFuture<Outcome> export(Signal signal, ByteBuf request, long itemCount) {
      try {
        calls.add(ByteBufUtil.getBytes(request));
      } finally {
        request.release();
      }
      Outcome next = script.poll();
      return CompletableFuture.completedFuture(next == null ? Outcome.accepted() : next);
    }

    @Override
    public CompletableFuture<Void> shutdown(Duration deadline) {
      return CompletableFuture.completedFuture(null);
    }

    List<String> spanNames() throws Exception {
      List<String> names = new ArrayList<>();
      for (byte[] call : calls) {
        ExportTraceServiceRequest r = ExportTraceServiceRequest.parseFrom(call);
        r.getResourceSpansList()
            .forEach(
                rs ->
                    rs.getScopeSpansList().stream()
                        .map(ScopeSpans::getSpansList)
                        .forEach(spans -> spans.forEach(s -> names.add(s.getName()))));
      }
      return names;
    }
  }

  private final MetricsRegistry metrics = MetricsRegistry.create();

  private Pipeline pipeline(ScriptedExporter exporter) throws Exception {
    DurableQueue queue =
        DurableQueue.builder(dir.resolve("traces")).consumers(exporter.id()).open();
    return Pipeline.builder("traces", Signal.TRACES)
        .ackMode(AckMode.DURABLE)
        .memoryBudget(MemoryBudget.builder(1 << 20).build())
        .metrics(metrics)
        .batch(new BatchSettings(4, 4, Duration.ofMillis(10), 100, true))
        .exporter(exporter, new SendingQueueSettings(true, 1, 1, "file_storage"))
        .durableBackoff(
            exporter,
            RetryPolicy.builder()
                .initialDelay(Duration.ofMillis(5))
                .maxDelay(Duration.ofMillis(10))
                .maxAttempts(Integer.MAX_VALUE)
                .build())
        .durableQueue(queue, 1 << 30)
        .build();
  }

  private static Outcome send(Pipeline pipeline, String name, int spans) {
    ByteBuf buf = Unpooled.copiedBuffer(TestSpans.spans(name, spans, 10).toByteArray());
    return pipeline
        .accept(Signal.TRACES, buf, OtlpWalker.create().walk(Signal.TRACES, buf))
        .toCompletableFuture()
        .join();
  }

  @Test
  void retryableFailureResendsTheSameBytesAndPermanentRejectionIsCommittedAndCounted()
      throws Exception {
    ScriptedExporter exporter = new ScriptedExporter();
    exporter.script.add(Outcome.retryable("down"));
    exporter.script.add(Outcome.retryable("still down"));
    Pipeline pipeline = pipeline(exporter);
    assertThat(send(pipeline, "a", 2).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.calls.size() == 3);
    List<byte[]> calls = new ArrayList<>(exporter.calls);
    assertThat(calls.get(1)).isEqualTo(calls.get(0));
    assertThat(calls.get(2)).isEqualTo(calls.get(0));

    exporter.script.add(Outcome.permanent("rejected"));
    MetricsRegistry.Counter failed =
        metrics.counter(
            "otelcol_exporter_send_failed_spans",
            "Number of spans in failed attempts to send to destination.",
            "exporter",
            "scripted");
    assertThat(send(pipeline, "b", 3).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> failed.get() == 3);
    assertThat(send(pipeline, "c", 1).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.spanNames().contains("c-0"));
    // "b" was rejected for good: sent once, counted as failed, committed, never sent again.
    assertThat(exporter.spanNames().stream().filter(n -> n.startsWith("b-"))).hasSize(3);
    assertThat(failed.get()).isEqualTo(3);
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }

  @Test
  void batchesFollowSendBatchSizesAndARestartResumesAfterTheCheckpoint() throws Exception {
    ScriptedExporter first = new ScriptedExporter();
    // Everything fails until the pipeline stops: nothing is committed.
    for (int i = 0; i < 100_000; i++) {
      first.script.add(Outcome.retryable("down"));
    }
    Pipeline pipeline = pipeline(first);
    for (int r = 0; r < 6; r++) {
      assertThat(send(pipeline, "r" + r, r == 5 ? 9 : 1).kind()).isEqualTo(Outcome.Kind.ACCEPTED);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> first.calls.size() >= 2);
    assertThat(pipeline.shutdown(Duration.ofSeconds(5)).join()).isTrue();

    ScriptedExporter second = new ScriptedExporter();
    Pipeline restarted = pipeline(second);
    await().atMost(Duration.ofSeconds(30)).until(() -> second.spanNames().size() == 14);
    // Everything, in order, in batches of send_batch_size (4) records' worth of items, the 9-span
    // request split to send_batch_max_size (4).
    assertThat(second.spanNames()).startsWith("r0-0", "r1-0", "r2-0", "r3-0", "r4-0");
    List<Integer> sizes = new ArrayList<>();
    for (byte[] call : second.calls) {
      sizes.add(
          ExportTraceServiceRequest.parseFrom(call).getResourceSpansList().stream()
              .mapToInt(rs -> rs.getScopeSpans(0).getSpansCount())
              .sum());
    }
    assertThat(sizes).containsExactly(4, 1, 4, 4, 1);
    assertThat(restarted.shutdown(Duration.ofSeconds(5)).join()).isTrue();
  }
}
