package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.otlp4j.core.MetricsRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DurableQueueTest {

  @TempDir Path dir;

  private DurableQueue.Builder builder() {
    return DurableQueue.builder(dir).consumers("a");
  }

  static AppendResult append(DurableQueue queue, int producer, long seq, int size) {
    ByteBuf payload = TestRecords.buffer(producer, seq, size);
    try {
      return queue.append((byte) producer, seq, payload).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      payload.release();
    }
  }

  @Test
  void appendedRecordsAreReadBackInOrderWithTheirMetadata() throws IOException {
    try (DurableQueue queue = builder().millisClock(() -> 1234L).open()) {
      long previous = -1;
      for (int i = 0; i < 10; i++) {
        AppendResult result = append(queue, 3, i, 100 + i);
        assertThat(result).isInstanceOf(AppendResult.Appended.class);
        long position = ((AppendResult.Appended) result).position();
        assertThat(position).isGreaterThan(previous);
        previous = position;
      }
      List<QueueRecord> records = queue.consumer("a").poll(100, Long.MAX_VALUE);
      try {
        assertThat(records).hasSize(10);
        for (int i = 0; i < 10; i++) {
          QueueRecord record = records.get(i);
          assertThat(record.kind()).isEqualTo((byte) 3);
          assertThat(record.itemCount()).isEqualTo(i);
          assertThat(record.appendedAtMillis()).isEqualTo(1234L);
          assertThat(record.payload().readableBytes()).isEqualTo(Math.max(16, 100 + i));
          assertThat(TestRecords.decode(record.payload())).containsExactly(3, i);
        }
        assertThat(records.get(9).position()).isEqualTo(previous);
      } finally {
        records.forEach(r -> r.payload().release());
      }
      assertThat(queue.consumer("a").poll(10, 1000)).isEmpty();
    }
  }

  @Test
  void payloadBytesAreWrittenFromTheBufferWithoutTouchingItsIndices() throws Exception {
    try (DurableQueue queue = builder().open()) {
      ByteBuf composite =
          Unpooled.wrappedBuffer(
              Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8),
              Unpooled.copiedBuffer("durable world", StandardCharsets.UTF_8));
      composite.readerIndex(6);
      try {
        assertThat(queue.append((byte) 0, 1, composite).get().appended()).isTrue();
        assertThat(composite.readerIndex()).isEqualTo(6);
      } finally {
        composite.release();
      }
      ByteBuf empty = Unpooled.EMPTY_BUFFER;
      assertThat(queue.append((byte) 1, 0, empty).get().appended()).isTrue();
      List<QueueRecord> records = queue.consumer("a").poll(10, 1 << 20);
      assertThat(records).hasSize(2);
      assertThat(records.get(0).payload().toString(StandardCharsets.UTF_8))
          .isEqualTo("durable world");
      assertThat(records.get(1).payload().readableBytes()).isZero();
      records.forEach(r -> r.payload().release());
    }
  }

  @Test
  void pipelinedAppendsOfOneSharedMultiComponentPayloadSurviveRecoveryWithTheirChecksums()
      throws Exception {
    // Each append frames its record (views, CRC32C) on the caller's thread; the same payload in
    // flight many times at once must give as many intact records, which recovery verifies.
    ByteBuf payload =
        Unpooled.wrappedBuffer(
            Unpooled.copiedBuffer("xx-first part, ", StandardCharsets.UTF_8),
            Unpooled.directBuffer().writeBytes("second part".getBytes(StandardCharsets.UTF_8)));
    payload.readerIndex(3);
    int appends = 64;
    try (DurableQueue queue = builder().open()) {
      List<CompletableFuture<AppendResult>> inFlight = new ArrayList<>();
      for (int i = 0; i < appends; i++) {
        inFlight.add(queue.append((byte) 2, i, payload));
      }
      for (CompletableFuture<AppendResult> append : inFlight) {
        assertThat(append.get(30, TimeUnit.SECONDS).appended()).isTrue();
      }
      assertThat(payload.readerIndex()).isEqualTo(3);
    } finally {
      payload.release();
    }
    try (DurableQueue reopened = builder().open()) {
      List<QueueRecord> records = reopened.consumer("a").poll(appends + 1, Long.MAX_VALUE);
      try {
        assertThat(records).hasSize(appends);
        for (int i = 0; i < appends; i++) {
          assertThat(records.get(i).itemCount()).isEqualTo(i);
          assertThat(records.get(i).payload().toString(StandardCharsets.UTF_8))
              .isEqualTo("first part, second part");
        }
      } finally {
        records.forEach(r -> r.payload().release());
      }
    }
  }

  @Test
  void aReleasedPayloadIsRefusedAtOnceAsNotRetryableAndNothingIsWritten() throws Exception {
    try (DurableQueue queue = builder().open()) {
      ByteBuf payload = TestRecords.buffer(0, 0, 10);
      payload.release();
      AppendResult result = queue.append((byte) 0, 1, payload).get(30, TimeUnit.SECONDS);
      assertThat(result.appended()).isFalse();
      assertThat(result).isInstanceOf(AppendResult.Refused.class);
      assertThat(((AppendResult.Refused) result).retryable()).isFalse();
      assertThat(append(queue, 1, 1, 20).appended()).isTrue();
      List<QueueRecord> records = queue.consumer("a").poll(10, Long.MAX_VALUE);
      assertThat(records).hasSize(1);
      records.forEach(r -> r.payload().release());
    }
  }

  @Test
  void pollStopsAtMaxRecordsAndMaxBytesButReturnsAtLeastOneRecord() throws IOException {
    try (DurableQueue queue = builder().open()) {
      for (int i = 0; i < 5; i++) {
        append(queue, 0, i, 1000);
      }
      QueueConsumer consumer = queue.consumer("a");
      List<QueueRecord> one = consumer.poll(10, 10);
      assertThat(one).hasSize(1);
      List<QueueRecord> two = consumer.poll(2, 1 << 20);
      assertThat(two).hasSize(2);
      List<QueueRecord> rest = consumer.poll(10, 2000);
      assertThat(rest).hasSize(2);
      Stream.of(one, two, rest).flatMap(List::stream).forEach(r -> r.payload().release());
      assertThatThrownBy(() -> consumer.poll(0, 1)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> consumer.poll(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void consumerRestartsFromItsPersistedCheckpoint() throws IOException {
    try (DurableQueue queue = builder().open()) {
      for (int i = 0; i < 10; i++) {
        append(queue, 1, i, 200);
      }
      QueueConsumer consumer = queue.consumer("a");
      List<QueueRecord> records = consumer.poll(4, 1 << 20);
      consumer.commit(records.get(3).position());
      records.forEach(r -> r.payload().release());
      assertThat(consumer.pendingRecords()).isEqualTo(6);
    }
    try (DurableQueue queue = builder().open()) {
      QueueConsumer consumer = queue.consumer("a");
      assertThat(consumer.pendingRecords()).isEqualTo(6);
      assertThat(TestRecords.drain(consumer, true))
          .extracting(r -> r[1])
          .containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
      assertThat(consumer.pendingRecords()).isZero();
      assertThat(consumer.pendingBytes()).isZero();
    }
  }

  @Test
  void recordsPolledButNotCommittedAreDeliveredAgainAfterARestart() throws IOException {
    try (DurableQueue queue = builder().open()) {
      for (int i = 0; i < 6; i++) {
        append(queue, 1, i, 200);
      }
      QueueConsumer consumer = queue.consumer("a");
      List<QueueRecord> first = consumer.poll(2, 1 << 20);
      consumer.commit(first.get(1).position());
      first.forEach(r -> r.payload().release());
      assertThat(TestRecords.drain(consumer, false)).hasSize(4); // read, never committed
    }
    try (DurableQueue queue = builder().open()) {
      assertThat(TestRecords.drain(queue.consumer("a"), false))
          .extracting(r -> r[1])
          .containsExactly(2L, 3L, 4L, 5L);
    }
  }

  @Test
  void commitBeyondWhatWasPolledIsRejectedAndOldPositionsAreIgnored() throws IOException {
    try (DurableQueue queue = builder().open()) {
      long p1 = ((AppendResult.Appended) append(queue, 0, 0, 10)).position();
      long p2 = ((AppendResult.Appended) append(queue, 0, 1, 10)).position();
      QueueConsumer consumer = queue.consumer("a");
      assertThatThrownBy(() -> consumer.commit(p1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("read position");
      List<QueueRecord> records = consumer.poll(10, 1 << 20);
      records.forEach(r -> r.payload().release());
      consumer.commit(p2);
      consumer.commit(p1); // older: ignored
      assertThat(consumer.checkpoint()).isEqualTo(p2);
    }
  }

  @Test
  void awaitRecordsCompletesWhenARecordArrives() throws Exception {
    try (DurableQueue queue = builder().open()) {
      QueueConsumer consumer = queue.consumer("a");
      CompletableFuture<Void> waiting = consumer.awaitRecords();
      assertThat(waiting).isNotDone();
      append(queue, 0, 0, 10);
      waiting.get(30, TimeUnit.SECONDS);
      assertThat(consumer.awaitRecords()).isDone();
      TestRecords.drain(consumer, true);
      CompletableFuture<Void> afterDrain = consumer.awaitRecords();
      assertThat(afterDrain).isNotDone();
      queue.close();
      assertThat(afterDrain).isCompletedExceptionally();
    }
  }

  @Test
  void twoConsumersAtDifferentSpeedsReclaimOnlySegmentsBothArePast() throws IOException {
    try (DurableQueue queue =
        DurableQueue.builder(dir).consumers("fast", "slow").segmentBytes(4096).open()) {
      for (int i = 0; i < 40; i++) {
        append(queue, 0, i, 1000); // 1026 bytes framed: 3 per segment
      }
      long segmentsBefore = segmentFiles();
      assertThat(segmentsBefore).isEqualTo(14);
      assertThat(TestRecords.drain(queue.consumer("fast"), true)).hasSize(40);
      assertThat(segmentFiles()).isEqualTo(segmentsBefore); // slow holds them all
      QueueConsumer slow = queue.consumer("slow");
      List<QueueRecord> records = slow.poll(10, 1 << 20);
      slow.commit(records.get(9).position());
      records.forEach(r -> r.payload().release());
      assertThat(segmentFiles()).isEqualTo(segmentsBefore - 3); // records 0..8 were in 3 segments
      assertThat(queue.sizeBytes()).isEqualTo(totalSegmentBytes());
      assertInvariants(queue);
    }
    try (DurableQueue queue =
        DurableQueue.builder(dir).consumers("fast", "slow").segmentBytes(4096).open()) {
      assertThat(queue.consumer("fast").pendingRecords()).isZero();
      assertThat(TestRecords.drain(queue.consumer("slow"), true))
          .extracting(r -> r[1])
          .first()
          .isEqualTo(10L);
      assertThat(segmentFiles()).isEqualTo(1); // the active segment stays
    }
  }

  @Test
  void aNewConsumerStartsAtTheOldestRecordOnDisk() throws IOException {
    try (DurableQueue queue = builder().open()) {
      for (int i = 0; i < 3; i++) {
        append(queue, 0, i, 10);
      }
    }
    try (DurableQueue queue = DurableQueue.builder(dir).consumers("a", "new/exporter").open()) {
      assertThat(TestRecords.drain(queue.consumer("new/exporter"), true)).hasSize(3);
      assertThat(Files.exists(dir.resolve("consumer-new%2Fexporter.checkpoint"))).isTrue();
      assertThatThrownBy(() -> queue.consumer("other"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("other");
    }
  }

  @Test
  void sizeCapRefusesWithARetryableResultAndRecoversWhenConsumersFreeSpace() throws IOException {
    try (DurableQueue queue = builder().segmentBytes(4096).maxBytes(4 * 4096).open()) {
      int appended = 0;
      AppendResult result;
      while ((result = append(queue, 0, appended, 1000)).appended()) {
        appended++;
        assertThat(appended).isLessThan(100);
      }
      assertThat(result).isInstanceOf(AppendResult.Refused.class);
      assertThat(((AppendResult.Refused) result).retryable()).isTrue();
      assertThat(((AppendResult.Refused) result).reason()).contains("full");
      assertThat(queue.sizeBytes()).isLessThanOrEqualTo(4 * 4096);
      assertThat(append(queue, 0, appended, 1000).appended()).isFalse();

      QueueConsumer consumer = queue.consumer("a");
      List<QueueRecord> records = consumer.poll(3, 1 << 20);
      consumer.commit(records.get(2).position()); // the first segment is now free
      records.forEach(r -> r.payload().release());
      assertThat(append(queue, 0, appended, 1000).appended()).isTrue();
      assertThat(TestRecords.drain(consumer, true))
          .extracting(r -> r[1])
          .last()
          .isEqualTo((long) appended);
      // every consumer caught up: even the active segment is reclaimed when room is needed
      for (int i = 1; i <= appended + 3; i++) {
        assertThat(append(queue, 0, appended + i, 1000).appended()).isTrue();
        TestRecords.drain(consumer, true);
      }
      assertInvariants(queue);
    }
  }

  @Test
  void dropOldestAdvancesLaggingConsumersAndCountsTheDroppedRecords() throws IOException {
    MetricsRegistry metrics = MetricsRegistry.create();
    try (DurableQueue queue =
        builder()
            .segmentBytes(4096)
            .maxBytes(4 * 4096)
            .whenFull(FullPolicy.DROP_OLDEST)
            .metrics(metrics, "q")
            .open()) {
      for (int i = 0; i < 30; i++) {
        assertThat(append(queue, 0, i, 1000).appended()).isTrue();
      }
      assertThat(queue.sizeBytes()).isLessThanOrEqualTo(4 * 4096);
      List<long[]> read = TestRecords.drain(queue.consumer("a"), true);
      long dropped = 30L - read.size();
      assertThat(dropped).isPositive();
      assertThat(read).extracting(r -> r[1]).last().isEqualTo(29L);
      assertThat(read.get(0)[1]).isEqualTo(dropped);
      assertThat(prometheus(metrics))
          .contains("otlp4j_queue_dropped_records_total{queue=\"q\"} " + dropped);
      assertInvariants(queue);
    }
  }

  @Test
  void aRecordLargerThanMaxBytesIsRefusedAsNotRetryable() throws IOException {
    try (DurableQueue queue = builder().segmentBytes(1024).maxBytes(4096).open()) {
      AppendResult result = append(queue, 0, 0, 5000);
      assertThat(result).isInstanceOf(AppendResult.Refused.class);
      assertThat(((AppendResult.Refused) result).retryable()).isFalse();
      // a record larger than a segment but within maxBytes goes alone into a segment
      assertThat(append(queue, 0, 1, 2000).appended()).isTrue();
      assertThat(append(queue, 0, 2, 10).appended()).isTrue();
      assertThat(TestRecords.drain(queue.consumer("a"), true))
          .extracting(r -> r[1])
          .containsExactly(1L, 2L);
    }
  }

  static Stream<Arguments> fsyncPolicies() {
    return Stream.of(
        Arguments.of(FsyncPolicy.perBatch()),
        Arguments.of(FsyncPolicy.interval(Duration.ofMillis(20))),
        Arguments.of(FsyncPolicy.never()));
  }

  @ParameterizedTest
  @MethodSource("fsyncPolicies")
  void everyFsyncPolicyKeepsRecordsAcrossACleanRestart(FsyncPolicy policy) throws IOException {
    MetricsRegistry metrics = MetricsRegistry.create();
    try (DurableQueue queue =
        builder().fsyncPolicy(policy).segmentBytes(8192).metrics(metrics, "q").open()) {
      for (int i = 0; i < 50; i++) {
        assertThat(append(queue, 2, i, 500).appended()).isTrue();
      }
      if (policy == FsyncPolicy.never()) {
        assertThat(prometheus(metrics)).contains("otlp4j_queue_fsync_seconds_count{queue=\"q\"} 0");
      } else {
        org.awaitility.Awaitility.await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    !prometheus(metrics)
                        .contains("otlp4j_queue_fsync_seconds_count{queue=\"q\"} 0"));
      }
    }
    try (DurableQueue queue = builder().fsyncPolicy(policy).segmentBytes(8192).open()) {
      assertThat(TestRecords.drain(queue.consumer("a"), true))
          .extracting(r -> r[1])
          .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 50).boxed().toList());
    }
  }

  static Stream<Arguments> writerConfigurations() {
    return Stream.of(
        Arguments.of(FsyncPolicy.perBatch(), 256 * 1024),
        Arguments.of(FsyncPolicy.perBatch(), 8 * 1024), // rolls inside groups
        Arguments.of(FsyncPolicy.interval(Duration.ofMillis(5)), 64 * 1024),
        Arguments.of(FsyncPolicy.never(), 8 * 1024));
  }

  @ParameterizedTest
  @MethodSource("writerConfigurations")
  void concurrentAppendersAllCompleteAndReadBackExactlyOnceInPerProducerOrder(
      FsyncPolicy policy, int segmentBytes) throws Exception {
    int producers = 8;
    int perProducer = 400;
    try (DurableQueue queue = builder().fsyncPolicy(policy).segmentBytes(segmentBytes).open()) {
      List<Thread> threads = new ArrayList<>();
      List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int p = 0; p < producers; p++) {
        int producer = p;
        Thread thread =
            new Thread(
                () -> {
                  try {
                    List<CompletableFuture<AppendResult>> inFlight = new ArrayList<>();
                    for (int seq = 0; seq < perProducer; seq++) {
                      ByteBuf payload = TestRecords.buffer(producer, seq, 64 + seq % 700);
                      inFlight.add(
                          queue
                              .append((byte) 0, 1, payload)
                              .whenComplete((r, e) -> payload.release()));
                      if (inFlight.size() == 16) {
                        for (CompletableFuture<AppendResult> f : inFlight) {
                          assertThat(f.get(30, TimeUnit.SECONDS).appended()).isTrue();
                        }
                        inFlight.clear();
                      }
                    }
                    for (CompletableFuture<AppendResult> f : inFlight) {
                      assertThat(f.get(30, TimeUnit.SECONDS).appended()).isTrue();
                    }
                  } catch (Throwable t) {
                    failures.add(t);
                  }
                });
        thread.start();
        threads.add(thread);
      }
      for (Thread thread : threads) {
        thread.join(60_000);
      }
      assertThat(failures).isEmpty();
      assertInvariants(queue);
      List<long[]> read = TestRecords.drain(queue.consumer("a"), true);
      assertThat(read).hasSize(producers * perProducer);
      long[] next = new long[producers];
      for (long[] record : read) {
        assertThat(record[1]).isEqualTo(next[(int) record[0]]);
        next[(int) record[0]]++;
      }
    }
  }

  @Test
  void metricsReportPendingWorkPerConsumerAndGroupSizes() throws IOException {
    MetricsRegistry metrics = MetricsRegistry.create();
    long[] now = {10_000};
    try (DurableQueue queue =
        DurableQueue.builder(dir)
            .consumers("x", "y")
            .metrics(metrics, "main")
            .millisClock(() -> now[0])
            .open()) {
      append(queue, 0, 0, 100);
      append(queue, 0, 1, 100);
      now[0] += 5_000;
      TestRecords.drain(queue.consumer("x"), true);
      String text = prometheus(metrics);
      assertThat(text)
          .contains("otlp4j_queue_pending_records{consumer=\"x\",queue=\"main\"} 0.0")
          .contains("otlp4j_queue_pending_records{consumer=\"y\",queue=\"main\"} 2.0")
          .contains("otlp4j_queue_pending_bytes{consumer=\"y\",queue=\"main\"} 252.0")
          .contains("otlp4j_queue_oldest_record_age_seconds{consumer=\"y\",queue=\"main\"} 5.0")
          .contains("otlp4j_queue_oldest_record_age_seconds{consumer=\"x\",queue=\"main\"} 0.0")
          .contains("otlp4j_queue_group_size_count{queue=\"main\"} 2")
          .contains("otlp4j_queue_appended_records_total{queue=\"main\"} 2");
    }
  }

  @Test
  void aClosedQueueRefusesAppendsAndCloseIsIdempotent() throws Exception {
    DurableQueue queue = builder().open();
    queue.close();
    queue.close();
    ByteBuf payload = TestRecords.buffer(0, 0, 10);
    try {
      AppendResult result = queue.append((byte) 0, 0, payload).get();
      assertThat(result).isEqualTo(new AppendResult.Refused("queue is closed", false));
    } finally {
      payload.release();
    }
    assertThat(queue.consumer("a").poll(1, 1)).isEmpty();
  }

  @Test
  void aDirectoryHeldByAnOpenQueueCannotBeOpenedTwice() throws IOException {
    try (DurableQueue queue = builder().open()) {
      assertThatThrownBy(() -> builder().open())
          .isInstanceOf(IOException.class)
          .hasMessageContaining("in use");
    }
    builder().open().close();
  }

  @Test
  void badConfigurationFailsWithAClearMessage() {
    assertThatThrownBy(() -> DurableQueue.builder(dir).open())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("consumer");
    assertThatThrownBy(() -> builder().segmentBytes(10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("segmentBytes");
    assertThatThrownBy(() -> builder().segmentBytes(8192).maxBytes(4096).open())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxBytes");
    assertThatThrownBy(() -> builder().consumers("a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> FsyncPolicy.interval(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void withPerBatchEveryAppendCompletesOnlyAfterAForceCoveringItAndConcurrentAppendsShareForces()
      throws Exception {
    BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
    int appends = 400;
    List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
    try (DurableQueue queue = builder().segmentChannels(disk).open()) {
      Path segment = dir.resolve(Segment.fileName(0));
      List<CompletableFuture<AppendResult>> futures = new ArrayList<>();
      for (int i = 0; i < appends; i++) {
        ByteBuf payload = TestRecords.buffer(0, i, 300);
        futures.add(
            queue
                .append((byte) 0, 1, payload)
                .whenComplete(
                    (result, error) -> {
                      payload.release();
                      long position = ((AppendResult.Appended) result).position();
                      if (disk.forcedLength(segment) < position) {
                        violations.add("acknowledged " + position + " before a force covered it");
                      }
                    }));
      }
      for (CompletableFuture<AppendResult> future : futures) {
        assertThat(future.get(30, TimeUnit.SECONDS).appended()).isTrue();
      }
      assertThat(violations).isEmpty();
      assertThat(disk.forces()).isBetween(1L, appends - 1L); // groups shared forces
    }
  }

  @Test
  void withIntervalAndNeverAppendsDoNotWaitForAForce() throws Exception {
    for (FsyncPolicy policy :
        List.of(FsyncPolicy.never(), FsyncPolicy.interval(Duration.ofHours(1)))) {
      BoundedDisk disk = new BoundedDisk(dir, Long.MAX_VALUE);
      try (DurableQueue queue = builder().fsyncPolicy(policy).segmentChannels(disk).open()) {
        for (int i = 0; i < 20; i++) {
          assertThat(append(queue, 0, i, 100).appended()).isTrue();
        }
        assertThat(disk.forces()).isZero();
      }
      assertThat(disk.forces()).as("close forces").isEqualTo(1);
      try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(dir)) {
        files.filter(java.nio.file.Files::isRegularFile).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void aConsumerReadingWhileProducersAppendSeesEveryRecordOnceInOrder() throws Exception {
    int producers = 4;
    int perProducer = 300;
    try (DurableQueue queue = builder().segmentBytes(16 * 1024).maxBytes(64 * 1024 * 1024).open()) {
      QueueConsumer consumer = queue.consumer("a");
      List<Thread> threads = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int producer = p;
        Thread thread =
            new Thread(
                () -> {
                  for (int seq = 0; seq < perProducer; seq++) {
                    if (!append(queue, producer, seq, 100 + seq % 900).appended()) {
                      throw new AssertionError("refused");
                    }
                  }
                });
        thread.start();
        threads.add(thread);
      }
      long[] next = new long[producers];
      int read = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (read < producers * perProducer) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        consumer.awaitRecords().get(30, TimeUnit.SECONDS);
        for (long[] record : TestRecords.drain(consumer, true)) {
          assertThat(record[1]).isEqualTo(next[(int) record[0]]);
          next[(int) record[0]]++;
          read++;
        }
      }
      for (Thread thread : threads) {
        thread.join(30_000);
      }
      assertThat(consumer.poll(10, 1 << 20)).isEmpty();
      assertThat(consumer.pendingRecords()).isZero();
      assertThat(segmentFiles()).isLessThanOrEqualTo(2); // reclaimed while running
      assertInvariants(queue);
    }
  }

  @Test
  void dropOldestSparesAConsumerThatIsAlreadyPastTheDroppedSegment() throws IOException {
    try (DurableQueue queue =
        DurableQueue.builder(dir)
            .consumers("fast", "slow")
            .segmentBytes(4096)
            .maxBytes(4 * 4096)
            .whenFull(FullPolicy.DROP_OLDEST)
            .open()) {
      List<long[]> fast = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        assertThat(append(queue, 0, i, 1000).appended()).isTrue();
        fast.addAll(TestRecords.drain(queue.consumer("fast"), true));
      }
      assertThat(fast)
          .extracting(r -> r[1])
          .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 30).boxed().toList());
      List<long[]> slow = TestRecords.drain(queue.consumer("slow"), true);
      assertThat(slow.size()).isLessThan(30);
      assertThat(slow).extracting(r -> r[1]).last().isEqualTo(29L);
    }
  }

  /** What must hold between operations: the size is the files' size, positions match records. */
  private void assertInvariants(DurableQueue queue) throws IOException {
    assertThat(queue.sizeBytes()).isEqualTo(totalSegmentBytes());
    for (String name : queue.consumerNames()) {
      QueueConsumer consumer = queue.consumer(name);
      assertThat(consumer.pendingBytes()).isGreaterThanOrEqualTo(0);
      assertThat(consumer.pendingRecords() == 0).isEqualTo(consumer.pendingBytes() == 0);
      assertThat(consumer.pendingBytes())
          .isGreaterThanOrEqualTo(consumer.pendingRecords() * RecordFormat.HEADER_BYTES);
    }
  }

  private long segmentFiles() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".seg")).count();
    }
  }

  private long totalSegmentBytes() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.toString().endsWith(".seg"))
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  throw new AssertionError(e);
                }
              })
          .sum();
    }
  }

  static String prometheus(MetricsRegistry metrics) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.writePrometheusText(out);
    return out.toString(StandardCharsets.UTF_8);
  }
}
