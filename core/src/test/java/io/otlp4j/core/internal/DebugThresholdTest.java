package io.otlp4j.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DebugThresholdTest {
  private static final String PROPERTY = "otlp4j.debug.testThresholdMillis";

  @AfterEach
  void clear() {
    System.clearProperty(PROPERTY);
  }

  @Test
  void unsetIsOff() {
    assertThat(DebugThreshold.nanos(PROPERTY)).isZero();
  }

  @Test
  void millisecondsBecomeNanoseconds() {
    System.setProperty(PROPERTY, "8");
    assertThat(DebugThreshold.nanos(PROPERTY)).isEqualTo(8_000_000L);
    System.setProperty(PROPERTY, " 0.5 ");
    assertThat(DebugThreshold.nanos(PROPERTY)).isEqualTo(500_000L);
  }

  @Test
  void aMistypedOrNonPositiveValueIsOffNotAnError() {
    for (String value : new String[] {"abc", "8ms", "-1", "0", "NaN", "1e300"}) {
      System.setProperty(PROPERTY, value);
      assertThat(DebugThreshold.nanos(PROPERTY)).as(value).isZero();
    }
  }
}
