package io.otlp4j.relay.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufUtil;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.core.MemoryBudget;
import io.otlp4j.core.MetricsRegistry;
import io.otlp4j.core.Outcome;
import io.otlp4j.receiver.ReceiverSink;
import io.otlp4j.relay.config.KafkaReceiverConfig;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.wire.Signal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline that refuses a record at once (a full queue) pauses the record's partition at it: the
 * receiver keeps it and the rest of its poll, and hands them on, in order, after the pause. Driven
 * turn by turn against Kafka's own {@link MockConsumer}, which, like a real consumer, fetches
 * nothing twice unless told to seek.
 */
class KafkaReceiverHoldTest {
  @TempDir Path dir;

  @Test
  void aRecordRefusedAtOnceIsHandedOnAgainBeforeAnyRecordAfterIt() throws Exception {
    KafkaReceiverConfig config =
        (KafkaReceiverConfig)
            RelayConfig.parse(
                    """
                    receivers:
                      kafka:
                        brokers: [127.0.0.1:9]
                        initial_offset: earliest
                        autocommit: { enable: false }
                        traces: { topics: [t] }
                    exporters:
                      debug:
                    service:
                      pipelines:
                        traces: { receivers: [kafka], exporters: [debug] }
                    """,
                    v -> null,
                    dir)
                .receivers()
                .get("kafka")
                .settings();
    MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");
    TopicPartition tp = new TopicPartition("t", 0);
    List<String> handedOn = new CopyOnWriteArrayList<>();
    List<String> accepted = new CopyOnWriteArrayList<>();
    // the 4th and 5th hand-offs are refused at once, as a full queue refuses
    ReceiverSink sink =
        (signal, request, summary) -> {
          String name;
          try {
            name =
                ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(request))
                    .getResourceSpans(0)
                    .getScopeSpans(0)
                    .getSpans(0)
                    .getName();
          } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
          } finally {
            request.release();
          }
          handedOn.add(name);
          if (handedOn.size() == 4 || handedOn.size() == 5) {
            return CompletableFuture.completedFuture(Outcome.retryable("queue is full"));
          }
          accepted.add(name);
          return CompletableFuture.completedFuture(Outcome.accepted());
        };
    KafkaReceiver receiver =
        new KafkaReceiver(
            config,
            Map.of(Signal.TRACES, sink),
            Map.of(),
            MemoryBudget.builder(1 << 20).build(),
            MetricsRegistry.create(),
            consumer,
            1); // one request per record (KafkaReceiverGroupTest: the same for a group)
    receiver.subscribe();
    consumer.rebalance(List.of(tp));
    consumer.updateBeginningOffsets(Map.of(tp, 0L));
    for (int i = 0; i < 10; i++) {
      consumer.addRecord(new ConsumerRecord<>("t", 0, i, null, request("r" + i)));
    }

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while ((accepted.size() < 10 || committed(consumer, tp) < 10) && System.nanoTime() < deadline) {
      receiver.turn();
    }

    assertThat(accepted)
        .containsExactly("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9");
    assertThat(handedOn)
        .containsExactly("r0", "r1", "r2", "r3", "r3", "r3", "r4", "r5", "r6", "r7", "r8", "r9");
    assertThat(committed(consumer, tp)).isEqualTo(10);
  }

  private static long committed(MockConsumer<byte[], byte[]> consumer, TopicPartition tp) {
    var c = consumer.committed(Set.of(tp)).get(tp);
    return c == null ? -1 : c.offset();
  }

  private static byte[] request(String name) {
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(
            ResourceSpans.newBuilder()
                .addScopeSpans(
                    ScopeSpans.newBuilder()
                        .addSpans(
                            Span.newBuilder()
                                .setName(name)
                                .setTraceId(com.google.protobuf.ByteString.copyFrom(new byte[16]))
                                .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[8])))))
        .build()
        .toByteArray();
  }
}
