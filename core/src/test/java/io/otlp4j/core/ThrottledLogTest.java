package io.otlp4j.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThrottledLogTest {

  @Test
  void firstOccurrenceIsLoudThenOnePerInterval() {
    AtomicLong now = new AtomicLong(123);
    ThrottledLog log = ThrottledLog.every(Duration.ofSeconds(10), now::get);
    assertThat(log.level(Level.WARNING)).isEqualTo(Level.WARNING);
    assertThat(log.level(Level.WARNING)).isEqualTo(Level.DEBUG);
    now.addAndGet(Duration.ofSeconds(10).toNanos() - 1);
    assertThat(log.loud()).isFalse();
    now.incrementAndGet();
    assertThat(log.loud()).isTrue();
    assertThat(log.loud()).isFalse();
    assertThat(log.quietPhrase()).isEqualTo("further ones within 10s are logged at DEBUG");
  }

  @Test
  void exactlyOneOfManyConcurrentOccurrencesIsLoud() throws InterruptedException {
    ThrottledLog log = ThrottledLog.every(Duration.ofHours(1));
    AtomicInteger loud = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] =
          new Thread(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < 1_000; i++) {
                  if (log.loud()) {
                    loud.incrementAndGet();
                  }
                }
              });
      threads[t].start();
    }
    go.countDown();
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(loud).hasValue(1);
  }

  @Test
  void intervalMustBePositive() {
    assertThatThrownBy(() -> ThrottledLog.every(Duration.ZERO)).hasMessageContaining("interval");
  }
}
