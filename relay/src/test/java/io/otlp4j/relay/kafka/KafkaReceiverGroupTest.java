package io.otlp4j.relay.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
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
import io.otlp4j.wire.WalkSummary;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The records of one poll and partition go to the pipeline as one request ({@link RecordGroup}):
 * each record still walked on its own (a bad one skipped alone), the request decoded by the
 * official protobuf classes as every span of the group in order, and the group's answer applied to
 * every record of it: a refusal, at once or later, hands the whole group on again before anything
 * after it, and nothing is committed before the pipeline accepted it. Driven turn by turn against
 * Kafka's own {@link MockConsumer}.
 */
class KafkaReceiverGroupTest {
  private static final TopicPartition TP = new TopicPartition("t", 0);

  @TempDir Path dir;

  /**
   * Each hand-off: the span names of the request, and the walker's item count that came with it.
   */
  private final List<List<String>> handedOn = new CopyOnWriteArrayList<>();

  private final List<Long> counted = new CopyOnWriteArrayList<>();
  private final MemoryBudget budget = MemoryBudget.builder(1 << 20).build();
  private final MetricsRegistry metrics = MetricsRegistry.create();
  private final MockConsumer<byte[], byte[]> consumer = new MockConsumer<>("earliest");

  @Test
  void aPollsRecordsAreHandedOnAsOneRequestAndABadRecordIsSkippedAlone() throws Exception {
    KafkaReceiver receiver = receiver((n, request) -> done(Outcome.accepted()), 1024);
    for (int i = 0; i < 10; i++) {
      byte[] value = i == 4 ? "not protobuf".getBytes(StandardCharsets.UTF_8) : request("r" + i);
      consumer.addRecord(new ConsumerRecord<>("t", 0, i, null, value));
    }

    turnUntil(receiver, () -> committed() >= 10);

    assertThat(handedOn)
        .containsExactly(List.of("r0", "r1", "r2", "r3"), List.of("r5", "r6", "r7", "r8", "r9"));
    assertThat(counted).containsExactly(4L, 5L);
    assertThat(committed()).isEqualTo(10);
    assertThat(records("accepted")).isEqualTo(9);
    assertThat(records("invalid")).isEqualTo(1);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void aGroupRefusedAtOnceIsHandedOnAgainWholeBeforeAnyRecordAfterIt() throws Exception {
    // groups of at most 4; the second hand-off is refused at once, as a full queue refuses
    KafkaReceiver receiver =
        receiver(
            (n, request) -> done(n == 2 ? Outcome.retryable("queue is full") : Outcome.accepted()),
            4);
    for (int i = 0; i < 10; i++) {
      consumer.addRecord(new ConsumerRecord<>("t", 0, i, null, request("r" + i)));
    }

    turnUntil(receiver, () -> committed() >= 10);

    assertThat(handedOn)
        .containsExactly(
            List.of("r0", "r1", "r2", "r3"),
            List.of("r4", "r5", "r6", "r7"),
            List.of("r4", "r5", "r6", "r7"),
            List.of("r8", "r9"));
    assertThat(committed()).isEqualTo(10);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void aGroupRefusedLaterIsReadAgainFromItsFirstRecordAndNotCommittedBefore() throws Exception {
    CompletableFuture<Outcome> first = new CompletableFuture<>();
    KafkaReceiver receiver =
        receiver((n, request) -> n == 1 ? first : done(Outcome.accepted()), 1024);
    for (int i = 0; i < 6; i++) {
      consumer.addRecord(new ConsumerRecord<>("t", 0, i, null, request("r" + i)));
    }

    turnUntil(receiver, () -> handedOn.size() == 1);
    receiver.turn();
    assertThat(committed()).isEqualTo(-1); // not accepted yet: nothing committed

    first.complete(Outcome.retryable("upstream unavailable")); // delivered mode's late refusal
    // the seek back to r0: MockConsumer forgets what it returned, so the "broker" offers it again
    turnUntil(
        receiver,
        () -> {
          if (handedOn.size() == 1 && consumer.position(TP) == 0) {
            for (int i = 0; i < 6; i++) {
              consumer.addRecord(new ConsumerRecord<>("t", 0, i, null, request("r" + i)));
            }
          }
          return committed() >= 6;
        });

    List<String> all = List.of("r0", "r1", "r2", "r3", "r4", "r5");
    assertThat(handedOn).containsExactly(all, all);
    assertThat(committed()).isEqualTo(6);
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void aLateSuccessOfAGroupFromBeforeARewindDoesNotCommitALargerGroupReadAfterIt()
      throws Exception {
    List<CompletableFuture<Outcome>> answers = new CopyOnWriteArrayList<>();
    KafkaReceiver receiver =
        receiver(
            (n, request) -> {
              CompletableFuture<Outcome> f = new CompletableFuture<>();
              answers.add(f);
              return f;
            },
            1024);
    addRecords(0, 4); // one poll: [r0..r3]
    turnUntil(receiver, () -> handedOn.size() == 1);
    addRecords(4, 8); // the next poll: [r4..r7]
    turnUntil(receiver, () -> handedOn.size() == 2);

    answers.get(0).complete(Outcome.retryable("upstream unavailable")); // rewinds to r0
    turnUntil(
        receiver,
        () -> {
          if (handedOn.size() == 2 && consumer.position(TP) == 0) {
            addRecords(
                0, 8); // read again in one poll: one group [r0..r7], ending where [r4..r7] did
          }
          return handedOn.size() == 3;
        });
    answers.get(1).complete(Outcome.accepted()); // [r4..r7], handed on before the rewind
    for (int i = 0; i < 5; i++) {
      receiver.turn();
    }
    assertThat(committed()).isEqualTo(-1); // r0..r3 are not accepted yet

    answers.get(2).complete(Outcome.accepted());
    turnUntil(receiver, () -> committed() >= 8);

    assertThat(handedOn.get(2)).containsExactly("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7");
    assertThat(committed()).isEqualTo(8);
    assertThat(budget.usedBytes()).isZero();
  }

  private void addRecords(int from, int to) {
    for (int i = from; i < to; i++) {
      consumer.addRecord(new ConsumerRecord<>("t", 0, i, null, request("r" + i)));
    }
  }

  /** What the test's sink answers the n-th hand-off (from 1). */
  private interface Answers {
    CompletionStage<Outcome> answer(int n, ByteBuf request);
  }

  private KafkaReceiver receiver(Answers answers, int maxGroup) throws Exception {
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
    ReceiverSink sink =
        new ReceiverSink() {
          @Override
          public CompletionStage<Outcome> accept(
              Signal signal, ByteBuf request, WalkSummary summary) {
            try {
              List<String> names = new ArrayList<>();
              for (ResourceSpans rs :
                  ExportTraceServiceRequest.parseFrom(ByteBufUtil.getBytes(request))
                      .getResourceSpansList()) {
                for (ScopeSpans ss : rs.getScopeSpansList()) {
                  ss.getSpansList().forEach(s -> names.add(s.getName()));
                }
              }
              handedOn.add(names);
              counted.add(summary.itemCount());
              return answers.answer(handedOn.size(), request);
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              throw new AssertionError(e);
            } finally {
              request.release();
            }
          }
        };
    KafkaReceiver receiver =
        new KafkaReceiver(
            config, Map.of(Signal.TRACES, sink), Map.of(), budget, metrics, consumer, maxGroup);
    receiver.subscribe();
    consumer.rebalance(List.of(TP));
    consumer.updateBeginningOffsets(Map.of(TP, 0L));
    return receiver;
  }

  private static void turnUntil(KafkaReceiver receiver, BooleanSupplier done) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      receiver.turn();
    }
  }

  private long committed() {
    var c = consumer.committed(Set.of(TP)).get(TP);
    return c == null ? -1 : c.offset();
  }

  private long records(String outcome) {
    return metrics
        .counter(
            "otlp4j_kafka_receiver_records_total",
            "Kafka records read, by how the pipeline answered them",
            "receiver",
            "kafka",
            "outcome",
            outcome)
        .get();
  }

  private static CompletableFuture<Outcome> done(Outcome o) {
    return CompletableFuture.completedFuture(o);
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
