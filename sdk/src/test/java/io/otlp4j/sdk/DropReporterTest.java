package io.otlp4j.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.otlp4j.core.NanoClock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DropReporterTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final NanoClock clock = now::get;
  private final long interval = TimeUnit.SECONDS.toNanos(60);

  @Test
  void firstDropIsReportedAtOnceThenAtMostOncePerIntervalWithTheCountSinceTheLastReport() {
    DropReporter reporter = new DropReporter("spans", "raise the queue", clock, interval);
    assertThat(reporter.report()).as("nothing dropped").isNull();

    reporter.dropped();
    assertThat(reporter.report())
        .startsWith("1 spans dropped since the last report (1 in total)")
        .contains("raise the queue");
    for (int i = 0; i < 99; i++) {
      reporter.dropped();
      assertThat(reporter.report()).isNull();
    }
    now.addAndGet(interval - 1);
    assertThat(reporter.report()).isNull();
    now.addAndGet(1);
    assertThat(reporter.report())
        .startsWith("99 spans dropped since the last report (100 in total)");
    now.addAndGet(interval * 5);
    assertThat(reporter.report()).as("no new drops, no report").isNull();
    assertThat(reporter.total()).isEqualTo(100);
  }

  @Test
  void concurrentReportersElectOne() throws Exception {
    DropReporter reporter = new DropReporter("spans", "", clock, interval);
    reporter.dropped();
    AtomicLong reports = new AtomicLong();
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] =
          new Thread(
              () -> {
                for (int i = 0; i < 10_000; i++) {
                  reporter.dropped();
                  if (reporter.report() != null) {
                    reports.incrementAndGet();
                  }
                }
              });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertThat(reports.get()).isEqualTo(1);
    assertThat(reporter.total()).isEqualTo(40_001);
  }
}
