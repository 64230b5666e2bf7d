package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.Answer;
import io.otlp4j.testing.ChildJvm;
import io.otlp4j.testing.KafkaBroker;
import io.otlp4j.testing.MockOtlpServer;
import io.otlp4j.wire.OtlpJson;
import io.otlp4j.wire.Signal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code kafka} receiver against a real Apache Kafka broker (one per class, {@link
 * KafkaBroker}) and a real OTLP sink ({@link MockOtlpServer}, requests parsed with the official
 * classes): every signal arrives, offsets are committed only for what the pipeline accepted (a
 * refusing upstream pauses, nothing is lost and the lag drains), a garbage record is skipped and
 * counted, two receivers share a group through rebalances, and a relay SIGKILLed mid-stream loses
 * no record after a restart.
 */
class KafkaReceiverTest {
  private static KafkaBroker broker;
  private static KafkaProducer<byte[], byte[]> producer;
  private static Admin admin;

  @TempDir Path dir;
  private final List<Relay> relays = new ArrayList<>();
  private final List<ChildJvm> children = new ArrayList<>();
  private MockOtlpServer upstream;

  @BeforeAll
  static void startBroker() throws IOException {
    // sessions as short as 2 s, so that a killed member leaves the group quickly
    broker = KafkaBroker.builder().property("group.min.session.timeout.ms", "1000").start();
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    // a record Kafka cannot take fails in 30 s rather than the default 2 minutes
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    producer = new KafkaProducer<>(p);
    admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
  }

  @AfterAll
  static void stopBroker() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
    if (admin != null) {
      admin.close(Duration.ofSeconds(5));
    }
    if (broker != null) {
      broker.close();
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (Relay r : relays) {
      r.shutdown(Duration.ofSeconds(5));
    }
    for (ChildJvm child : children) {
      child.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void everySignalIsConsumedAndArrivesAtTheOtlpSink() throws Exception {
    broker.createTopic("sig_spans", 2);
    broker.createTopic("sig_metrics", 1);
    broker.createTopic("sig_logs", 1);
    upstream = MockOtlpServer.started();
    for (int i = 0; i < 10; i++) {
      ProducerRecord<byte[], byte[]> r =
          new ProducerRecord<>("sig_spans", OtlpRequests.spans("span" + i, 3).toByteArray());
      r.headers().add("tenant", "blue".getBytes(StandardCharsets.UTF_8));
      producer.send(r);
      producer.send(
          new ProducerRecord<>("sig_metrics", OtlpRequests.metricPoints("m" + i).toByteArray()));
      byte[] json = OtlpJson.toJson(Signal.LOGS, OtlpRequests.logs("log" + i, 2).toByteArray());
      producer.send(new ProducerRecord<>("sig_logs", json));
    }
    producer.flush();
    Relay relay =
        relay(
            """
            receivers:
              kafka:
                brokers: [%s]
                group_id: g-signals
                initial_offset: earliest
                traces: { topics: [sig_spans] }
                metrics: { topics: [sig_metrics] }
                logs: { topics: [sig_logs], encoding: otlp_json }
                header_extraction: { extract_headers: true, headers: [tenant] }
            exporters:
              otlp: { endpoint: "%s", tls: { insecure: true } }
            service:
              telemetry: { metrics: { address: "127.0.0.1:0" } }
              pipelines:
                traces: { receivers: [kafka], exporters: [otlp] }
                metrics: { receivers: [kafka], exporters: [otlp] }
                logs: { receivers: [kafka], exporters: [otlp] }
            """
                .formatted(broker.bootstrapServers(), upstream.grpcEndpoint()));

    long points =
        OtlpRequests.metricPoints("x")
            .getResourceMetrics(0)
            .getScopeMetrics(0)
            .getMetricsList()
            .stream()
            .mapToLong(KafkaReceiverTest::points)
            .sum();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(upstream.spanCount()).isEqualTo(30);
              assertThat(upstream.logCount()).isEqualTo(20);
              assertThat(upstream.pointCount()).isEqualTo(10 * points);
            });
    Set<String> names =
        upstream.traceRequests().stream()
            .flatMap(r -> OtlpRequests.spanNames(r).stream())
            .collect(Collectors.toSet());
    assertThat(names).contains("span0-0", "span9-2").hasSize(30);
    for (ExportTraceServiceRequest r : upstream.traceRequests()) {
      r.getResourceSpansList()
          .forEach(
              rs ->
                  assertThat(rs.getResource().getAttributesList())
                      .extracting(KeyValue::getKey, kv -> kv.getValue().getStringValue())
                      .contains(
                          org.assertj.core.groups.Tuple.tuple("kafka.header.tenant", "blue")));
    }
    Set<String> bodies = new HashSet<>();
    for (ExportLogsServiceRequest r : upstream.logsRequests()) {
      r.getResourceLogsList().stream()
          .flatMap(rl -> rl.getScopeLogsList().stream())
          .flatMap(sl -> sl.getLogRecordsList().stream())
          .map(LogRecord::getBody)
          .forEach(b -> bodies.add(b.getStringValue()));
    }
    assertThat(bodies).contains("log0-0", "log9-1").hasSize(20);
    String metrics = scrape(relay);
    assertThat(sample(metrics, "otelcol_receiver_accepted_spans_total", "transport", "kafka"))
        .isEqualTo(30);
    assertThat(sample(metrics, "otelcol_receiver_accepted_log_records_total", "transport", "kafka"))
        .isEqualTo(20);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(lag("g-signals", "sig_spans", "sig_logs")).isZero());
  }

  @Test
  void aGarbageRecordIsCountedAndSkipped() throws Exception {
    broker.createTopic("bad_spans", 1);
    upstream = MockOtlpServer.started();
    producer.send(new ProducerRecord<>("bad_spans", OtlpRequests.spans("before", 2).toByteArray()));
    producer.send(new ProducerRecord<>("bad_spans", new byte[] {(byte) 0xff, 0x01, 0x02, 0x7f}));
    producer.send(new ProducerRecord<>("bad_spans", OtlpRequests.spans("after", 2).toByteArray()));
    producer.flush();
    Relay relay = relay(tracesRelay("bad_spans", "g-bad", upstream.grpcEndpoint(), "received"));

    await().atMost(Duration.ofSeconds(60)).until(() -> upstream.spanCount() == 4);
    String metrics = scrape(relay);
    assertThat(sample(metrics, "otelcol_kafka_receiver_unmarshal_failed_spans_total")).isEqualTo(1);
    assertThat(sample(metrics, "otlp4j_kafka_receiver_records_total", "outcome", "invalid"))
        .isEqualTo(1);
    assertThat(sample(metrics, "otlp4j_kafka_receiver_records_total", "outcome", "accepted"))
        .isEqualTo(2);
    // the garbage record's offset is committed too: the partition goes on
    await().atMost(Duration.ofSeconds(60)).until(() -> lag("g-bad", "bad_spans") == 0);
  }

  @Test
  void aRefusingUpstreamPausesThePartitionAndNothingIsLostWhenItAccepts() throws Exception {
    broker.createTopic("bp_spans", 1);
    upstream =
        MockOtlpServer.builder()
            .defaultAnswer(Answer.grpcStatus(io.grpc.Status.UNAVAILABLE))
            .start();
    int records = 40;
    for (int i = 0; i < records; i++) {
      producer.send(
          new ProducerRecord<>("bp_spans", OtlpRequests.spans("bp" + i, 1).toByteArray()));
    }
    producer.flush();
    // delivered: the pipeline answers only once the upstream accepted the batch
    Relay relay = relay(tracesRelay("bp_spans", "g-bp", upstream.grpcEndpoint(), "delivered"));

    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                sample(scrape(relay), "otlp4j_kafka_receiver_paused_partitions") == 1
                    && sample(
                            scrape(relay),
                            "otlp4j_kafka_receiver_records_total",
                            "outcome",
                            "refused_retryable")
                        > 0);
    assertThat(lag("g-bp", "bp_spans")).isEqualTo(records); // nothing committed while refused
    upstream.defaultAnswer(Answer.ok());
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              Set<String> names = acceptedSpanNames();
              assertThat(names).hasSize(records);
            });
    await().atMost(Duration.ofSeconds(60)).until(() -> lag("g-bp", "bp_spans") == 0);
  }

  @Test
  void twoReceiversInOneGroupShareThePartitionsThroughRebalances() throws Exception {
    broker.createTopic("rb_spans", 4);
    upstream = MockOtlpServer.started();
    String config = tracesRelay("rb_spans", "g-rb", upstream.grpcEndpoint(), "received");
    send("rb_spans", "one", 100);
    Relay first = relay(config);
    await().atMost(Duration.ofSeconds(60)).until(() -> upstream.spanCount() >= 100);
    Relay second = relay(config); // the group rebalances: partitions move to the new member
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> assigned(second) > 0 && assigned(first) + assigned(second) == 4);
    send("rb_spans", "two", 200);
    await().atMost(Duration.ofSeconds(60)).until(() -> acceptedSpanNames().size() >= 300);
    assertThat(accepted(second)).isPositive();
    first.shutdown(Duration.ofSeconds(5)); // and back: the second member takes every partition
    relays.remove(first);
    send("rb_spans", "three", 100);
    await().atMost(Duration.ofSeconds(60)).until(() -> acceptedSpanNames().size() == 400);
    assertThat(accepted(first) + accepted(second)).isGreaterThanOrEqualTo(400);
    await().atMost(Duration.ofSeconds(60)).until(() -> lag("g-rb", "rb_spans") == 0);
  }

  @Test
  void aRelayKilledMidStreamLosesNoRecordAfterARestart() throws Exception {
    broker.createTopic("kill_spans", 2);
    upstream = MockOtlpServer.started();
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        tracesRelay("kill_spans", "g-kill", upstream.grpcEndpoint(), "delivered")
            .replace(
                "batch: { send_batch_size: 20, timeout: 20ms }",
                "batch: { send_batch_size: 20, timeout: 20ms }"));
    int total = 600;
    // the second half is produced only once the relay was killed: the kill lands mid-stream
    // however fast the relay consumes the first half
    CountDownLatch killed = new CountDownLatch(1);
    CompletableFuture<Void> sending =
        CompletableFuture.runAsync(
            () -> {
              for (int i = 0; i < total; i++) {
                if (i == total / 2) {
                  try {
                    killed.await(60, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                }
                producer.send(
                    new ProducerRecord<>(
                        "kill_spans",
                        ("k" + i).getBytes(StandardCharsets.UTF_8),
                        OtlpRequests.spans("kill" + i, 1).toByteArray()));
                if (i % 20 == 19) {
                  producer.flush();
                  try {
                    Thread.sleep(10); // a steady stream, so that the kill lands mid-stream
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                }
              }
              producer.flush();
            });
    long t0 = System.nanoTime();
    ChildJvm relay = childRelay(config);
    System.err.printf("child started %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    await().atMost(Duration.ofSeconds(60)).until(() -> upstream.spanCount() >= 100);
    relay.kill(); // SIGKILL
    long atKill = upstream.spanCount();
    killed.countDown();
    System.err.printf("killed at %d spans, %d ms%n", atKill, (System.nanoTime() - t0) / 1_000_000);
    childRelay(config);
    System.err.printf("restarted %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    sending.get(30, TimeUnit.SECONDS);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(acceptedSpanNames()).hasSize(total));
    System.err.printf("all arrived %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    assertThat(atKill).isLessThan(total); // the kill did land mid-stream
    await().atMost(Duration.ofSeconds(60)).until(() -> lag("g-kill", "kill_spans") == 0);
  }

  // ------------------------------------------------------------------------------------ helpers

  private static String tracesRelay(String topic, String group, String endpoint, String ackMode) {
    return """
        receivers:
          kafka:
            brokers: [%s]
            group_id: %s
            initial_offset: earliest
            session_timeout: 2s
            heartbeat_interval: 500ms
            autocommit: { interval: 100ms }
            error_backoff: { enabled: true, initial_interval: 50ms, max_interval: 200ms }
            traces: { topics: [%s] }
        processors:
          batch: { send_batch_size: 20, timeout: 20ms }
        exporters:
          otlp:
            endpoint: "%s"
            tls: { insecure: true }
            retry_on_failure: { initial_interval: 20ms, max_interval: 50ms, max_elapsed_time: 100ms }
        service:
          ack_mode: %s
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [kafka], processors: [batch], exporters: [otlp] }
        """
        .formatted(broker.bootstrapServers(), group, topic, endpoint, ackMode);
  }

  private Relay relay(String yaml) throws Exception {
    Relay r = Relay.start(RelayConfig.parse(yaml, v -> null, dir));
    relays.add(r);
    return r;
  }

  /** {@code otlp4j run --config config} in a child JVM, once its Kafka receiver runs. */
  private ChildJvm childRelay(Path config) throws InterruptedException {
    ChildJvm child =
        ChildJvm.builder(Main.class)
            .jvmOptions("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
            .args("run", "--config", config.toString())
            .start();
    children.add(child);
    child.awaitLine(
        line -> line.contains("Kafka receiver kafka consuming"), Duration.ofSeconds(60));
    return child;
  }

  /** Sends {@code count} records and waits until Kafka acknowledged each (at most 30 s). */
  private static void send(String topic, String prefix, int count) throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sent.add(
          producer.send(
              new ProducerRecord<>(
                  topic,
                  (prefix + i).getBytes(StandardCharsets.UTF_8),
                  OtlpRequests.spans(prefix + i, 1).toByteArray())));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (Future<RecordMetadata> f : sent) {
      f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  private Set<String> acceptedSpanNames() {
    return upstream.accepted(Signal.TRACES).stream()
        .flatMap(
            r -> {
              try {
                return OtlpRequests.spanNames(ExportTraceServiceRequest.parseFrom(r.body()))
                    .stream();
              } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
              }
            })
        .collect(Collectors.toSet());
  }

  private static double assigned(Relay relay) {
    return sample(scrape(relay), "otlp4j_kafka_receiver_assigned_partitions");
  }

  private static double accepted(Relay relay) {
    return sample(scrape(relay), "otelcol_receiver_accepted_spans_total", "transport", "kafka");
  }

  /** Records of {@code topics} not yet committed by {@code group}. */
  private static long lag(String group, String... topics) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
    Map<TopicPartition, OffsetSpec> ends = new java.util.HashMap<>();
    for (String t : topics) {
      admin
          .describeTopics(List.of(t))
          .allTopicNames()
          .get()
          .get(t)
          .partitions()
          .forEach(p -> ends.put(new TopicPartition(t, p.partition()), OffsetSpec.latest()));
    }
    long lag = 0;
    for (var e : admin.listOffsets(ends).all().get().entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      lag += e.getValue().offset() - (c == null ? 0 : c.offset());
    }
    return lag;
  }

  private static long points(io.opentelemetry.proto.metrics.v1.Metric m) {
    return switch (m.getDataCase()) {
      case GAUGE -> m.getGauge().getDataPointsCount();
      case SUM -> m.getSum().getDataPointsCount();
      case HISTOGRAM -> m.getHistogram().getDataPointsCount();
      case EXPONENTIAL_HISTOGRAM -> m.getExponentialHistogram().getDataPointsCount();
      case SUMMARY -> m.getSummary().getDataPointsCount();
      default -> 0;
    };
  }

  static String scrape(Relay relay) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      relay.metrics().writePrometheusText(out);
      return out.toString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static double sample(String text, String name, String... labels) {
    return RelayUnderTest.sample(text, name, labels);
  }
}
