package io.otlp4j.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.otlp4j.relay.config.RelayConfig;
import io.otlp4j.testing.KafkaBroker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code kafka} exporter against a real Apache Kafka broker ({@link KafkaBroker}, one for the
 * class): what a client sends to the relay arrives in Kafka as the same bytes (read back with a
 * plain {@link KafkaConsumer}, parsed with the official opentelemetry-proto classes), as OTLP/JSON,
 * one record per trace, cut at {@code max_message_bytes}; {@code delivered} answers only once Kafka
 * has the data and refuses retryably while the broker is down, {@code durable} keeps what it
 * acknowledged until Kafka has it, and a broker killed and restarted loses nothing acknowledged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaExporterTest {
  private static KafkaBroker broker;

  @TempDir Path dir;
  private final List<Relay> relays = new ArrayList<>();

  @BeforeAll
  static void startBroker() throws Exception {
    broker = KafkaBroker.start();
    System.out.println("Kafka broker started in " + broker.lastStartup().toMillis() + " ms");
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  @AfterEach
  void stopRelays() {
    for (Relay relay : relays) {
      relay.shutdown(Duration.ofSeconds(5));
    }
  }

  private Relay start(String exporter, String service, String extensions) throws Exception {
    String yaml =
        """
        receivers:
          otlp:
            protocols:
              http: { endpoint: "127.0.0.1:0" }
        %s
        exporters:
          kafka:
            brokers: [%s]
        %s
        service:
        %s
          telemetry: { metrics: { address: "127.0.0.1:0" } }
          pipelines:
            traces: { receivers: [otlp], exporters: [kafka] }
            metrics: { receivers: [otlp], exporters: [kafka] }
            logs: { receivers: [otlp], exporters: [kafka] }
        """
            .formatted(
                extensions, broker.bootstrapServers(), exporter.indent(4), service.indent(2));
    Path base = Files.createTempDirectory(dir, "relay");
    Relay relay = Relay.start(RelayConfig.parse(yaml, v -> null, base));
    relays.add(relay);
    return relay;
  }

  private static HttpResponse<byte[]> post(Relay relay, String path, Message request)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + relay.httpAddress("otlp").getPort() + "/v1/" + path))
                .header("Content-Type", "application/x-protobuf")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
  }

  /** Every record of {@code topic}, from the start, once at least {@code atLeast} are there. */
  private static List<ConsumerRecord<byte[], byte[]>> consume(String topic, int atLeast) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                "false"),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<TopicPartition> partitions = new ArrayList<>();
      // in the received ack mode the answer may come before the exporter created the topic
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> !consumer.partitionsFor(topic, Duration.ofSeconds(30)).isEmpty());
      consumer
          .partitionsFor(topic, Duration.ofSeconds(30))
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      while (System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          out.add(r);
        }
        if (out.size() >= atLeast) {
          boolean atEnd = true;
          for (TopicPartition p : partitions) {
            atEnd &= consumer.position(p) >= ends.get(p);
          }
          if (atEnd) {
            break;
          }
        } else {
          ends = consumer.endOffsets(partitions);
        }
      }
    }
    return out;
  }

  @Test
  @Order(1)
  void everySignalArrivesAsTheBytesTheClientSent() throws Exception {
    Relay relay =
        start(
            """
            traces: { topic: t1_spans }
            metrics: { topic: t1_metrics }
            logs: { topic: t1_logs }
            """,
            "",
            "");
    ExportTraceServiceRequest spans = OtlpRequests.spans("s", 3);
    ExportMetricsServiceRequest metrics = OtlpRequests.metricPoints("m");
    ExportLogsServiceRequest logs = OtlpRequests.logs("l", 4);
    assertThat(post(relay, "traces", spans).statusCode()).isEqualTo(200);
    assertThat(post(relay, "metrics", metrics).statusCode()).isEqualTo(200);
    assertThat(post(relay, "logs", logs).statusCode()).isEqualTo(200);

    List<ConsumerRecord<byte[], byte[]>> t = consume("t1_spans", 1);
    assertThat(t).hasSize(1);
    assertThat(t.get(0).key()).isNull();
    assertThat(t.get(0).value()).isEqualTo(spans.toByteArray());
    assertThat(ExportTraceServiceRequest.parseFrom(t.get(0).value())).isEqualTo(spans);
    List<ConsumerRecord<byte[], byte[]>> m = consume("t1_metrics", 1);
    assertThat(m).hasSize(1);
    assertThat(ExportMetricsServiceRequest.parseFrom(m.get(0).value())).isEqualTo(metrics);
    List<ConsumerRecord<byte[], byte[]>> l = consume("t1_logs", 1);
    assertThat(l).hasSize(1);
    assertThat(ExportLogsServiceRequest.parseFrom(l.get(0).value())).isEqualTo(logs);
  }

  @Test
  @Order(2)
  void otlpJsonEncodingIsReadByProtobufsJsonParser() throws Exception {
    Relay relay = start("logs: { topic: t2_logs, encoding: otlp_json }", "", "");
    ExportLogsServiceRequest logs = OtlpRequests.logs("json", 3);
    assertThat(post(relay, "logs", logs).statusCode()).isEqualTo(200);

    List<ConsumerRecord<byte[], byte[]>> l = consume("t2_logs", 1);
    assertThat(l).hasSize(1);
    ExportLogsServiceRequest.Builder parsed = ExportLogsServiceRequest.newBuilder();
    JsonFormat.parser().merge(new String(l.get(0).value(), StandardCharsets.UTF_8), parsed);
    assertThat(parsed.build()).isEqualTo(logs);
  }

  @Test
  @Order(3)
  void partitionTracesByIdSendsEachTraceAsOneRecordKeyedByItsHexId() throws Exception {
    broker.createTopic("t3_spans", 3);
    Relay relay = start("partition_traces_by_id: true\ntraces: { topic: t3_spans }", "", "");
    int traces = 12;
    ExportTraceServiceRequest first = interleavedTraces("first", traces);
    ExportTraceServiceRequest second = interleavedTraces("second", traces);
    assertThat(post(relay, "traces", first).statusCode()).isEqualTo(200);
    assertThat(post(relay, "traces", second).statusCode()).isEqualTo(200);

    List<ConsumerRecord<byte[], byte[]>> records = consume("t3_spans", 2 * traces);
    assertThat(records).hasSize(2 * traces);
    Map<String, Integer> partitionOfTrace = new HashMap<>();
    Map<String, Integer> spansOfTrace = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      String key = new String(r.key(), StandardCharsets.US_ASCII);
      ExportTraceServiceRequest value = ExportTraceServiceRequest.parseFrom(r.value());
      int spans = 0;
      for (ResourceSpans rs : value.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          for (Span s : ss.getSpansList()) {
            assertThat(HexFormat.of().formatHex(s.getTraceId().toByteArray())).isEqualTo(key);
            spans++;
          }
        }
      }
      spansOfTrace.merge(key, spans, Integer::sum);
      Integer before = partitionOfTrace.putIfAbsent(key, r.partition());
      assertThat(before == null ? r.partition() : before)
          .as("every record of trace %s on one partition", key)
          .isEqualTo(r.partition());
    }
    // every trace: 2 resources x 2 spans in each request, two requests
    assertThat(spansOfTrace).hasSize(traces).allSatisfy((k, v) -> assertThat(v).isEqualTo(8));
    assertThat(partitionOfTrace.values())
        .as("12 traces spread over 3 partitions")
        .hasSizeGreaterThan(1);
  }

  /** Two resources, each with spans of every trace, interleaved: trace 0, 1, …, 0, 1, … */
  private static ExportTraceServiceRequest interleavedTraces(String prefix, int traces) {
    ExportTraceServiceRequest.Builder request = ExportTraceServiceRequest.newBuilder();
    for (int resource = 0; resource < 2; resource++) {
      ScopeSpans.Builder scope = ScopeSpans.newBuilder();
      for (int round = 0; round < 2; round++) {
        for (int t = 0; t < traces; t++) {
          scope.addSpans(
              Span.newBuilder()
                  .setName(prefix + "-" + resource + "-" + round + "-" + t)
                  .setTraceId(
                      ByteString.copyFrom(
                          ByteBuffer.allocate(16).putLong(0xabcdefL).putLong(1000 + t).array()))
                  .setSpanId(
                      ByteString.copyFrom(
                          ByteBuffer.allocate(8)
                              .putLong(resource * 100 + round * 50 + t)
                              .array())));
        }
      }
      request.addResourceSpans(
          ResourceSpans.newBuilder()
              .setResource(
                  Resource.newBuilder()
                      .addAttributes(
                          KeyValue.newBuilder()
                              .setKey("service.name")
                              .setValue(AnyValue.newBuilder().setStringValue("svc-" + resource))))
              .addScopeSpans(scope));
    }
    return request.build();
  }

  @Test
  @Order(4)
  void aRequestOverMaxMessageBytesIsCutAtSpanBoundaries() throws Exception {
    Relay relay =
        start("traces: { topic: t4_spans }\nproducer: { max_message_bytes: 20000 }", "", "");
    ExportTraceServiceRequest spans = OtlpRequests.spans("big", 60, 1000);
    assertThat(spans.getSerializedSize()).isGreaterThan(60_000);
    assertThat(post(relay, "traces", spans).statusCode()).isEqualTo(200);

    List<ConsumerRecord<byte[], byte[]>> records = consume("t4_spans", 4);
    assertThat(records.size()).isGreaterThanOrEqualTo(4);
    List<String> names = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      assertThat(r.value().length).isLessThanOrEqualTo(20_000);
      names.addAll(OtlpRequests.spanNames(ExportTraceServiceRequest.parseFrom(r.value())));
    }
    assertThat(names).isEqualTo(OtlpRequests.spanNames(spans));
  }

  @Test
  @Order(5)
  void deliveredAndDurableKeepTheirPromiseAcrossABrokerKillAndRestart() throws Exception {
    String retry =
        """
        timeout: 1s
        retry_on_failure: { initial_interval: 100ms, max_interval: 200ms, max_elapsed_time: 1s }
        """;
    Relay delivered = start("traces: { topic: t5_delivered }\n" + retry, "ack_mode: delivered", "");
    Relay durable =
        start(
            "traces: { topic: t5_durable }\nsending_queue: { storage: file_storage }\n" + retry,
            "extensions: [file_storage]",
            "extensions:\n  file_storage: { directory: queue }");
    assertThat(durable.ackMode()).isEqualTo(AckMode.DURABLE);

    // delivered: the answer comes once Kafka has the record
    assertThat(post(delivered, "traces", OtlpRequests.spans("a", 2)).statusCode()).isEqualTo(200);
    assertThat(spanNames(consume("t5_delivered", 1))).containsExactly("a-0", "a-1");
    assertThat(post(durable, "traces", OtlpRequests.spans("q1", 1)).statusCode()).isEqualTo(200);
    assertThat(spanNames(consume("t5_durable", 1))).containsExactly("q1-0");

    broker.kill();
    // Kafka is gone: delivered cannot promise anything and says so, retryably
    HttpResponse<byte[]> refused = post(delivered, "traces", OtlpRequests.spans("b", 1));
    assertThat(refused.statusCode()).isEqualTo(503);
    // durable promises the disk, and keeps the records until Kafka has them
    assertThat(post(durable, "traces", OtlpRequests.spans("q2", 1)).statusCode()).isEqualTo(200);

    broker.restart();
    System.out.println("Kafka broker restarted in " + broker.lastStartup().toMillis() + " ms");
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(spanNames(consume("t5_durable", 2))).contains("q1-0", "q2-0"));
    assertThat(spanNames(consume("t5_delivered", 1))).contains("a-0", "a-1");
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> post(delivered, "traces", OtlpRequests.spans("c", 1)).statusCode() == 200);
    assertThat(spanNames(consume("t5_delivered", 2))).contains("a-0", "a-1", "c-0");
  }

  private static List<String> spanNames(List<ConsumerRecord<byte[], byte[]>> records)
      throws Exception {
    List<String> names = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      names.addAll(OtlpRequests.spanNames(ExportTraceServiceRequest.parseFrom(r.value())));
    }
    return names;
  }
}
