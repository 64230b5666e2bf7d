package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Append futures complete off the writer thread: what a caller does when its record is durable
 * (answer a client, run a gRPC {@code onNext}) never holds back the next write and force.
 */
class AppendCompletionTest {
  @TempDir Path dir;

  private static ByteBuf payload(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
  }

  @Test
  void aSlowCompletionStageDoesNotHoldBackTheNextAppend() throws Exception {
    Thread test = Thread.currentThread();
    CountDownLatch unblock = new CountDownLatch(1);
    try (DurableQueue queue = DurableQueue.builder(dir).consumers("c").open()) {
      AtomicReference<String> blockedOn = new AtomicReference<>();
      // Attach a blocking stage to an append that is still in flight (the attempt is repeated in
      // the
      // rare case the record was durable before the stage was attached, so it ran on this thread).
      for (int i = 0; i < 100 && blockedOn.get() == null; i++) {
        ByteBuf first = payload("first-" + i);
        CompletableFuture<AppendResult> f = queue.append((byte) 1, 1, first);
        f.thenRun(
            () -> {
              if (Thread.currentThread() == test) {
                return; // completed before the stage was attached: inconclusive, try again
              }
              blockedOn.set(Thread.currentThread().getName());
              try {
                unblock.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
        f.join();
        first.release();
      }
      try {
        assertThat(blockedOn.get()).as("a stage attached in time").isNotNull();
        assertThat(blockedOn.get()).doesNotStartWith("otlp4j-queue-writer");
        // While that stage blocks, another append is written, forced and published to consumers.
        ByteBuf second = payload("second");
        queue.append((byte) 1, 1, second);
        QueueConsumer consumer = queue.consumer("c");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean seen = false;
        while (!seen && System.nanoTime() < deadline) {
          List<QueueRecord> records = consumer.poll(1000, 1 << 20);
          for (QueueRecord r : records) {
            seen |= r.payload().toString(StandardCharsets.UTF_8).equals("second");
            r.payload().release();
          }
          if (!seen) {
            try {
              consumer.awaitRecords().get(100, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException notYet) {
              // poll again until the deadline
            }
          }
        }
        assertThat(seen)
            .as("the second record was written while the first's stage blocked")
            .isTrue();
        second.release(); // kept alive until written, as append requires; the stage may complete
        // later
      } finally {
        unblock.countDown();
      }
    }
  }
}
