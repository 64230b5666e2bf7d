package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.testing.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM appends from several producers and logs every acknowledgement; it is killed with
 * SIGKILL ({@link Process#destroyForcibly()}) at random moments. After every kill the queue is
 * reopened and every record ever acknowledged must be there, intact, in order per producer.
 */
class CrashRecoveryTest {

  static final String CONSUMER = "checker";
  static final long SEGMENT_BYTES = 256 * 1024;
  private static final int KILLS = 20;
  private static final int PRODUCERS = 6;
  private static final Duration BUDGET = Duration.ofSeconds(120);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void everyAcknowledgedRecordSurvivesRepeatedSigkills() throws Exception {
    Path queueDir = dir.resolve("queue");
    Path ackLog = dir.resolve("acks.log");
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    long deadline = System.nanoTime() + BUDGET.toNanos();
    int killsWithAcks = 0;
    for (int run = 0; run < KILLS; run++) {
      assertThat(System.nanoTime()).as("time budget, seed %d", seed).isLessThan(deadline);
      long acksBefore = Files.exists(ackLog) ? Files.size(ackLog) : 0;
      int size = random.nextBoolean() ? 200 : 4000;
      try (ChildJvm child =
          ChildJvm.builder(CrashingAppender.class)
              .jvmOptions("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
              .args(
                  queueDir.toString(),
                  ackLog.toString(),
                  String.valueOf(run * PRODUCERS),
                  String.valueOf(PRODUCERS),
                  String.valueOf(size))
              .start()) {
        if (run % 5 != 4) { // every fifth child dies while opening or just after
          // Fails, quoting the child's output, if it exits or stays silent instead.
          child.awaitLine("READY"::equals, READY_TIMEOUT);
          long target =
              acksBefore + 20 + random.nextInt(2500); // ack-log bytes: about 2 to 250 acks
          Awaitility.await()
              .atMost(Duration.ofSeconds(20))
              .pollInterval(Duration.ofMillis(2))
              .until(() -> !child.isAlive() || Files.size(ackLog) >= target);
          assertThat(child.isAlive())
              .as("child died by itself, seed %d; its output: %s", seed, child.output())
              .isTrue();
          killsWithAcks++;
        }
        child.kill();
      }
      verify(queueDir, ackLog, seed);
    }
    assertThat(killsWithAcks).isGreaterThanOrEqualTo(16);
  }

  /** Reopens the queue and checks every acknowledged record, without consuming. */
  private static void verify(Path queueDir, Path ackLog, long seed) throws IOException {
    Map<Integer, Long> lastAcked = new HashMap<>();
    if (Files.exists(ackLog)) {
      for (String line : Files.readAllLines(ackLog, StandardCharsets.US_ASCII)) {
        String[] parts = line.split(" ");
        if (parts.length == 2) {
          lastAcked.merge(Integer.parseInt(parts[0]), Long.parseLong(parts[1]), Math::max);
        }
      }
    }
    Map<Integer, List<Long>> stored = new HashMap<>();
    try (DurableQueue queue =
        DurableQueue.builder(queueDir).consumers(CONSUMER).segmentBytes(SEGMENT_BYTES).open()) {
      for (long[] record : TestRecords.drain(queue.consumer(CONSUMER), false)) {
        stored.computeIfAbsent((int) record[0], p -> new ArrayList<>()).add(record[1]);
      }
    }
    for (Map.Entry<Integer, List<Long>> entry : stored.entrySet()) {
      List<Long> seqs = entry.getValue();
      for (int i = 0; i < seqs.size(); i++) {
        // in order, no gaps, no duplicates: every producer appended 0, 1, 2, ... one at a time
        assertThat(seqs.get(i))
            .as("producer %d record %d, seed %d", entry.getKey(), i, seed)
            .isEqualTo(i);
      }
    }
    for (Map.Entry<Integer, Long> acked : lastAcked.entrySet()) {
      List<Long> seqs = stored.getOrDefault(acked.getKey(), List.of());
      assertThat((long) seqs.size())
          .as(
              "records of producer %d on disk vs. acknowledged up to %d, seed %d",
              acked.getKey(), acked.getValue(), seed)
          .isGreaterThan(acked.getValue());
    }
  }
}
