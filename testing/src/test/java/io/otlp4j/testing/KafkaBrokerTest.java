package io.otlp4j.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A broker starts, takes records with acks=all, gives them back, takes records in a topic just
 * created without a retry, and stops.
 */
class KafkaBrokerTest {

  @Test
  void startsProducesAndStops() throws Exception {
    try (KafkaBroker broker = KafkaBroker.builder().partitions(3).start()) {
      System.out.println("Kafka broker started in " + broker.lastStartup().toMillis() + " ms");
      String bootstrap = broker.bootstrapServers();
      broker.createTopic("harness", 2);

      produce(bootstrap, "harness", "a", "b", "c");
      assertThat(consume(bootstrap, "harness", 3)).containsExactlyInAnyOrder("a", "b", "c");

      // auto-created topics get the builder's partition count
      produce(bootstrap, "auto", "x");
      try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
        assertThat(consumer.partitionsFor("auto")).hasSize(3);
        assertThat(consumer.partitionsFor("harness")).hasSize(2);
      }
      // a new topic takes records at once: no NOT_LEADER_OR_FOLLOWER from a broker that published
      // the topic's metadata but has not made itself its partitions' leader yet (with an idempotent
      // producer that error can stall a partition until delivery.timeout.ms, KAFKA-15591)
      try (KafkaProducer<byte[], byte[]> noRetries = producerWithoutRetries(bootstrap)) {
        for (int t = 0; t < 4; t++) {
          broker.createTopic("fresh" + t, 4);
          produceToEveryPartition(noRetries, "fresh" + t, 4);
        }
      }

      // kill() and restart() (same port, same log directory, nothing acknowledged lost) are
      // proved in relay's KafkaExporterTest, whose broker start they share (CI time)
      broker.stop();
      assertThat(broker.isRunning()).isFalse();
    }
  }

  private static void produce(String bootstrap, String topic, String... values) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (String value : values) {
        producer
            .send(new ProducerRecord<>(topic, value.getBytes(StandardCharsets.UTF_8)))
            .get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** A producer whose first retriable error fails the send. */
  private static KafkaProducer<byte[], byte[]> producerWithoutRetries(String bootstrap) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            "false",
            ProducerConfig.RETRIES_CONFIG,
            0),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  /** One record to each partition of {@code topic}; fails on the first error. */
  private static void produceToEveryPartition(
      KafkaProducer<byte[], byte[]> producer, String topic, int partitions) throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      sent.add(producer.send(new ProducerRecord<>(topic, p, null, new byte[] {(byte) p})));
    }
    for (Future<RecordMetadata> f : sent) {
      f.get(30, TimeUnit.SECONDS);
    }
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrap,
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            "false"),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  private static List<String> consume(String bootstrap, String topic, int count) {
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer
          .partitionsFor(topic)
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (values.size() < count && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          values.add(new String(record.value(), StandardCharsets.UTF_8));
        }
      }
    }
    return values;
  }
}
