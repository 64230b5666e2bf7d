package io.otlp4j.queue;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The durable acknowledgement's debugging trace: what it says of a slow append, and when. */
class AckTraceTest {
  private static final long MS = 1_000_000L;

  @Test
  void aSlowAppendIsSplitIntoItsStagesWhichAddUpToItsTotal() {
    long appended = 1_000 * MS;
    AckTrace.Stamps stamps =
        new AckTrace.Stamps(appended + 2 * MS, appended + 3 * MS, appended + 7 * MS, 2);

    String line = AckTrace.slowLine(appended, 49_850, 3, stamps, appended + 12 * MS, 10 * MS);

    assertThat(line)
        .isEqualTo(
            "slow durable append: 12.00 ms = to the writer and written 2.00 + to the force 1.00"
                + " + force 4.00 + to the acknowledgement thread 5.00 (group of 3, force of 2"
                + " groups, 49850 bytes)");
  }

  @Test
  void anAppendUnderTheThresholdIsNotLogged() {
    AckTrace.Stamps stamps = new AckTrace.Stamps(2 * MS, 3 * MS, 4 * MS, 1);

    assertThat(AckTrace.slowLine(0, 10, 1, stamps, 9 * MS, 10 * MS)).isNull();
    assertThat(AckTrace.slowLine(0, 10, 1, stamps, 10 * MS, 10 * MS)).isNotNull();
  }

  @Test
  void itIsOffUnlessItsPropertyNamesAThreshold() {
    assertThat(System.getProperty(AckTrace.PROPERTY)).isNull();
    assertThat(AckTrace.ENABLED).isFalse();
  }
}
